"""Protected APIs, one per config entry under `apis`.

- `jwt`: Keycloak access tokens (users and client_credentials partners), issuer and audience pinned;
  who may call what is api_rules.py's. CORS for the tenants' single-page app: Envoy's CORS filter runs
  first and answers a preflight (OPTIONS, no token) itself when the origin is allowed, so jwt and
  authorization never see it.
- `apiKey`: public read endpoints; one generated key per client, one Secret per tier, and a global
  rate limit per client in each tier (Redis-backed, so it holds across Envoy replicas). The Secrets live
  in Envoy Gateway's namespace (names.API_KEYS_NAMESPACE), never in the API's (a tenant's, whose people
  would read partners' keys there and add keys of their own, for clients in no tier and so unlimited):
  Envoy Gateway v1.9.0 resolves `apiKeyAuth.credentialRefs` with cross-namespace references allowed,
  permitted by a ReferenceGrant in the Secret's namespace from SecurityPolicies of the API's namespace
  to the named Secrets (envoyproxy/gateway v1.9.0 internal/gatewayapi/securitypolicy.go buildAPIKeyAuth
  calls validateSecretRef(allowCrossNamespace=true, ...); validate.go validateSecretObjectRef and
  helpers.go isCrossNamespaceReferencePermitted check the grant's from group/kind/namespace and to name;
  api/v1alpha1/api_key_auth_types.go: credentialRefs are gwapiv1.SecretObjectReference, with namespace).
- `public`: marked public on purpose in the config; only the correlation id is added.

Every API has a rate limit (traffic.py); its HTTPRoute rules, operations and their policies are
api_routes.py's; an upstream outside the cluster is upstreams.py's.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from .. import config, meta
from ..headers import API_CLIENT_HEADER, CORRELATION_HEADER, JWT_CLAIM_HEADERS
from . import names
from .api_routes import READ_METHODS, WRITE_METHODS, route_rules
from .api_rules import JWT_PROVIDER, authorization_rules
from .routes import GATEWAY_API_VERSION, host_route_spec, http_route, route_target
from .settings import GatewaySettings
from .traffic import has_traffic_policy, traffic_spec
from .upstreams import BACKEND_KIND, backend_name, backend_ref, backend_spec, upstream_filters, upstream_removed_headers

COMPONENT = "api"
API_KEY_HEADER = "x-api-key"
CORS_MAX_AGE = "1h"  # browsers cap preflight caching anyway (Chromium: 2h)


def cors_spec(api: config.Api, default_origin: str) -> dict[str, Any]:
    """What the browser may send cross-origin: the methods some scope allows, bearer tokens, JSON."""
    scopes = set(api.scopes)  # `admin` allows every method, on the admin paths
    methods = (READ_METHODS if scopes & {"read", "admin"} else []) + (
        WRITE_METHODS if scopes & {"write", "admin"} else []
    )
    return {
        "allowOrigins": list(api.cors_origins) or [default_origin],
        "allowMethods": methods,
        "allowHeaders": ["authorization", "content-type", CORRELATION_HEADER.lower()],
        "exposeHeaders": [CORRELATION_HEADER.lower()],
        "maxAge": CORS_MAX_AGE,
    }


def jwt_policy_spec(
    api: config.Api, issuer: str, remote_jwks: dict[str, Any], cors_origin: str, organizations: list[str]
) -> dict[str, Any]:
    """`remote_jwks`: where the keys come from (jwks.py, over verified TLS); `cors_origin`: allowed when
    the API configures no `corsOrigins`; `organizations`: their slugs. Issuer and audience are pinned per
    API: a token of the realm for another API is refused."""
    return {
        "targetRefs": [route_target(names.route_name(api.name))],
        "cors": cors_spec(api, cors_origin),
        "jwt": {
            "providers": [
                {
                    "name": JWT_PROVIDER,
                    "issuer": issuer,
                    "audiences": [api.audience],
                    "remoteJWKS": remote_jwks,
                    "claimToHeaders": [{"claim": c, "header": h} for c, h in JWT_CLAIM_HEADERS.items()],
                }
            ]
        },
        "authorization": {"defaultAction": "Deny", "rules": authorization_rules(api, organizations)},
    }


def api_key_policy_spec(api: config.Api) -> dict[str, Any]:
    return {
        "targetRefs": [route_target(names.route_name(api.name))],
        "apiKeyAuth": {
            "credentialRefs": [
                {
                    "group": "",
                    "kind": "Secret",
                    "name": names.api_key_secret_name(api.name, t.name),
                    "namespace": names.API_KEYS_NAMESPACE,
                }
                for t in api.api_key_tiers
            ],
            "extractFrom": [{"headers": [API_KEY_HEADER]}],
            "forwardClientIDHeader": API_CLIENT_HEADER,  # the rate limiter and the backend see the client
            "sanitize": True,  # the key itself never reaches the backend
        },
    }


def api_key_grant_spec(api: config.Api) -> dict[str, Any]:
    """In API_KEYS_NAMESPACE: SecurityPolicies of the API's namespace may read the API's key Secrets, by name
    (no other Secret of that namespace)."""
    return {
        "from": [{"group": "gateway.envoyproxy.io", "kind": "SecurityPolicy", "namespace": api.namespace}],
        "to": [
            {"group": "", "kind": "Secret", "name": names.api_key_secret_name(api.name, t.name)}
            for t in api.api_key_tiers
        ],
    }


def protected_api(
    stack: GatewaySettings,
    api: config.Api,
    keycloak_issuer: str,
    remote_jwks: dict[str, Any],
    opts: pulumi.ResourceOptions,
    secret_opts: pulumi.ResourceOptions,
    grant_opts: pulumi.ResourceOptions,
) -> None:
    """`opts` for the custom resources (they wait for the CRDs); `secret_opts` for the keys, in
    names.API_KEYS_NAMESPACE (they wait for it); `grant_opts` for their ReferenceGrant there (it waits
    for both)."""
    ns = api.namespace
    rules = route_rules(api, backend_ref(api), upstream_filters(api), upstream_removed_headers(api))
    spec = host_route_spec(stack.api_host(api), rules, api.gateway)
    http_route(f"api-{api.name}", names.route_name(api.name), COMPONENT, ns, spec, opts, public=api.auth == "public")
    if api.external:
        meta.custom_resource(
            f"api-{api.name}-upstream",
            "gateway.envoyproxy.io/v1alpha1",
            BACKEND_KIND,
            meta.object_meta(backend_name(api), COMPONENT, ns),
            backend_spec(api.external),
            opts,
        )
    if api.auth == "jwt":
        meta.custom_resource(
            f"api-{api.name}-jwt",
            "gateway.envoyproxy.io/v1alpha1",
            "SecurityPolicy",
            meta.object_meta(f"{api.name}-jwt", COMPONENT, ns),
            jwt_policy_spec(
                api, keycloak_issuer, remote_jwks, stack.identity.portal_origin, stack.identity.organizations
            ),
            opts,
        )
    elif api.auth == "apiKey":
        for tier in api.api_key_tiers:
            keys = {
                client: random.RandomPassword(
                    names.api_key_resource(api.name, client), length=40, special=False, opts=secret_opts
                )
                for client in tier.clients
            }
            # the key name is the client id; the value is the key, without a "Bearer" prefix
            k8s.core.v1.Secret(
                names.api_key_secret_resource(api.name, tier.name),
                metadata=meta.object_meta(
                    names.api_key_secret_name(api.name, tier.name),
                    COMPONENT,
                    names.API_KEYS_NAMESPACE,
                    {"gatehouse.dev/api-tier": tier.name},
                ),
                type="Opaque",
                string_data={client: key.result for client, key in keys.items()},
                opts=secret_opts,
            )
        meta.custom_resource(
            f"api-{api.name}-apikeys-grant",
            GATEWAY_API_VERSION,
            "ReferenceGrant",
            meta.object_meta(names.api_key_grant_name(api.name), COMPONENT, names.API_KEYS_NAMESPACE),
            api_key_grant_spec(api),
            grant_opts,
        )
        meta.custom_resource(
            f"api-{api.name}-apikey",
            "gateway.envoyproxy.io/v1alpha1",
            "SecurityPolicy",
            meta.object_meta(f"{api.name}-apikey", COMPONENT, ns),
            api_key_policy_spec(api),
            opts,
        )
    tiers = {t.name: t.requests_per_minute for t in stack.partner_tiers}
    # the API's own (named before operations had any), then one per operation with a limit or retries
    for operation in [None, *(op for op in api.operations if has_traffic_policy(op))]:
        name = f"{api.name}-op-{operation.rule_name}" if operation else f"{api.name}-ratelimit"
        meta.custom_resource(
            f"api-{name}",
            "gateway.envoyproxy.io/v1alpha1",
            "BackendTrafficPolicy",
            meta.object_meta(name, COMPONENT, ns),
            traffic_spec(api, tiers, operation),
            opts,
        )
