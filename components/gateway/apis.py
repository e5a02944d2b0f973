"""Protected APIs, one per config entry under `apis`.

- `jwt`: Keycloak access tokens (users and client_credentials partners); deny by default, and first any
  path with `;` parameters; then `<api>:admin` and a second factor (`amr` lists `otp`) for the admin
  paths (matched in any case), `<api>:write` for writes and `<api>:read` for reads elsewhere.
  CORS for the tenants' single-page app: Envoy's CORS filter runs first and answers a preflight
  (OPTIONS, no token) itself when the origin is allowed, so jwt and authorization never see it.
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

An API with a base path (`basePath`; `/<context>/<version>` for a definition file, config/definitions.py)
is routed only under it, and every authorization rule's path sits under it: the admin paths, the
organizations' `/orgs/<slug>` and the partners' `/orgs`. The `path-parameters` rule matches a `;` anywhere
in the path and needs none.

Every API has a rate limit. `apiKey` APIs: their tiers' per-client limits. `jwt` and `public` APIs:
DEFAULT_REQUESTS_PER_MINUTE per client address, one bucket per source IP (a BackendTrafficPolicy
`sourceCIDR` of type `Distinct` over all of IPv4 and of IPv6; envoyproxy/gateway v1.9.0
api/v1alpha1/ratelimit_types.go SourceMatch: "Each IP Address within the specified Source IP CIDR is
treated as a distinct client selector"). The proxies' Service keeps the client address
(`externalTrafficPolicy: Local`, edge.py).

A `jwt` API's partner clients (`m2mClients`) are limited by their subscription tier instead
(`partnerTiers`, `partner_rate_limit_rules`): one rule per partner, selecting the `x-client-id` header
with the client's id as an Exact value, so each partner has its own bucket at its tier's limit, and the
address rules leave partners' requests out (the same header, inverted). Why the header can be trusted
there, all in envoyproxy/gateway v1.9.0:
- the jwt provider copies the verified token's `azp` to `x-client-id` (`claimToHeaders`, headers.py),
  and the edge removes any client-sent `x-client-id` before any auth filter (headers.SPOOFABLE);
- internal/xds/translator/httpfilters.go newOrderedHTTPFilter orders jwt_authn at 10, RBAC (the
  authorization rules) at 301 and the global rate limit filter at 303: the limiter runs after the token is
  verified and its claim headers are set, and never counts a request authorization denied;
- api/v1alpha1/ratelimit_types.go: a rule's `clientSelectors[].headers` are HeaderMatch (Exact, the
  default, RegularExpression or Distinct; `invert`), ANDed with a selector's `sourceCIDR`; at most 256
  global rules; internal/xds/translator/ratelimit.go buildHeaderMatchRateLimitActions makes an Exact
  match a `header_value_match` action whose descriptor key is the rule's own (its index), so each rule is
  a bucket of its own, and `invert` sets `expect_match: false`.
A rule is not `shared`, so a partner's count is per route: its tier's limit holds on each API it calls.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from .. import config, meta
from ..endpoints import (
    ADMIN_ROLE,
    MEMBERSHIPS_CLAIM,
    ORG_ROLES,
    ORGS_GROUP,
    SECOND_FACTOR_CLAIM,
    SECOND_FACTOR_VALUE,
    organization_group,
)
from . import names
from .headers import API_CLIENT_HEADER, CORRELATION_HEADER, JWT_CLAIM_HEADERS, PARTNER_CLIENT_HEADER
from .routes import GATEWAY_API_VERSION, correlation_filters, http_route, route_spec, route_target
from .settings import GatewaySettings

COMPONENT = "api"
JWT_PROVIDER = "keycloak"
PARTNER_CLAIM = "azp"  # the client a token was issued to: a partner's client id
API_KEY_HEADER = "x-api-key"
READ_METHODS = ["GET", "HEAD"]
WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]
CORS_MAX_AGE = "1h"  # browsers cap preflight caching anyway (Chromium: 2h)
# The default limit of an API whose config names no clients (jwt, public): per client IP, 10 a second on
# average, enough for a person's browser or a partner's batch job, a wall for a single-source flood.
DEFAULT_REQUESTS_PER_MINUTE = 600
EVERY_ADDRESS = ("0.0.0.0/0", "::/0")  # one rule per IP family: each request's source is in exactly one


# What may follow a path prefix in `:path`, which carries the query too: Envoy Gateway's own PathPrefix
# suffix (envoyproxy/gateway v1.9.0 internal/utils/regex/regex.go PathSeparatedPrefixRegex). A
# RegularExpression is matched raw against `:path`, so without `?`, `#` and `;` a query would take an
# admin path out of the admin rule and into the inverted read and write rules.
AFTER_PREFIX = r"(/.*|\?.*|#.*|;.*|$)"
# The path authorization sees is already normalised at the edge (edge.py `path_settings`: RFC 3986 dot
# segments and percent-decoded unreserved characters, merged slashes, escaped slashes unescaped and
# redirected). Two spellings survive it and a lenient backend may still read as an admin path: another
# case (`/ADMIN`), hence admin expressions match case-insensitively (RE2 `(?i)`); and `;` path
# parameters, which Envoy keeps and Tomcat, Jetty or Spring strip per segment (`/x/..;/admin` becomes
# `/admin` there), hence PATH_PARAMETERS: a `;` (or `%3B`) anywhere in the path, before the query, is
# denied first on every jwt API, whoever asks.
CASE_INSENSITIVE = "(?i)"
PATH_PARAMETERS = r"^[^?#]*(;|%3[bB]).*"
EVERYONE = {"clientCIDRs": list(EVERY_ADDRESS)}


def _admin_paths(api: config.Api) -> str:
    """Any admin path prefix, and what may follow it in `:path`."""
    return "(" + "|".join(re.escape(p.rstrip("/")) for p in api.admin_paths) + ")" + AFTER_PREFIX


def _base(api: config.Api) -> str:
    """The API's base path (`basePath`), escaped for a regular expression; empty without one."""
    return re.escape(api.base_path) if api.base_path else ""


def prefixed(api: config.Api, path: str) -> str:
    """`path` under the API's base path: `/orgs/acme` -> `/catalog/v2/orgs/acme`."""
    return (api.base_path or "") + path


def admin_path_regex(api: config.Api) -> str:
    """Matches every admin path prefix (under the base path) as `:path` carries it, in any case: `/admin`,
    `/Admin/...`, `/admin?...`, `/admin;...`."""
    return CASE_INSENSITIVE + "^" + _base(api) + _admin_paths(api)


def path_parameters_rule() -> dict[str, Any]:
    """Deny any path carrying `;` parameters (see PATH_PARAMETERS), before every Allow."""
    return _rule("path-parameters", {"path": _regex(PATH_PARAMETERS)}, EVERYONE, action="Deny")


def _rule(name: str, operation: dict[str, Any], principal: dict[str, Any], action: str = "Allow") -> dict[str, Any]:
    return {"name": name, "action": action, "operation": operation, "principal": principal}


def _token(api: config.Api, scope: str, claims: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A principal: a valid token with the API's `scope` (and every claim of `claims`)."""
    return {
        "jwt": {"provider": JWT_PROVIDER, "scopes": [api.scope_name(scope)], **({"claims": claims} if claims else {})}
    }


def _memberships(groups: list[str]) -> list[dict[str, Any]]:
    """The token's `org_memberships` (group paths) holds one of `groups`."""
    return [{"name": MEMBERSHIPS_CLAIM, "valueType": "StringArray", "values": groups}]


def _second_factor() -> list[dict[str, Any]]:
    """The token's `amr` lists the OTP code: its user gave a second factor recently (the realm's OTP steps
    carry that reference, with a max age past which refreshed tokens lose it)."""
    return [{"name": SECOND_FACTOR_CLAIM, "valueType": "StringArray", "values": [SECOND_FACTOR_VALUE]}]


def _regex(expression: str) -> dict[str, Any]:
    return {"type": "RegularExpression", "value": expression}


def _partners(api: config.Api, scope: str) -> list[dict[str, Any]]:
    """The token was issued to one of the API's partner clients holding `scope` (its `azp`)."""
    return [{"name": PARTNER_CLAIM, "values": sorted(c.name for c in api.m2m_clients if scope in c.scopes)}]


def authorization_rules(api: config.Api, organizations: list[str]) -> list[dict[str, Any]]:
    """First match wins; anything unmatched is denied. A partner-only scope (`partnerOnlyScopes`) also needs
    the token's `azp` to be a partner holding it: the realm grants it to no person (realm_scopes), and the
    gateway does not rely on that alone."""
    if api.organization_scoped:
        return organization_rules(api, organizations)
    admin = _regex(admin_path_regex(api))
    not_admin = {**admin, "invert": True}
    rules = [path_parameters_rule()]
    if "admin" in api.scopes:
        rules.append(_rule("admin", {"path": admin}, _token(api, "admin", _second_factor())))
    for scope, methods in (("write", WRITE_METHODS), ("read", READ_METHODS)):
        if scope in api.scopes:
            claims = _partners(api, scope) if scope in api.partner_only_scopes else None
            rules.append(_rule(scope, {"methods": methods, "path": not_admin}, _token(api, scope, claims)))
    return rules


def organization_rules(api: config.Api, organizations: list[str]) -> list[dict[str, Any]]:
    """An organization-scoped API: `/orgs/<slug>/...` only for a token whose `org_memberships` names that
    organization, its admin paths only with its ORG_ADMIN group, the admin scope and a second factor
    (`amr`); partner clients (by `azp`) with their scopes on any organization's paths but the admin ones.
    Envoy Gateway's claim values are fixed strings (no claim-to-path comparison), hence one rule per
    organization. Rule names are `path-parameters`, `org:<slug>:<scope>`, `partners:<scope>` and
    `admin-paths`: a slug (a DNS label) never makes two alike."""
    admin_paths = _admin_paths(api)
    rules = [path_parameters_rule()]
    if "admin" in api.scopes:
        for org in organizations:
            path = _regex(CASE_INSENSITIVE + "^" + re.escape(prefixed(api, organization_group(org))) + admin_paths)
            admins = _memberships([organization_group(org, ADMIN_ROLE)]) + _second_factor()
            rules.append(_rule(f"org:{org}:admin", {"path": path}, _token(api, "admin", admins)))
    every_admin_path = {
        "path": _regex(
            CASE_INSENSITIVE + "^" + re.escape(prefixed(api, organization_group(""))) + "[^/?#;]+" + admin_paths
        )
    }
    rules.append(_rule("admin-paths", every_admin_path, EVERYONE, action="Deny"))  # all but the admins above
    for scope, methods in (("write", WRITE_METHODS), ("read", READ_METHODS)):
        if scope not in api.scopes:
            continue
        for org in organizations if scope not in api.partner_only_scopes else []:
            members = _memberships([organization_group(org, role) for role in ORG_ROLES])
            path = {"type": "PathPrefix", "value": prefixed(api, organization_group(org))}
            operation = {"methods": methods, "path": path}
            rules.append(_rule(f"org:{org}:{scope}", operation, _token(api, scope, members)))
        clients = _partners(api, scope)
        if clients[0]["values"]:
            operation = {"methods": methods, "path": {"type": "PathPrefix", "value": prefixed(api, f"/{ORGS_GROUP}")}}
            rules.append(_rule(f"partners:{scope}", operation, _token(api, scope, clients)))
    return rules


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


def _one_of(clients: list[str]) -> str:
    return "^(" + "|".join(re.escape(c) for c in clients) + ")$"


def default_rate_limit_rules(partners: list[str] | None = None) -> list[dict[str, Any]]:
    """DEFAULT_REQUESTS_PER_MINUTE for each client address; not for `partners` (their tokens' `azp`, in
    PARTNER_CLIENT_HEADER), whose tiers limit them."""
    others: dict[str, Any] = {}
    if partners:
        match = {"name": PARTNER_CLIENT_HEADER, "type": "RegularExpression", "value": _one_of(partners), "invert": True}
        others["headers"] = [match]
    return [
        {
            "clientSelectors": [{"sourceCIDR": {"type": "Distinct", "value": cidr}, **others}],
            "limit": {"requests": DEFAULT_REQUESTS_PER_MINUTE, "unit": "Minute"},
        }
        for cidr in EVERY_ADDRESS
    ]


def partner_rate_limit_rules(api: config.Api, tiers: dict[str, int]) -> list[dict[str, Any]]:
    """Each partner client of the API (`tiers`: tier name -> requests a minute) at its tier's limit, in a
    bucket of its own: the verified token's `azp`, copied to PARTNER_CLIENT_HEADER, equals its id."""
    return [
        {
            "clientSelectors": [{"headers": [{"name": PARTNER_CLIENT_HEADER, "type": "Exact", "value": client.name}]}],
            "limit": {"requests": tiers[client.tier], "unit": "Minute"},
        }
        for client in sorted(api.m2m_clients, key=lambda c: c.name)
    ]


def rate_limit_spec(api: config.Api, tiers: dict[str, int] | None = None) -> dict[str, Any]:
    """The API's tiers' per-client limits for an apiKey API; for any other, its partners' tier limits
    (`tiers`: partner tier name -> requests a minute) and DEFAULT_REQUESTS_PER_MINUTE per client address
    for everyone else."""
    if api.auth != "apiKey":
        partners = sorted(c.name for c in api.m2m_clients)
        rules = [*partner_rate_limit_rules(api, tiers or {}), *default_rate_limit_rules(partners)]
        return {
            "targetRefs": [route_target(names.route_name(api.name))],
            "rateLimit": {"global": {"rules": rules}},
        }
    rules = [
        {
            "clientSelectors": [
                {
                    "headers": [
                        {"name": API_CLIENT_HEADER, "type": "Distinct"},  # one bucket per client
                        {"name": API_CLIENT_HEADER, "type": "RegularExpression", "value": _one_of(tier.clients)},
                    ]
                }
            ],
            "limit": {"requests": tier.requests_per_minute, "unit": "Minute"},
        }
        for tier in api.api_key_tiers
    ]
    return {
        "targetRefs": [route_target(names.route_name(api.name))],
        "rateLimit": {"global": {"rules": rules}},
    }


def read_only_matches(base_path: str | None = None) -> list[dict[str, Any]]:
    return [{"method": method, "path": {"type": "PathPrefix", "value": base_path or "/"}} for method in READ_METHODS]


def operation_match(api: config.Api, operation: config.Operation) -> dict[str, Any]:
    """One declared operation: its method and its full path (under the base path), exactly; a `{name}`
    segment stands for any one segment. Gateway API matches the path without the query, and Envoy
    Gateway a RegularExpression against the whole of it (envoyproxy/gateway v1.9.0
    internal/xds/translator/route.go `safe_regex`)."""
    path = (api.base_path or "") + (operation.path if operation.path != "/" else "") or "/"
    segments = path.split("/")
    if not any(s.startswith("{") for s in segments):
        return {"method": operation.method, "path": {"type": "Exact", "value": path}}
    pattern = "/".join("[^/]+" if s.startswith("{") else re.escape(s) for s in segments)
    return {"method": operation.method, "path": {"type": "RegularExpression", "value": f"^{pattern}$"}}


def route_matches(api: config.Api) -> list[dict[str, Any]] | None:
    """What the API's HTTPRoute matches: its declared operations only, when it lists any; else reads only
    for a read-only apiKey API, and only under its base path when it has one (`/catalog/v2` and below:
    Gateway API's PathPrefix matches whole segments); None: every request to the host."""
    if api.operations:
        return [operation_match(api, op) for op in api.operations]
    if api.auth == "apiKey" and api.scopes == ["read"]:
        return read_only_matches(api.base_path)
    if api.base_path:
        return [{"path": {"type": "PathPrefix", "value": api.base_path}}]
    return None


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
    http_route(
        f"api-{api.name}",
        names.route_name(api.name),
        COMPONENT,
        ns,
        route_spec(
            stack.api_host(api),
            api.service.name,
            api.service.port,
            route_matches(api),
            correlation_filters(),
            gateway=api.gateway,
        ),
        opts,
        public=api.auth == "public",
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
    meta.custom_resource(
        f"api-{api.name}-ratelimit",
        "gateway.envoyproxy.io/v1alpha1",
        "BackendTrafficPolicy",
        meta.object_meta(f"{api.name}-ratelimit", COMPONENT, ns),
        rate_limit_spec(api, {t.name: t.requests_per_minute for t in stack.partner_tiers}),
        opts,
    )
