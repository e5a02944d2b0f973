"""Rules across the stack's entries: unique names, known organizations, namespaces, hosts, and the names
the gateway joins from two entries.

They run on the typed StackConfig, from its validator, so only once every field and every entry's own
rule has passed: a rule across entries never judges an entry that is itself wrong (a tenant with a bad
name may be the one a reference meant). A config with field errors gets these on the next run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import gateways
from .access import app_client_id, default_audience, tenant_organizations
from .apps import APP_PLATFORM_NAMESPACES, Api, App
from .identity import AUTHENTIK_GROUP_PREFIX
from .problems import Loc, Problem, clashes, duplicates

if TYPE_CHECKING:
    from .stack import StackConfig


def check(stack: StackConfig) -> list[Problem]:
    return [
        *_unique_names(stack),
        *_known_organizations(stack),
        *_platform_org(stack),
        *_github_orgs_apart_from_authentik(stack),
        *_namespaces(stack),
        *_workload_namespaces(stack),
        *_hosts(stack),
        *_gateway_names(stack),
        *_app_audiences(stack),
        *_partner_tiers(stack),
        *gateways.check(stack),
    ]


def _workloads(stack: StackConfig) -> list[tuple[str, Sequence[App | Api]]]:
    return [("apps", stack.apps), ("apis", stack.apis)]


def _unique_names(stack: StackConfig) -> list[Problem]:
    problems = duplicates(
        ((("organizations", i, "name"), o.name) for i, o in enumerate(stack.organizations)), "organization"
    )
    problems += duplicates(((("tenants", i, "name"), t.name) for i, t in enumerate(stack.tenants)), "tenant")
    for section, entries in _workloads(stack):
        problems += duplicates((((section, i, "name"), e.name) for i, e in enumerate(entries)), section[:-1])
    # the realm has one client scope per API and scope (`tickets:read`): named after tokenName or the name
    token_names = (
        (("apis", i, Api.key("token_name") if a.token_name else "name"), a.token_name or a.name)
        for i, a in enumerate(stack.apis)
    )
    clashing = duplicates(token_names, "token name")
    # two equal names are reported as duplicate APIs already
    problems += [p for p in clashing if not (p.loc[-1] == "name" and p.other and p.other[-1] == "name")]
    return problems


def _known_organizations(stack: StackConfig) -> list[Problem]:
    known = {o.name for o in stack.organizations}
    listed = ", ".join(sorted(known))
    return [
        Problem(("tenants", i, "organization"), f"unknown organization '{t.organization}' (known: {listed})")
        for i, t in enumerate(stack.tenants)
        if t.organization not in known
    ]


def _platform_org(stack: StackConfig) -> list[Problem]:
    """The platform's GitHub organization holds no tenant's repository: whoever runs a tenant's org could
    otherwise name a team `platform-admins` and be the platform's admins."""
    github = stack.identity.connectors.github
    if github is None:
        return []
    tenants = sorted({t.name for t in stack.tenants if t.repo_owner == github.platform_org})
    if not tenants:
        return []
    where = ("identity", "connectors", "github", "platformOrg")
    named = ", ".join(f"'{t}'" for t in tenants)
    message = f"'{github.platform_org}' owns the repositories of tenants {named}: it must be the platform's own"
    return [Problem(where, message)]


def _github_orgs_apart_from_authentik(stack: StackConfig) -> list[Problem]:
    """Dex names GitHub teams `<org>:<team>` and Authentik's groups `authentik:<group>`: a GitHub org called
    `authentik` (configured, or owning a tenant's repository, which Dex then lists) would emit Authentik's
    group names, platform groups included."""
    github = stack.identity.connectors.github
    if github is None:
        return []
    message = f"GitHub org '{AUTHENTIK_GROUP_PREFIX}' would emit the groups Dex gives Authentik's"
    problems = [
        Problem(("identity", "connectors", "github", "orgs", j, "name"), message)
        for j, org in enumerate(github.orgs)
        if org.name == AUTHENTIK_GROUP_PREFIX
    ]
    problems += [
        Problem(("tenants", i, "repo"), message)
        for i, t in enumerate(stack.tenants)
        if not t.groups and t.repo_owner == AUTHENTIK_GROUP_PREFIX
    ]
    return problems


def _namespaces(stack: StackConfig) -> list[Problem]:
    """Every namespace has one owner, and no tenant lives under another's `<tenant>-*` (its AppProject's reach)."""
    claimed: list[tuple[Loc, str]] = [
        (("organizations", i, "name"), o.namespace) for i, o in enumerate(stack.organizations)
    ]
    for i, tenant in enumerate(stack.tenants):
        claimed.append((("tenants", i, "name"), tenant.name))
        claimed += [(("tenants", i, "namespaces", j), full) for j, full in enumerate(tenant.namespace_names[1:])]
    problems = duplicates(claimed, "namespace")
    tenants = {t.name: i for i, t in enumerate(stack.tenants)}
    for name, i in tenants.items():
        owners = (name[:dash] for dash, char in enumerate(name) if char == "-")
        problems += [
            Problem(("tenants", i, "name"), f"'{name}' falls under tenant '{owner}''s namespaces ({owner}-*)")
            for owner in owners
            if owner in tenants
        ]
    return problems


def _workload_namespaces(stack: StackConfig) -> list[Problem]:
    """Apps and APIs live in a tenant's namespace, or in a platform namespace the gateway creates."""
    allowed = set(APP_PLATFORM_NAMESPACES) | {ns for t in stack.tenants for ns in t.namespace_names}
    platform = ", ".join(APP_PLATFORM_NAMESPACES)
    return [
        Problem((section, i, "namespace"), f"'{e.namespace}' is neither a tenant namespace nor one of {platform}")
        for section, entries in _workloads(stack)
        for i, e in enumerate(entries)
        if e.namespace not in allowed
    ]


def _hosts(stack: StackConfig) -> list[Problem]:
    """One owner per host label under the domain: identity's, apps', APIs' (whichever their gateway),
    organizations' (their tunnels) and internal gateways' (their subdomains). APIs with base paths may share
    a host (versions side by side: `/catalog/v1`, `/catalog/v2`) on one gateway, when neither base path
    holds the other and no other owner has the host."""
    hosts: list[tuple[Loc, str]] = [
        (("identity", "hosts", key), label) for key, label in stack.identity.hosts.model_dump(by_alias=True).items()
    ]
    hosts += [(("apps", i, "host"), e.host_label) for i, e in enumerate(stack.apps)]
    hosts += [(("apis", i, "host"), e.host_label) for i, e in enumerate(stack.apis) if not e.base_path]
    hosts += [(("organizations", i, "name"), o.name) for i, o in enumerate(stack.organizations)]
    # an internal gateway's hosts are `*.<name>.<domain>`: its name is no other host's label (a gateway
    # named twice is reported as such)
    internal: dict[str, int] = {}
    for g, gateway in enumerate(stack.gateways):
        if gateway.internal:
            internal.setdefault(gateway.name, g)
    hosts += [(("gateways", g, "name"), name) for name, g in internal.items()]
    problems = duplicates(hosts, "host")
    owners = dict((label, loc) for loc, label in reversed(hosts))
    shared: dict[str, list[tuple[int, str]]] = {}
    for i, api in enumerate(stack.apis):
        if not api.base_path:
            continue
        loc: Loc = ("apis", i, "host")
        if api.host_label in owners:
            problems.append(
                Problem(loc, f"duplicate host '{api.host_label}' (first at {{other}})", owners[api.host_label])
            )
        for j, base in shared.get(api.host_label, []):
            if stack.apis[j].gateway != api.gateway:
                message = f"host '{api.host_label}' is served by gateway '{stack.apis[j].gateway}' for {{other}}"
                problems.append(Problem(("apis", i, "gateway"), message, ("apis", j, "name")))
            elif _nested(base, api.base_path):
                message = f"base path {api.base_path} on host '{api.host_label}' overlaps {base} of {{other}}"
                problems.append(Problem(("apis", i, "basePath"), message, ("apis", j, "name")))
        shared.setdefault(api.host_label, []).append((i, api.base_path))
    return problems


def _nested(a: str, b: str) -> bool:
    """Whether one base path is the other or below it (segment-wise)."""
    return (a + "/").startswith(b + "/") or (b + "/").startswith(a + "/")


def _gateway_names(stack: StackConfig) -> list[Problem]:
    """Names the gateway joins from two config names, which two entries can meet on. Clashes within one
    entry are reported as duplicate names already."""
    from ..gateway import names  # here, not at the top: the gateway package imports this one

    routes = [
        ((section, i, "name"), section, names.namespaced(e.namespace, names.route_name(e.name)))
        for section, entries in _workloads(stack)
        for i, e in enumerate(entries)
    ]
    secrets, secret_resources, key_resources = [], [], []
    for i, api in enumerate(stack.apis):
        tiers = Api.key("api_key_tiers")
        for t, tier in enumerate(api.api_key_tiers):
            loc: Loc = ("apis", i, tiers, t, "name")
            secret = names.api_key_secret_name(api.name, tier.name)
            secrets.append((loc, i, names.namespaced(names.API_KEYS_NAMESPACE, secret)))
            secret_resources.append((loc, i, names.api_key_secret_resource(api.name, tier.name)))
            key_resources += [
                (("apis", i, tiers, t, "clients", c), i, names.api_key_resource(api.name, client))
                for c, client in enumerate(tier.clients)
            ]
    return [
        *clashes(routes, "HTTPRoute"),
        *clashes(secrets, "API key Secret"),
        *clashes(secret_resources, "Secret resource name"),
        *clashes(key_resources, "RandomPassword resource name"),
    ]


def _app_audiences(stack: StackConfig) -> list[Problem]:
    """Staff groups are platform groups; organizations are known ones; an organization app outside a
    tenant's namespace names its organizations (nothing to default to); a workspace needs Google."""
    groups = stack.identity.platform_groups
    platform = [groups.admins, groups.operators, groups.engineering]
    known = {o.name for o in stack.organizations}
    owners = tenant_organizations(stack)
    partners = {c.name: j for j, api in enumerate(stack.apis) for c in api.m2m_clients}
    problems = []
    for i, app in enumerate(stack.apps):
        if app.auth == "public":
            continue
        for j, group in enumerate(app.staff_groups or []):
            if group not in platform:
                message = f"'{group}' is not a platform group (identity.platformGroups: {', '.join(platform)})"
                problems.append(Problem(("apps", i, App.key("staff_groups"), j), message))
        for j, org in enumerate(app.organizations or []):
            if org not in known:
                message = f"unknown organization '{org}' (known: {', '.join(sorted(known))})"
                problems.append(Problem(("apps", i, App.key("organizations"), j), message))
        if default_audience(app, owners) == "organization" and not app.organizations and app.namespace not in owners:
            message = f"'{app.namespace}' is no tenant's: an organization app there names its organizations"
            problems.append(Problem(("apps", i, "audience"), message))
        audience = default_audience(app, owners)
        if app.audience is None:  # the default audience: fields of the other one say nothing
            other = (
                ("staff_groups", "workspace_members") if audience == "organization" else ("organizations", "org_roles")
            )
            problems += [
                Problem(("apps", i, App.key(f)), f"a field of the other audience (this app's: {audience}, the default)")
                for f in other
                if getattr(app, f) is not None
            ]
        client = app_client_id(app.name)
        if default_audience(app, owners) == "organization" and client in partners:
            message = f"its Keycloak client '{client}' is also a partner's name (apis[{partners[client]}])"
            problems.append(Problem(("apps", i, "name"), message))
        if app.workspace_members and stack.identity.connectors.google is None:
            message = "no Google Workspace to admit: identity.connectors.google is not set"
            problems.append(Problem(("apps", i, App.key("workspace_members")), message))
    return problems


def _partner_tiers(stack: StackConfig) -> list[Problem]:
    """Tier names unique; every m2m client's tier is one of `partnerTiers`; a partner named under several
    APIs (one Keycloak client, one rate-limit identity) carries the same tier under each."""
    problems = duplicates(
        ((("partnerTiers", t, "name"), tier.name) for t, tier in enumerate(stack.partner_tiers)), "partner tier"
    )
    known = {tier.name for tier in stack.partner_tiers}
    listed = ", ".join(sorted(known)) or "none: partnerTiers is empty"
    first: dict[str, tuple[Loc, str]] = {}
    key = Api.key("m2m_clients")
    for i, api in enumerate(stack.apis):
        for m, client in enumerate(api.m2m_clients):
            loc: Loc = ("apis", i, key, m, "tier")
            if client.tier not in known:
                problems.append(Problem(loc, f"unknown partner tier '{client.tier}' (partnerTiers: {listed})"))
            if client.name not in first:
                first[client.name] = (loc, client.tier)
            elif first[client.name][1] != client.tier:
                other, tier = first[client.name]
                message = f"partner '{client.name}' has tier '{tier}' at {{other}}: one client, one tier"
                problems.append(Problem(loc, message, other))
    return problems
