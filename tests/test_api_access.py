"""Who reaches what on a jwt API: the SecurityPolicy's authorization rules, evaluated per persona.

`decide` evaluates rules as Envoy Gateway v1.9.0 makes Envoy evaluate them
(envoyproxy/gateway internal/xds/translator/authorization.go, internal/utils/regex/regex.go): the first
rule whose operation and principal both match decides, and with none the default action (Deny) does;
`operation.path` is matched against `:path` with its query, a PathPrefix as
`^<prefix>(/.*|\\?.*|#.*|;.*|$)` and a RegularExpression as written; methods are any-of; a jwt principal
needs every listed scope in the token's `scope` and, per claim, one of its values (a StringArray claim:
one of its elements); clientCIDRs here always match (every rule that uses them lists 0.0.0.0/0 and ::/0).
`edge_path` models the edge's path normalisation, which runs before authorization (the spelling tests).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from components import config
from components.gateway import api_rules

ORGS = ["acme", "globex"]


@dataclass(frozen=True)
class Token:
    scopes: tuple[str, ...]
    claims: dict[str, Any] = field(default_factory=dict)


def _path_matches(match: dict[str, Any], path: str) -> bool:
    if match["type"] == "PathPrefix":
        expression = "^" + re.escape(match["value"].rstrip("/")) + r"(/.*|\?.*|#.*|;.*|$)"
    else:
        expression = match["value"]
    found = re.fullmatch(expression, path) is not None
    return found != bool(match.get("invert"))


def _principal_matches(principal: dict[str, Any], token: Token | None) -> bool:
    if "clientCIDRs" in principal:
        return True
    if token is None:
        return False
    jwt = principal["jwt"]
    if not set(jwt.get("scopes", [])) <= set(token.scopes):
        return False
    for claim in jwt.get("claims", []):
        value: Any = token.claims
        for part in claim["name"].split("."):  # a nested claim's dot path
            value = value.get(part) if isinstance(value, dict) else None
        held = value if claim.get("valueType") == "StringArray" and isinstance(value, list) else [value]
        if not set(held) & set(claim["values"]):
            return False
    return True


def decide(rules: list[dict[str, Any]], method: str, path: str, token: Token | None) -> str:
    """`token` None: no valid token (the jwt filter has already answered 401 before authorization)."""
    for rule in rules:
        operation = rule.get("operation", {})
        if "methods" in operation and method not in operation["methods"]:
            continue
        if "path" in operation and not _path_matches(operation["path"], path):
            continue
        if _principal_matches(rule["principal"], token):
            return str(rule["action"])
    return "Deny"


def member(org: str, role: str = "ORG_USER", *scopes: str) -> Token:
    return Token(
        tuple(f"tickets:{s}" for s in scopes or ("read", "write")), {"org_memberships": [f"/orgs/{org}/{role}"]}
    )


def admin(org: str, amr: tuple[str, ...] = ("pwd", "otp")) -> Token:
    """An organization admin's token; `amr` as Keycloak's oidc-amr-mapper lists the sign-in steps' references
    (the realm gives only its OTP steps one, so a real token lists just `otp`; `pwd` shows any-of matching)."""
    memberships = [f"/orgs/{org}/ORG_ADMIN"]
    return Token(("tickets:read", "tickets:write", "tickets:admin"), {"org_memberships": memberships, "amr": list(amr)})


PARTNER = Token(("tickets:read",), {"azp": "partner-logistics"})
STRANGER = Token(("tickets:read", "tickets:write"), {"org_memberships": []})  # a token with no organization

API = config.Api(
    name="tickets",
    namespace="helpdesk",
    service=config.ServiceRef(name="tickets-api", port=8080),
    auth="jwt",
    organization_scoped=True,
    m2m_clients=[config.M2MClient(name="partner-logistics", scopes=["read"], tier="standard")],
)

CASES = [
    # (who, token, method, path, expected)
    ("acme member reads acme", member("acme"), "GET", "/orgs/acme/tickets", "Allow"),
    ("acme member writes acme", member("acme"), "POST", "/orgs/acme/tickets", "Allow"),
    ("acme member reads globex", member("acme"), "GET", "/orgs/globex/tickets", "Deny"),
    ("acme member on a look-alike org", member("acme"), "GET", "/orgs/acmex/tickets", "Deny"),
    ("acme member outside any org", member("acme"), "GET", "/tickets", "Deny"),
    ("acme member on acme's admin path", member("acme"), "GET", "/orgs/acme/admin", "Deny"),
    ("acme member, admin path with a query", member("acme"), "GET", "/orgs/acme/admin?all=1", "Deny"),
    ("acme manager on acme's admin path", member("acme", "ORG_MANAGER"), "DELETE", "/orgs/acme/admin/x", "Deny"),
    ("acme admin on acme's admin path", admin("acme"), "DELETE", "/orgs/acme/admin/users/7", "Allow"),
    ("acme admin without a second factor", admin("acme", ()), "DELETE", "/orgs/acme/admin/users/7", "Deny"),
    ("acme admin whose otp aged out", admin("acme", ("pwd",)), "GET", "/orgs/acme/admin", "Deny"),
    ("acme admin without a second factor reads acme", admin("acme", ()), "GET", "/orgs/acme/tickets", "Allow"),
    ("acme admin on globex's admin path", admin("acme"), "GET", "/orgs/globex/admin", "Deny"),
    ("acme admin reads globex", admin("acme"), "GET", "/orgs/globex/tickets", "Deny"),
    ("globex member reads globex", member("globex", "ORG_USER", "read"), "GET", "/orgs/globex/t", "Allow"),
    ("globex reader writes globex", member("globex", "ORG_USER", "read"), "PUT", "/orgs/globex/t", "Deny"),
    ("partner reads any org", PARTNER, "GET", "/orgs/globex/tickets", "Allow"),
    ("partner writes", PARTNER, "POST", "/orgs/globex/tickets", "Deny"),
    ("partner on an admin path", PARTNER, "GET", "/orgs/acme/admin", "Deny"),
    ("a token with no organization", STRANGER, "GET", "/orgs/acme/tickets", "Deny"),
    ("no token", None, "GET", "/orgs/acme/tickets", "Deny"),
]


@pytest.mark.parametrize(("who", "token", "method", "path", "expected"), CASES, ids=[c[0] for c in CASES])
def test_an_organization_scoped_api_admits_only_that_organizations_people(
    who: str, token: Token | None, method: str, path: str, expected: str
) -> None:
    assert decide(api_rules.authorization_rules(API, ORGS), method, path, token) == expected


def test_a_platform_wide_api_checks_scopes_but_no_organization() -> None:
    """Without `organizationScoped`, the scope is the whole check (and the admin path holds with a query)."""
    platform = API.model_copy(update={"organization_scoped": False})
    rules = api_rules.authorization_rules(platform, ORGS)
    assert decide(rules, "GET", "/tickets/1", member("globex")) == "Allow"
    assert decide(rules, "GET", "/admin?x=1", member("globex")) == "Deny"
    assert decide(rules, "GET", "/admin?x=1", admin("globex")) == "Allow"
    assert decide(rules, "GET", "/admin?x=1", admin("globex", ())) == "Deny"


def test_admin_paths_need_the_second_factor_keycloak_puts_in_amr() -> None:
    """An admin token proves its second factor by `amr` listing `otp`; without it, no admin path opens.

    Upstream facts (keycloak/keycloak, read through the stored index: main/26.x, not the 26.5.6 tag):
    - services/.../protocol/oidc/mappers/AmrProtocolMapper.java: `oidc-amr-mapper` implements
      OIDCAccessTokenMapper, so `amr` reaches the access tokens the gateway verifies.
    - services/.../protocol/oidc/utils/AmrUtils.java: `amr` lists each completed execution's
      `default.reference.value` while completed-at + `default.reference.maxAge` >= now (absent = 0).
    - services/.../authentication/DefaultAuthenticationFlow.java `processResult`: every execution that
      succeeds in any flow the processor runs, the post-broker-login flow after Google included, is recorded
      (AuthenticatorUtils.updateCompletedExecutions, user-session note AUTHENTICATORS_COMPLETED); so unlike
      LoA/acr (keycloak#25335: the browser flow's levels do not run after brokering) `amr` holds for
      Google-brokered admins, whose OTP step is in the post-broker flow.
    - server-spi/.../ConfigurableAuthenticatorFactory.java COMMON_CONFIG_PROPERTIES: every execution may
      carry those two keys; adorsys/keycloak-config-cli v6.5.0 ExecutionFlowsImportService imports an
      execution's `authenticatorConfig` alias from the realm's `authenticatorConfig` list.
    Envoy Gateway v1.9.0 api/v1alpha1/authorization_types.go: a StringArray claim matches when any listed
    value is in the array."""
    for organization_scoped, path in ((True, "/orgs/acme/admin/users/7"), (False, "/admin/users/7")):
        rules = api_rules.authorization_rules(API.model_copy(update={"organization_scoped": organization_scoped}), ORGS)
        allowed = [r["principal"]["jwt"] for r in rules if r["action"] == "Allow"]
        admin_rules = [jwt for jwt in allowed if "tickets:admin" in jwt["scopes"]]
        assert admin_rules
        for jwt in admin_rules:
            assert {"name": "amr", "valueType": "StringArray", "values": ["otp"]} in jwt["claims"]
        assert decide(rules, "DELETE", path, admin("acme")) == "Allow"
        assert decide(rules, "DELETE", path, admin("acme", ())) == "Deny"


def test_only_jwt_apis_are_organization_scoped() -> None:
    with pytest.raises(ValueError, match="only jwt APIs are organization-scoped"):
        config.Api(
            name="weather",
            namespace="docs",
            service=config.ServiceRef(name="w", port=80),
            auth="public",
            organization_scoped=True,
        )


def test_rule_names_stay_unique_whatever_the_organizations_are_called() -> None:
    """envoyproxy/gateway v1.9.0 internal/xds/translator/authorization.go names each rule's RBAC matcher
    action after the rule: organizations named like the shared rules must not make two alike."""
    names = [rule["name"] for rule in api_rules.authorization_rules(API, ["admin", "partners", "paths", "acme"])]
    assert len(names) == len(set(names))


UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def edge_path(raw: str) -> tuple[str, bool]:
    """`:path` as authorization sees it after the edge's normalisation, and whether the edge redirected the
    client there first (a client that follows the redirect is judged on that path).

    Upstream facts modelled (envoyproxy/gateway v1.9.0, with components/gateway/edge.py PATH_SETTINGS):
    - internal/xds/translator/listener.go: the HTTP connection manager's `normalize_path` is always true:
      Envoy's RFC 3986 normalisation, before routing and every HTTP filter (RBAC included): percent-encoded
      unreserved characters decoded (`%61` -> `a`), dot segments removed (`/x/../admin` -> `/admin`, never
      above the root); no case change, `;` and other reserved escapes kept; the query untouched.
    - `escapedSlashesAction: UnescapeAndRedirect` (api/v1alpha1/pathsettings_types.go, also the default of
      internal/gatewayapi/listener.go): `%2F`/`%2f`/`%5C`/`%5c` unescaped, the client redirected to the
      resulting normalised path.
    - `disableMergeSlashes: false` (listener.go MergeSlashes): `//` merged to `/`.
    """
    path, mark, query = raw.partition("?")
    escaped = re.search("%(2f|5c)", path, re.IGNORECASE) is not None
    path = re.sub("%2f", "/", path, flags=re.IGNORECASE)
    path = re.sub("%5c", "\\\\", path, flags=re.IGNORECASE)

    def unreserved(m: re.Match[str]) -> str:
        char = chr(int(m.group(1), 16))
        return char if char in UNRESERVED else m.group(0)

    path = re.sub("%([0-9a-fA-F]{2})", unreserved, path)
    segments: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if segments:
                segments.pop()
        elif segment != ".":
            segments.append(segment)
    trailing = path.split("/")[-1] in (".", "..")  # `/a/..` resolves to `/`, a directory
    path = "/" + "/".join(segments) + ("/" if trailing and segments else "")
    path = re.sub("/{2,}", "/", path)
    return path + mark + query, escaped


# (spelling, who, expected): `who` is "member" (read and write, no admin) or "admin" (admin with a second
# factor); each spelling names the admin path a lenient backend would serve.
PLATFORM_SPELLINGS = [
    ("/admin/users", "Deny", "Allow"),
    ("/ADMIN/users", "Deny", "Allow"),  # case: a lenient backend serves /admin
    ("/Admin", "Deny", "Allow"),
    ("/admin;x", "Deny", "Deny"),  # `;` parameters: refused whoever asks
    ("/admin;jsessionid=1/users", "Deny", "Deny"),
    ("/x/..;/admin", "Deny", "Deny"),  # Tomcat strips `;` then resolves `..`: /admin
    ("/admin%3Bx", "Deny", "Deny"),
    ("/admin%2Fusers", "Deny", "Allow"),  # escaped slash: redirected to /admin/users
    ("/admin%2fusers", "Deny", "Allow"),
    ("/%61dmin", "Deny", "Allow"),  # percent-encoded letter: decoded to /admin
    ("/%41DMIN", "Deny", "Allow"),
    ("/x/../admin", "Deny", "Allow"),  # dot segments: removed
    ("/x/%2e%2e/admin", "Deny", "Allow"),
    ("/./admin", "Deny", "Allow"),
    ("//admin", "Deny", "Allow"),  # duplicate slashes: merged
    ("/x/..//admin", "Deny", "Allow"),
    ("/admin?x=1;y", "Deny", "Allow"),  # a `;` in the query is no path parameter
    ("/tickets/1", "Allow", "Allow"),
    ("/tickets;x/1", "Deny", "Deny"),
    ("/administrators", "Allow", "Allow"),
]


def _edge_decision(rules: list[dict[str, Any]], method: str, raw: str, token: Token | None) -> str:
    path, _ = edge_path(raw)
    return decide(rules, method, path, token)


@pytest.mark.parametrize(("spelling", "for_member", "for_admin"), PLATFORM_SPELLINGS)
def test_no_spelling_of_an_admin_path_escapes_the_admin_rule(spelling: str, for_member: str, for_admin: str) -> None:
    """A platform-wide API: whatever the spelling, a member (read and write) never reaches an admin path,
    with GET or DELETE; an admin with a second factor does wherever the edge normalises the spelling to the
    path (`;` parameters are refused to everyone: components/gateway/apis.py PATH_PARAMETERS). Case is left
    as sent by Envoy (normalize_path does not fold case): the admin expressions carry RE2's `(?i)`."""
    rules = api_rules.authorization_rules(API.model_copy(update={"organization_scoped": False}), ORGS)
    for method in ("GET", "DELETE"):
        assert _edge_decision(rules, method, spelling, member("acme")) == for_member, method
        assert _edge_decision(rules, method, spelling, admin("acme")) == for_admin, method


ORG_SPELLINGS = [
    ("/orgs/acme/admin", "Deny", "Allow"),
    ("/orgs/acme/ADMIN", "Deny", "Allow"),
    ("/ORGS/acme/admin", "Deny", "Allow"),
    ("/orgs/ACME/admin", "Deny", "Allow"),
    ("/orgs/acme/admin;x", "Deny", "Deny"),
    ("/orgs/acme;x/admin", "Deny", "Deny"),
    ("/orgs/acme/;x/admin", "Deny", "Deny"),
    ("/orgs/acme/tickets/..;/admin", "Deny", "Deny"),
    ("/orgs/acme/admin%2Fusers", "Deny", "Allow"),
    ("/orgs/acme%2fadmin", "Deny", "Allow"),
    ("/orgs/acme/%61dmin", "Deny", "Allow"),
    ("/orgs/acme/tickets/../admin", "Deny", "Allow"),
    ("/orgs/acme/tickets/%2E%2E/admin", "Deny", "Allow"),
    ("/orgs/acme//admin", "Deny", "Allow"),
    ("//orgs/acme/admin", "Deny", "Allow"),
    ("/orgs/acme/tickets", "Allow", "Allow"),
    ("/orgs/globex/../acme/admin", "Deny", "Allow"),
    ("/orgs/acme/../globex/admin", "Deny", "Deny"),  # acme's admin is not globex's
]


@pytest.mark.parametrize(("spelling", "for_member", "for_admin"), ORG_SPELLINGS)
def test_no_spelling_of_an_organizations_admin_path_escapes_its_rules(
    spelling: str, for_member: str, for_admin: str
) -> None:
    """An organization-scoped API: the same spellings under `/orgs/<slug>/`; the `admin-paths` Deny (case-
    insensitive, any slug) keeps members and partners out whatever the spelling; the organization's admin
    rule admits its admin the same way."""
    rules = api_rules.authorization_rules(API, ORGS)
    for method in ("GET", "DELETE"):
        assert _edge_decision(rules, method, spelling, member("acme")) == for_member, method
        assert _edge_decision(rules, method, spelling, admin("acme")) == for_admin, method
    assert _edge_decision(rules, "GET", spelling, PARTNER) == ("Allow" if spelling == "/orgs/acme/tickets" else "Deny")


def test_the_edge_model_redirects_only_escaped_slashes() -> None:
    assert edge_path("/admin%2Fusers?a=%2F") == ("/admin/users?a=%2F", True)
    assert edge_path("/x/../admin;y?q=1") == ("/admin;y?q=1", False)
    assert edge_path("/%7Euser/%2e/a") == ("/~user/a", False)
