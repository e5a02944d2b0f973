"""HTTPRoutes: the one builder of every route Gatehouse declares, and the specs they take.

Every route but the HTTP-to-HTTPS redirects attaches to one Gateway's HTTPS listener (the public one
unless an API names another), for one host;
a route whose host signs people in (or is public on purpose) is labelled public, so the policy pack
does not ask it for SSO, JWT or API-key protection.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from policy import gatehouse_contract as contract

from .. import meta
from ..headers import CORRELATION_HEADER, REDIRECT_HEADER

GATEWAY_API_GROUP = "gateway.networking.k8s.io"
GATEWAY_API_VERSION = f"{GATEWAY_API_GROUP}/v1"


def public_route_labels(public: bool) -> dict[str, str]:
    """Labels marking a route deliberately left without SSO, JWT or API-key protection."""
    return {contract.PUBLIC_ROUTE_LABEL: "true"} if public else {}


def gateway_parent_ref(gateway: str = meta.GATEWAY_NAME) -> dict[str, str]:
    """HTTPRoute parentRef to the HTTPS listener of the Gateway `gateway` (default the public one)."""
    return {
        "group": GATEWAY_API_GROUP,
        "kind": "Gateway",
        "name": gateway,
        "namespace": meta.GATEWAY_NAMESPACE,
        "sectionName": meta.HTTPS_LISTENER,
    }


def route_target(name: str) -> dict[str, str]:
    """A policy's targetRef to the HTTPRoute `name` in the policy's own namespace."""
    return {"group": GATEWAY_API_GROUP, "kind": "HTTPRoute", "name": name}


def http_route(
    resource_name: str,
    name: str,
    component: str,
    namespace: pulumi.Input[str],
    spec: dict[str, Any],
    opts: pulumi.ResourceOptions,
    public: bool = False,
) -> k8s.apiextensions.CustomResource:
    """The HTTPRoute `name`; `public` marks it deliberately left without authentication."""
    return meta.custom_resource(
        resource_name,
        GATEWAY_API_VERSION,
        "HTTPRoute",
        meta.object_meta(name, component, namespace, public_route_labels(public)),
        spec,
        opts,
    )


def path_prefixes(*prefixes: str) -> list[dict[str, Any]]:
    """Matches for the requests under any of the path prefixes."""
    return [{"path": {"type": "PathPrefix", "value": prefix}} for prefix in prefixes]


def route_spec(
    host: str,
    service: str,
    port: int,
    matches: list[dict[str, Any]] | None = None,
    filters: list[dict[str, Any]] | None = None,
    gateway: str = meta.GATEWAY_NAME,
) -> dict[str, Any]:
    """`host` on the HTTPS listener of `gateway` (default the public one), sent to the Service `service` (all
    of it, or `matches`); `filters` default to correlation_filters(): every route to a backend carries the
    correlation id."""
    rule: dict[str, Any] = {"backendRefs": [{"name": service, "port": port}]}
    if matches:
        rule["matches"] = matches
    rule["filters"] = correlation_filters() if filters is None else filters
    return host_route_spec(host, [rule], gateway)


def host_route_spec(host: str, rules: list[dict[str, Any]], gateway: str = meta.GATEWAY_NAME) -> dict[str, Any]:
    """`host` on the HTTPS listener of `gateway`, with `rules`."""
    return {"parentRefs": [gateway_parent_ref(gateway)], "hostnames": [host], "rules": rules}


def https_redirect_spec(gateway: str = meta.GATEWAY_NAME) -> dict[str, Any]:
    """Every plain-HTTP request of any host `gateway` serves, redirected to HTTPS (the only route on its HTTP
    listener)."""
    return {
        "parentRefs": [{"name": gateway, "sectionName": meta.HTTP_LISTENER}],
        "rules": [
            {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}
        ],
    }


def correlation_filters(remove: list[str] | None = None, keep_redirect: bool = False) -> list[dict[str, Any]]:
    """X-Correlation-Id on request and response, from the request id the edge generates; `remove`: request
    headers auth needed and the app must not see (route filters run after every auth filter). The edge's
    redirect header is removed too, but on oauth2-proxy's own route (`keep_redirect`). One filter of each
    type: Gateway API allows one RequestHeaderModifier and one ResponseHeaderModifier per rule."""
    value = "%REQ(x-request-id)%"
    removed = [*([] if keep_redirect else [REDIRECT_HEADER]), *(remove or [])]
    return [
        {
            "type": "RequestHeaderModifier",
            "requestHeaderModifier": {
                "set": [{"name": CORRELATION_HEADER, "value": value}],
                **({"remove": removed} if removed else {}),
            },
        },
        {
            "type": "ResponseHeaderModifier",
            "responseHeaderModifier": {"set": [{"name": CORRELATION_HEADER, "value": value}]},
        },
    ]
