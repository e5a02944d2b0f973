"""The access matrix: for every HTTPRoute the stack declares, who may enter and which identity headers
the app behind it receives, and from where (`access-report.json`).

Read from the rendered objects only, as a reviewer would read them: each route's hosts and backend, the
Envoy Gateway policies that target it (SecurityPolicy: ext_authz through oauth2-proxy, OIDC, JWT with its
authorization rules, API keys; BackendTrafficPolicy: rate limits; EnvoyExtensionPolicy: the identity
filter, which sets headers from the verified token and removes session cookies) and the edge's
ClientTrafficPolicy,
whose `earlyRequestHeaders.remove` runs before every auth filter (envoyproxy/gateway v1.9.0
internal/xds/translator/listener.go, early header mutation): a header it removes can reach an app only
as the gateway set it. Routes a Helm chart renders (Authentik's login page) are not among the objects.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from policy.gatehouse_contract import PUBLIC_ROUTE_LABEL

from .manifests import Manifest

GATEWAY_SET = "the gateway (route filter, replacing any client value)"
IDENTITY_FILTER = "the identity filter, from the verified token (replacing any client value)"
REPLACED = (GATEWAY_SET, IDENTITY_FILTER)
POLICY_KINDS = ("SecurityPolicy", "BackendTrafficPolicy", "EnvoyExtensionPolicy")


def _key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


def _policies(manifests: list[Manifest]) -> dict[str, dict[str, dict[str, Any]]]:
    """`<namespace>/<route>` -> policy kind -> the policy's spec (one of each kind per route)."""
    found: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for m in manifests:
        if m.kind in POLICY_KINDS:
            for target in m.redacted["spec"].get("targetRefs", []):
                if target.get("kind") == "HTTPRoute":
                    found[_key(m.namespace or "", target["name"])][m.kind] = m.redacted["spec"]
    return found


def _stripped(manifests: list[Manifest]) -> set[str]:
    """What every edge ClientTrafficPolicy removes (one per Gateway): a header one of them keeps reaches
    the apps that Gateway serves."""
    removed: list[set[str]] = []
    for m in manifests:
        if m.kind == "ClientTrafficPolicy":
            early = m.redacted["spec"].get("headers", {}).get("earlyRequestHeaders", {})
            removed.append({h.lower() for h in early.get("remove", [])})
    return set.intersection(*removed) if removed else set()


def _rule(rule: dict[str, Any]) -> dict[str, Any]:
    jwt = rule["principal"].get("jwt", {})
    operation = rule.get("operation", {})
    return {
        "name": rule["name"],
        "action": rule["action"],
        "methods": operation.get("methods", ["*"]),
        "path": operation.get("path", {"type": "PathPrefix", "value": "/"}),
        "scopes": jwt.get("scopes", []),
        "claims": {c["name"]: c["values"] for c in jwt.get("claims", [])},
        **({"clients": rule["principal"]["clientCIDRs"]} if "clientCIDRs" in rule["principal"] else {}),
    }


def _token_rules(security: dict[str, Any]) -> dict[str, Any]:
    (provider,) = security["jwt"]["providers"]
    rules = security.get("authorization", {})
    return {
        "issuer": provider["issuer"],
        "audiences": provider.get("audiences", []),
        "defaultAction": rules.get("defaultAction", "Deny"),
        "rules": [_rule(r) for r in rules.get("rules", [])],
    }


def _who(route: Manifest, security: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Who may enter, and the headers the SecurityPolicy sets (before the route and identity filter)."""
    headers: dict[str, str] = {}
    if "jwt" in security:
        (provider,) = security["jwt"]["providers"]
        headers |= {c["header"]: f"verified token claim '{c['claim']}'" for c in provider.get("claimToHeaders", [])}
    if "extAuth" in security:
        headers |= {h: "oauth2-proxy's answer (ext_authz)" for h in security["extAuth"]["http"]["headersToBackend"]}
        if "jwt" not in security:
            return {"access": "sso", "who": "anyone signed in through oauth2-proxy (any identity Dex accepts)"}, headers
        return {"access": "sso", "audience": "staff", "signIn": "oauth2-proxy (Dex)", **_token_rules(security)}, headers
    if "oidc" in security:
        signs_in = f"OIDC on this host (client {security['oidc']['clientID']})"
        return {"access": "sso", "audience": "organization", "signIn": signs_in, **_token_rules(security)}, headers
    if "jwt" in security:  # bearer tokens of the realm: organizations' people and partner clients
        return {"access": "jwt", "audience": "organization", **_token_rules(security)}, headers
    if "apiKeyAuth" in security:
        keys = security["apiKeyAuth"]
        if "forwardClientIDHeader" in keys:
            headers[keys["forwardClientIDHeader"]] = "the API key's client id"
        # `<namespace>/<name>`: the keys live apart from the route (gateway/apis.py)
        route_ns = route.namespace or ""
        secrets = [f"{ref.get('namespace', route_ns)}/{ref['name']}" for ref in keys["credentialRefs"]]
        return {"access": "apiKey", "audience": "public", "keySecrets": secrets}, headers
    spec = route.redacted["spec"]
    if all(not rule.get("backendRefs") for rule in spec.get("rules", [])):
        return {"access": "redirect", "who": "anyone: no backend, every request is answered with a redirect"}, headers
    if route.redacted["metadata"].get("labels", {}).get(PUBLIC_ROUTE_LABEL) == "true":
        return {"access": "public", "audience": "public", "who": "anyone"}, headers
    return {"access": "unprotected", "who": "anyone (no policy, not labelled public)"}, headers


def _selected(rule: dict[str, Any]) -> str:
    """Whom a rate limit rule counts, and in how many buckets: `x-client-id = partner-logistics`,
    `each distinct x-api-client, x-api-client ~ ^(a|b)$`, `x-client-id !~ ^(a)$, each distinct address in
    0.0.0.0/0`."""
    parts = []
    for selector in rule.get("clientSelectors", []):
        for header in selector.get("headers", []):
            if header.get("type") == "Distinct":
                parts.append(f"each distinct {header['name']}")
            else:
                operator = {"Exact": "=", "RegularExpression": "~"}[header.get("type", "Exact")]
                operator = ("!" if header.get("invert") else "") + operator
                parts.append(f"{header['name']} {operator} {header['value']}")
        source = selector.get("sourceCIDR")
        if source:
            parts.append(
                f"{'each distinct address' if source.get('type') == 'Distinct' else 'addresses'} in {source['value']}"
            )
    return ", ".join(parts) or "all requests, one bucket"


def _identity_filter(extension: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The headers the identity filter sets (lua/identity.lua, from its filter context) and the cookie
    prefixes it keeps from the app."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for lua in extension.get("lua", []):
        context = lua.get("filterContext", {})
        for key in ("groupsHeader", "roleHeader"):
            if key in context:
                headers[context[key]] = IDENTITY_FILTER
        if "organizations" in context:
            headers |= {"x-org-slug": IDENTITY_FILTER, "x-org-roles": IDENTITY_FILTER}
        cookies += context.get("dropCookies", [])
    return headers, cookies


def _entry(route: Manifest, policies: dict[str, dict[str, Any]]) -> dict[str, Any]:
    spec = route.redacted["spec"]
    who, headers = _who(route, policies.get("SecurityPolicy", {}))
    filtered, cookies = _identity_filter(policies.get("EnvoyExtensionPolicy", {}))
    headers |= filtered
    limits = policies.get("BackendTrafficPolicy", {}).get("rateLimit", {}).get("global", {}).get("rules", [])
    if limits:
        who["rateLimits"] = [{**rule["limit"], "for": _selected(rule)} for rule in limits]
    removed: list[set[str]] = []
    for rule in spec.get("rules", []):
        dropped: set[str] = set()
        for f in rule.get("filters", []):
            modifier = f.get("requestHeaderModifier", {})
            dropped |= {h.lower() for h in modifier.get("remove", [])}
            for change in modifier.get("set", []):
                headers[change["name"].lower()] = GATEWAY_SET
        removed.append(dropped)
    # a header every rule removes never reaches the app (route filters run after every auth filter)
    kept_from_app = set.intersection(*removed) if removed else set()
    return {
        "route": _key(route.namespace or "", route.name),
        "hosts": spec.get("hostnames", ["*"]),
        "listeners": sorted({ref.get("sectionName", "") for ref in spec.get("parentRefs", [])}),
        "backends": sorted(
            f"{ref['name']}:{ref['port']}" for rule in spec.get("rules", []) for ref in rule.get("backendRefs", [])
        ),
        **who,
        "identityHeaders": {h: source for h, source in sorted(headers.items()) if h.lower() not in kept_from_app},
        **(
            {"keptFromApp": {"headers": sorted(kept_from_app), "cookies": sorted(cookies)}}
            if kept_from_app or cookies
            else {}
        ),
    }


def access_report(manifests: list[Manifest]) -> dict[str, Any]:
    policies = _policies(manifests)
    routes = [m for m in manifests if m.kind == "HTTPRoute"]
    entries = sorted(
        (_entry(r, policies.get(_key(r.namespace or "", r.name), {})) for r in routes), key=lambda e: e["route"]
    )
    return {"strippedFromClients": sorted(_stripped(manifests)), "routes": entries}


def client_reachable(report: dict[str, Any]) -> list[str]:
    """`<route>: <header>` for each identity header an app receives that a client could send too: neither
    removed at the edge nor replaced by the gateway (JWT `claimToHeaders` appends to a client's value)."""
    stripped = set(report["strippedFromClients"])
    return [
        f"{entry['route']}: {header}"
        for entry in report["routes"]
        for header, source in entry["identityHeaders"].items()
        if header.lower() not in stripped and source not in REPLACED
    ]
