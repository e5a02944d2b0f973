"""HTTPRoute specs: every public route attaches to the shared Gateway's HTTPS listener."""

from __future__ import annotations

from typing import Any

from .. import config, meta
from .headers import CORRELATION_HEADER, REDIRECT_HEADER


def route_spec(
    host: str,
    service: config.ServiceRef,
    matches: list[dict[str, Any]] | None = None,
    filters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    rule: dict[str, Any] = {"backendRefs": [{"name": service.name, "port": service.port}]}
    if matches:
        rule["matches"] = matches
    if filters:
        rule["filters"] = filters
    return {"parentRefs": [meta.gateway_parent_ref()], "hostnames": [host], "rules": [rule]}


def correlation_filters() -> list[dict[str, Any]]:
    """X-Correlation-Id on request and response, from the request id the edge generates."""
    value = "%REQ(x-request-id)%"
    return [
        {
            "type": "RequestHeaderModifier",
            "requestHeaderModifier": {
                "set": [{"name": CORRELATION_HEADER, "value": value}],
                "remove": [REDIRECT_HEADER],  # only oauth2-proxy needs it
            },
        },
        {
            "type": "ResponseHeaderModifier",
            "responseHeaderModifier": {"set": [{"name": CORRELATION_HEADER, "value": value}]},
        },
    ]
