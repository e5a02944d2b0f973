"""Apps and APIs the gateway serves: browser apps behind single sign-on, APIs behind tokens or keys."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from policy.gatehouse_contract import PUBLIC_GATEWAY

from .fields import BasePath, DnsLabel, M2MScope, Model, Origin, PathPrefix, Scope
from .identity import RESERVED_CLIENT_IDS
from .operations import Operation
from .problems import Problem, duplicates, reject
from .upstreams import ExternalUpstream, HealthCheck

# Platform namespaces apps and APIs may live in (besides tenants' namespaces); the gateway creates them.
APP_PLATFORM_NAMESPACES = ("monitoring",)
# A jwt API's rate limit has a rule per partner, two per-address rules and an operation's two, and Envoy
# Gateway v1.9.0 takes at most 256 global rules per policy (api/v1alpha1/ratelimit_types.go
# `+kubebuilder:validation:MaxItems=256`).
MAX_PARTNERS_PER_API = 256 - 4
# Gateway API takes 16 rules per HTTPRoute: one for the operations without policies, one for preflights
# (gateway/api_routes.py), one for each operation with policies.
MAX_OPERATIONS_WITH_POLICIES = 16 - 2


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


class PartnerTier(Model):
    """A subscription tier of partner systems (`partnerTiers`): each client of the tier may make
    `requestsPerMinute` requests a minute on each API it may call (counted per client and per API)."""

    name: DnsLabel
    requests_per_minute: int = Field(ge=1)


class M2MClient(Model):
    """A partner system using client_credentials, in one of the `partnerTiers` (config/rules.py checks the
    name, and that a partner named under several APIs carries one tier)."""

    name: DnsLabel
    scopes: list[M2MScope] = Field(min_length=1)
    tier: DnsLabel


class ApiKeyTier(Model):
    name: DnsLabel
    requests_per_minute: int = Field(ge=1)
    clients: list[DnsLabel] = Field(min_length=1)


class Api(Model):
    """A protected API. Its upstream is a `service` in its namespace or an `external` HTTPS host."""

    name: DnsLabel
    host: DnsLabel | None = None
    namespace: DnsLabel
    service: ServiceRef | None = None
    external: ExternalUpstream | None = None
    health_check: HealthCheck | None = None  # an active check of the upstream by the proxies
    # what its scopes and token audience are named after (`tickets` -> `tickets:read`, `tickets-api`);
    # default the API's name. Two versions of one API are two APIs, each with its own.
    token_name: DnsLabel | None = None
    auth: Literal["jwt", "apiKey", "public"]
    scopes: list[Scope] = ["read", "write", "admin"]
    admin_paths: list[PathPrefix] = ["/admin"]
    m2m_clients: list[M2MClient] = Field(default=[], alias="m2mClients")
    api_key_tiers: list[ApiKeyTier] = []
    cors_origins: list[Origin] = []  # jwt APIs only; default: the portal's origin
    # jwt APIs only: each organization's data under `/orgs/<slug>/`, where only its members (and, for
    # admin paths, its admins) may go; false: one platform-wide API, whose scopes hold everywhere
    organization_scoped: bool = False
    # jwt APIs only: scopes only partner clients may hold (`assets: [write]`: partners write, users read);
    # the portal cannot request them, Keycloak grants them to partners' service accounts alone, and the
    # gateway admits them only from a token whose `azp` is a partner of this API holding the scope
    partner_only_scopes: list[M2MScope] = []
    # Where the API lives on its host: `/catalog/v2` routes only `/catalog/v2` and below, and every
    # authorization rule's path (admin paths, `/orgs/<slug>`) is under it; none: the whole host (`/`).
    # API definition files set it to `/<context>/<version>` (config/definitions.py).
    base_path: BasePath | None = None
    # the only requests routed (a Gateway API rule holds at most 64 matches); none: every path and method
    operations: list[Operation] = Field(default=[], max_length=64)
    # the gateway serving it (`gatehouse:gateways`), its host `<host>.<that gateway's domain>`
    gateway: DnsLabel = PUBLIC_GATEWAY

    @property
    def host_label(self) -> str:
        return self.host or self.name

    @property
    def audience(self) -> str:
        """The `aud` Keycloak puts in tokens for this API, and the gateway requires."""
        return f"{self.token_name or self.name}-api"

    def scope_name(self, scope: str) -> str:
        """`read` -> `tickets:read`: the OAuth scope as Keycloak issues it."""
        return f"{self.token_name or self.name}:{scope}"

    def under_admin_path(self, path: str) -> bool:
        """Whether `path` (below the base path) is one of the admin paths or below one, in any case."""
        folded = path.lower().rstrip("/") + "/"
        return any(folded.startswith(p.lower().rstrip("/") + "/") for p in self.admin_paths)

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
        if len(self.m2m_clients) > MAX_PARTNERS_PER_API:
            message = f"at most {MAX_PARTNERS_PER_API} partners per API (a rate limit rule each, 256 in all)"
            problems.append(Problem((partners,), message))
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
        if (self.service is None) == (self.external is None):
            problems.append(Problem((self.key("service"),), "give exactly one upstream: `service` or `external`"))
        problems += self._partner_only_problems()
        problems += _operations_fit(self)
        reject(problems, "Api")
        return self

    def _partner_only_problems(self) -> list[Problem]:
        """Partner-only scopes: on a jwt API, among its scopes, each held by one of its partners (or nobody
        could ever use it)."""
        at = self.key("partner_only_scopes")
        problems = duplicates((((at, s), scope) for s, scope in enumerate(self.partner_only_scopes)), "scope")
        if self.auth != "jwt" and self.partner_only_scopes:
            problems.append(Problem((at,), "only jwt APIs have partner-only scopes"))
            return problems
        for s, scope in enumerate(self.partner_only_scopes):
            if scope not in self.scopes:
                problems.append(Problem((at, s), f"scope '{scope}' is not one of the API's scopes"))
            elif not any(scope in c.scopes for c in self.m2m_clients):
                message = f"no m2m client of this API holds '{scope}': nobody could use it"
                problems.append(Problem((at, s), message))
        return problems

    def user_scopes(self) -> list[str]:
        """The scopes people (the portal's users) may hold: all but the partner-only ones."""
        return [s for s in self.scopes if s not in self.partner_only_scopes]


def _operations_fit(api: Api) -> list[Problem]:
    """Each operation once, and one route rule name each; a read-only API (an apiKey API whose only scope
    is read) serves reads only; an operation's scope is one of the API's, on a jwt API that is not
    organization-scoped (there the organization and the method decide), `admin` under the admin paths
    (the admin rule covers every spelling of them first); CORS policies on APIs without `corsOrigins`'
    API-wide CORS (jwt APIs)."""
    ops = api.key("operations")
    problems = duplicates((((ops, i), f"{op.method} {op.path}") for i, op in enumerate(api.operations)), "operation")
    problems += duplicates((((ops, i, "path"), op.rule_name) for i, op in enumerate(api.operations)), "rule name")
    for i, op in enumerate(api.operations):
        if api.auth == "apiKey" and api.scopes == ["read"] and op.method not in ("GET", "HEAD"):
            problems.append(Problem((ops, i, "method"), f"{op.method}: this API serves reads only (GET, HEAD)"))
        if op.scope is not None:
            problems += _scope_problems(api, op.scope, op.path, (ops, i, "scope"))
        elif api.auth == "jwt" and not api.organization_scoped:
            needed = op.default_scope(api.under_admin_path(op.path))
            if needed not in api.scopes:
                message = f"{op.method} {op.path} needs scope '{needed}', not one of the API's: give `scope`"
                problems.append(Problem((ops, i), message))
        if api.auth == "jwt" and op.policy("cors"):
            message = "a jwt API's CORS is API-wide (`corsOrigins`): its preflights pass before the token check"
            problems.append(Problem((ops, i, "requestPolicies"), message))
    with_policies = sum(1 for op in api.operations if op.request_policies or op.response_policies)
    if with_policies > MAX_OPERATIONS_WITH_POLICIES:
        message = f"at most {MAX_OPERATIONS_WITH_POLICIES} operations with policies (a route rule each, 16 in all)"
        problems.append(Problem((ops,), message))
    return problems


def _scope_problems(api: Api, scope: str, path: str, at: tuple[str | int, ...]) -> list[Problem]:
    if api.auth != "jwt" or api.organization_scoped:
        why = "only jwt APIs' tokens have scopes" if api.auth != "jwt" else "organization-scoped APIs decide by method"
        return [Problem(at, f"an operation's scope is for jwt APIs that are not organization-scoped ({why})")]
    if scope not in api.scopes:
        return [Problem(at, f"scope '{scope}' is not one of the API's scopes")]
    if api.under_admin_path(path) and scope != "admin":
        return [Problem(at, "under an admin path: the admin scope and a second factor are needed there")]
    return []
