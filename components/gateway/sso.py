"""Single sign-on: one central oauth2-proxy that Envoy asks (ext_authz) before every browser app.

oauth2-proxy answers the check on its proxy handler with upstream `static://200`: 200 plus
`X-Auth-Request-*` headers when the session is good, a 302 to Dex when not. The check goes to the
`/_extauth` prefix, so requests for oauth2-proxy's own paths on an app host are never answered 200
and forwarded unauthenticated; sign-in and sign-out happen on `auth.<domain>/oauth2/...`.

Its client secret, cookie secret and Redis password reach it as environment variables, read at start:
the pods carry a digest of them (`checksum/secrets`), so a rotated one rolls them.

Start-up (oauth2-proxy v7.15.3): with discovery, it fetches Dex's discovery document once at start and
exits when that fails (pkg/providers/oidc/provider.go, main.go), which a first `pulumi up` would see
until the gateway, DNS and certificate serve Dex. `skip_oidc_discovery` names the endpoints instead
and contacts nothing at start: the browser goes to Dex's public `/auth`, the code is redeemed and the
keys fetched from Dex's in-cluster Service (no hairpin through the load balancer). Tokens are still
checked against the issuer string (go-oidc compares `iss` with `oidc_issuer_url`).

Who may enter (staff apps): oauth2-proxy's answer carries the session's Dex ID token as `Authorization`
(`set_authorization_header`, v7.15.3 pkg/apis/options/legacy_options.go), which the gateway verifies (a jwt
provider for Dex, audience oauth2-proxy) and authorizes on its `groups` array or the Google connector it
came through (`federated_claims`, Dex v2.44.0 server/oauth2.go, scope `federated:id`): the platform groups
the app names, as Dex calls them for Authentik and the platform's GitHub organization only. Anything else,
a tenant's GitHub team of the same name included, is denied before the app. The route then removes the
token, and the identity filter removes the session cookie.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from .. import config, endpoints, meta
from ..charts import (
    SECRETS_CHECKSUM,
    helm_chart,
    resources,
    secrets_checksum,
    stored_secret,
    valkey,
    valkey_address,
)
from ..endpoints import IdentityEndpoints
from ..headers import GROUPS_HEADER, REDIRECT_HEADER, SSO_HEADERS, user_claim_headers
from ..versions import IMAGES
from . import jwks
from .routes import correlation_filters, http_route, path_prefixes, route_spec, route_target
from .settings import GatewaySettings

COMPONENT = "sso"
NAMESPACE = "oauth2-proxy"
SERVICE = "oauth2-proxy"
SERVICE_PORT = 80
CREDENTIALS_SECRET = "oauth2-proxy-credentials"
REDIS = "oauth2-proxy-redis"
REDIS_SECRET = "oauth2-proxy-redis-users"
CLIENT_ID = "oauth2-proxy"  # its static client in Dex
REDIS_PASSWORD_KEY = "default"  # the ACL user oauth2-proxy signs in to Valkey as
# What the chart's pods read from those Secrets (`config.existingSecret`, `sessionStorage.redis`); the
# client id is there too, but it is a constant, not a secret.
SECRET_REFS = [
    (CREDENTIALS_SECRET, "client-secret"),
    (CREDENTIALS_SECRET, "cookie-secret"),
    (REDIS_SECRET, REDIS_PASSWORD_KEY),
]
EXT_AUTH_PATH = "/_extauth"
COOKIE_NAME = "_gatehouse_sso"  # never `__Host-`: that prefix forbids the Domain attribute SSO needs
DEX_PROVIDER = "dex"  # the jwt provider verifying oauth2-proxy's Dex ID token
GROUPS_CLAIM = "groups"
CONNECTOR_CLAIM = "federated_claims.connector_id"  # Dex: which connector the user signed in through


def oauth2_proxy_config(stack: GatewaySettings) -> str:
    """oauth2-proxy's config file (legacy TOML style, as the chart's `config.configFile` takes it)."""
    domain = f".{stack.domain}"
    settings: dict[str, Any] = {
        "provider": "oidc",
        "provider_display_name": "Gatehouse SSO",
        "oidc_issuer_url": stack.identity.dex_issuer,
        "skip_oidc_discovery": True,
        "login_url": f"{stack.identity.dex_issuer}/auth",
        "redeem_url": endpoints.dex_internal_url("/token"),
        "oidc_jwks_url": endpoints.dex_internal_url("/keys"),
        "profile_url": endpoints.dex_internal_url("/userinfo"),
        "redirect_url": stack.identity.oauth2_proxy_redirect_uri,
        "scope": "openid email profile groups federated:id offline_access",
        "code_challenge_method": "S256",
        "email_domains": ["*"],
        "upstreams": ["static://200"],
        "reverse_proxy": True,
        # only Envoy, inside the cluster, may set X-Forwarded-* (GHSA-7x63-xv5r-3p2x)
        "trusted_proxy_ips": list(stack.network.private_ranges),
        "set_xauthrequest": True,
        "set_authorization_header": True,  # the Dex ID token, which the gateway verifies and authorizes on
        "pass_access_token": False,
        "skip_provider_button": True,
        "cookie_name": COOKIE_NAME,
        "cookie_domains": [domain],
        "whitelist_domains": [domain],
        "cookie_secure": True,
        "cookie_samesite": "lax",
        "cookie_expire": "12h",
        "cookie_refresh": "30m",
        "silence_ping_logging": True,
    }
    return "\n".join(f"{key} = {_toml(value)}" for key, value in settings.items()) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def oauth2_proxy(
    stack: GatewaySettings,
    namespace: k8s.core.v1.Namespace,
    client_secret: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    crd_opts: pulumi.ResourceOptions,
) -> None:
    ns = namespace.metadata.name
    cookie_secret = random.RandomPassword("oauth2-proxy-cookie", length=32, special=False, opts=opts)
    redis_password = random.RandomPassword("oauth2-proxy-redis", length=32, special=False, opts=opts)
    credentials: dict[str, pulumi.Input[str]] = {
        "client-id": CLIENT_ID,
        "client-secret": client_secret,
        "cookie-secret": cookie_secret.result,
    }
    redis_users: dict[str, pulumi.Input[str]] = {REDIS_PASSWORD_KEY: redis_password.result}
    redis_secret = stored_secret("oauth2-proxy-redis", REDIS_SECRET, COMPONENT, ns, redis_users, opts)
    secrets = [
        stored_secret("oauth2-proxy-credentials", CREDENTIALS_SECRET, COMPONENT, ns, credentials, opts),
        redis_secret,
    ]
    sessions = valkey(
        "oauth2-proxy-redis",
        REDIS,
        ns,
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[redis_secret.resource])),
        auth={
            "enabled": True,
            "usersExistingSecret": REDIS_SECRET,
            "aclUsers": {REDIS_PASSWORD_KEY: {"permissions": "~* &* +@all"}},
        },
    )
    image = IMAGES["oauth2-proxy"]
    helm_chart(
        "oauth2-proxy",
        "oauth2-proxy",
        SERVICE,
        ns,
        {
            "image": {"repository": image.repository, "tag": image.tag},
            "config": {"existingSecret": CREDENTIALS_SECRET, "configFile": oauth2_proxy_config(stack)},
            "sessionStorage": {
                "type": "redis",  # a small ticket cookie, not the whole token set
                "redis": {
                    "existingSecret": REDIS_SECRET,
                    "passwordKey": REDIS_PASSWORD_KEY,
                    "clientType": "standalone",
                    "standalone": {"connectionUrl": f"redis://{valkey_address(REDIS, NAMESPACE)}"},
                },
            },
            "replicaCount": 2,
            "podAnnotations": {SECRETS_CHECKSUM: secrets_checksum(SECRET_REFS, secrets)},
            "resources": resources("50m", "64Mi", "256Mi"),
        },
        # its readiness check pings Redis (v7.15.3 pkg/middleware/readynesscheck.go): Valkey first
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[sessions])),
    )
    # The login host: sign-in, callback and sign-out; not itself behind ext_authz.
    http_route(
        "oauth2-proxy-route",
        SERVICE,
        COMPONENT,
        ns,
        route_spec(
            stack.identity.oauth2_proxy_host,
            SERVICE,
            SERVICE_PORT,
            path_prefixes("/oauth2"),
            correlation_filters(keep_redirect=True),  # the login host may read where to return
        ),
        crd_opts,
        public=True,
    )


def staff_rules(access: config.AppAccess, identity: IdentityEndpoints) -> list[dict[str, Any]]:
    """Allow the app's platform groups (as Dex names them) and, if it admits them, Google Workspace
    members; the default action denies everyone else."""

    def allow(name: str, claim: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "action": "Allow", "principal": {"jwt": {"provider": DEX_PROVIDER, "claims": [claim]}}}

    names = [name for group in access.staff_groups for name in identity.staff_groups[group]]
    rules = [allow("platform-groups", {"name": GROUPS_CLAIM, "valueType": "StringArray", "values": names})]
    if access.workspace_members and identity.workspace_connector:
        rules.append(allow("workspace-members", {"name": CONNECTOR_CLAIM, "values": [identity.workspace_connector]}))
    return rules


def dex_provider(identity: IdentityEndpoints) -> dict[str, Any]:
    return {
        "name": DEX_PROVIDER,
        "issuer": identity.dex_issuer,
        "audiences": [CLIENT_ID],
        "remoteJWKS": jwks.dex_remote_jwks(),  # over TLS, verified
        "claimToHeaders": user_claim_headers(),
    }


def staff_policy_spec(route: str, access: config.AppAccess, identity: IdentityEndpoints) -> dict[str, Any]:
    """oauth2-proxy's session check, its ID token verified, the app's staff allowed, everyone else denied."""
    return {
        **ext_auth_policy_spec(route),
        "jwt": {"providers": [dex_provider(identity)]},
        "authorization": {"defaultAction": "Deny", "rules": staff_rules(access, identity)},
    }


def ext_auth_policy_spec(route: str) -> dict[str, Any]:
    return {
        "targetRefs": [route_target(route)],
        "extAuth": {
            "failOpen": False,
            "timeout": "5s",
            # by default only Host, Method, Path, Content-Length and Authorization reach the check
            "headersToExtAuth": ["cookie", "accept", "x-forwarded-proto", REDIRECT_HEADER],
            "http": {
                "backendRefs": [{"name": SERVICE, "namespace": NAMESPACE, "port": SERVICE_PORT}],
                "path": EXT_AUTH_PATH,
                "headersToBackend": [*SSO_HEADERS, "authorization"],  # overwrites a client's: the ID token
            },
        },
    }


def reference_grant_name(from_namespace: str) -> str:
    return f"sso-from-{from_namespace}"


def reference_grant_spec(from_namespace: str) -> dict[str, Any]:
    """SecurityPolicies in one app namespace may send checks to the oauth2-proxy Service.

    One grant per namespace: a grant's `from` holds at most 16 entries, and a namespace's grant
    comes and goes with its apps without touching the others'.
    """
    return {
        "from": [{"group": "gateway.envoyproxy.io", "kind": "SecurityPolicy", "namespace": from_namespace}],
        "to": [{"group": "", "kind": "Service", "name": SERVICE}],
    }


def protect_for_staff(
    route: str, namespace: str, access: config.AppAccess, identity: IdentityEndpoints, opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    return meta.custom_resource(
        f"{namespace}-{route}-sso",
        "gateway.envoyproxy.io/v1alpha1",
        "SecurityPolicy",
        meta.object_meta(f"{route}-sso", COMPONENT, namespace),
        staff_policy_spec(route, access, identity),
        opts,
    )


def staff_filter_context(role_header: dict[str, Any] | None = None) -> dict[str, Any]:
    """The identity filter on a staff app: no session cookie; the verified groups (and a role from them)."""
    return {
        "provider": DEX_PROVIDER,
        "dropCookies": [COOKIE_NAME],
        "groupsHeader": GROUPS_HEADER,
        **(role_header or {}),
    }
