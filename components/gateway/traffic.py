"""An API's BackendTrafficPolicies: its rate limits (global rules, Redis-backed, so they hold across Envoy
replicas), its upstream's health check, and an operation's own limit and retries.

Every API has a rate limit. `apiKey` APIs: their tiers' per-client limits. `jwt` and `public` APIs:
DEFAULT_REQUESTS_PER_MINUTE per client address, one bucket per source IP (a BackendTrafficPolicy
`sourceCIDR` of type `Distinct` over all of IPv4 and of IPv6; envoyproxy/gateway v1.9.0
api/v1alpha1/ratelimit_types.go SourceMatch: "Each IP Address within the specified Source IP CIDR is
treated as a distinct client selector"). The proxies' Service keeps the client address
(`externalTrafficPolicy: Local`, edge.py).

A `jwt` API's partner clients (`m2mClients`) are limited by their subscription tier instead
(`partnerTiers`, `partner_rate_limit_rules`): one rule per partner, selecting the `x-client-id` header
with the client's id as an Exact value, so each partner has its own bucket at its tier's limit, and the
address rules leave partners' requests out (the same header, inverted). Why the header can be trusted
there, all in envoyproxy/gateway v1.9.0:
- the jwt provider copies the verified token's `azp` to `x-client-id` (`claimToHeaders`, headers.py),
  and the edge removes any client-sent `x-client-id` before any auth filter (headers.SPOOFABLE);
- internal/xds/translator/httpfilters.go newOrderedHTTPFilter orders jwt_authn at 10, RBAC (the
  authorization rules) at 301 and the global rate limit filter at 303: the limiter runs after the token is
  verified and its claim headers are set, and never counts a request authorization denied;
- api/v1alpha1/ratelimit_types.go: a rule's `clientSelectors[].headers` are HeaderMatch (Exact, the
  default, RegularExpression or Distinct; `invert`), ANDed with a selector's `sourceCIDR`; at most 256
  global rules; internal/xds/translator/ratelimit.go buildHeaderMatchRateLimitActions makes an Exact
  match a `header_value_match` action whose descriptor key is the rule's own (its index), so each rule is
  a bucket of its own, and `invert` sets `expect_match: false`.
A rule is not `shared`, so a partner's count is per route: its tier's limit holds on each API it calls.
"""

from __future__ import annotations

import re
from typing import Any

from .. import config
from ..headers import API_CLIENT_HEADER, PARTNER_CLIENT_HEADER
from . import names
from .api_rules import EVERY_ADDRESS
from .routes import route_target
from .upstreams import health_check_spec

# The default limit of an API whose config names no clients (jwt, public): per client IP, 10 a second on
# average, enough for a person's browser or a partner's batch job, a wall for a single-source flood.
DEFAULT_REQUESTS_PER_MINUTE = 600


def _one_of(clients: list[str]) -> str:
    return "^(" + "|".join(re.escape(c) for c in clients) + ")$"


def default_rate_limit_rules(partners: list[str] | None = None) -> list[dict[str, Any]]:
    """DEFAULT_REQUESTS_PER_MINUTE for each client address; not for `partners` (their tokens' `azp`, in
    PARTNER_CLIENT_HEADER), whose tiers limit them."""
    others: dict[str, Any] = {}
    if partners:
        match = {"name": PARTNER_CLIENT_HEADER, "type": "RegularExpression", "value": _one_of(partners), "invert": True}
        others["headers"] = [match]
    return [
        {
            "clientSelectors": [{"sourceCIDR": {"type": "Distinct", "value": cidr}, **others}],
            "limit": {"requests": DEFAULT_REQUESTS_PER_MINUTE, "unit": "Minute"},
        }
        for cidr in EVERY_ADDRESS
    ]


def partner_rate_limit_rules(api: config.Api, tiers: dict[str, int]) -> list[dict[str, Any]]:
    """Each partner client of the API (`tiers`: tier name -> requests a minute) at its tier's limit, in a
    bucket of its own: the verified token's `azp`, copied to PARTNER_CLIENT_HEADER, equals its id."""
    return [
        {
            "clientSelectors": [{"headers": [{"name": PARTNER_CLIENT_HEADER, "type": "Exact", "value": client.name}]}],
            "limit": {"requests": tiers[client.tier], "unit": "Minute"},
        }
        for client in sorted(api.m2m_clients, key=lambda c: c.name)
    ]


def _api_rules(api: config.Api, tiers: dict[str, int]) -> list[dict[str, Any]]:
    """The API's tiers' per-client limits for an apiKey API; for any other, its partners' tier limits and
    DEFAULT_REQUESTS_PER_MINUTE per client address for everyone else."""
    if api.auth != "apiKey":
        partners = sorted(c.name for c in api.m2m_clients)
        return [*partner_rate_limit_rules(api, tiers), *default_rate_limit_rules(partners)]
    return [
        {
            "clientSelectors": [
                {
                    "headers": [
                        {"name": API_CLIENT_HEADER, "type": "Distinct"},  # one bucket per client
                        {"name": API_CLIENT_HEADER, "type": "RegularExpression", "value": _one_of(tier.clients)},
                    ]
                }
            ],
            "limit": {"requests": tier.requests_per_minute, "unit": "Minute"},
        }
        for tier in api.api_key_tiers
    ]


def operation_rate_limit_rules(api: config.Api, requests_per_minute: int) -> list[dict[str, Any]]:
    """An operation's own limit (its `rate-limit` policy), per client: each API key's client on an apiKey
    API, else each client address."""
    limit = {"requests": requests_per_minute, "unit": "Minute"}
    if api.auth == "apiKey":
        return [{"clientSelectors": [{"headers": [{"name": API_CLIENT_HEADER, "type": "Distinct"}]}], "limit": limit}]
    return [
        {"clientSelectors": [{"sourceCIDR": {"type": "Distinct", "value": cidr}}], "limit": limit}
        for cidr in EVERY_ADDRESS
    ]


def retry_spec(retry: Any) -> dict[str, Any]:
    """An operation's `retry` policy: on a failed connection, a refused stream or one of its status codes,
    at most `attempts` more times, `backoff` apart at least (envoyproxy/gateway v1.9.0
    internal/xds/translator/route.go buildRetryPolicy: `retryOn.triggers` replace the default triggers,
    `httpStatusCodes` the default 503). A BackendTrafficPolicy's, not the HTTPRoute rule's `retry`: that
    field is in Gateway API's experimental channel only, which the schemas Gatehouse validates against
    (and a standard-channel cluster) do not have."""
    return {
        "numRetries": retry.attempts,
        "retryOn": {
            "triggers": ["connect-failure", "refused-stream", "retriable-status-codes"],
            "httpStatusCodes": list(retry.codes),
        },
        "perRetry": {"backOff": {"baseInterval": retry.backoff}},
    }


def has_traffic_policy(operation: config.Operation) -> bool:
    """Whether an operation's rule has a BackendTrafficPolicy of its own (a rate limit or retries)."""
    return bool(operation.policy("rate-limit") or operation.policy("retry"))


def traffic_spec(
    api: config.Api, tiers: dict[str, int] | None = None, operation: config.Operation | None = None
) -> dict[str, Any]:
    """The API's BackendTrafficPolicy (`tiers`: partner tier name -> requests a minute): its rate limits and
    its upstream's health check (upstreams.py). With `operation`, the policy of that operation's own rule
    (api_routes.py), with the operation's `rate-limit` and `retry`: Envoy Gateway v1.9.0 takes a rule's
    policy instead of the route's, not merged with it (internal/gatewayapi/backendtrafficpolicy.go: a route
    rule target wins over its route unless `mergeType` is set), so it carries the API's limits and check
    too, counted in buckets of its own."""
    rules = _api_rules(api, tiers or {})
    target = route_target(names.route_name(api.name))
    spec: dict[str, Any] = {"targetRefs": [target]}
    if operation is not None:
        target["sectionName"] = operation.rule_name
        if limit := operation.policy("rate-limit"):
            rules += operation_rate_limit_rules(api, limit.requests_per_minute)
        if retry := operation.policy("retry"):
            spec["retry"] = retry_spec(retry)
    spec["rateLimit"] = {"global": {"rules": rules}}
    if check := health_check_spec(api):
        spec["healthCheck"] = check
    return spec
