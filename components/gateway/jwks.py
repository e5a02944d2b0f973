"""Where the gateway's JWT providers fetch signing keys: an identity Service's HTTPS port, verified.

Facts (envoyproxy/gateway v1.9.0):
- a `remoteJWKS` with `backendRefs` is fetched through that backend, and its TLS comes only from a
  BackendTLSPolicy on the Service (or a Backend's `tls`): without one the fetch is plaintext whatever the
  URI's scheme (internal/gatewayapi/ext_service.go `processExtServiceDestination`, backendtlspolicy.go
  `applyBackendTLSSetting`); a bare https URI without `backendRefs` would trust the system store only;
- a BackendTLSPolicy applies to a Service in its own namespace, and to every port of it unless its target
  names one (`sectionName`, the Service port's name: backendtlspolicy.go `backendTLSTargetMatched`,
  route.go `getTargetBackendReference`), so it names the HTTPS port, or the login routes' plain HTTP to
  the same Service would turn to TLS; its `caCertificateRefs` are local ConfigMaps or Secrets read at `ca.crt`
  first (`getCaCertsFromCARefs`, helpers.go `CACertKey`), and `hostname` is the SNI and the name verified;
- a policy's backendRef to another namespace needs a ReferenceGrant there from `SecurityPolicy` in the
  policy's namespace (internal/gatewayapi/validate.go `validateExtServiceBackendReference`);
- the controller reads Services, Secrets and ConfigMaps in every namespace (charts/gateway-helm
  templates/_rbac.tpl, cluster-wide without `watch.namespaces`), so nothing more is granted here.

The CA is the `ca.crt` cert-manager writes beside the served certificate (identity/common.py
`serving_certificate`): the CA that signed it, also across a CA renewal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pulumi

from .. import endpoints, meta
from ..meta import service_host
from .routes import GATEWAY_API_VERSION

COMPONENT = "jwks"


@dataclass(frozen=True)
class KeySource:
    """An identity Service serving signing keys over TLS, with its certificate's Secret."""

    name: str  # the Service
    namespace: str
    port: int  # its HTTPS port
    port_name: str  # that Service port's name, which the BackendTLSPolicy targets
    tls_secret: str  # the serving certificate (cert-manager: `tls.crt`, `tls.key`, `ca.crt`)

    @property
    def host(self) -> str:
        return service_host(self.name, self.namespace)

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"


KEYCLOAK = KeySource(
    endpoints.KEYCLOAK_SERVICE,
    endpoints.KEYCLOAK_NAMESPACE,
    endpoints.KEYCLOAK_HTTPS_PORT,
    endpoints.KEYCLOAK_HTTPS_PORT_NAME,
    endpoints.KEYCLOAK_TLS_SECRET,
)
DEX = KeySource(
    endpoints.DEX_SERVICE,
    endpoints.DEX_NAMESPACE,
    endpoints.DEX_HTTPS_PORT,
    endpoints.DEX_HTTPS_PORT_NAME,
    endpoints.DEX_TLS_SECRET,
)


def remote_jwks(source: KeySource, uri: str) -> dict[str, Any]:
    """A provider's `remoteJWKS`: `uri` on `source`, fetched through its Service (so verified by its
    BackendTLSPolicy)."""
    if not uri.startswith(source.url + "/"):
        raise ValueError(f"remoteJWKS {uri} is not on {source.url}: its BackendTLSPolicy would not verify it")
    return {"uri": uri, "backendRefs": backend_refs(source)}


def backend_refs(source: KeySource) -> list[dict[str, Any]]:
    """The Service's HTTPS port, for any of the gateway's own calls to it (keys, an OIDC token exchange)."""
    return [{"group": "", "kind": "Service", "name": source.name, "namespace": source.namespace, "port": source.port}]


def keycloak_remote_jwks(jwks_uri: str) -> dict[str, Any]:
    """The realm's keys: `jwks_uri` is `IdentityEndpoints.keycloak_jwks_uri`, on Keycloak's HTTPS port."""
    return remote_jwks(KEYCLOAK, jwks_uri)


def dex_remote_jwks() -> dict[str, Any]:
    """Dex's keys (`/keys` at its issuer's path, which has none) on its HTTPS port."""
    return remote_jwks(DEX, endpoints.dex_https_url("/keys"))


def backend_tls_policy_name(source: KeySource) -> str:
    return f"{source.name}-tls"


def backend_tls_policy_spec(source: KeySource) -> dict[str, Any]:
    """Envoy verifies the Service's certificate against its own CA, for the name the URIs use; on the HTTPS
    port only."""
    return {
        "targetRefs": [{"group": "", "kind": "Service", "name": source.name, "sectionName": source.port_name}],
        "validation": {
            "caCertificateRefs": [{"group": "", "kind": "Secret", "name": source.tls_secret}],
            "hostname": source.host,
        },
    }


def reference_grant_name(source: KeySource, from_namespace: str) -> str:
    return f"{source.name}-keys-from-{from_namespace}"


def reference_grant_spec(source: KeySource, from_namespace: str) -> dict[str, Any]:
    """SecurityPolicies in `from_namespace` may fetch keys through the Service; one grant per namespace,
    as for oauth2-proxy (sso.py): a grant's `from` holds at most 16 entries."""
    return {
        "from": [{"group": "gateway.envoyproxy.io", "kind": "SecurityPolicy", "namespace": from_namespace}],
        "to": [{"group": "", "kind": "Service", "name": source.name}],
    }


def key_source_access(
    source: KeySource, policy_namespaces: Iterable[str], opts: pulumi.ResourceOptions
) -> list[pulumi.Resource]:
    """The BackendTLSPolicy of `source`, and a ReferenceGrant from each of `policy_namespaces` (those whose
    SecurityPolicies fetch keys from it) but its own. `opts` wait for `source`'s namespace and the CRDs."""
    created: list[pulumi.Resource] = [
        meta.custom_resource(
            f"{source.namespace}-{backend_tls_policy_name(source)}",
            GATEWAY_API_VERSION,
            "BackendTLSPolicy",
            meta.object_meta(backend_tls_policy_name(source), COMPONENT, source.namespace),
            backend_tls_policy_spec(source),
            opts,
        )
    ]
    for ns in sorted(set(policy_namespaces) - {source.namespace}):
        name = reference_grant_name(source, ns)
        created.append(
            meta.custom_resource(
                f"{source.namespace}-{name}",
                GATEWAY_API_VERSION,
                "ReferenceGrant",
                meta.object_meta(name, COMPONENT, source.namespace),
                reference_grant_spec(source, ns),
                opts,
            )
        )
    return created
