"""The identity filter (components/gateway/lua/identity.lua) on LuaJIT, and the sessions it keeps from apps."""

from __future__ import annotations

import pytest
from helpers import preview_objects
from lua_filter import run_identity_filter

from components.gateway import org_sso, sso
from offline.preview import PreviewResult

STAFF = {
    "provider": "dex",
    "dropCookies": ["_gatehouse_sso"],
    "groupsHeader": "x-auth-request-groups",
    "roleHeader": "x-gatehouse-role",
    "roles": [{"groups": ["authentik:platform-admins"], "role": "Admin"}],
    "defaultRole": "Viewer",
}
ORGANIZATION = {"provider": "keycloak", "dropCookies": ["gatehouse-id", "OauthHMAC"], "organizations": ["acme"]}


def test_the_session_cookies_are_removed_and_the_app_s_own_kept() -> None:
    cookies = "theme=dark; _gatehouse_sso=ticket; _gatehouse_sso_csrf=c; gatehouse-id=eyJ; OauthHMAC-1a2b=h; cart=7"
    staff = run_identity_filter({"cookie": cookies}, STAFF, {"dex": {"groups": []}})
    assert staff["cookie"] == "theme=dark; gatehouse-id=eyJ; OauthHMAC-1a2b=h; cart=7"
    organization = run_identity_filter({"cookie": cookies}, ORGANIZATION, {"keycloak": {}})
    assert organization["cookie"] == "theme=dark; _gatehouse_sso=ticket; _gatehouse_sso_csrf=c; cart=7"
    only_session = run_identity_filter({"cookie": "_gatehouse_sso=ticket"}, STAFF, {"dex": {}})
    assert "cookie" not in only_session  # an empty Cookie header is removed, not sent empty


def test_staff_groups_and_role_come_from_the_verified_token_only() -> None:
    """Every group (ext_authz would keep only the last, envoyproxy/envoy#32420), and the first matching role."""
    forged = {"x-auth-request-groups": "example-org:platform-admins", "x-gatehouse-role": "Admin"}
    engineer = run_identity_filter(forged, STAFF, {"dex": {"groups": ["example-org:platform-engineering", "x:y"]}})
    assert engineer == {"x-auth-request-groups": "example-org:platform-engineering,x:y", "x-gatehouse-role": "Viewer"}
    admin = run_identity_filter({}, STAFF, {"dex": {"groups": ["a:b", "authentik:platform-admins"]}})
    assert admin["x-gatehouse-role"] == "Admin"
    nothing_verified = run_identity_filter(forged, STAFF, None)
    assert nothing_verified == {"x-gatehouse-role": "Viewer"}  # the default; the forged groups are gone


@pytest.mark.parametrize(
    ("memberships", "slug", "roles"),
    [
        (["/orgs/acme/ORG_USER"], "acme", "ORG_USER"),
        (["/orgs/globex/ORG_ADMIN", "/orgs/acme/ORG_MANAGER", "/orgs/acme/ORG_ADMIN"], "acme", "ORG_ADMIN,ORG_MANAGER"),
        (["/orgs/acmex/ORG_ADMIN", "/orgs/acme"], None, None),  # a look-alike slug, a bare org group
        (["/orgs/acme/ORG_USER/nested"], None, None),
        ([], None, None),
    ],
)
def test_organization_and_roles_from_the_memberships(
    memberships: list[str], slug: str | None, roles: str | None
) -> None:
    forged = {"x-org-slug": "acme", "x-org-roles": "ORG_ADMIN"}
    headers = run_identity_filter(forged, ORGANIZATION, {"keycloak": {"org_memberships": memberships}})
    assert headers.get("x-org-slug") == slug and headers.get("x-org-roles") == roles


def test_envoy_gateway_s_strict_validation_runs_it_cleanly() -> None:
    """Envoy Gateway v1.9.0 runs every Lua script before accepting it (internal/gatewayapi/luavalidator,
    `Strict` by default) against mocks.lua, where `dynamicMetadata():get` returns the string "get_result",
    `filterContext()` a table of methods and `headers():get` "example_value": the script must not fail on
    values of the wrong type, or the policy is rejected."""
    assert run_identity_filter({"cookie": "example_value"}, {"get": "x"}, "get_result") == {"cookie": "example_value"}


@pytest.fixture()
def staging(staging_preview: PreviewResult) -> PreviewResult:
    return staging_preview


def test_no_app_receives_a_session_cookie(staging: PreviewResult) -> None:
    """Every single-sign-on route has the identity filter, dropping its session's cookies: oauth2-proxy's
    (domain-wide, since its one callback host needs it: oauth2-proxy v7.15.3 oauthproxy.go, CSRF cookie)
    on staff apps; the OIDC filter's, which are host-only (no cookieDomain: Envoy Gateway v1.9.0
    api/v1alpha1/oidc_types.go) and of which Envoy keeps the token cookies in the request, on organization
    apps. The Lua filter is enabled in Envoy Gateway (off by default in v1.9.0, envoygateway_types.go)."""
    filters = {
        (p["metadata"]["namespace"], p["spec"]["targetRefs"][0]["name"]): p["spec"]["lua"][0]["filterContext"]
        for p in preview_objects(staging, "EnvoyExtensionPolicy")
    }
    sso_policies = [p for p in preview_objects(staging, "SecurityPolicy") if {"extAuth", "oidc"} & set(p["spec"])]
    assert {"extAuth" in p["spec"] for p in sso_policies} == {True, False}
    for policy in sso_policies:
        context = filters[(policy["metadata"]["namespace"], policy["spec"]["targetRefs"][0]["name"])]
        if "extAuth" in policy["spec"]:
            assert sso.COOKIE_NAME in context["dropCookies"]
        else:
            oidc = policy["spec"]["oidc"]
            assert "cookieDomain" not in oidc
            kept = [oidc["cookieNames"]["idToken"], oidc["cookieNames"]["accessToken"], *org_sso.FILTER_COOKIES]
            assert set(kept) <= set(context["dropCookies"])
    (chart,) = [c for c in staging.charts if c.chart == "gateway-helm"]
    assert chart.values["config"]["envoyGateway"]["extensionApis"]["enableLua"] is True
