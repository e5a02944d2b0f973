"""Client scopes of the tenants' realm: Keycloak's built-in ones, `tenant-claims` and one per API scope.

Keycloak creates none of its built-in scopes when a realm import declares any client scope, so the ones
the clients use are declared here, as Keycloak 26 defines them.
"""

from __future__ import annotations

from typing import Any

from .. import config
from ..endpoints import ADMIN_ROLE, MEMBERSHIPS_CLAIM, ORG_ROLES, SECOND_FACTOR_CLAIM
from .settings import IdentitySettings

ROLES_CLIENT = "organizations"  # holds the per-organization role names; nothing signs in with it
PARTNER_ROLE = "PARTNER"  # every partner client's service account holds it, and no person
TENANT_CLAIMS = "tenant-claims"
SECOND_FACTOR_SCOPE = "amr"  # no built-in Keycloak scope carries the amr mapper
# the built-in scopes the clients use (Keycloak 26 defaults, minus the ones nothing here asks for)
DEFAULT_SCOPES = ["basic", "web-origins", "acr", "profile", "roles", "email"]

TOKENS = {"id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true"}
PREFERRED_ORG = "preferred_org"
TOKENS_INTROSPECTION = {**TOKENS, "introspection.token.claim": "true"}


def jwt_apis(stack: IdentitySettings) -> list[config.Api]:
    """APIs whose tokens Keycloak issues (API-key and public APIs never see one)."""
    return sorted((a for a in stack.apis if a.auth == "jwt"), key=lambda a: a.name)


def user_scope_names(stack: IdentitySettings) -> list[str]:
    """The API scopes people may hold: every one but the APIs' `partnerOnlyScopes` (the portal's optional
    scopes; a client cannot even request a scope it does not list)."""
    return [api.scope_name(s) for api in jwt_apis(stack) for s in sorted(api.user_scopes())]


def _mapper(name: str, mapper: str, settings: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "protocol": "openid-connect", "protocolMapper": mapper, "config": settings}


def _attribute(name: str, attribute: str, claim: str, json_type: str = "String") -> dict[str, Any]:
    settings = {"user.attribute": attribute, "claim.name": claim, "jsonType.label": json_type, **TOKENS_INTROSPECTION}
    return _mapper(name, "oidc-usermodel-attribute-mapper", settings)


def _scope(name: str, description: str, mappers: list[dict[str, Any]], in_token: bool) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "protocol": "openid-connect",
        "attributes": {"include.in.token.scope": str(in_token).lower(), "display.on.consent.screen": "false"},
        "protocolMappers": mappers,
    }


def builtin_scopes() -> list[dict[str, Any]]:
    """Keycloak's own defaults for the scopes the clients use (declaring any scope drops all of them)."""
    access = {"access.token.claim": "true", "introspection.token.claim": "true"}
    return [
        _scope(
            "basic",
            "OpenID Connect scope for add all basic claims to the token",
            [
                _mapper("sub", "oidc-sub-mapper", access),
                _mapper(
                    "auth_time",
                    "oidc-usersessionmodel-note-mapper",
                    {"user.session.note": "AUTH_TIME", "claim.name": "auth_time", "jsonType.label": "long", **TOKENS},
                ),
            ],
            in_token=False,
        ),
        _scope(
            "profile",
            "OpenID Connect built-in scope: profile",
            [
                _mapper("full name", "oidc-full-name-mapper", TOKENS_INTROSPECTION),
                _attribute("username", "username", "preferred_username"),
                _attribute("given name", "firstName", "given_name"),
                _attribute("family name", "lastName", "family_name"),
                _attribute("locale", "locale", "locale"),
            ],
            in_token=True,
        ),
        _scope(
            "email",
            "OpenID Connect built-in scope: email",
            [
                _attribute("email", "email", "email"),
                _mapper(
                    "email verified",
                    "oidc-usermodel-property-mapper",
                    {"user.attribute": "emailVerified", "claim.name": "email_verified", "jsonType.label": "boolean"}
                    | TOKENS_INTROSPECTION,
                ),
            ],
            in_token=True,
        ),
        _scope(
            "roles",
            "OpenID Connect scope for add user roles to the access token",
            [
                _mapper(
                    "realm roles",
                    "oidc-usermodel-realm-role-mapper",
                    {"claim.name": "realm_access.roles", "jsonType.label": "String", "multivalued": "true"} | access,
                ),
                _mapper(
                    "client roles",
                    "oidc-usermodel-client-role-mapper",
                    {
                        "claim.name": "resource_access.${client_id}.roles",
                        "jsonType.label": "String",
                        "multivalued": "true",
                    }
                    | access,
                ),
                _mapper("audience resolve", "oidc-audience-resolve-mapper", access),
            ],
            in_token=False,
        ),
        _scope(
            "web-origins",
            "OpenID Connect scope for add allowed web origins to the access token",
            [_mapper("allowed web origins", "oidc-allowed-origins-mapper", access)],
            in_token=False,
        ),
        _scope(
            "acr",
            "OpenID Connect scope for add acr (authentication context class reference) to the token",
            [_mapper("acr loa level", "oidc-acr-mapper", {"id.token.claim": "true", **access})],
            in_token=False,
        ),
    ]


def tenant_claims_scope() -> dict[str, Any]:
    memberships = {"claim.name": MEMBERSHIPS_CLAIM, "full.path": "true", **TOKENS_INTROSPECTION}
    return _scope(
        TENANT_CLAIMS,
        "The user's organizations: memberships with their roles, ids, and the one they work in",
        [
            _mapper("org_memberships", "oidc-group-membership-mapper", memberships),  # /orgs/<slug>/<ROLE>
            # the `org_id` of every organization group the user is in (as ORG_ADMIN, ...): Keycloak aggregates
            # group attributes up the group tree; `org_id` is on no user profile, so no user can add one
            _mapper("tenant_ids", "oidc-usermodel-attribute-mapper", _aggregated("org_id", "tenant_ids")),
            # the user's own choice (a realm admin sets it), else the first of their organizations: Keycloak
            # resolves an unaggregated attribute from the user, then from their groups and those groups'
            # parents, first found wins (KeycloakModelUtils.resolveAttribute, Keycloak 26.5), and every
            # organization group holds its slug
            _attribute(PREFERRED_ORG, PREFERRED_ORG, PREFERRED_ORG),
        ],
        in_token=False,
    )


def second_factor_scope() -> dict[str, Any]:
    """`amr`: the references of the sign-in steps the user completed, such as the admins' OTP code.

    keycloak/keycloak services/.../protocol/oidc/mappers/AmrProtocolMapper.java (`oidc-amr-mapper`) is an
    access- and ID-token mapper only; it lists each completed step's `default.reference.value`
    (AmrUtils.getAuthenticationExecutionReferences), so the gateway, which verifies access tokens, sees it."""
    settings = {"claim.name": SECOND_FACTOR_CLAIM, "access.token.claim": "true", "id.token.claim": "true"}
    return _scope(
        SECOND_FACTOR_SCOPE,
        "How the user signed in (amr): a second factor shows as `otp`",
        [_mapper("amr", "oidc-amr-mapper", settings)],
        in_token=False,
    )


def _aggregated(attribute: str, claim: str) -> dict[str, str]:
    """Every value of `attribute` on the user and on each of the user's groups and their parents."""
    return {
        "user.attribute": attribute,
        "claim.name": claim,
        "jsonType.label": "String",
        "multivalued": "true",
        "aggregate.attrs": "true",
        **TOKENS_INTROSPECTION,
    }


def api_scopes(api: config.Api) -> list[dict[str, Any]]:
    """`<api>:<scope>`, each putting the API's audience in the access token (the default `aud` is `account`)."""
    audience = _mapper(
        f"{api.name}-audience",
        "oidc-audience-mapper",
        {"included.custom.audience": api.audience, "access.token.claim": "true", "introspection.token.claim": "true"},
    )
    return [
        _scope(api.scope_name(s), f"{s.capitalize()} access to the {api.name} API", [audience], in_token=True)
        for s in sorted(api.scopes)
    ]


def client_scopes(stack: IdentitySettings) -> list[dict[str, Any]]:
    api = [s for a in jwt_apis(stack) for s in api_scopes(a)]
    return [*builtin_scopes(), tenant_claims_scope(), second_factor_scope(), *api]


def scope_mappings(stack: IdentitySettings) -> dict[str, list[dict[str, Any]]]:
    """Who may hold each API scope (`clientScopeMappings` of the `organizations` client's roles).

    Keycloak puts a client scope that has role mappings in a token only when its user (or a client's
    service account) holds one of those roles, and leaves it out silently otherwise (keycloak/keycloak
    26.5 services/.../util/DefaultClientSessionContext.java `isClientScopePermittedForUser`): read and
    write need an organization role or a partner's, admin needs ORG_ADMIN (whose sign-ins always ask a
    second factor), a partner-only scope (`partnerOnlyScopes`) PARTNER alone, which no person holds (only
    partner clients' service accounts, realm.partner_service_accounts): even a client that listed it
    could not get it into a user's token. A user in no organization, such as one a first Google login
    created, holds none."""
    mappings = []
    for api in jwt_apis(stack):
        for scope in sorted(api.scopes):
            if scope == "admin":
                roles = [ADMIN_ROLE]
            elif scope in api.partner_only_scopes:
                roles = [PARTNER_ROLE]
            else:
                roles = [*ORG_ROLES, PARTNER_ROLE]
            mappings.append({"clientScope": api.scope_name(scope), "roles": roles})
    return {ROLES_CLIENT: mappings}
