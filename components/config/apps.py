"""Apps and APIs the gateway serves: browser apps behind single sign-on, APIs behind tokens or keys."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .fields import DnsLabel, M2MScope, Model, Origin, PathPrefix, Scope
from .identity import RESERVED_CLIENT_IDS
from .problems import Problem, duplicates, reject

# Platform namespaces apps and APIs may live in (besides tenants' namespaces); the gateway creates them.
APP_PLATFORM_NAMESPACES = ("monitoring",)


class ServiceRef(Model):
    name: DnsLabel
    port: int = Field(ge=1, le=65535)


Audience = Literal["staff", "organization"]
OrgRole = Literal["ORG_ADMIN", "ORG_MANAGER", "ORG_USER"]  # endpoints.ORG_ROLES, spelled out for pydantic (a test)


class App(Model):
    """A browser app behind single sign-on (or explicitly public), for one audience.

    `staff`: platform people signing in through Dex (Authentik, the platform's GitHub organization,
    Google Workspace); `staffGroups` (platform groups, default all) and `workspaceMembers` (anyone of
    the Google hosted domains, default yes) say who of them. `organization`: an organization's members
    signing in through the Keycloak realm; `organizations` and `orgRoles` say which and in what role.
    Unset, an app in a tenant's namespace is for its organization's members, any other for staff
    (config/access.py resolves it).
    """

    name: DnsLabel
    host: DnsLabel | None = None  # defaults to the name
    namespace: DnsLabel
    service: ServiceRef
    auth: Literal["sso", "public"] = "sso"
    audience: Audience | None = None
    staff_groups: list[DnsLabel] | None = None
    workspace_members: bool | None = None
    organizations: list[DnsLabel] | None = None
    org_roles: list[OrgRole] | None = None

    @property
    def host_label(self) -> str:
        return self.host or self.name

    @model_validator(mode="after")
    def _fits_its_audience(self) -> App:
        """Who-may-enter fields only on SSO apps, and only those of the app's audience (an unset audience
        is resolved across entries, config/rules.py); no list that would admit nobody."""
        fields = {"staff_groups": "staff", "workspace_members": "staff", "organizations": "organization"}
        fields["org_roles"] = "organization"
        given = [field for field in fields if getattr(self, field) is not None]
        problems = []
        if self.auth == "public":
            if self.audience is not None:
                problems.append(Problem((self.key("audience"),), "a public app admits everyone: it has no audience"))
            message = "a public app admits everyone: it says nothing of who may enter"
            problems += [Problem((self.key(field),), message) for field in given]
        for field in given if self.auth == "sso" else []:
            if self.audience is not None and self.audience != fields[field]:
                message = f"a field of the '{fields[field]}' audience (audience: {self.audience})"
                problems.append(Problem((self.key(field),), message))
            elif getattr(self, field) == []:
                message = "empty: nobody could enter (leave it out for the default)"
                problems.append(Problem((self.key(field),), message))
        problems += duplicates(
            (((self.key("staff_groups"), i), g) for i, g in enumerate(self.staff_groups or [])), "group"
        )
        problems += duplicates(
            (((self.key("organizations"), i), o) for i, o in enumerate(self.organizations or [])), "organization"
        )
        reject(problems, "App")
        return self


class M2MClient(Model):
    """A partner system using client_credentials."""

    name: DnsLabel
    scopes: list[M2MScope] = Field(min_length=1)


class ApiKeyTier(Model):
    name: DnsLabel
    requests_per_minute: int = Field(ge=1)
    clients: list[DnsLabel] = Field(min_length=1)


class Api(Model):
    name: DnsLabel
    host: DnsLabel | None = None
    namespace: DnsLabel
    service: ServiceRef
    auth: Literal["jwt", "apiKey", "public"]
    scopes: list[Scope] = ["read", "write", "admin"]
    admin_paths: list[PathPrefix] = ["/admin"]
    m2m_clients: list[M2MClient] = Field(default=[], alias="m2mClients")
    api_key_tiers: list[ApiKeyTier] = []
    cors_origins: list[Origin] = []  # jwt APIs only; default: the portal's origin
    # jwt APIs only: each organization's data under `/orgs/<slug>/`, where only its members (and, for
    # admin paths, its admins) may go; false: one platform-wide API, whose scopes hold everywhere
    organization_scoped: bool = False

    @property
    def host_label(self) -> str:
        return self.host or self.name

    @property
    def audience(self) -> str:
        """The `aud` Keycloak puts in tokens for this API, and the gateway requires."""
        return f"{self.name}-api"

    def scope_name(self, scope: str) -> str:
        """`read` -> `tickets:read`: the OAuth scope as Keycloak issues it."""
        return f"{self.name}:{scope}"

    @model_validator(mode="after")
    def _fits_its_auth(self) -> Api:
        """Key tiers only on apiKey APIs (which need one), partners and CORS only on jwt APIs; names
        unique within the API; partners' scopes among the API's, their names free in the realm."""
        tiers, partners, cors = self.key("api_key_tiers"), self.key("m2m_clients"), self.key("cors_origins")
        problems = []
        if self.auth == "apiKey" and not self.api_key_tiers:
            problems.append(Problem((tiers,), "an apiKey API needs at least one tier"))
        if self.auth != "apiKey" and self.api_key_tiers:
            problems.append(Problem((tiers,), "only apiKey APIs have key tiers"))
        if self.auth != "jwt" and self.m2m_clients:
            problems.append(Problem((partners,), "only jwt APIs have client_credentials clients"))
        if self.auth != "jwt" and self.cors_origins:
            problems.append(Problem((cors,), "only jwt APIs have CORS origins"))
        if self.auth != "jwt" and self.organization_scoped:
            message = "only jwt APIs are organization-scoped: the organization comes from the token"
            problems.append(Problem((self.key("organization_scoped"),), message))
        problems += duplicates(
            (((tiers, t, "name"), tier.name) for t, tier in enumerate(self.api_key_tiers)), "API key tier"
        )
        keys = [
            ((tiers, t, "clients", c), client)
            for t, tier in enumerate(self.api_key_tiers)
            for c, client in enumerate(tier.clients)
        ]
        problems += duplicates(keys, "API key client")
        # Across APIs a partner's entries are one Keycloak client (identity/realm.py m2m_clients merges them).
        problems += duplicates((((partners, m, "name"), c.name) for m, c in enumerate(self.m2m_clients)), "m2m client")
        for m, client in enumerate(self.m2m_clients):
            if client.name in RESERVED_CLIENT_IDS:
                reserved = ", ".join(sorted(RESERVED_CLIENT_IDS))
                message = f"'{client.name}' is taken in the Keycloak realm (reserved: {reserved})"
                problems.append(Problem((partners, m, "name"), message))
            for s, scope in enumerate(client.scopes):
                if scope not in self.scopes:
                    problems.append(
                        Problem((partners, m, "scopes", s), f"scope '{scope}' is not one of the API's scopes")
                    )
        reject(problems, "Api")
        return self
