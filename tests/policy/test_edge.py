"""guardrails/edge.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

from edge_fixtures import dns, edge_world, gateway, redirect_route, route, sso_policy
from guardrails import edge
from policy_fixtures import DNS, DOMAIN, GATEWAY, ROUTE, SECURITY_POLICY, covers, meta, named, without
from policy_harness import Res, check, stack_violations


@covers(edge.gateway_https_listeners_tls)
def test_gateway_https_listeners_tls() -> None:
    props = gateway()
    del props["spec"]["listeners"][1]["tls"]
    props["spec"]["listeners"].append({"name": "plain", "protocol": "HTTP", "port": 443})
    assert check(edge.gateway_https_listeners_tls, GATEWAY, props) == [
        "Gateway 'envoy-gateway-system/public' listener 'https' is HTTPS but does not terminate TLS with a "
        "certificateRef",
        "Gateway 'envoy-gateway-system/public' listener 'plain' serves plain HTTP on port 443",
    ]


@covers(edge.gateway_listener_route_scope)
def test_gateway_listener_route_scope() -> None:
    props = gateway()
    props["spec"]["listeners"][0]["allowedRoutes"] = {"namespaces": {"from": "All"}}
    props["spec"]["listeners"][1]["allowedRoutes"] = {"namespaces": {"from": "Selector", "selector": {}}}
    assert check(edge.gateway_listener_route_scope, GATEWAY, props) == [
        "Gateway 'envoy-gateway-system/public' listener 'http' accepts routes from every namespace",
        "Gateway 'envoy-gateway-system/public' listener 'https' selects namespaces with an empty selector",
        "Gateway 'envoy-gateway-system/public' listener 'https' does not pin the route kinds it accepts",
    ]


@covers(edge.httproute_hostnames)
def test_httproute_hostnames() -> None:
    config = {"domains": [DOMAIN]}
    props = route(hosts=[f"*.{DOMAIN}", "shop.evil.example.org", f"shop.{DOMAIN}"])
    assert check(edge.httproute_hostnames, ROUTE, props, config=config) == [
        f"HTTPRoute 'storefront/shop' claims the wildcard hostname '*.{DOMAIN}'",
        f"HTTPRoute 'storefront/shop' hostname 'shop.evil.example.org' is outside the allowed domains ({DOMAIN})",
    ]
    assert check(edge.httproute_hostnames, ROUTE, route(hosts=[]), config=config) == [
        "HTTPRoute 'storefront/shop' declares no hostnames, so it takes every host of its listener"
    ]
    assert check(edge.httproute_hostnames, ROUTE, redirect_route(), config=config) == []
    sneaky = redirect_route()
    sneaky["spec"]["rules"].append({"backendRefs": [{"name": "x", "port": 80}]})
    assert len(check(edge.httproute_hostnames, ROUTE, sneaky, config=config)) == 1


@covers(edge.httproute_unique_host_path)
def test_httproute_unique_host_path() -> None:
    world = edge_world()
    shadow = Res(ROUTE, "shadow", route("shop", "payments"))
    admin = Res(ROUTE, "tickets-admin", route("tickets", "payments"))
    admin.props["spec"]["rules"][0]["matches"] = [{"path": {"type": "PathPrefix", "value": "/admin"}}]
    assert stack_violations(edge.httproute_unique_host_path, [*world, shadow, admin]) == [
        (
            f"HTTPRoute 'payments/shop' claims shop.{DOMAIN} PathPrefix /, already routed by HTTPRoute "
            "'storefront/shop'",
            shadow.urn,
        )
    ]


@covers(edge.httproute_auth_required)
def test_httproute_auth_required() -> None:
    world = edge_world()
    unprotected = without(world, "storefront-shop-sso")
    shop = named(world, "app-shop")
    assert stack_violations(edge.httproute_auth_required, unprotected) == [
        (
            "HTTPRoute 'storefront/shop' is served over HTTPS without a SecurityPolicy using extAuth, jwt, "
            'apiKeyAuth, oidc, basicAuth, and is not labelled gatehouse.dev/public-route: "true"',
            shop.urn,
        )
    ]
    # a policy in another namespace protects nothing; one without an auth method is reported by name
    elsewhere = Res(SECURITY_POLICY, "elsewhere", sso_policy(namespace="payments"))
    assert len(stack_violations(edge.httproute_auth_required, [*unprotected, elsewhere])) == 1
    assert stack_violations(edge.httproute_auth_required, [*unprotected, cors_policy()]) == [
        (
            "HTTPRoute 'storefront/shop' is targeted by SecurityPolicy 'storefront/shop-cors', which overrides the "
            "Gateway's SecurityPolicy but uses none of extAuth, jwt, apiKeyAuth, oidc, basicAuth",
            shop.urn,
        )
    ]


def cors_policy() -> Res:
    props = {
        "metadata": meta("shop-cors", "storefront"),
        "spec": {
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "shop"}],
            "cors": {"allowOrigins": [f"https://www.{DOMAIN}"], "allowMethods": ["GET"]},
        },
    }
    return Res(SECURITY_POLICY, "storefront-shop-cors", props)


def gateway_sso() -> Res:
    props = sso_policy(namespace="envoy-gateway-system")
    props["metadata"]["name"] = "public-sso"
    props["spec"]["targetRefs"] = [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public"}]
    return Res(SECURITY_POLICY, "public-sso", props)


def test_a_route_policy_overrides_the_gateway_policy() -> None:
    """Envoy Gateway applies a route's own SecurityPolicy instead of the Gateway's: CORS alone leaves it open."""
    world = [*without(edge_world(), "storefront-shop-sso"), gateway_sso()]
    assert stack_violations(edge.httproute_auth_required, world) == []  # nothing targets shop: the Gateway's holds
    shop = named(world, "app-shop")
    assert stack_violations(edge.httproute_auth_required, [*world, cors_policy()]) == [
        (
            "HTTPRoute 'storefront/shop' is targeted by SecurityPolicy 'storefront/shop-cors', which overrides the "
            "Gateway's SecurityPolicy but uses none of extAuth, jwt, apiKeyAuth, oidc, basicAuth",
            shop.urn,
        )
    ]
    # the API policies carry cors next to jwt: still authenticated
    tickets_jwt = named(world, "api-tickets-jwt")
    tickets_jwt.props["spec"]["cors"] = {"allowOrigins": [f"https://app.{DOMAIN}"]}
    assert stack_violations(edge.httproute_auth_required, world) == []
    # oidc and basicAuth authenticate too
    oidc = {"provider": {"issuer": "https://idp.example.com"}, "clientID": "shop"}
    for method, settings in (("oidc", oidc), ("basicAuth", {"users": {"name": "shop-htpasswd"}})):
        own = cors_policy()
        own.props["spec"][method] = settings
        assert stack_violations(edge.httproute_auth_required, [*world, own]) == [], method


def test_auth_by_label_selector_or_gateway_policy() -> None:
    unprotected = without(edge_world(), "storefront-shop-sso")
    by_selector = sso_policy()
    by_selector["spec"].pop("targetRefs")
    by_selector["spec"]["targetSelectors"] = [
        {"kind": "HTTPRoute", "matchLabels": {"gatehouse.dev/managed-by": "gatehouse"}}
    ]
    assert (
        stack_violations(edge.httproute_auth_required, [*unprotected, Res(SECURITY_POLICY, "sel", by_selector)]) == []
    )
    on_gateway = sso_policy(namespace="envoy-gateway-system")
    on_gateway["spec"]["targetRefs"] = [{"kind": "Gateway", "name": "public"}]
    assert stack_violations(edge.httproute_auth_required, [*unprotected, Res(SECURITY_POLICY, "gw", on_gateway)]) == []


@covers(edge.edge_strips_identity_headers)
def test_edge_strips_identity_headers() -> None:
    world = edge_world()
    named(world, "public-edge").props["spec"]["headers"]["earlyRequestHeaders"]["remove"] = ["x-auth-request-user"]
    sso, jwt = named(world, "storefront-shop-sso"), named(world, "api-tickets-jwt")
    gap = "but no ClientTrafficPolicy of Gateway 'envoy-gateway-system/public' removes it from client requests"
    assert stack_violations(edge.edge_strips_identity_headers, world) == [
        (
            f"SecurityPolicy 'helpdesk/tickets-jwt' forwards 'x-user-id' to the backend, {gap} "
            "(headers.earlyRequestHeaders.remove)",
            jwt.urn,
        ),
        (
            f"SecurityPolicy 'storefront/shop-sso' forwards 'x-auth-request-email' to the backend, {gap} "
            "(headers.earlyRequestHeaders.remove)",
            sso.urn,
        ),
    ]
    api_key = Res(
        SECURITY_POLICY,
        "catalog-apikey",
        {
            "metadata": meta("catalog-apikey", "storefront"),
            "spec": {"apiKeyAuth": {"forwardClientIDHeader": "X-Api-Client"}},
        },
    )
    assert edge.forwarded_headers(api_key.props) == ["x-api-client"]
    assert len(stack_violations(edge.edge_strips_identity_headers, [*edge_world(), api_key])) == 1


@covers(edge.route_host_dns_and_tls)
def test_route_host_dns_and_tls() -> None:
    world = without(edge_world(), "dns-tickets")
    deep = Res(ROUTE, "deep", route("deep", "storefront", hosts=[f"a.b.{DOMAIN}"]))
    deep_dns = Res(DNS, "dns-deep", dns(f"a.b.{DOMAIN}"))
    tickets = named(world, "api-tickets")
    assert stack_violations(edge.route_host_dns_and_tls, [*world, deep, deep_dns]) == [
        (f"HTTPRoute 'helpdesk/tickets' hostname 'tickets.{DOMAIN}' has no Cloudflare DNS record", tickets.urn),
        (
            f"HTTPRoute 'storefront/deep' hostname 'a.b.{DOMAIN}' is not covered by a TLS listener hostname of "
            "Gateway 'envoy-gateway-system/public'",
            deep.urn,
        ),
    ]


@covers(edge.securitypolicy_fail_closed)
def test_securitypolicy_fail_closed() -> None:
    assert check(edge.securitypolicy_fail_closed, SECURITY_POLICY, sso_policy(failOpen=True)) == [
        "SecurityPolicy 'storefront/shop-sso' sets extAuth.failOpen: true; requests would pass unauthenticated "
        "whenever the auth service is down"
    ]


@covers(edge.dns_record_in_allowed_zone)
def test_dns_record_in_allowed_zone() -> None:
    config = {"domains": [DOMAIN]}
    assert check(edge.dns_record_in_allowed_zone, DNS, dns("shop.example.org"), name="dns-shop", config=config) == [
        f"DNS record 'dns-shop' (shop.example.org) is outside the allowed domains ({DOMAIN})"
    ]
    assert check(edge.dns_record_in_allowed_zone, DNS, dns(f"shop.{DOMAIN}"), config=config) == []
    assert check(edge.dns_record_in_allowed_zone, DNS, dns("shop.example.org")) == []  # no domains configured
