"""guardrails/authentication.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

from typing import Any

import pytest
from edge_fixtures import client_traffic, edge_world, route, sso_policy
from guardrails import authentication
from policy_fixtures import CLIENT_TRAFFIC, DOMAIN, ROUTE, SECURITY_POLICY, covers, meta, named, without
from policy_harness import Res, check, stack_violations


@covers(authentication.httproute_auth_required)
def test_httproute_auth_required() -> None:
    world = edge_world()
    unprotected = without(world, "storefront-shop-sso")
    shop = named(world, "app-shop")
    assert stack_violations(authentication.httproute_auth_required, unprotected) == [
        (
            "HTTPRoute 'storefront/shop' is served over HTTPS without a SecurityPolicy using extAuth, jwt, "
            'apiKeyAuth, oidc, basicAuth, and is not labelled gatehouse.dev/public-route: "true"',
            shop.urn,
        )
    ]
    # a policy in another namespace protects nothing; one without an auth method is reported by name
    elsewhere = Res(SECURITY_POLICY, "elsewhere", sso_policy(namespace="payments"))
    assert len(stack_violations(authentication.httproute_auth_required, [*unprotected, elsewhere])) == 1
    assert stack_violations(authentication.httproute_auth_required, [*unprotected, cors_policy()]) == [
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
    # nothing targets shop: the Gateway's holds
    assert stack_violations(authentication.httproute_auth_required, world) == []
    shop = named(world, "app-shop")
    assert stack_violations(authentication.httproute_auth_required, [*world, cors_policy()]) == [
        (
            "HTTPRoute 'storefront/shop' is targeted by SecurityPolicy 'storefront/shop-cors', which overrides the "
            "Gateway's SecurityPolicy but uses none of extAuth, jwt, apiKeyAuth, oidc, basicAuth",
            shop.urn,
        )
    ]
    # the API policies carry cors next to jwt: still authenticated
    tickets_jwt = named(world, "api-tickets-jwt")
    tickets_jwt.props["spec"]["cors"] = {"allowOrigins": [f"https://app.{DOMAIN}"]}
    assert stack_violations(authentication.httproute_auth_required, world) == []
    # oidc and basicAuth authenticate too
    oidc = {"provider": {"issuer": "https://idp.example.com"}, "clientID": "shop"}
    for method, settings in (("oidc", oidc), ("basicAuth", {"users": {"name": "shop-htpasswd"}})):
        own = cors_policy()
        own.props["spec"][method] = settings
        assert stack_violations(authentication.httproute_auth_required, [*world, own]) == [], method


def test_auth_by_label_selector_or_gateway_policy() -> None:
    unprotected = without(edge_world(), "storefront-shop-sso")
    by_selector = sso_policy()
    by_selector["spec"].pop("targetRefs")
    by_selector["spec"]["targetSelectors"] = [
        {"kind": "HTTPRoute", "matchLabels": {"gatehouse.dev/managed-by": "gatehouse"}}
    ]
    assert (
        stack_violations(
            authentication.httproute_auth_required, [*unprotected, Res(SECURITY_POLICY, "sel", by_selector)]
        )
        == []
    )
    on_gateway = sso_policy(namespace="envoy-gateway-system")
    on_gateway["spec"]["targetRefs"] = [{"kind": "Gateway", "name": "public"}]
    assert (
        stack_violations(authentication.httproute_auth_required, [*unprotected, Res(SECURITY_POLICY, "gw", on_gateway)])
        == []
    )


@covers(authentication.edge_strips_identity_headers)
def test_edge_strips_identity_headers() -> None:
    world = edge_world()
    named(world, "public-edge").props["spec"]["headers"]["earlyRequestHeaders"]["remove"] = ["x-auth-request-user"]
    sso, jwt = named(world, "storefront-shop-sso"), named(world, "api-tickets-jwt")
    gap = "but no ClientTrafficPolicy of Gateway 'envoy-gateway-system/public' removes it from client requests"
    assert stack_violations(authentication.edge_strips_identity_headers, world) == [
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
    assert authentication.forwarded_headers(api_key.props) == ["x-api-client"]
    assert len(stack_violations(authentication.edge_strips_identity_headers, [*edge_world(), api_key])) == 1


def test_a_header_every_protected_route_removes_never_reaches_the_backend() -> None:
    """A route's RequestHeaderModifier runs after every auth filter (Envoy Gateway v1.9.0
    internal/xds/translator/httpfilters.go: the router stage): a header auth needed, such as the ID token
    a staff app's policy checks, which the route then removes, is no backend's to trust."""
    world = edge_world()
    named(world, "public-edge").props["spec"]["headers"]["earlyRequestHeaders"]["remove"] = ["x-user-id"]
    sso = named(world, "storefront-shop-sso")
    sso.props["spec"]["extAuth"]["http"]["headersToBackend"] = ["authorization"]
    assert [v for v, urn in stack_violations(authentication.edge_strips_identity_headers, world) if urn == sso.urn]
    route = next(r for r in world if r.type.endswith("HTTPRoute") and r.props["metadata"]["name"] == "shop")
    removal = {"type": "RequestHeaderModifier", "requestHeaderModifier": {"remove": ["Authorization"]}}
    for rule in route.props["spec"]["rules"]:
        rule["filters"] = [removal]
    assert not [v for v, urn in stack_violations(authentication.edge_strips_identity_headers, world) if urn == sso.urn]


@covers(authentication.securitypolicy_fail_closed)
def test_securitypolicy_fail_closed() -> None:
    assert check(authentication.securitypolicy_fail_closed, SECURITY_POLICY, sso_policy(failOpen=True)) == [
        "SecurityPolicy 'storefront/shop-sso' sets extAuth.failOpen: true; requests would pass unauthenticated "
        "whenever the auth service is down"
    ]


def _authorizing(authorization: dict[str, Any] | None) -> dict[str, Any]:
    policy = sso_policy()
    policy["spec"].pop("authorization")
    if authorization is not None:
        policy["spec"]["authorization"] = authorization
    return policy


@covers(authentication.securitypolicy_denies_by_default)
def test_securitypolicy_denies_by_default() -> None:
    policy = authentication.securitypolicy_denies_by_default
    assert check(policy, SECURITY_POLICY, _authorizing({"defaultAction": "Allow", "rules": []})) == [
        "SecurityPolicy 'storefront/shop-sso' sets authorization.defaultAction: Allow; a request no rule matches "
        "must be denied"
    ]
    assert check(policy, SECURITY_POLICY, _authorizing({"defaultAction": "Deny"})) == []
    assert check(policy, SECURITY_POLICY, _authorizing({"rules": []})) == []  # unset: Envoy Gateway denies
    assert check(policy, SECURITY_POLICY, _authorizing(None)) == []


@covers(authentication.securitypolicy_names_who_enters)
def test_securitypolicy_names_who_enters() -> None:
    """Any identity Dex accepts (a customer's GitHub team, any Google Workspace user) got through an SSO app
    whose policy checked only the session; with rules, the default action denies the rest."""
    policy = authentication.securitypolicy_names_who_enters
    assert check(policy, SECURITY_POLICY, _authorizing(None)) == [
        "SecurityPolicy 'storefront/shop-sso' authenticates (extAuth) but has no authorization rules: anyone the "
        "identity provider accepts would enter"
    ]
    assert check(policy, SECURITY_POLICY, _authorizing({"defaultAction": "Deny", "rules": []})) != []
    rule = {"name": "staff", "action": "Allow", "principal": {"clientCIDRs": ["10.0.0.0/8"]}}
    assert check(policy, SECURITY_POLICY, _authorizing({"rules": [rule]})) == []
    keys = {"targetRefs": [], "apiKeyAuth": {"credentialRefs": [{"name": "keys"}], "extractFrom": []}}
    assert check(policy, SECURITY_POLICY, {"metadata": meta("keys", "storefront"), "spec": keys}) == []


# --- issue 19: what counted as authentication, or as covered, and was not -----------------------------------


def _policy(name: str, route_name: str, **spec: Any) -> Res:
    props = {
        "metadata": meta(name, "helpdesk"),
        "spec": {
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": route_name}],
            "authorization": {"defaultAction": "Deny", "rules": [{"name": "r", "action": "Allow", "principal": {}}]},
            **spec,
        },
    }
    return Res(SECURITY_POLICY, name, props)


JWT = {"providers": [{"name": "keycloak", "remoteJWKS": {"uri": "http://keycloak/certs"}}]}


@covers(authentication.httproute_auth_required)
@pytest.mark.parametrize(
    ("spec", "weak"),
    [
        ({"jwt": {**JWT, "optional": True}}, "jwt.optional"),
        ({"jwt": {**JWT, "failOpen": True}}, "jwt.failOpen"),
        ({"extAuth": {"failOpen": True, "http": {"backendRefs": [{"name": "auth", "port": 80}]}}}, "extAuth.failOpen"),
        (
            {"apiKeyAuth": {"credentialRefs": [], "extractFrom": [{"headers": ["x-api-key"]}]}},
            "apiKeyAuth without credentialRefs",
        ),
    ],
    ids=["jwt-optional", "jwt-fail-open", "ext-auth-fail-open", "empty-api-keys"],
)
def test_a_method_that_lets_requests_through_is_not_authentication(spec: dict[str, Any], weak: str) -> None:
    """Class: jwt.optional / failOpen and an empty API key list counted as authentication (Envoy Gateway v1.9.0:
    optional accepts a request without a token, failOpen one whose token is missing or invalid)."""
    world = without(edge_world(), "api-tickets-jwt")
    tickets = named(world, "api-tickets")
    assert stack_violations(
        authentication.httproute_auth_required, [*world, _policy("tickets-jwt", "tickets", **spec)]
    ) == [
        (
            "HTTPRoute 'helpdesk/tickets' is targeted by SecurityPolicy 'helpdesk/tickets-jwt', which overrides the "
            f"Gateway's SecurityPolicy but authenticates only through {weak}, which let unauthenticated requests "
            "through",
            tickets.urn,
        )
    ]
    # another method the same policy enforces still authenticates
    both = _policy("tickets-jwt", "tickets", **spec, basicAuth={"users": {"name": "htpasswd"}})
    assert stack_violations(authentication.httproute_auth_required, [*world, both]) == []


@covers(authentication.httproute_auth_required)
def test_a_policy_on_one_rule_leaves_the_other_rule_open() -> None:
    """Class: a SecurityPolicy targeting one rule (sectionName) of a two-rule route counted for the whole route.
    Envoy Gateway: a rule-level policy applies to that rule only; the other rule falls back to route-level,
    then to the Gateway's."""
    world = without(edge_world(), "api-tickets-jwt")
    tickets = named(world, "api-tickets")
    tickets.props["spec"]["rules"] = [
        {"name": "api", "backendRefs": [{"name": "tickets-web", "port": 8080}]},
        {"name": "admin", "backendRefs": [{"name": "tickets-admin", "port": 8080}]},
    ]
    one_rule = _policy("tickets-jwt", "tickets", jwt=JWT)
    one_rule.props["spec"]["targetRefs"][0]["sectionName"] = "api"
    assert stack_violations(authentication.httproute_auth_required, [*world, one_rule]) == [
        (
            "HTTPRoute 'helpdesk/tickets' rule 'admin' is covered by no SecurityPolicy: the policies targeting the "
            "route name other rules (sectionName), and the Gateway's does not use extAuth, jwt, apiKeyAuth, oidc, "
            "basicAuth",
            tickets.urn,
        )
    ]
    whole = _policy("tickets-all", "tickets", jwt=JWT)
    assert stack_violations(authentication.httproute_auth_required, [*world, one_rule, whole]) == []


@covers(authentication.httproute_auth_required)
def test_a_route_on_the_plain_http_listener_needs_authentication_too() -> None:
    """Class: only routes on HTTPS listeners were checked; a route with a backend on the plain-HTTP listener
    passed. A pure redirect (no backend) still needs nothing."""
    world = edge_world()
    plain = Res(ROUTE, "plain-notes", route("notes", "helpdesk"))
    plain.props["spec"]["parentRefs"] = [{"name": "public", "namespace": "envoy-gateway-system", "sectionName": "http"}]
    assert stack_violations(authentication.httproute_auth_required, [*world, plain]) == [
        (
            "HTTPRoute 'helpdesk/notes' is served over plain HTTP without a SecurityPolicy using extAuth, jwt, "
            'apiKeyAuth, oidc, basicAuth, and is not labelled gatehouse.dev/public-route: "true"',
            plain.urn,
        )
    ]


@covers(authentication.edge_strips_identity_headers)
def test_a_listener_level_client_traffic_policy_replaces_the_gateways() -> None:
    """Class: a ClientTrafficPolicy on one listener (sectionName) that strips nothing passed. Envoy Gateway
    v1.9.0 client-traffic-policy.md: a section-specific policy takes precedence over the Gateway-wide one."""
    world = edge_world()
    bare = Res(CLIENT_TRAFFIC, "https-edge", client_traffic([]))
    bare.props["metadata"]["name"] = "https-edge"
    bare.props["spec"]["targetRefs"][0]["sectionName"] = "https"
    found = stack_violations(authentication.edge_strips_identity_headers, [*world, bare])
    assert found and all("of Gateway 'envoy-gateway-system/public' listener 'https' removes it" in m for m, _ in found)
    assert (
        "SecurityPolicy 'helpdesk/tickets-jwt' forwards 'x-user-id' to the backend, but no ClientTrafficPolicy of "
        "Gateway 'envoy-gateway-system/public' listener 'https' removes it from client requests "
        "(headers.earlyRequestHeaders.remove)"
    ) in [m for m, _ in found]
