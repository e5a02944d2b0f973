"""An operation's request and response policies as Envoy Gateway objects (components/config/operations.py has
the table; components/gateway/api_routes.py, traffic.py and upstreams.py build them), and who reaches an
operation of staging's APIs as rendered.

Upstream facts each mapping rests on, envoyproxy/gateway v1.9.0:
- header policies: internal/gatewayapi/filters.go processRequestHeaderModifierFilter and
  processResponseHeaderModifierFilter (one filter of each type per rule; Gateway API rejects a second);
- cors: filters.go HTTPRouteFilterCORS, and internal/xds/translator/httpfilters.go, which orders the CORS
  filter first, so a preflight is answered before any key or token check;
- timeout: internal/gatewayapi/route.go processTimeout (`timeouts.request`, `timeouts.backendRequest`);
- retry: a BackendTrafficPolicy on the rule (`sectionName`), internal/xds/translator/route.go
  buildRetryPolicy;
- rate-limit: the rule's BackendTrafficPolicy, which internal/gatewayapi/backendtrafficpolicy.go takes instead
  of the route's, so it repeats the API's own limits;
- an external upstream: api/v1alpha1/backend_types.go and internal/xds/translator/translator.go
  buildValidationContext (the SNI is the SAN the certificate must carry).
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import preview_objects
from test_api_access import Token, decide, edge_path
from test_api_operations import routed

from components import config
from components.gateway import api_routes, traffic, upstreams
from offline.preview import PreviewResult

BACKEND = {"name": "inventory-api", "port": 8080}


def _api(*operations: dict[str, Any], **fields: Any) -> config.Api:
    return config.Api.model_validate(
        {
            "name": "inventory-v2",
            "namespace": "storefront",
            "service": {"name": "inventory-api", "port": 8080},
            "auth": "apiKey",
            "scopes": ["read"],
            "apiKeyTiers": [{"name": "free", "requestsPerMinute": 60, "clients": ["c1"]}],
            "basePath": "/inventory/v2",
            "operations": list(operations),
            **fields,
        }
    )


def _policy(name: str, **params: Any) -> dict[str, Any]:
    return {"name": name, "params": params}


def _rule(api: config.Api, name: str) -> dict[str, Any]:
    rules = {r.get("name"): r for r in api_routes.route_rules(api, BACKEND, [], [])}
    return rules[name]


def _filter(rule: dict[str, Any], kind: str) -> dict[str, Any]:
    (found,) = [f for f in rule["filters"] if f["type"] == kind]
    return found


GET_ITEM = {"method": "GET", "path": "/items/{id}"}


@pytest.mark.parametrize(
    ("policy", "response", "field", "expected"),
    [
        (_policy("set-headers", headers=[{"name": "X-V", "value": "2"}]), False, "set", {"name": "X-V", "value": "2"}),
        (_policy("add-headers", headers=[{"name": "X-V", "value": "2"}]), False, "add", {"name": "X-V", "value": "2"}),
        (_policy("remove-headers", headers=["x-debug"]), False, "remove", "x-debug"),
        (_policy("set-headers", headers=[{"name": "Cache-Control", "value": "no-store"}]), True, "set", None),
        (_policy("add-headers", headers=[{"name": "X-V", "value": "2"}]), True, "add", {"name": "X-V", "value": "2"}),
        (_policy("remove-headers", headers=["server"]), True, "remove", "server"),
    ],
    ids=["request set", "request add", "request remove", "response set", "response add", "response remove"],
)
def test_header_policies_join_the_rule_s_one_modifier(
    policy: dict[str, Any], response: bool, field: str, expected: Any
) -> None:
    """A header policy lands in the rule's one RequestHeaderModifier or ResponseHeaderModifier, after the
    correlation id, which stays first."""
    api = _api({**GET_ITEM, "responsePolicies" if response else "requestPolicies": [policy]})
    rule = _rule(api, "get.items.id")
    kind = "ResponseHeaderModifier" if response else "RequestHeaderModifier"
    modifier = _filter(rule, kind)["responseHeaderModifier" if response else "requestHeaderModifier"]
    assert modifier["set"][0]["name"] == "X-Correlation-Id"
    wanted = expected or {"name": "Cache-Control", "value": "no-store"}
    assert wanted in modifier[field]
    assert rule["matches"] == [
        {"method": "GET", "path": {"type": "RegularExpression", "value": "^/inventory/v2/items/[^/]+$"}}
    ]


def test_cors_becomes_the_rule_s_cors_filter_and_a_preflight_match() -> None:
    cors = _policy("cors", allowOrigins=["https://shop.example.com"], allowHeaders=["x-api-key"], maxAge=600)
    rule = _rule(_api({**GET_ITEM, "requestPolicies": [cors]}), "get.items.id")
    assert _filter(rule, "CORS")["cors"] == {
        "allowOrigins": ["https://shop.example.com"],
        "allowMethods": ["GET"],
        "allowHeaders": ["x-api-key"],
        "exposeHeaders": ["X-Correlation-Id"],
        "maxAge": 600,
    }
    assert [m["method"] for m in rule["matches"]] == ["GET", "OPTIONS"]  # the preflight reaches the filter


def test_timeout_becomes_the_rule_s_timeouts() -> None:
    timeout = _policy("timeout", request="10s", backendRequest="4s")
    rule = _rule(_api({**GET_ITEM, "requestPolicies": [timeout]}), "get.items.id")
    assert rule["timeouts"] == {"request": "10s", "backendRequest": "4s"}


def test_retry_and_rate_limit_become_the_rule_s_traffic_policy_with_the_api_s_limits() -> None:
    retry = _policy("retry", attempts=3, codes=[503], backoff="250ms")
    limit = _policy("rate-limit", requestsPerMinute=30)
    api = _api({**GET_ITEM, "requestPolicies": [retry, limit]}, healthCheck={"path": "/healthz"})
    (op,) = api.operations
    assert traffic.has_traffic_policy(op)
    spec = traffic.traffic_spec(api, {}, op)
    assert spec["targetRefs"] == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "HTTPRoute",
            "name": "inventory-v2",
            "sectionName": "get.items.id",
        }
    ]
    assert spec["retry"] == {
        "numRetries": 3,
        "retryOn": {
            "triggers": ["connect-failure", "refused-stream", "retriable-status-codes"],
            "httpStatusCodes": [503],
        },
        "perRetry": {"backOff": {"baseInterval": "250ms"}},
    }
    whole = traffic.traffic_spec(api, {})
    rules = spec["rateLimit"]["global"]["rules"]
    assert rules[: len(whole["rateLimit"]["global"]["rules"])] == whole["rateLimit"]["global"]["rules"]  # the tiers
    assert rules[-1] == {
        "clientSelectors": [{"headers": [{"name": "x-api-client", "type": "Distinct"}]}],  # per key client
        "limit": {"requests": 30, "unit": "Minute"},
    }
    assert spec["healthCheck"] == whole["healthCheck"]  # the rule's policy replaces the route's: it repeats it


def test_operations_without_policies_share_one_rule_and_a_jwt_api_answers_preflights() -> None:
    api = _api(GET_ITEM, {"method": "POST", "path": "/items"}, auth="jwt", scopes=["read", "write"], apiKeyTiers=[])
    rules = api_routes.route_rules(api, BACKEND, [], [])
    assert [r["name"] for r in rules] == ["operations", "preflight"]
    assert {(m["method"], m["path"]["value"]) for m in rules[1]["matches"]} == {
        ("OPTIONS", "^/inventory/v2/items/[^/]+$"),
        ("OPTIONS", "/inventory/v2/items"),
    }


def test_an_external_upstream_is_a_verified_backend_without_the_caller_s_credentials() -> None:
    api = _api(GET_ITEM, service=None, external={"hostname": "inventory.vendor.example"})
    assert upstreams.backend_spec(api.external) == {
        "endpoints": [{"fqdn": {"hostname": "inventory.vendor.example", "port": 443}}],
        "tls": {"wellKnownCACertificates": "System", "sni": "inventory.vendor.example"},
    }
    rule = api_routes.route_rules(
        api, upstreams.backend_ref(api), upstreams.upstream_filters(api), upstreams.upstream_removed_headers(api)
    )[0]
    assert rule["backendRefs"] == [
        {"group": "gateway.envoyproxy.io", "kind": "Backend", "name": "inventory-v2-upstream", "port": 443}
    ]
    assert _filter(rule, "URLRewrite")["urlRewrite"] == {"hostname": "inventory.vendor.example"}
    assert {"authorization", "cookie"} <= set(_filter(rule, "RequestHeaderModifier")["requestHeaderModifier"]["remove"])


def test_staging_renders_the_vendor_backend_its_check_and_the_backend_api(staging_preview: PreviewResult) -> None:
    (backend,) = preview_objects(staging_preview, "Backend")
    assert (
        backend["metadata"]["name"] == "inventory-v2-upstream"
        and backend["spec"]["tls"]["sni"] == backend["spec"]["endpoints"][0]["fqdn"]["hostname"]
    )
    (policy,) = [
        p
        for p in preview_objects(staging_preview, "BackendTrafficPolicy")
        if p["metadata"]["name"] == "inventory-v2-ratelimit"
    ]
    active = policy["spec"]["healthCheck"]["active"]
    assert active["http"] == {
        "path": "/healthz",
        "expectedStatuses": [200, 204],
        "hostname": "inventory.vendor-cloud.example.net",
    }
    assert active["interval"] == "15s"
    (chart,) = [c for c in staging_preview.charts if c.chart == "gateway-helm"]
    assert chart.values["config"]["envoyGateway"]["extensionApis"]["enableBackend"] is True


# --- who reaches staging's inventory v2, every spelling --------------------------------------------------

READER = Token(("inventory-v2:read", "inventory-v2:write"), {"azp": "portal"})
ADMIN = Token(("inventory-v2:read", "inventory-v2:admin"), {"azp": "portal", "amr": ["pwd", "otp"]})


def _inventory(result: PreviewResult) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    (route,) = [r for r in preview_objects(result, "HTTPRoute") if r["metadata"]["name"] == "inventory-v2"]
    (security,) = [p for p in preview_objects(result, "SecurityPolicy") if p["metadata"]["name"] == "inventory-v2-jwt"]
    return route, security["spec"]["authorization"]["rules"]


def answer(result: PreviewResult, method: str, raw: str, token: Token) -> str:
    """The edge normalises the path, the route must serve it (else 404), then authorization decides."""
    route, rules = _inventory(result)
    path, _ = edge_path(raw)
    if not any(routed(rule["matches"], method, path) for rule in route["spec"]["rules"]):
        return "NotFound"
    return decide(rules, method, path, token)


SPELLINGS = [
    # (method, spelling, reader, admin)
    ("GET", "/inventory/v2/stock/sku-1", "Allow", "Allow"),
    ("GET", "/inventory/v2/stock/sku-1?warehouse=b", "Allow", "Allow"),
    ("POST", "/inventory/v2/reservations", "Allow", "Deny"),  # write: the admin token holds no write scope
    ("GET", "/inventory/v2/admin/reports", "Deny", "Allow"),  # admin scope and a second factor
    ("GET", "/inventory/v2/ADMIN/reports", "NotFound", "NotFound"),  # routes are case-exact
    ("GET", "/inventory/v2/Admin/reports", "NotFound", "NotFound"),
    ("GET", "/inventory/v2/admin;x/reports", "NotFound", "NotFound"),  # not an operation's path
    ("GET", "/inventory/v2/admin/reports;x", "NotFound", "NotFound"),
    ("GET", "/inventory/v2/stock/sku;x", "Deny", "Deny"),  # routed as one segment, refused: `;` parameters
    ("GET", "/inventory/v2/stock/..;/admin/reports", "NotFound", "NotFound"),
    ("GET", "/inventory/v2/stock/../admin/reports", "Deny", "Allow"),  # normalised to the admin path
    ("GET", "/inventory/v2/stock/%2e%2e/admin/reports", "Deny", "Allow"),
    ("GET", "/inventory/v2/stock/..%2Fadmin%2Freports", "Deny", "Allow"),  # unescaped, redirected, normalised
    ("GET", "/inventory/v2/%61dmin/reports", "Deny", "Allow"),
    ("GET", "//inventory/v2//admin/reports", "Deny", "Allow"),
    ("GET", "/inventory/v2/stock/sku-1/../../admin/reports", "Deny", "Allow"),
    ("GET", "/inventory/v2/stock/a/b", "NotFound", "NotFound"),  # a template is one segment
    ("DELETE", "/inventory/v2/stock/sku-1", "NotFound", "NotFound"),  # not a declared operation
]


@pytest.mark.parametrize(("method", "spelling", "reader", "admin"), SPELLINGS)
def test_no_spelling_reaches_an_operation_it_should_not(
    staging_preview: PreviewResult, method: str, spelling: str, reader: str, admin: str
) -> None:
    """Staging's inventory v2 as rendered: a reader with read and write never reaches the admin report,
    however it is spelled, and an admin with a second factor reaches it wherever the edge normalises the
    spelling to it; anything else is no operation's path and no route serves it."""
    assert answer(staging_preview, method, spelling, READER) == reader
    assert answer(staging_preview, method, spelling, ADMIN) == admin
