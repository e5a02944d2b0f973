"""Who may call a jwt API: the authorization rules of its SecurityPolicy, first match wins, the rest denied.

First, any path with `;` parameters is denied; then `<api>:admin` and a second factor (`amr` lists `otp`)
for the admin paths (matched in any case); then, for an API that lists operations, each operation with its
scope (config/operations.py `default_scope`); else `<api>:write` for writes and `<api>:read` for reads.
An organization-scoped API decides by organization, role and method (`organization_rules`).

Every path is under the API's base path (`basePath`): the admin paths, the operations, the
organizations' `/orgs/<slug>` and the partners' `/orgs`. The `path-parameters` rule matches a `;`
anywhere in the path and needs none.
"""

from __future__ import annotations

import re
from typing import Any

from .. import config
from ..endpoints import (
    ADMIN_ROLE,
    MEMBERSHIPS_CLAIM,
    ORG_ROLES,
    ORGS_GROUP,
    SECOND_FACTOR_CLAIM,
    SECOND_FACTOR_VALUE,
    organization_group,
)
from .api_routes import READ_METHODS, WRITE_METHODS, operation_path

JWT_PROVIDER = "keycloak"
PARTNER_CLAIM = "azp"  # the client a token was issued to: a partner's client id
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
    if api.operations:
        return rules + operation_rules(api)
    for scope, methods in (("write", WRITE_METHODS), ("read", READ_METHODS)):
        if scope in api.scopes:
            claims = _partners(api, scope) if scope in api.partner_only_scopes else None
            rules.append(_rule(scope, {"methods": methods, "path": not_admin}, _token(api, scope, claims)))
    return rules


def operation_rules(api: config.Api) -> list[dict[str, Any]]:
    """One rule per operation outside the admin paths (the admin rule has those), its method and path with
    its scope (`op:<rule name>`). First match wins, so exact paths come before templated ones: a
    `/products/special` of its own is judged by its own scope, not by `/products/{id}`'s."""
    rules = []
    for op in sorted((op for op in api.operations if not api.under_admin_path(op.path)), key=lambda op: "{" in op.path):
        scope = op.default_scope(admin=False)
        claims = _partners(api, scope) if scope in api.partner_only_scopes else None
        path = operation_path(api, op)
        if path["type"] == "RegularExpression":  # `:path` carries the query, which the route's match ignores
            path = _regex(path["value"].removesuffix("$") + r"(\?.*|#.*|$)")
        rules.append(_rule(f"op:{op.rule_name}", {"methods": [op.method], "path": path}, _token(api, scope, claims)))
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
