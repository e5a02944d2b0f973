"""The Keycloak realm for tenants, generated from `organizations` and `apis` (seeds 000 and 003).

- Groups `/orgs/<slug>` carry `org_id`, `plan` and `features`; membership in `/orgs/<slug>/<ROLE>` is
  the per-organization role, and grants the client role of that name on `organizations`.
- One client scope per API scope (`tickets:read` ...), each adding the API's audience to the token.
- `tenant-claims` maps `org_memberships`, `tenant_ids` and `preferred_org`.
- Clients: the tenants' single-page app (public, code + PKCE S256) and one client_credentials client
  per partner system, whose service account holds the role `organizations/PARTNER`.
- Every API scope is restricted by role (`realm_scopes.scope_mappings`): read and write to organization
  members and partners, admin to ORG_ADMINs, an API's `partnerOnlyScopes` to partners alone (and the
  portal does not offer them); a user in no organization gets none.
- Google as an identity provider, when its connector is configured.
- Each organization's `adminUsers` as users in `/orgs/<slug>/ORG_ADMIN`, without credentials: they sign
  in through Google, whose first login links to the account with the same e-mail (`realm_flows`).

Second factor before an admin scope: every `<api>:admin` scope is mapped to the role
`organizations/ORG_ADMIN`, and Keycloak grants a scope that has role mappings only to users holding one
of those roles (optional or default alike). The browser, direct-grant and post-broker-login flows
(`realm_flows`) ask for an OTP code whenever the user holds that same role. So no token carries an admin
scope unless its user signed in with a second factor, and the OTP step's reference in `amr` (scope
`amr`) lets the gateway check that the factor is recent on admin paths. (Keycloak 26.5 also has a
client-scope condition, `conditional-client-scope`, which would ask only when the scope is requested;
the role condition, which asks an admin on every sign-in, is kept.)

The realm is keycloak-config-cli's input (`realm_sync`): applied on every change, what config no longer
names is removed from the live realm. Secrets are `$(env:NAME)` substitutions, never in the file.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .. import config, endpoints
from ..endpoints import ADMIN_ROLE, ORG_ROLES, ORGS_GROUP, organization_group
from .realm_flows import (
    BROWSER_FLOW,
    DIRECT_GRANT_FLOW,
    FIRST_BROKER_FLOW,
    POST_BROKER_FLOW,
    REGISTRATION_FLOW,
    flows,
    user_profile,
)
from .realm_scopes import (
    DEFAULT_SCOPES,
    PARTNER_ROLE,
    PREFERRED_ORG,
    ROLES_CLIENT,
    SECOND_FACTOR_SCOPE,
    TENANT_CLAIMS,
    client_scopes,
    jwt_apis,
    scope_mappings,
    user_scope_names,
)
from .settings import IdentitySettings

SPA_CLIENT = "portal"
CLIENT_SECRETS = "keycloak-client-secrets"  # Secret in the keycloak namespace the substitutions read
GOOGLE_SECRET_KEY = "google-client-secret"
GOOGLE_VARIABLE = "GOOGLE_CLIENT_SECRET"


# --- names shared with the component and the tests ---------------------------------------------------


def m2m_clients(stack: IdentitySettings) -> dict[str, list[str]]:
    """Partner client id -> its scopes: a partner named under several APIs is one client with all of them."""
    scopes: dict[str, set[str]] = defaultdict(set)
    for api in jwt_apis(stack):
        for client in api.m2m_clients:
            scopes[client.name] |= {api.scope_name(s) for s in client.scopes}
    return {name: sorted(found) for name, found in sorted(scopes.items())}


def secret_variable(client_id: str) -> str:
    """`partner-logistics` -> `CLIENT_PARTNER_LOGISTICS_SECRET` (injective: client ids are DNS labels)."""
    return "CLIENT_" + client_id.upper().replace("-", "_") + "_SECRET"


def substituted(variable: str) -> str:
    """keycloak-config-cli's `$(env:NAME)`: the value of an environment variable of its Job."""
    return f"$(env:{variable})"


def app_clients(stack: IdentitySettings) -> dict[str, str]:
    """Organization app client id -> the app's host label: each signs its members in on its own host."""
    apps = {a.name: a for a in stack.apps}
    return {config.app_client_id(name): apps[name].host_label for name in config.organization_apps(stack.access)}


def substitutions(stack: IdentitySettings) -> dict[str, str]:
    """Environment variable of the reconcile Job -> its key in the client secrets Secret."""
    keys = {secret_variable(name): name for name in [*m2m_clients(stack), *app_clients(stack)]}
    if stack.identity.connectors.google:
        keys[GOOGLE_VARIABLE] = GOOGLE_SECRET_KEY
    return dict(sorted(keys.items()))


# --- groups and roles -----------------------------------------------------------------------------


def org_group(org: config.Organization) -> dict[str, Any]:
    path = organization_group(org.name)
    return {
        "name": org.name,
        "path": path,
        # `preferred_org`: the claim's fallback for members who set none (realm_scopes.tenant_claims_scope)
        "attributes": {
            "org_id": [org.org_id],
            "plan": [org.plan],
            "features": sorted(org.features),
            PREFERRED_ORG: [org.name],
        },
        "subGroups": [
            {"name": role, "path": organization_group(org.name, role), "clientRoles": {ROLES_CLIENT: [role]}}
            for role in ORG_ROLES
        ],
    }


def groups(stack: IdentitySettings) -> list[dict[str, Any]]:
    orgs = sorted(stack.organizations, key=lambda o: o.name)
    return [{"name": ORGS_GROUP, "path": f"/{ORGS_GROUP}", "subGroups": [org_group(o) for o in orgs]}]


def admin_users(stack: IdentitySettings) -> list[dict[str, Any]]:
    """Every organization's `adminUsers`, one user per address (Keycloak keeps both lowercase) in the
    ORG_ADMIN group of each organization naming it. No credentials: they sign in through Google."""
    memberships: dict[str, set[str]] = defaultdict(set)
    for org in stack.organizations:
        for email in org.admin_users:
            memberships[email.lower()].add(organization_group(org.name, ADMIN_ROLE))
    return [
        {"username": email, "email": email, "emailVerified": True, "enabled": True, "groups": sorted(paths)}
        for email, paths in sorted(memberships.items())
    ]


def partner_service_accounts(stack: IdentitySettings) -> list[dict[str, Any]]:
    """Each partner client's service account (Keycloak names it `service-account-<client>`), holding the
    partner role its scopes need. keycloak-config-cli v6.5.0 (service/UserImportService.java) finds the
    account the client import created by that name and sets its client roles."""
    return [
        {
            "username": f"service-account-{client_id}",
            "serviceAccountClientId": client_id,
            "enabled": True,
            "clientRoles": {ROLES_CLIENT: [PARTNER_ROLE]},
        }
        for client_id in m2m_clients(stack)
    ]


def roles() -> dict[str, Any]:
    descriptions = {
        "ORG_ADMIN": "Administers an organization (signs in with a second factor)",
        "ORG_MANAGER": "Manages an organization's resources",
        "ORG_USER": "Member of an organization",
        PARTNER_ROLE: "A partner system (client credentials): the read and write scopes it is given",
    }
    names = [*ORG_ROLES, PARTNER_ROLE]
    return {"client": {ROLES_CLIENT: [{"name": r, "description": descriptions[r]} for r in names]}}


# --- clients and identity providers ---------------------------------------------------------------

NO_FLOWS = {
    "standardFlowEnabled": False,
    "implicitFlowEnabled": False,
    "directAccessGrantsEnabled": False,
    "serviceAccountsEnabled": False,
}


def clients(stack: IdentitySettings) -> list[dict[str, Any]]:
    origin = endpoints.portal_origin(stack)
    found: list[dict[str, Any]] = [
        {
            "clientId": ROLES_CLIENT,
            "name": "Organization roles",
            "description": "Holds the per-organization roles; nothing signs in with it",
            "enabled": True,
            "protocol": "openid-connect",
            "publicClient": False,
            **NO_FLOWS,
        },
        {
            "clientId": SPA_CLIENT,
            "name": "Tenant portal",
            "description": "The tenants' single-page app: authorization code with PKCE, no secret",
            "enabled": True,
            "protocol": "openid-connect",
            "publicClient": True,
            **NO_FLOWS,
            "standardFlowEnabled": True,
            "frontchannelLogout": True,
            "rootUrl": origin,
            "redirectUris": [f"{origin}/*"],
            "webOrigins": [origin],
            "attributes": {"pkce.code.challenge.method": "S256", "post.logout.redirect.uris": f"{origin}/*"},
            # keep `basic`: it carries `sub`
            "defaultClientScopes": [*DEFAULT_SCOPES, TENANT_CLAIMS, SECOND_FACTOR_SCOPE],
            # people's scopes only: a partner-only scope (`partnerOnlyScopes`) is not even requestable here
            "optionalClientScopes": ["offline_access", *user_scope_names(stack)],
        },
    ]
    for client_id, label in app_clients(stack).items():
        found.append(app_client(stack, client_id, label))
    for client_id, scopes in m2m_clients(stack).items():
        found.append(
            {
                "clientId": client_id,
                "name": f"Partner system {client_id}",
                "description": "Machine-to-machine: client_credentials only",
                "enabled": True,
                "protocol": "openid-connect",
                "publicClient": False,
                "clientAuthenticatorType": "client-secret",
                "secret": substituted(secret_variable(client_id)),
                **NO_FLOWS,
                "serviceAccountsEnabled": True,
                "attributes": {"client_credentials.use_refresh_token": "false"},
                "defaultClientScopes": ["basic", *scopes],
                "optionalClientScopes": [],
            }
        )
    return found


def app_client(stack: IdentitySettings, client_id: str, label: str) -> dict[str, Any]:
    """An organization app's client: Envoy Gateway's OIDC filter signs its members in on the app's own host
    (authorization code, a confidential client) and the gateway checks the ID token's `org_memberships`."""
    origin = endpoints.https(stack, label)
    return {
        "clientId": client_id,
        "name": f"Organization app {client_id}",
        "description": "An organization app behind the gateway's OIDC filter: authorization code, on its own host",
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": False,
        "clientAuthenticatorType": "client-secret",
        "secret": substituted(secret_variable(client_id)),
        **NO_FLOWS,
        "standardFlowEnabled": True,
        "rootUrl": origin,
        "redirectUris": [endpoints.app_callback(stack, label)],
        "webOrigins": [],
        "attributes": {"post.logout.redirect.uris": f"{origin}/*"},
        "defaultClientScopes": [*DEFAULT_SCOPES, TENANT_CLAIMS],
        "optionalClientScopes": ["offline_access"],
    }


def realm_hosted_domains(stack: IdentitySettings) -> list[str]:
    """Google Workspace domains whose accounts may sign in to the realm: the staff's, and those of every
    organization's admins (their addresses are their Google accounts). Keycloak sends them as `hd` and
    accepts an ID token whose `hd` is any of them, comma-separated (keycloak/keycloak 26.x
    services/.../broker/social/google/GoogleIdentityProvider.java `validateToken`)."""
    google = stack.identity.connectors.google
    staff = set(google.hosted_domains) if google else set()
    admins = {email.rsplit("@", 1)[1].lower() for org in stack.organizations for email in org.admin_users}
    return sorted(staff | admins)


def identity_providers(stack: IdentitySettings) -> list[dict[str, Any]]:
    google = stack.identity.connectors.google
    if not google:
        return []
    return [
        {
            "alias": "google",
            "displayName": "Google",
            "providerId": "google",
            "enabled": True,
            "trustEmail": True,  # Workspace addresses of the hosted domains are Google-verified
            "storeToken": False,
            "linkOnly": False,
            "firstBrokerLoginFlowAlias": FIRST_BROKER_FLOW,  # links to an existing user by e-mail
            "postBrokerLoginFlowAlias": POST_BROKER_FLOW,  # the second factor for admins, after Google
            "config": {
                "clientId": google.client_id,
                "clientSecret": substituted(GOOGLE_VARIABLE),
                "hostedDomain": ",".join(realm_hosted_domains(stack)),
                "defaultScope": "openid profile email",
                "syncMode": "IMPORT",
            },
        }
    ]


# --- the realm ------------------------------------------------------------------------------------


def realm(stack: IdentitySettings) -> dict[str, Any]:
    authentication_flows, authenticator_config = flows()
    return {
        "realm": stack.identity.realm,
        "enabled": True,
        "displayName": "Gatehouse",
        "sslRequired": "external",
        "registrationAllowed": False,
        "loginWithEmailAllowed": True,
        "duplicateEmailsAllowed": False,
        "bruteForceProtected": True,
        "permanentLockout": False,
        "failureFactor": 10,
        "otpPolicyType": "totp",
        "otpPolicyAlgorithm": "HmacSHA1",
        "otpPolicyDigits": 6,
        "otpPolicyPeriod": 30,
        "browserFlow": BROWSER_FLOW,
        "directGrantFlow": DIRECT_GRANT_FLOW,
        "registrationFlow": REGISTRATION_FLOW,
        "authenticationFlows": authentication_flows,
        "authenticatorConfig": authenticator_config,
        "roles": roles(),
        "groups": groups(stack),
        "users": [*admin_users(stack), *partner_service_accounts(stack)],
        "clientScopes": client_scopes(stack),
        "defaultDefaultClientScopes": DEFAULT_SCOPES,
        "defaultOptionalClientScopes": ["offline_access"],
        "clientScopeMappings": scope_mappings(stack),
        "clients": clients(stack),
        "identityProviders": identity_providers(stack),
        # keycloak-config-cli imports `userProfile` only while this attribute is set (adorsys#979: a
        # UserProfileProvider component is silently ignored)
        "attributes": {"userProfileEnabled": "true"},
        "userProfile": user_profile(),
    }
