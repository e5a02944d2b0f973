"""Who reaches what: each persona of issue 18 against every route of the staging stack, as rendered.

Everything is read from the generated objects: the routes and the policies that target them, the realm
(which client scopes a user's roles let Keycloak put in a token: realm_scopes.scope_mappings), the key
Secrets, and the identity filter (run on LuaJIT, tests/lua_filter.py). The gateway's decisions follow
Envoy Gateway v1.9.0 as tests/test_api_access.py `decide` does: a single-sign-on route first needs a
session (oauth2-proxy for a staff app, the app's own OIDC client for an organization app; without one,
the answer is a redirect to sign in), then its token passes the authorization rules or is denied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from helpers import preview_objects
from lua_filter import run_identity_filter
from test_api_access import Token, decide
from test_api_operations import routed

from offline.preview import PreviewResult

DOMAIN = "staging.platform.example.com"
FORGED = {  # what a hostile client sends along: none of it may reach an app
    "x-org-slug": "globex",
    "x-org-roles": "ORG_ADMIN",
    "x-gatehouse-role": "Admin",
    "x-auth-request-groups": "example-org:platform-admins",
}


@dataclass(frozen=True)
class Persona:
    dex: dict[str, Any] | None = None  # the Dex ID token claims of a staff-side session (oauth2-proxy)
    roles: dict[str, list[str]] = field(default_factory=dict)  # Keycloak: organization -> roles held
    partner: str | None = None  # a partner's client id (client credentials)
    api_keys: tuple[str, ...] = ()  # API-key clients whose keys it holds


PERSONAS = {
    "staff admin": Persona(dex={"sub": "s1", "email": "ada@example.com", "groups": ["authentik:platform-admins"]}),
    "staff engineer": Persona(
        dex={"sub": "s2", "email": "eng@example.com", "groups": ["example-org:platform-engineering"]}
    ),
    "staff on Google": Persona(
        dex={"sub": "s3", "email": "g@example.com", "groups": [], "federated_claims": {"connector_id": "google"}}
    ),
    "tenant GitHub team": Persona(
        dex={"sub": "t1", "email": "x@acme.example.com", "groups": ["acme-corp:platform-admins"]}
    ),
    "org A admin": Persona(roles={"acme": ["ORG_ADMIN"]}),
    "org A member": Persona(roles={"acme": ["ORG_USER"]}),
    "org B member": Persona(roles={"globex": ["ORG_USER"]}),
    "partner client": Persona(partner="partner-logistics"),
    "anonymous": Persona(),
    "key holder": Persona(api_keys=("pro-globex",)),
}


@pytest.fixture()
def staging(staging_preview: PreviewResult) -> PreviewResult:
    return staging_preview


def _route(result: PreviewResult, host: str, method: str = "GET", path: str = "/") -> dict[str, Any] | None:
    """The route of `host` with a rule matching the request (APIs may share a host, under base paths of
    their own); None: no route matches (Envoy answers 404)."""
    routes = [  # on whichever gateway (`inventory.internal.<domain>` on staging's internal one): config keeps
        r  # host labels unique across gateways
        for r in preview_objects(result, "HTTPRoute")
        if len(r["spec"].get("hostnames", [])) == 1
        and r["spec"]["hostnames"][0].split(".", 1)[0] == host
        and r["spec"]["hostnames"][0].endswith(f".{DOMAIN}")
    ]
    found = [r for r in routes if any(routed(rule.get("matches"), method, path) for rule in r["spec"]["rules"])]
    assert len(found) <= 1, found
    return found[0] if found else None


def _edge(result: PreviewResult, route: dict[str, Any]) -> dict[str, Any]:
    """The ClientTrafficPolicy of the Gateway the route attaches to: each Gateway's proxies run their own."""
    (gateway,) = {ref["name"] for ref in route["spec"]["parentRefs"]}
    (edge,) = [
        p
        for p in preview_objects(result, "ClientTrafficPolicy")
        if [t["name"] for t in p["spec"]["targetRefs"] if t["kind"] == "Gateway"] == [gateway]
    ]
    return edge


def _targeting(result: PreviewResult, kind: str, route: dict[str, Any]) -> dict[str, Any] | None:
    """The policy of `kind` on the whole route (not one of its rules: `sectionName`)."""
    found = [
        p["spec"]
        for p in preview_objects(result, kind)
        if p["metadata"]["namespace"] == route["metadata"]["namespace"]
        and any(t.get("name") == route["metadata"]["name"] and "sectionName" not in t for t in p["spec"]["targetRefs"])
    ]
    return found[0] if found else None


def _realm(result: PreviewResult) -> dict[str, Any]:
    import json

    (configmap,) = [c for c in preview_objects(result, "ConfigMap") if c["metadata"]["name"] == "keycloak-realm"]
    realm: dict[str, Any] = json.loads(configmap["data"]["realm.json"])
    return realm


def _token_claims(result: PreviewResult, persona: Persona, client: str) -> dict[str, Any] | None:
    """What Keycloak puts in this persona's token from `client`: its memberships, and the client's scopes
    whose role mappings it holds (a scope with mappings is left out for a user holding none)."""
    realm = _realm(result)
    clients = {c["clientId"]: c for c in realm["clients"]}
    mapped = {m["clientScope"]: set(m["roles"]) for m in realm["clientScopeMappings"]["organizations"]}
    if persona.partner:
        roles, claims = {"PARTNER"}, {"azp": persona.partner}
        requested = clients[persona.partner]["defaultClientScopes"]
    elif persona.roles:
        roles = {r for held in persona.roles.values() for r in held}
        claims = {"org_memberships": [f"/orgs/{o}/{r}" for o, held in persona.roles.items() for r in held]}
        requested = [*clients[client]["defaultClientScopes"], *clients[client].get("optionalClientScopes", [])]
        if "ORG_ADMIN" in roles:  # admins always sign in with a second factor (realm_flows)
            claims["amr"] = ["pwd", "otp"]
    else:
        return None
    claims["scope"] = [s for s in requested if s in mapped and mapped[s] & roles]
    return claims


def answer(result: PreviewResult, who: str, host: str, method: str, path: str) -> tuple[str, dict[str, str]]:
    """`Allow` with the identity headers the app receives, `Deny`, `login` (no session: sign in first), or
    `NotFound` (no route serves the request)."""
    persona = PERSONAS[who]
    route = _route(result, host, method, path)
    if route is None:
        return "NotFound", {}
    security = _targeting(result, "SecurityPolicy", route) or {}
    rules = security.get("authorization", {}).get("rules", [])
    claims: dict[str, Any] | None
    if "extAuth" in security:  # a staff app: oauth2-proxy's session, then its Dex ID token
        claims = persona.dex
        if claims is None:
            return "login", {}
    elif "oidc" in security:  # an organization app: its own client's ID token
        claims = _token_claims(result, persona, security["oidc"]["clientID"]) if persona.roles else None
        if claims is None:
            return "login", {}
    elif "jwt" in security:  # an API: the bearer token of the portal (users) or the partner's client
        claims = _token_claims(result, persona, persona.partner or "portal")
    elif "apiKeyAuth" in security:
        held = set(persona.api_keys)
        secrets = {ref["name"] for ref in security["apiKeyAuth"]["credentialRefs"]}
        keys = {
            k for s in preview_objects(result, "Secret") if s["metadata"]["name"] in secrets for k in s["stringData"]
        }
        return ("Allow" if held & keys else "Deny"), {}
    else:
        return "Allow", {}
    token = Token(tuple(claims.get("scope", [])), claims) if claims is not None else None
    if decide(rules, method, path, token) != "Allow":
        return "Deny", {}
    assert claims is not None
    extension = _targeting(result, "EnvoyExtensionPolicy", route)
    context = extension["lua"][0]["filterContext"] if extension else None
    provider = security["jwt"]["providers"][0]
    edge = _edge(result, route)  # runs before every auth filter
    stripped = {h.lower() for h in edge["spec"]["headers"]["earlyRequestHeaders"]["remove"]}
    arriving = {h: v for h, v in FORGED.items() if h not in stripped}
    headers = run_identity_filter(arriving, context, {provider["name"]: claims})
    headers |= {
        c["header"]: str(claims[c["claim"]]) for c in provider.get("claimToHeaders", []) if c["claim"] in claims
    }
    return "Allow", headers


CASES = [
    # persona, host, method, path, expected
    ("staff admin", "grafana", "GET", "/", "Allow"),
    ("staff engineer", "grafana", "GET", "/d/home", "Allow"),
    ("staff on Google", "grafana", "GET", "/", "Allow"),
    ("tenant GitHub team", "grafana", "GET", "/", "Deny"),
    ("org A admin", "grafana", "GET", "/", "login"),
    ("anonymous", "grafana", "GET", "/", "login"),
    # the Tekton Dashboard (issue 21): the platform groups seed 002 gives Tekton access, no one else
    ("staff admin", "tekton", "GET", "/#/pipelineruns", "Allow"),
    ("staff engineer", "tekton", "GET", "/", "Allow"),
    ("staff on Google", "tekton", "GET", "/", "Deny"),  # seed 002 gives Workspace users no Tekton access
    ("tenant GitHub team", "tekton", "GET", "/", "Deny"),
    ("org A admin", "tekton", "GET", "/", "login"),
    ("anonymous", "tekton", "GET", "/", "login"),
    ("org A member", "helpdesk", "GET", "/", "Deny"),  # helpdesk admits acme's admins and managers
    ("org A admin", "helpdesk", "GET", "/", "Allow"),
    ("org B member", "helpdesk", "GET", "/", "Deny"),
    ("staff admin", "helpdesk", "GET", "/", "login"),  # staff are not an organization's members
    ("org B member", "shop", "GET", "/cart", "Allow"),
    ("org A member", "shop", "GET", "/cart", "Deny"),
    ("org A admin", "shop", "POST", "/cart", "Deny"),
    ("anonymous", "shop", "GET", "/", "login"),
    ("org A member", "tickets", "GET", "/tickets/v1/orgs/acme/tickets", "Allow"),
    ("org A member", "tickets", "POST", "/tickets/v1/orgs/acme/tickets", "Allow"),
    ("org A member", "tickets", "DELETE", "/tickets/v1/orgs/acme/admin/users/1", "Deny"),
    ("org A admin", "tickets", "DELETE", "/tickets/v1/orgs/acme/admin/users/1", "Allow"),
    ("org A admin", "tickets", "GET", "/tickets/v1/orgs/globex/admin/users", "Deny"),  # A's admin, B's data
    ("org A admin", "tickets", "GET", "/tickets/v1/orgs/globex/tickets", "Deny"),
    ("org A admin", "tickets", "DELETE", "/tickets/v1/orgs/acme/tickets/1", "NotFound"),  # no such operation
    ("org B member", "tickets", "GET", "/tickets/v1/orgs/acme/tickets", "Deny"),
    ("org B member", "tickets", "GET", "/tickets/v1/orgs/globex/tickets", "Allow"),
    ("staff admin", "tickets", "GET", "/tickets/v1/orgs/acme/tickets", "Deny"),  # no realm token
    ("partner client", "tickets", "GET", "/tickets/v1/orgs/acme/tickets", "Deny"),  # tickets names no partner
    ("anonymous", "tickets", "GET", "/tickets/v1/orgs/acme/tickets", "Deny"),
    ("partner client", "assets", "POST", "/assets/v1", "Allow"),
    ("partner client", "assets", "GET", "/assets/v1", "Deny"),  # its scope is write only
    ("org A member", "assets", "GET", "/assets/v1", "Allow"),
    ("org A member", "assets", "POST", "/assets/v1", "Deny"),  # assets: partners write, people read (issue 20)
    ("org A admin", "assets", "PUT", "/assets/v1/7", "Deny"),
    ("org A admin", "assets", "DELETE", "/assets/v1/7", "NotFound"),
    ("anonymous", "assets", "GET", "/assets/v1", "Deny"),
    ("key holder", "catalog", "GET", "/catalog/v1/items", "Allow"),
    ("key holder", "catalog", "GET", "/catalog/v2/products/9", "Allow"),
    ("anonymous", "catalog", "GET", "/catalog/v1/items", "Deny"),
    ("org A admin", "catalog", "GET", "/catalog/v1/items", "Deny"),
    ("org A member", "inventory", "GET", "/inventory/v2/stock/sku-1", "Allow"),
    ("org A member", "inventory", "GET", "/inventory/v2/admin/reports", "Deny"),  # admin scope, step-up
    ("org A admin", "inventory", "GET", "/inventory/v2/ADMIN/reports", "NotFound"),  # routes are case-exact
]


@pytest.mark.parametrize(
    ("who", "host", "method", "path", "expected"), CASES, ids=[f"{c[0]} {c[2]} {c[1]}{c[3]}" for c in CASES]
)
def test_each_persona_gets_the_expected_answer(
    staging: PreviewResult, who: str, host: str, method: str, path: str, expected: str
) -> None:
    assert answer(staging, who, host, method, path)[0] == expected


def test_an_organization_member_gets_the_organization_and_roles_from_the_token_not_the_client(
    staging: PreviewResult,
) -> None:
    """A's admin opening A's app: X-Org-Slug is A, X-Org-Roles A's roles, X-User-Id the token's subject,
    whatever the client claimed; B's member opening B's app gets B."""
    decision, headers = answer(staging, "org A admin", "helpdesk", "GET", "/")
    assert decision == "Allow"
    assert headers["x-org-slug"] == "acme" and headers["x-org-roles"] == "ORG_ADMIN"
    decision, headers = answer(staging, "org B member", "shop", "GET", "/")
    assert (headers["x-org-slug"], headers["x-org-roles"]) == ("globex", "ORG_USER")
    assert "x-gatehouse-role" not in headers and "x-auth-request-groups" not in headers


def test_staff_get_their_verified_groups_and_grafana_role(staging: PreviewResult) -> None:
    """Grafana's role comes from the verified groups (admins: Admin; engineers: Viewer), never the client's."""
    _, admin = answer(staging, "staff admin", "grafana", "GET", "/")
    assert admin["x-gatehouse-role"] == "Admin"
    assert admin["x-auth-request-groups"] == "authentik:platform-admins"
    _, engineer = answer(staging, "staff engineer", "grafana", "GET", "/")
    assert engineer["x-gatehouse-role"] == "Viewer"
    assert engineer["x-auth-request-groups"] == "example-org:platform-engineering"
    assert "x-org-slug" not in engineer
