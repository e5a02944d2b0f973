"""URLs and hosts more than one plane must agree on, computed once from the config.

Dex's issuer must match byte for byte wherever it is used (oauth2-proxy, Argo CD, Grafana); the
Keycloak issuer and JWKS URI must match between the realm and the gateway's JWT providers.
"""

from __future__ import annotations

from .config import StackConfig
from .meta import service_host

KEYCLOAK_NAMESPACE = "keycloak"
KEYCLOAK_NAME = "keycloak"  # the Keycloak CR; the operator names its Service `<name>-service`
KEYCLOAK_HTTP_PORT = 8080


def https(stack: StackConfig, label: str) -> str:
    return f"https://{stack.host(label)}"


def dex_issuer(stack: StackConfig) -> str:
    return https(stack, stack.identity.hosts.dex)


def oauth2_proxy_redirect_uri(stack: StackConfig) -> str:
    return f"{https(stack, stack.identity.hosts.oauth2_proxy)}/oauth2/callback"


def portal_origin(stack: StackConfig) -> str:
    """The tenants' single-page app: the Keycloak PKCE client's web origin, and the APIs' CORS default."""
    return https(stack, stack.identity.hosts.portal)


def keycloak_issuer(stack: StackConfig) -> str:
    return f"{https(stack, stack.identity.hosts.keycloak)}/realms/{stack.identity.realm}"


def keycloak_jwks_uri(stack: StackConfig) -> str:
    """In-cluster, so the gateway fetches keys without hairpinning through the load balancer."""
    service = f"{service_host(f'{KEYCLOAK_NAME}-service', KEYCLOAK_NAMESPACE)}:{KEYCLOAK_HTTP_PORT}"
    return f"http://{service}/realms/{stack.identity.realm}/protocol/openid-connect/certs"


def identity_hosts(stack: StackConfig) -> list[str]:
    """Identity hosts served through the Gateway (public on purpose: they are the login pages)."""
    hosts = stack.identity.hosts
    return [stack.host(label) for label in (hosts.dex, hosts.authentik, hosts.keycloak)]
