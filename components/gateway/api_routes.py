"""An API's HTTPRoute rules: what it matches (its operations, or its base path), where it sends it, and
each operation's request and response policies as Envoy Gateway features (config/operations.py has the
table).

Gateway API takes at most 16 rules per route and 128 matches in all (the HTTPRoute CRD's `maxItems` and
CEL rule), so operations share one rule, `operations`, unless they have policies, which live on a rule of
their own named after the operation (`get.products.id`). A jwt API that lists operations also gets a
`preflight` rule: OPTIONS on each operation's path, which the API's CORS filter answers before any token
check (envoyproxy/gateway v1.9.0 internal/xds/translator/httpfilters.go orders CORS first); without it a
preflight would match no rule and never reach the CORS filter. Every rule carries the correlation id.

Header policies join the correlation filters: Gateway API allows one RequestHeaderModifier and one
ResponseHeaderModifier per rule. A route rule's `timeouts` and the CORS filter are Gateway API's standard
channel, which Envoy Gateway v1.9.0 translates (internal/gatewayapi/route.go processTimeout;
filters.go HTTPRouteFilterCORS).
"""

from __future__ import annotations

import re
from typing import Any

from .. import config
from ..headers import CORRELATION_HEADER
from .routes import correlation_filters

READ_METHODS = ["GET", "HEAD"]
WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]
OPERATIONS_RULE = "operations"
PREFLIGHT_RULE = "preflight"
MAX_RULES = 16  # Gateway API: rules per HTTPRoute


def read_only_matches(base_path: str | None = None) -> list[dict[str, Any]]:
    return [{"method": method, "path": {"type": "PathPrefix", "value": base_path or "/"}} for method in READ_METHODS]


def operation_path(api: config.Api, operation: config.Operation) -> dict[str, str]:
    """The operation's full path (under the base path) as a Gateway API path match: Exact, or a
    RegularExpression where a `{name}` segment stands for any one segment. Gateway API matches the path
    without the query, and Envoy Gateway a RegularExpression against the whole of it (envoyproxy/gateway
    v1.9.0 internal/xds/translator/route.go `safe_regex`)."""
    path = (api.base_path or "") + (operation.path if operation.path != "/" else "") or "/"
    segments = path.split("/")
    if not any(s.startswith("{") for s in segments):
        return {"type": "Exact", "value": path}
    pattern = "/".join("[^/]+" if s.startswith("{") else re.escape(s) for s in segments)
    return {"type": "RegularExpression", "value": f"^{pattern}$"}


def operation_match(api: config.Api, operation: config.Operation) -> dict[str, Any]:
    """One declared operation: its method and its path."""
    return {"method": operation.method, "path": operation_path(api, operation)}


def route_matches(api: config.Api) -> list[dict[str, Any]] | None:
    """What the API's HTTPRoute matches: its declared operations only, when it lists any; else reads only
    for a read-only apiKey API, and only under its base path when it has one (`/catalog/v2` and below:
    Gateway API's PathPrefix matches whole segments); None: every request to the host."""
    if api.operations:
        return [operation_match(api, op) for op in api.operations]
    if api.auth == "apiKey" and api.scopes == ["read"]:
        return read_only_matches(api.base_path)
    if api.base_path:
        return [{"path": {"type": "PathPrefix", "value": api.base_path}}]
    return None


def has_policies(operation: config.Operation) -> bool:
    return bool(operation.request_policies or operation.response_policies)


def _headers(params: Any) -> list[dict[str, str]]:
    return [{"name": h.name, "value": h.value} for h in params.headers] if params else []


def _modifiers(
    operation: config.Operation | None, extra: list[dict[str, Any]], remove: list[str]
) -> list[dict[str, Any]]:
    """The correlation filters, removing `remove` too, with the operation's header policies joined in, then
    `extra` filters."""
    filters = correlation_filters(remove=remove)
    if operation is None:
        return filters + extra
    for filter_, response in zip(filters, (False, True), strict=True):
        modifier = filter_["responseHeaderModifier" if response else "requestHeaderModifier"]
        modifier["set"] += _headers(operation.policy("set-headers", response))
        if added := _headers(operation.policy("add-headers", response)):
            modifier["add"] = added
        if removed := operation.policy("remove-headers", response):
            modifier["remove"] = [*modifier.get("remove", []), *removed.headers]
    return filters + extra


def cors_filter(operation: config.Operation, cors: Any) -> dict[str, Any]:
    """The operation's CORS policy: its method from its origins, the correlation id readable by the page."""
    return {
        "type": "CORS",
        "cors": {
            "allowOrigins": list(cors.allow_origins),
            "allowMethods": [operation.method],
            **({"allowHeaders": list(cors.allow_headers)} if cors.allow_headers else {}),
            "exposeHeaders": [CORRELATION_HEADER, *cors.expose_headers],
            "maxAge": cors.max_age,
            **({"allowCredentials": True} if cors.allow_credentials else {}),
        },
    }


def operation_rule(
    api: config.Api,
    operation: config.Operation,
    backend: dict[str, Any],
    extra: list[dict[str, Any]],
    remove: list[str],
) -> dict[str, Any]:
    """The rule of an operation with policies: its match (and OPTIONS on its path for a CORS policy), its
    header policies and CORS filter, and timeouts (its rate limit and retries: traffic.py)."""
    match = operation_match(api, operation)
    matches = [match]
    filters = _modifiers(operation, extra, remove)
    if cors := operation.policy("cors"):
        matches.append({"method": "OPTIONS", "path": match["path"]})
        filters.append(cors_filter(operation, cors))
    rule: dict[str, Any] = {"name": operation.rule_name, "matches": matches, "backendRefs": [backend]}
    rule["filters"] = filters
    if timeout := operation.policy("timeout"):
        rule["timeouts"] = {
            "request": timeout.request,
            **({"backendRequest": b} if (b := timeout.backend_request) else {}),
        }
    return rule


def route_rules(
    api: config.Api, backend: dict[str, Any], extra: list[dict[str, Any]], remove: list[str]
) -> list[dict[str, Any]]:
    """The API's HTTPRoute rules to `backend` (a backendRef), each with the correlation filters, removing the
    request headers `remove`, and `extra` filters (an external upstream's host rewrite and credentials
    removed: upstreams.py)."""
    if not api.operations:
        rule: dict[str, Any] = {"backendRefs": [backend]}
        if matches := route_matches(api):
            rule["matches"] = matches
        rule["filters"] = _modifiers(None, extra, remove)
        return [rule]
    plain = [operation_match(api, op) for op in api.operations if not has_policies(op)]
    rules = [
        {
            "name": OPERATIONS_RULE,
            "matches": plain,
            "backendRefs": [backend],
            "filters": _modifiers(None, extra, remove),
        }
    ]
    rules = rules if plain else []
    rules += [operation_rule(api, op, backend, extra, remove) for op in api.operations if has_policies(op)]
    if api.auth == "jwt":
        paths = {path["value"]: path for path in (operation_path(api, op) for op in api.operations)}
        preflights = [{"method": "OPTIONS", "path": path} for path in paths.values()]
        rules.append(
            {
                "name": PREFLIGHT_RULE,
                "matches": preflights,
                "backendRefs": [backend],
                "filters": _modifiers(None, extra, remove),
            }
        )
    return rules
