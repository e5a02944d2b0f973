"""Partner tiers and partner-only scopes (issue 20; seed 000: "assets: M2M write, user read").

`admitted` counts requests as Envoy Gateway v1.9.0 makes Envoy and its rate limit service count them
for a BackendTrafficPolicy's global rules (envoyproxy/gateway internal/xds/translator/ratelimit.go,
api/v1alpha1/ratelimit_types.go):
- each rule is its own set of buckets (its descriptor key is its index), counted when every selector
  holds; a header selector of type Exact or RegularExpression (a full match, RE2) becomes a
  `header_value_match` action, `invert: true` its `expect_match: false` (so an absent header matches an
  inverted selector); `Distinct` a `request_headers` action, one bucket per value, and without the header
  the rule does not apply; a `sourceCIDR` of type Distinct one bucket per address in the range;
- every matching rule's bucket is counted, and a request is answered 429 when any of them is past its
  limit (one minute here: every request falls in the same window).
The limiter runs after jwt_authn has copied the token's `azp` to `x-client-id` (internal/xds/translator/
httpfilters.go: jwt_authn 10, RBAC 301, rate limit 303), and the edge has removed a client's own
`x-client-id` before any auth filter (components/headers.py SPOOFABLE; tests/test_access_report.py).
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from typing import Any

import pytest
from helpers import preview_objects
from test_api_access import Token, decide
from test_config import _load, _set, _stack_raw
from test_personas import _realm, _route, _targeting, _token_claims, answer

from components import config
from components.gateway import api_rules, apis, traffic
from components.headers import PARTNER_CLIENT_HEADER, SPOOFABLE
from offline.preview import PreviewResult

Request = tuple[dict[str, str], str]  # headers (as the limiter sees them), source address


def _header_holds(match: dict[str, Any], headers: dict[str, str]) -> tuple[bool, str]:
    """Whether a header selector holds, and the bucket part it contributes."""
    value = headers.get(match["name"])
    kind = match.get("type", "Exact")
    if kind == "Distinct":
        return value is not None, value or ""
    if value is None:
        found = False
    elif kind == "Exact":
        found = value == match["value"]
    else:
        found = re.fullmatch(match["value"], value) is not None
    return found != bool(match.get("invert")), ""


def _bucket(rule: dict[str, Any], request: Request) -> tuple[str, ...] | None:
    """The rule's bucket for this request, or None when the rule does not apply to it."""
    headers, source = request
    key: list[str] = []
    for selector in rule.get("clientSelectors", []):
        for match in selector.get("headers", []):
            holds, part = _header_holds(match, headers)
            if not holds:
                return None
            key.append(part)
        cidr = selector.get("sourceCIDR")
        if cidr:
            inside = ipaddress.ip_address(source) in ipaddress.ip_network(cidr["value"])
            if inside == bool(cidr.get("invert")):
                return None
            key.append(source if cidr.get("type") == "Distinct" else "")
    return tuple(key)


def admitted(rules: list[dict[str, Any]], requests: list[Request]) -> list[bool]:
    """Each request in order within one minute: True when under every matching rule's limit, False (429)."""
    counts: Counter[tuple[Any, ...]] = Counter()
    answers = []
    for request in requests:
        over = False
        for index, rule in enumerate(rules):
            assert rule["limit"]["unit"] == "Minute"
            bucket = _bucket(rule, request)
            if bucket is None:
                continue
            counts[(index, *bucket)] += 1
            over |= counts[(index, *bucket)] > rule["limit"]["requests"]
        answers.append(not over)
    return answers


def partner(name: str, source: str = "203.0.113.7") -> Request:
    return {PARTNER_CLIENT_HEADER: name}, source


def user(source: str = "203.0.113.7") -> Request:
    return {PARTNER_CLIENT_HEADER: "portal"}, source  # a person's token: issued to the portal


def _api(*clients: tuple[str, str]) -> config.Api:
    return config.Api(
        name="assets",
        namespace="helpdesk",
        service=config.ServiceRef(name="assets-api", port=8080),
        auth="jwt",
        scopes=["read", "write"],
        m2m_clients=[config.M2MClient(name=n, scopes=["write"], tier=t) for n, t in clients],
    )


TIERS = {"standard": 300, "premium": 3000}


def test_a_partner_over_its_tier_s_limit_gets_429_on_staging_s_assets_api(staging_preview: PreviewResult) -> None:
    """As rendered: partner-logistics (tier `standard`, 300 a minute) gets its 301st request refused; a
    person calling from the same address is counted apart (600 a minute per address)."""
    route = _route(staging_preview, "assets", "POST", "/assets/v1")
    assert route is not None
    policy = _targeting(staging_preview, "BackendTrafficPolicy", route)
    assert policy is not None
    rules = policy["rateLimit"]["global"]["rules"]
    answers = admitted(rules, [partner("partner-logistics")] * 301 + [user()] * 600 + [user()])
    assert answers[:300] == [True] * 300 and answers[300] is False  # the partner, over its tier
    assert all(answers[301:901]) and answers[901] is False  # the person: the address limit, untouched by it


def test_each_partner_has_its_own_bucket_at_its_own_tier() -> None:
    rules = traffic.traffic_spec(_api(("slow", "standard"), ("fast", "premium")), TIERS)["rateLimit"]["global"]["rules"]
    slow = admitted(rules, [partner("slow")] * 301)
    assert slow.count(True) == 300
    # the premium partner is not capped by the per-address default (600): its tier replaces it
    fast = admitted(rules, [partner("fast")] * 3001)
    assert fast.count(True) == 3000 and fast[-1] is False
    # one partner's traffic takes nothing from the other's
    both = admitted(rules, [partner("slow")] * 300 + [partner("fast")] * 300 + [partner("slow")])
    assert both == [True] * 600 + [False]


def test_a_look_alike_client_id_is_not_a_partner() -> None:
    """Exact values and an anchored expression: `slow-x` or `xslow` get the address limit, not a tier."""
    rules = traffic.traffic_spec(_api(("slow", "standard")), TIERS)["rateLimit"]["global"]["rules"]
    assert admitted(rules, [partner("slow-x")] * 601).count(True) == 600
    assert admitted(rules, [partner("xslow")] * 301).count(True) == 301


def test_the_limiter_sees_only_the_verified_claim() -> None:
    """The client id header comes from the verified token's `azp` alone: the edge removes any a client sends."""
    assert PARTNER_CLIENT_HEADER in SPOOFABLE
    spec = apis.jwt_policy_spec(_api(("slow", "standard")), "https://issuer", {"uri": "https://jwks"}, "https://o", [])
    (provider,) = spec["jwt"]["providers"]
    assert {"claim": "azp", "header": PARTNER_CLIENT_HEADER} in provider["claimToHeaders"]


def test_an_api_without_partners_keeps_the_address_limit_alone() -> None:
    rules = traffic.traffic_spec(_api(), TIERS)["rateLimit"]["global"]["rules"]
    assert rules == traffic.default_rate_limit_rules()
    assert admitted(rules, [user()] * 601).count(True) == 600


# --- config ----------------------------------------------------------------------------------------

INVALID = [
    (
        "unknown tier",
        _set("apis[1].m2mClients[0].tier", "gold"),
        "gatehouse:apis[1].m2mClients[0].tier",
        "unknown partner tier 'gold' (partnerTiers: premium, standard)",
    ),
    (
        "no tiers at all",
        _set("partnerTiers", []),
        "gatehouse:apis[1].m2mClients[0].tier",
        "unknown partner tier 'standard' (partnerTiers: none: partnerTiers is empty)",
    ),
    (
        "a client without a tier",
        _set("apis[1].m2mClients[0]", {"name": "partner-logistics", "scopes": ["write"]}),
        "gatehouse:apis[1].m2mClients[0].tier",
        "is required",
    ),
    (
        "duplicate tier",
        _set("partnerTiers[1].name", "standard"),
        "gatehouse:partnerTiers[1].name",
        "duplicate partner tier 'standard' (first at gatehouse:partnerTiers[0].name)",
    ),
    (
        "tier without a limit",
        _set("partnerTiers[0].requestsPerMinute", 0),
        "gatehouse:partnerTiers[0].requestsPerMinute",
        "greater than or equal to 1",
    ),
    (
        "one partner, two tiers",
        _set("apis[0].m2mClients", [{"name": "partner-logistics", "scopes": ["read"], "tier": "premium"}]),
        "gatehouse:apis[1].m2mClients[0].tier",
        "partner 'partner-logistics' has tier 'premium' at gatehouse:apis[0].m2mClients[0].tier: one client, one tier",
    ),
    (
        "partner-only scope the API lacks",
        _set("apis[1].partnerOnlyScopes", ["write", "read"]),
        "gatehouse:apis[1].partnerOnlyScopes[1]",
        "no m2m client of this API holds 'read': nobody could use it",
    ),
    (
        "partner-only scope not among the API's",
        _set("apis[1].scopes", ["read"]),
        "gatehouse:apis[1].partnerOnlyScopes[0]",
        "scope 'write' is not one of the API's scopes",
    ),
    (
        "partner-only admin",
        _set("apis[1].partnerOnlyScopes", ["admin"]),
        "gatehouse:apis[1].partnerOnlyScopes[0]",
        "machine clients never get 'admin'",
    ),
    (
        "more partners than rate limit rules",
        _set("apis[1].m2mClients", [{"name": f"p{i}", "scopes": ["write"], "tier": "standard"} for i in range(253)]),
        "gatehouse:apis[1].m2mClients",
        "at most 252 partners per API",
    ),
    (
        "partner-only scope on an apiKey API",
        _set("apis[2].partnerOnlyScopes", ["read"]),
        "gatehouse:apis[2].partnerOnlyScopes",
        "only jwt APIs have partner-only scopes",
    ),
]


@pytest.mark.parametrize(("case", "mutate", "path", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_bad_tier_config_names_the_path(case: str, mutate: Any, path: str, message: str) -> None:
    raw = _stack_raw("staging")
    mutate(raw)
    with pytest.raises(config.ConfigError) as caught:
        _load(raw)
    problems = [m for p, m in caught.value.problems if p == path]
    assert any(message in m for m in problems), caught.value.problems


def test_one_partner_under_two_apis_with_one_tier_loads() -> None:
    raw = _stack_raw("staging")
    raw["apis"][0]["m2mClients"] = [{"name": "partner-logistics", "scopes": ["read"], "tier": "standard"}]
    parsed = _load(raw)
    assert {c.tier for a in parsed.apis for c in a.m2m_clients} == {"standard"}


# --- assets: partners write, people read --------------------------------------------------------------


def test_the_realm_grants_assets_write_to_partners_only(staging_preview: PreviewResult) -> None:
    """Keycloak puts a role-mapped scope in a token only for a holder of one of its roles
    (DefaultClientSessionContext.isClientScopePermittedForUser, keycloak 26.5), and a client can request only
    the scopes it lists: `assets:write` is mapped to PARTNER alone and the portal does not list it."""
    realm = _realm(staging_preview)
    mapped = {m["clientScope"]: m["roles"] for m in realm["clientScopeMappings"]["organizations"]}
    assert mapped["assets:write"] == ["PARTNER"]
    assert "PARTNER" in mapped["assets:read"] and "ORG_USER" in mapped["assets:read"]
    (portal,) = [c for c in realm["clients"] if c["clientId"] == "portal"]
    offered = portal["defaultClientScopes"] + portal["optionalClientScopes"]
    assert "assets:write" not in offered and "assets:read" in offered
    assert "tickets:write" in offered  # other APIs' write scopes stay the users'
    people = [u for u in realm["users"] if "serviceAccountClientId" not in u]
    assert all("PARTNER" not in u.get("clientRoles", {}).get("organizations", []) for u in people)


@pytest.mark.parametrize("who", ["org A member", "org A admin", "org B member"])
def test_a_user_cannot_obtain_assets_write(staging_preview: PreviewResult, who: str) -> None:
    from test_personas import PERSONAS

    claims = _token_claims(staging_preview, PERSONAS[who], "portal")
    assert claims is not None
    assert "assets:read" in claims["scope"] and "assets:write" not in claims["scope"]


def test_the_gateway_admits_assets_writes_from_partner_tokens_only(staging_preview: PreviewResult) -> None:
    """Even a token carrying `assets:write` (a realm misconfigured by hand) is refused unless its `azp` is
    a partner of the API holding write."""
    assert answer(staging_preview, "org A member", "assets", "POST", "/assets/v1")[0] == "Deny"
    assert answer(staging_preview, "partner client", "assets", "POST", "/assets/v1")[0] == "Allow"
    route = _route(staging_preview, "assets", "POST", "/assets/v1")
    assert route is not None
    security = _targeting(staging_preview, "SecurityPolicy", route)
    assert security is not None
    rules = security["authorization"]["rules"]
    forged = Token(("assets:read", "assets:write"), {"azp": "portal", "org_memberships": ["/orgs/acme/ORG_USER"]})
    assert decide(rules, "POST", "/assets/v1", forged) == "Deny"
    assert decide(rules, "PUT", "/assets/v1/7", forged) == "Deny"
    assert decide(rules, "GET", "/assets/v1", forged) == "Allow"
    assert decide(rules, "PUT", "/assets/v1/7", Token(("assets:write",), {"azp": "partner-logistics"})) == "Allow"


def test_partner_only_scopes_in_an_organization_scoped_api() -> None:
    """No member rule for a partner-only scope: members read their organization's data, partners write."""
    api = _api(("slow", "standard")).model_copy(update={"organization_scoped": True, "partner_only_scopes": ["write"]})
    rules = api_rules.authorization_rules(api, ["acme"])
    assert [r["name"] for r in rules] == ["path-parameters", "admin-paths", "partners:write", "org:acme:read"]
    member = Token(("assets:read", "assets:write"), {"azp": "portal", "org_memberships": ["/orgs/acme/ORG_USER"]})
    assert decide(rules, "POST", "/orgs/acme/items", member) == "Deny"
    assert decide(rules, "GET", "/orgs/acme/items", member) == "Allow"
    assert decide(rules, "POST", "/orgs/acme/items", Token(("assets:write",), {"azp": "slow"})) == "Allow"


def test_staging_assets_rate_limit_and_rules_as_rendered(staging_preview: PreviewResult) -> None:
    """The staging stack renders the tier into the assets API's BackendTrafficPolicy."""
    policies = [
        p
        for p in preview_objects(staging_preview, "BackendTrafficPolicy")
        if p["metadata"]["name"] == "assets-v1-ratelimit"
    ]
    (policy,) = policies
    first = policy["spec"]["rateLimit"]["global"]["rules"][0]
    assert first == {
        "clientSelectors": [{"headers": [{"name": "x-client-id", "type": "Exact", "value": "partner-logistics"}]}],
        "limit": {"requests": 300, "unit": "Minute"},
    }
