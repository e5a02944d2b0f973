"""Where an API's route sends its requests, and how the proxies check that upstream.

An in-cluster API: its Service, by name and port. An external one (config/upstreams.py): an Envoy Gateway
`Backend` in the API's namespace, one FQDN endpoint, TLS verified against the system's CAs with the SNI
set to the hostname, and the request's Host rewritten to it (the upstream serves its own name, not the
API's); the caller's token and cookies are removed (the vendor is not the platform's to trust with
them). Facts, envoyproxy/gateway v1.9.0:
- the Backend API is off unless `config.envoyGateway.extensionApis.enableBackend` (edge.py turns it on);
- api/v1alpha1/backend_types.go: `tls.wellKnownCACertificates: System` trusts the system store, and `sni`
  is sent; internal/xds/translator/translator.go buildValidationContext: with an SNI and no
  subjectAltNames the certificate's SAN must equal the SNI exactly, so the hostname is verified too;
- internal/gatewayapi/backend.go validateBackendTLSSettings refuses a Backend with TLS but no CA unless
  `insecureSkipVerify`, which Gatehouse never sets.
A health check (`healthCheck`) is active HTTP on the upstream's own connection (TLS for a Backend), sent
with the upstream's host, in the API's BackendTrafficPolicy (rate_limits.py `traffic_spec`).
"""

from __future__ import annotations

from typing import Any

from .. import config

BACKEND_GROUP = "gateway.envoyproxy.io"
BACKEND_KIND = "Backend"


def backend_name(api: config.Api) -> str:
    return f"{api.name}-upstream"


def backend_spec(external: config.ExternalUpstream) -> dict[str, Any]:
    return {
        "endpoints": [{"fqdn": {"hostname": external.hostname, "port": external.port}}],
        "tls": {"wellKnownCACertificates": "System", "sni": external.hostname},
    }


def backend_ref(api: config.Api) -> dict[str, Any]:
    """The route rules' backendRef: the API's Service, or its Backend."""
    if api.external:
        return {"group": BACKEND_GROUP, "kind": BACKEND_KIND, "name": backend_name(api), "port": api.external.port}
    assert api.service is not None  # config: exactly one upstream
    return {"name": api.service.name, "port": api.service.port}


# What never leaves the cluster for another party's server: the caller's credentials for the platform
# (its Keycloak token, its session cookies), which the gateway has already checked.
CREDENTIAL_HEADERS = ["authorization", "cookie"]


def upstream_filters(api: config.Api) -> list[dict[str, Any]]:
    """An external upstream gets its own hostname as Host."""
    if not api.external:
        return []
    return [{"type": "URLRewrite", "urlRewrite": {"hostname": api.external.hostname}}]


def upstream_removed_headers(api: config.Api) -> list[str]:
    """Request headers removed before an external upstream: CREDENTIAL_HEADERS."""
    return list(CREDENTIAL_HEADERS) if api.external else []


def health_check_spec(api: config.Api) -> dict[str, Any] | None:
    """The BackendTrafficPolicy's `healthCheck`, or None without one."""
    check = api.health_check
    if check is None:
        return None
    http: dict[str, Any] = {"path": check.path, "expectedStatuses": list(check.expected_statuses)}
    if api.external:
        http["hostname"] = api.external.hostname
    return {
        "active": {
            "type": "HTTP",
            "http": http,
            "interval": check.interval,
            "timeout": check.timeout,
            "unhealthyThreshold": check.unhealthy_threshold,
            "healthyThreshold": check.healthy_threshold,
        }
    }
