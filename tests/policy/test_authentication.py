"""guardrails/authentication.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

from typing import Any

from edge_fixtures import edge_world, sso_policy
from guardrails import authentication
from policy_fixtures import DOMAIN, SECURITY_POLICY, covers, meta, named, without
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
