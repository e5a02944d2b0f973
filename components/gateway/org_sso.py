"""Organization apps: members of an organization sign in through the Keycloak realm on the app's own host.

Envoy Gateway's OIDC filter (v1.9.0 api/v1alpha1/oidc_types.go) is the client: its cookies are host-only
unless a cookie domain is set (none is), its session HMAC covers the host (Envoy oauth2 filter.cc), and its
callback is the app's own `/oauth2/callback`, so a session made for one app is valid for no other host.
The filter does not verify tokens; a jwt provider reads its ID-token cookie, checks issuer, signature and
audience (the app's own realm client, so another app's token does not pass), and the authorization rule
admits only the app's organizations' members in the app's roles (`org_memberships`, /orgs/<slug>/<ROLE>)
(Envoy Gateway's documented pattern: site/content/en/latest/tasks/security/oidc.md, v1.9.0).

The identity filter then removes every cookie of the filter's (token, HMAC, expiry, refresh, nonce,
verifier) and sets X-Org-Slug and X-Org-Roles from the verified memberships; X-User-Id and X-User-Email
come from the verified claims. The client's own `Authorization` (the filter keeps it by default) is removed
by the route.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .. import config, endpoints, meta
from ..endpoints import APP_LOGOUT_PATH, MEMBERSHIPS_CLAIM, organization_group
from ..headers import user_claim_headers
from . import jwks
from .routes import route_target
from .settings import GatewaySettings

COMPONENT = "sso"
KEYCLOAK_PROVIDER = "keycloak"
ID_TOKEN_COOKIE = "gatehouse-id"
ACCESS_TOKEN_COOKIE = "gatehouse-at"
# The filter's own cookies, by name prefix (Envoy Gateway internal/xds/translator/oidc.go suffixes them
# with a digest of the policy): none is the app's business.
FILTER_COOKIES = ["OauthHMAC", "OauthExpires", "RefreshToken", "OauthNonce", "CodeVerifier", "BearerToken"]
SCOPES = ["openid", "email", "profile"]


def client_secret_name(route: str) -> str:
    return f"{route}-oidc"


def member_rule(access: config.AppAccess) -> dict[str, Any]:
    groups = [organization_group(org, role) for org in access.organizations for role in access.roles]
    claim = {"name": MEMBERSHIPS_CLAIM, "valueType": "StringArray", "values": groups}
    return {
        "name": "members",
        "action": "Allow",
        "principal": {"jwt": {"provider": KEYCLOAK_PROVIDER, "claims": [claim]}},
    }


def keycloak_provider(stack: GatewaySettings, client_id: str) -> dict[str, Any]:
    return {
        "name": KEYCLOAK_PROVIDER,
        "issuer": stack.identity.keycloak_issuer,
        "audiences": [client_id],
        "remoteJWKS": jwks.keycloak_remote_jwks(stack.identity.keycloak_jwks_uri),
        "extractFrom": {"cookies": [ID_TOKEN_COOKIE]},
        "claimToHeaders": user_claim_headers(),
    }


def oidc_policy_spec(stack: GatewaySettings, app: config.App, route: str) -> dict[str, Any]:
    client_id = config.app_client_id(app.name)
    issuer = stack.identity.keycloak_issuer
    return {
        "targetRefs": [route_target(route)],
        "oidc": {
            "provider": {
                "issuer": issuer,
                # both given: the controller fetches no discovery document (securitypolicy.go); the browser
                # goes to the public host, Envoy redeems the code on Keycloak's Service, verified like the keys
                "authorizationEndpoint": f"{issuer}/protocol/openid-connect/auth",
                "tokenEndpoint": stack.identity.keycloak_token_endpoint,
                "backendRefs": jwks.backend_refs(jwks.KEYCLOAK),
            },
            "clientID": client_id,
            "clientSecret": {"name": client_secret_name(route)},
            "redirectURL": endpoints.app_callback(stack, app.host_label),
            "logoutPath": APP_LOGOUT_PATH,
            "scopes": SCOPES,
            "cookieNames": {"idToken": ID_TOKEN_COOKIE, "accessToken": ACCESS_TOKEN_COOKIE},
            "forwardAccessToken": False,
            "refreshToken": True,
        },
        "jwt": {"providers": [keycloak_provider(stack, client_id)]},
        "authorization": {"defaultAction": "Deny", "rules": [member_rule(stack.access[app.name])]},
    }


def organization_filter_context(access: config.AppAccess) -> dict[str, Any]:
    """The identity filter on an organization app: none of the OIDC filter's cookies; the organization and roles."""
    return {
        "provider": KEYCLOAK_PROVIDER,
        "dropCookies": [ID_TOKEN_COOKIE, ACCESS_TOKEN_COOKIE, *FILTER_COOKIES],
        "organizations": list(access.organizations),
    }


def protect_for_organizations(
    stack: GatewaySettings,
    app: config.App,
    route: str,
    client_secret: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    crd_opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """The app's realm-client secret where the OIDC filter reads it (the policy's namespace, key
    `client-secret`), and the policy."""
    secret = k8s.core.v1.Secret(
        f"{app.namespace}-{route}-oidc",
        metadata=meta.object_meta(client_secret_name(route), COMPONENT, app.namespace),
        type="Opaque",
        string_data={"client-secret": client_secret},
        opts=opts,
    )
    return meta.custom_resource(
        f"{app.namespace}-{route}-sso",
        "gateway.envoyproxy.io/v1alpha1",
        "SecurityPolicy",
        meta.object_meta(f"{route}-sso", COMPONENT, app.namespace),
        oidc_policy_spec(stack, app, route),
        pulumi.ResourceOptions.merge(crd_opts, pulumi.ResourceOptions(depends_on=[secret])),
    )
