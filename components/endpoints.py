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
GOOGLE_CONNECTOR = "google"  # Dex's connector id for Google (identity/dex.py), in `federated_claims`
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
# The second factor an admin token proves: Keycloak's `amr` claim (oidc-amr-mapper) lists the reference
# the realm's OTP steps carry, and the gateway lets a token onto admin paths only with it.
SECOND_FACTOR_CLAIM = "amr"
SECOND_FACTOR_VALUE = "otp"  # RFC 8176's method reference for a one-time password


# Envoy Gateway's OIDC filter on an organization app's own host: where Keycloak returns the code, and
# where the app's session ends (off the app's own `/logout`, which EG would otherwise intercept)
APP_CALLBACK_PATH = "/oauth2/callback"
APP_LOGOUT_PATH = "/oauth2/logout"


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
    keycloak_token_endpoint: str  # in-cluster, over TLS: where the OIDC filter redeems codes
    portal_origin: str
    oauth2_proxy_host: str
    oauth2_proxy_redirect_uri: str
    public_hosts: list[str]
    organizations: list[str] = []  # the organizations' slugs, whose role groups tokens carry
    # platform group -> its names in Dex's `groups` claim (staff apps admit by them)
    staff_groups: dict[str, list[str]] = {}
    admin_group: str = ""  # the platform group of the platform's admins (identity.platformGroups.admins)
    operator_group: str = ""
    workspace_connector: str | None = None  # Dex's Google connector, when staff sign in with Google


def identity_endpoints(stack: IdentitySettings) -> IdentityEndpoints:
    return IdentityEndpoints(
        dex_issuer=dex_issuer(stack),
        keycloak_issuer=keycloak_issuer(stack),
        keycloak_jwks_uri=keycloak_jwks_uri(stack),
        keycloak_token_endpoint=keycloak_token_endpoint(stack),
        portal_origin=portal_origin(stack),
        oauth2_proxy_host=stack.host(stack.identity.hosts.oauth2_proxy),
        oauth2_proxy_redirect_uri=oauth2_proxy_redirect_uri(stack),
        public_hosts=identity_hosts(stack),
        organizations=sorted(org.name for org in stack.organizations),
        staff_groups={group: connector_groups(stack, group) for group in platform_groups(stack)},
        admin_group=stack.identity.platform_groups.admins,
        operator_group=stack.identity.platform_groups.operators,
        workspace_connector=GOOGLE_CONNECTOR if stack.identity.connectors.google else None,
    )


def platform_groups(stack: IdentitySettings) -> list[str]:
    groups = stack.identity.platform_groups
    return [groups.admins, groups.operators, groups.engineering]


def connector_groups(stack: IdentitySettings, group: str) -> list[str]:
    """A platform group as each Dex connector names it: `authentik:<group>`, and `<platform-org>:<team>` for
    the platform's own GitHub organization only (a tenant's org may have a team of the same name)."""
    from .config import AUTHENTIK_GROUP_PREFIX  # here: config's rules import the gateway, which imports this

    names = [f"{AUTHENTIK_GROUP_PREFIX}:{group}"]
    github = stack.identity.connectors.github
    if github:
        names.append(f"{github.platform_org}:{group}")
    return names


def https(site: Site, label: str) -> str:
    return f"https://{site.host(label)}"


def app_callback(site: Site, host_label: str) -> str:
    return f"{https(site, host_label)}{APP_CALLBACK_PATH}"


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


def keycloak_token_endpoint(stack: IdentitySettings) -> str:
    """The realm's token endpoint on the same port: Keycloak answers any host, and issues tokens for its
    configured public hostname (`KC_HOSTNAME`), so `iss` is the public issuer whichever host redeems."""
    return f"{keycloak_https_url()}/realms/{stack.identity.realm}/protocol/openid-connect/token"


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
