"""URLs and hosts more than one plane must agree on, computed once from the config.

Dex's issuer must match byte for byte wherever it is used (oauth2-proxy, Argo CD, Grafana); the
Keycloak issuer and JWKS URI must match between the realm and the gateway's JWT providers.
"""

from __future__ import annotations

from .config import StackConfig
from .meta import service_host

DEX_NAMESPACE = "identity"
DEX_SERVICE = "dex"  # the dex chart names its Service after the release
DEX_HTTP_PORT = 5556
KEYCLOAK_NAMESPACE = "keycloak"
KEYCLOAK_NAME = "keycloak"  # the keycloakx release (and fullname)
KEYCLOAK_SERVICE = f"{KEYCLOAK_NAME}-http"  # keycloakx templates/service-http.yaml: `<fullname>-http`
KEYCLOAK_HTTP_PORT = 80  # the chart's `service.httpPort`, to the container's 8080


def https(stack: StackConfig, label: str) -> str:
    return f"https://{stack.host(label)}"


def dex_issuer(stack: StackConfig) -> str:
    return https(stack, stack.identity.hosts.dex)


def dex_internal_url(path: str) -> str:
    """A Dex endpoint on its in-cluster Service, for servers that talk to Dex directly (token, keys):
    no hairpin through the load balancer, no wait for public DNS and TLS. Dex serves its endpoints at
    the issuer's path (the issuer has none) on any host."""
    return f"http://{service_host(DEX_SERVICE, DEX_NAMESPACE)}:{DEX_HTTP_PORT}{path}"


def oauth2_proxy_redirect_uri(stack: StackConfig) -> str:
    return f"{https(stack, stack.identity.hosts.oauth2_proxy)}/oauth2/callback"


def portal_origin(stack: StackConfig) -> str:
    """The tenants' single-page app: the Keycloak PKCE client's web origin, and the APIs' CORS default."""
    return https(stack, stack.identity.hosts.portal)


def keycloak_issuer(stack: StackConfig) -> str:
    return f"{https(stack, stack.identity.hosts.keycloak)}/realms/{stack.identity.realm}"


def keycloak_jwks_uri(stack: StackConfig) -> str:
    """In-cluster, so the gateway fetches keys without hairpinning through the load balancer."""
    return f"{keycloak_internal_url()}/realms/{stack.identity.realm}/protocol/openid-connect/certs"


def keycloak_internal_url() -> str:
    """Keycloak on its in-cluster Service (no path prefix: the chart's `http.relativePath` is `/`)."""
    return f"http://{service_host(KEYCLOAK_SERVICE, KEYCLOAK_NAMESPACE)}:{KEYCLOAK_HTTP_PORT}"


def identity_hosts(stack: StackConfig) -> list[str]:
    """Identity hosts served through the Gateway (public on purpose: they are the login pages), Argo CD's
    among them when Gatehouse installs it."""
    hosts = stack.identity.hosts
    labels = [hosts.dex, hosts.authentik, hosts.keycloak, *([hosts.argocd] if stack.argocd.install else [])]
    return [stack.host(label) for label in labels]
