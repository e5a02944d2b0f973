"""URLs and hosts more than one plane must agree on, computed once from the config.

Dex's issuer must match byte for byte wherever it is used (oauth2-proxy, Argo CD, Grafana); the
Keycloak issuer and JWKS URI must match between the realm and the gateway's JWT providers. The identity
plane computes them here and hands the gateway the ones it needs as `IdentityEndpoints`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from .meta import service_host

if TYPE_CHECKING:
    from .config import Site
    from .identity.settings import IdentitySettings

DEX_NAMESPACE = "identity"
DEX_SERVICE = "dex"  # the dex chart names its Service after the release
DEX_HTTP_PORT = 5556
DEX_HTTPS_PORT = 5554  # dex chart 0.24.0 `service.ports.https.port` (with `https.enabled`), to the container's 5554
DEX_HTTPS_PORT_NAME = "https"  # that Service port's name (templates/service.yaml)
DEX_TLS_SECRET = "dex-tls"  # Dex's serving certificate on its Service, from the internal CA
KEYCLOAK_NAMESPACE = "keycloak"
KEYCLOAK_NAME = "keycloak"  # the keycloakx release (and fullname)
KEYCLOAK_SERVICE = f"{KEYCLOAK_NAME}-http"  # keycloakx templates/service-http.yaml: `<fullname>-http`
KEYCLOAK_HTTP_PORT = 80  # the chart's `service.httpPort`, to the container's 8080
KEYCLOAK_HTTPS_PORT = 8443  # the chart's `service.httpsPort`, to the container's 8443 (Keycloak's https-port)
KEYCLOAK_HTTPS_PORT_NAME = "https"  # that Service port's name (templates/service-http.yaml)
KEYCLOAK_TLS_SECRET = "keycloak-tls"  # Keycloak's serving certificate on its Service, from the internal CA
# The stack's own CA as a cert-manager ClusterIssuer, on every stack (gateway/tls.py): it signs the
# in-cluster serving certificates the gateway verifies (signing keys fetched over TLS).
INTERNAL_ISSUER = "internal-ca"
# Per-organization roles as the realm's tokens carry them (`org_memberships`: group paths), which the
# gateway matches to let an organization's members, or only its admins, through.
ORGS_GROUP = "orgs"
ADMIN_ROLE = "ORG_ADMIN"
ORG_ROLES = (ADMIN_ROLE, "ORG_MANAGER", "ORG_USER")
MEMBERSHIPS_CLAIM = "org_memberships"


def organization_group(organization: str, role: str | None = None) -> str:
    """`/orgs/<slug>`, or the group of one of its roles, `/orgs/<slug>/<ROLE>`."""
    return f"/{ORGS_GROUP}/{organization}" + (f"/{role}" if role else "")


class IdentityEndpoints(BaseModel):
    """What the gateway needs of the identity plane: the issuers it checks tokens against, the identity
    hosts it routes, oauth2-proxy's sign-in host and callback, and the portal's origin (the APIs' CORS
    default)."""

    model_config = ConfigDict(frozen=True)

    dex_issuer: str
    keycloak_issuer: str
    keycloak_jwks_uri: str
    portal_origin: str
    oauth2_proxy_host: str
    oauth2_proxy_redirect_uri: str
    public_hosts: list[str]
    organizations: list[str] = []  # the organizations' slugs, whose role groups tokens carry


def identity_endpoints(stack: IdentitySettings) -> IdentityEndpoints:
    return IdentityEndpoints(
        dex_issuer=dex_issuer(stack),
        keycloak_issuer=keycloak_issuer(stack),
        keycloak_jwks_uri=keycloak_jwks_uri(stack),
        portal_origin=portal_origin(stack),
        oauth2_proxy_host=stack.host(stack.identity.hosts.oauth2_proxy),
        oauth2_proxy_redirect_uri=oauth2_proxy_redirect_uri(stack),
        public_hosts=identity_hosts(stack),
        organizations=sorted(org.name for org in stack.organizations),
    )


def https(site: Site, label: str) -> str:
    return f"https://{site.host(label)}"


def dex_issuer(stack: IdentitySettings) -> str:
    return https(stack, stack.identity.hosts.dex)


def dex_internal_url(path: str) -> str:
    """A Dex endpoint on its in-cluster Service, for servers that talk to Dex directly (token, keys):
    no hairpin through the load balancer, no wait for public DNS and TLS. Dex serves its endpoints at
    the issuer's path (the issuer has none) on any host."""
    return f"http://{service_host(DEX_SERVICE, DEX_NAMESPACE)}:{DEX_HTTP_PORT}{path}"


def oauth2_proxy_redirect_uri(stack: IdentitySettings) -> str:
    return f"{https(stack, stack.identity.hosts.oauth2_proxy)}/oauth2/callback"


def portal_origin(stack: IdentitySettings) -> str:
    """The tenants' single-page app: the Keycloak PKCE client's web origin, and the APIs' CORS default."""
    return https(stack, stack.identity.hosts.portal)


def keycloak_issuer(stack: IdentitySettings) -> str:
    return f"{https(stack, stack.identity.hosts.keycloak)}/realms/{stack.identity.realm}"


def keycloak_jwks_uri(stack: IdentitySettings) -> str:
    """In-cluster, so the gateway fetches keys without hairpinning through the load balancer; over TLS
    it verifies against the internal CA (gateway/jwks.py)."""
    return f"{keycloak_https_url()}/realms/{stack.identity.realm}/protocol/openid-connect/certs"


def keycloak_https_url() -> str:
    """Keycloak's HTTPS port on its in-cluster Service, with the certificate `KEYCLOAK_TLS_SECRET`."""
    return f"https://{service_host(KEYCLOAK_SERVICE, KEYCLOAK_NAMESPACE)}:{KEYCLOAK_HTTPS_PORT}"


def dex_https_url(path: str) -> str:
    """A Dex endpoint on its in-cluster Service's HTTPS port, with the certificate `DEX_TLS_SECRET`."""
    return f"https://{service_host(DEX_SERVICE, DEX_NAMESPACE)}:{DEX_HTTPS_PORT}{path}"


def keycloak_internal_url() -> str:
    """Keycloak on its in-cluster Service (no path prefix: the chart's `http.relativePath` is `/`)."""
    return f"http://{service_host(KEYCLOAK_SERVICE, KEYCLOAK_NAMESPACE)}:{KEYCLOAK_HTTP_PORT}"


def identity_hosts(stack: IdentitySettings) -> list[str]:
    """Identity hosts served through the Gateway (public on purpose: they are the login pages), Argo CD's
    among them when Gatehouse installs it."""
    hosts = stack.identity.hosts
    labels = [hosts.dex, hosts.authentik, hosts.keycloak, *([hosts.argocd] if stack.argocd.install else [])]
    return [stack.host(label) for label in labels]
