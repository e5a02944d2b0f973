"""Argo CD: a tenant's AppProject reaches only its own namespaces, from only its own repository.

Anchors: Argo CD projects.md and operator-manual/project.yaml ("namespaced-scoped resources are restricted
via a deny list, whereas cluster-scoped resources are restricted via allow list"; the `default` project
allows everything), app-any-namespace.md, Kyverno appproject-clusterresourceblacklist and
application-prevent-default-project.
"""

from __future__ import annotations

import bisect
import fnmatch
import re
from collections.abc import Mapping
from typing import Any

import gatehouse_contract as contract
from gatehouse_contract import NAMESPACE_TYPE, REPO_NAME_LABEL, REPO_OWNER_LABEL
from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._util import (
    APP_PROJECT_TYPE,
    APPLICATION_TYPE,
    CONFIG_MAP_TYPE,
    HELM_RELEASE_TYPE,
    HELM_V3_CHART_TYPE,
    HELM_V4_CHART_TYPE,
    Report,
    args_tenant,
    base_type,
    belongs_to_tenant_namespace,
    config_value,
    describe,
    for_types,
    is_patch,
    known_items,
    labels,
    mapping,
    object_name,
    require_tenant,
    resource_objects,
    resource_tenant,
    sequence,
    string_list,
)
from .rbac import GROUP_PATTERNS

ARGO = "Argo CD"
IN_CLUSTER_SERVERS = [contract.IN_CLUSTER_SERVER]
IN_CLUSTER_NAMES = ["in-cluster"]
REPO_URL_PREFIXES = list(contract.REPO_URL_PREFIXES)
GUARDRAIL_KINDS = [{"group": group, "kind": kind} for group, kind in contract.GUARDRAIL_KINDS]
RESERVED_NAMESPACES = list(contract.RESERVED_NAMESPACES)
WILDCARD_CHARS = re.compile(r"[*?\[\]]")
DESCRIPTION_REPO_RE = re.compile(r"\(([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)\)\s*$")
CHART_TYPES = (HELM_V4_CHART_TYPE, HELM_V3_CHART_TYPE, HELM_RELEASE_TYPE)
ARGOCD_RBAC_CONFIG_MAP = contract.ARGOCD_RBAC_CONFIG_MAP
ARGOCD_CHART = contract.ARGOCD_CHART
ADMIN_ROLE = contract.ADMIN_ROLE
# The platform admin group as each Dex connector names it: `authentik:platform-admins`, `<github-org>:platform-admins`.
ADMIN_GROUP_PATTERNS = ["^[a-z0-9]([-a-z0-9]*[a-z0-9])?:platform-admins$"]
POLICY_CSV_KEY_RE = re.compile(r"^policy(\.[^.]+)*\.csv$")


def _spec(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(props.get("spec"))


def _namespace_allowed(namespace: str, tenant: str) -> bool:
    """`<tenant>`, `<tenant>-<suffix>`, or the glob `<tenant>-*`; a negation (`!x`) only narrows."""
    if namespace.startswith("!"):
        return True
    if namespace == f"{tenant}-*":
        return True
    return not WILDCARD_CHARS.search(namespace) and belongs_to_tenant_namespace(namespace, tenant)


@for_types(APP_PROJECT_TYPE)
def _destinations(args: ResourceValidationArgs, report: Report) -> None:
    tenant = require_tenant(args, report)
    if not tenant:
        return
    what = describe(args.resource_type, args.props, args.name)
    servers = config_value(args, "allowedServers", IN_CLUSTER_SERVERS)
    names = config_value(args, "allowedClusterNames", IN_CLUSTER_NAMES)
    for index, destination in enumerate(sequence(_spec(args.props).get("destinations")), start=1):
        destination = mapping(destination)
        server, name = destination.get("server"), destination.get("name")
        if not ((server and server in servers) or (name and name in names and not server)):
            report(f"{what} destination {index} targets cluster '{server or name}', not the in-cluster server")
        namespace = str(destination.get("namespace") or "")
        if not _namespace_allowed(namespace, tenant):
            report(f"{what} destination {index} targets namespace '{namespace}' outside tenant '{tenant}'")


appproject_destinations = ResourceValidationPolicy(
    name="appproject-destinations",
    description="A tenant AppProject deploys only to the in-cluster server and only to the tenant's own "
    "namespaces (`<tenant>`, `<tenant>-*`), never '*'.",
    validate=_destinations,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name=ARGO, reference="projects.md: destinations"),
    config_schema=PolicyConfigSchema(
        properties={
            "allowedServers": string_list(IN_CLUSTER_SERVERS),
            "allowedClusterNames": string_list(IN_CLUSTER_NAMES),
        }
    ),
)


@for_types(APP_PROJECT_TYPE)
def _no_cluster_resources(args: ResourceValidationArgs, report: Report) -> None:
    if args_tenant(args) is None:
        return
    allowed = [mapping(e) for e in sequence(_spec(args.props).get("clusterResourceWhitelist"))]
    if allowed:
        kinds = ", ".join(f"{e.get('group') or 'core'}/{e.get('kind')}" for e in allowed)
        report(f"{describe(args.resource_type, args.props, args.name)} allows cluster-scoped kinds: {kinds}")


appproject_no_cluster_resources = ResourceValidationPolicy(
    name="appproject-no-cluster-resources",
    description="A tenant AppProject allows no cluster-scoped kinds (clusterResourceWhitelist empty).",
    validate=_no_cluster_resources,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name=ARGO, reference="projects.md: clusterResourceWhitelist"),
)


def _blacklisted(entries: list[Mapping[str, Any]], group: str, kind: str) -> bool:
    return any((e.get("group") or "") in (group, "*") and e.get("kind") in (kind, "*") for e in entries)


@for_types(APP_PROJECT_TYPE)
def _guardrail_blacklist(args: ResourceValidationArgs, report: Report) -> None:
    if args_tenant(args) is None:
        return
    blacklist = _spec(args.props).get("namespaceResourceBlacklist")
    if blacklist is None and is_patch(args.resource_type):
        return  # the patch leaves the blacklist alone (one that sets it replaces the whole list)
    entries = [mapping(e) for e in sequence(blacklist)]
    missing = [
        f"{k.get('group') or 'core'}/{k.get('kind')}"
        for k in (mapping(k) for k in config_value(args, "guardrailKinds", GUARDRAIL_KINDS))
        if not _blacklisted(entries, str(k.get("group") or ""), str(k.get("kind") or ""))
    ]
    if missing:
        report(
            f"{describe(args.resource_type, args.props, args.name)} lets Argo CD deploy guardrail kinds: "
            f"{', '.join(missing)} (add them to namespaceResourceBlacklist)"
        )


appproject_guardrail_blacklist = ResourceValidationPolicy(
    name="appproject-guardrail-blacklist",
    description="A tenant AppProject blacklists the kinds Gatehouse owns (ResourceQuota, LimitRange, "
    "NetworkPolicy, Role, RoleBinding), so GitOps cannot override the guardrails.",
    validate=_guardrail_blacklist,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name=ARGO, reference="project.yaml: namespaceResourceBlacklist"),
    config_schema=PolicyConfigSchema(
        properties={
            "guardrailKinds": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"group": {"type": "string"}, "kind": {"type": "string"}},
                    "required": ["group", "kind"],
                },
                "default": GUARDRAIL_KINDS,
            }
        }
    ),
)


@for_types(APP_PROJECT_TYPE)
def _scoped_roles(args: ResourceValidationArgs, report: Report) -> None:
    tenant = require_tenant(args, report)
    if not tenant:
        return
    what = describe(args.resource_type, args.props, args.name)
    project = object_name(args.props) or tenant
    spec = _spec(args.props)
    patterns = [
        re.compile(p.replace("{tenant}", re.escape(tenant)))
        for p in config_value(args, "groupPatterns", GROUP_PATTERNS)
    ]
    for role in (mapping(r) for r in sequence(spec.get("roles"))):
        role_name = str(role.get("name") or "")
        for line in sequence(role.get("policies")):
            fields = [f.strip() for f in str(line).split(",")]
            subject = fields[1] if len(fields) > 1 else ""
            obj = fields[4] if len(fields) > 4 else ""
            if subject != f"proj:{project}:{role_name}" or not obj.startswith(f"{project}/"):
                report(f"{what} role '{role_name}' has a policy outside its project: '{line}'")
        for group in sequence(role.get("groups")):
            if not any(p.match(str(group)) for p in patterns):
                report(f"{what} role '{role_name}' grants the group '{group}', which is not a group of '{tenant}'")
    for namespace in sequence(spec.get("sourceNamespaces")):
        if not _namespace_allowed(str(namespace), tenant) or str(namespace).startswith("!"):
            report(f"{what} accepts Applications from namespace '{namespace}' outside tenant '{tenant}'")
    for account in (mapping(a) for a in sequence(spec.get("destinationServiceAccounts"))):
        namespace = str(account.get("namespace") or "")
        if not _namespace_allowed(namespace, tenant) or namespace.startswith("!"):
            report(f"{what} syncs as a ServiceAccount for namespace '{namespace}' outside tenant '{tenant}'")


appproject_scoped_roles = ResourceValidationPolicy(
    name="appproject-scoped-roles",
    description="A tenant AppProject's roles are scoped to the project and granted to the tenant's groups; "
    "its source namespaces and sync ServiceAccounts are the tenant's own (never argocd).",
    validate=_scoped_roles,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name=ARGO, reference="projects.md: roles; app-any-namespace.md"),
    config_schema=PolicyConfigSchema(properties={"groupPatterns": string_list(GROUP_PATTERNS, min_items=1)}),
)


def _labelled_repo(props: Mapping[str, Any]) -> str | None:
    """`owner/name` from the repo-owner and repo-name labels, None without both."""
    owner, name = labels(props).get(REPO_OWNER_LABEL), labels(props).get(REPO_NAME_LABEL)
    return f"{owner}/{name}" if owner and name else None


def _claimed_repos(project: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(where, `owner/name`) for each repository the AppProject itself names: its labels, its description."""
    found = []
    labelled = _labelled_repo(project)
    if labelled:
        found.append(("labels name", labelled))
    match = DESCRIPTION_REPO_RE.search(str(_spec(project).get("description") or ""))
    if match:
        found.append(("description names", match.group(1)))
    return found


def _allowed_urls(repo: str, prefixes: list[str]) -> set[str]:
    bases = {repo} if "://" in repo else {prefix + repo for prefix in prefixes}
    return bases | {base + ".git" for base in bases}


def _source_repos(args: StackValidationArgs, report: Report) -> None:
    prefixes = list(config_value(args, "repoUrlPrefixes", REPO_URL_PREFIXES))
    # The tenant's repository is what its own namespace `<tenant>` records: the AppProject is what is being
    # checked, so what it says about itself proves nothing.
    home = {
        tenant: r.props
        for r in args.resources
        if r.resource_type == NAMESPACE_TYPE
        and (tenant := resource_tenant(r)) is not None
        and object_name(r.props) == tenant
    }
    for r in sorted(args.resources, key=lambda r: r.urn):
        if base_type(r.resource_type) != APP_PROJECT_TYPE:
            continue
        tenant = resource_tenant(r)
        if tenant is None:
            continue
        patch = is_patch(r.resource_type)
        for props in resource_objects(r):
            what = describe(r.resource_type, props, r.name)
            repo = _labelled_repo(home[tenant]) if tenant in home else None
            if repo is None:
                report(
                    f"{what}: cannot tell the repository of tenant '{tenant}' (its namespace '{tenant}' carries "
                    f"no {REPO_OWNER_LABEL} and {REPO_NAME_LABEL} labels)",
                    r.urn,
                )
                continue
            for where, claimed in _claimed_repos(props):
                if claimed != repo:
                    report(
                        f"{what}: its {where} the repository '{claimed}', but tenant '{tenant}' deploys from "
                        f"{repo} (its namespace's labels)",
                        r.urn,
                    )
            sources = [str(s) for s in sequence(_spec(props).get("sourceRepos"))]
            if not sources and not patch:
                report(f"{what} names no source repository", r.urn)
            allowed = _allowed_urls(repo, prefixes)
            for source in sources:
                if source not in allowed:
                    report(
                        f"{what} allows source repository '{source}'; tenant '{tenant}' deploys only from {repo}",
                        r.urn,
                    )


appproject_source_repos = StackValidationPolicy(
    name="appproject-source-repos",
    description="A tenant AppProject's sourceRepos are exactly the tenant's repository (with or without "
    ".git) as the repo labels of its namespace `<tenant>` record it, never '*'; the project's own labels and "
    "description agree with it.",
    validate=_source_repos,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name=ARGO, reference="projects.md: sourceRepos"),
    config_schema=PolicyConfigSchema(
        properties={
            "repoUrlPrefixes": string_list(REPO_URL_PREFIXES),
        }
    ),
)


def _exclusive_destinations(args: StackValidationArgs, report: Report) -> None:
    # namespace -> its tenant (None: the platform's): declared Namespaces, then chart targets, then reserved ones
    owners: dict[str, str | None] = {}
    for r in args.resources:
        if r.resource_type == NAMESPACE_TYPE and object_name(r.props):
            owners[object_name(r.props)] = resource_tenant(r)
    for r in args.resources:
        if r.resource_type in CHART_TYPES and r.props.get("namespace"):
            owners.setdefault(str(r.props["namespace"]), resource_tenant(r))
    for name in config_value(args, "platformNamespaces", RESERVED_NAMESPACES):
        owners.setdefault(str(name), None)
    names = sorted(owners)
    for r in sorted(args.resources, key=lambda r: r.urn):
        if base_type(r.resource_type) != APP_PROJECT_TYPE:
            continue
        tenant = resource_tenant(r)
        if tenant is None:
            continue
        for props in resource_objects(r):
            what = describe(r.resource_type, props, r.name)
            for index, destination in enumerate(sequence(_spec(props).get("destinations")), start=1):
                pattern = str(mapping(destination).get("namespace") or "")
                if not pattern or pattern.startswith("!"):
                    continue
                for namespace in _starting_with(names, _literal_prefix(pattern)):
                    owner = owners[namespace]
                    # Argo CD matches destination namespaces as globs, `*` across '-' too
                    if owner != tenant and fnmatch.fnmatchcase(namespace, pattern):
                        whose = f"tenant '{owner}'" if owner else "the platform"
                        report(
                            f"{what} destination {index} ('{pattern}') reaches namespace '{namespace}' of {whose}",
                            r.urn,
                        )


def _literal_prefix(pattern: str) -> str:
    """What every match of a glob starts with: `pay-*` -> `pay-`, `*` -> ``."""
    return re.split(r"[*?\[]", pattern, maxsplit=1)[0]


def _starting_with(names: list[str], prefix: str) -> list[str]:
    """The sorted names that start with `prefix`: a glob is tried only where it could match (linear, not
    quadratic, in the number of tenants)."""
    start = bisect.bisect_left(names, prefix)
    end = start
    while end < len(names) and names[end].startswith(prefix):
        end += 1
    return names[start:end]


appproject_destinations_exclusive = StackValidationPolicy(
    name="appproject-destinations-exclusive",
    description="No tenant AppProject's destinations (`<tenant>`, `<tenant>-*`) match a namespace of another "
    "tenant or of the platform: tenant `pay` must not reach `pay-roll`.",
    validate=_exclusive_destinations,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name=ARGO, reference="projects.md: destinations"),
    config_schema=PolicyConfigSchema(properties={"platformNamespaces": string_list(RESERVED_NAMESPACES)}),
)


def _rbac_csv(data: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """(line, fields) of every policy line in `policy.csv` and the `policy.<name>.csv` overlays Argo CD adds."""
    found = []
    for key, value in known_items(data):
        if not POLICY_CSV_KEY_RE.match(key) or not isinstance(value, str):
            continue
        for line in value.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                found.append((line, [f.strip() for f in line.split(",")]))
    return found


def _admin_holders(grants: list[tuple[str, str]]) -> set[str]:
    """role:admin and every subject inheriting it through `g, <subject>, <role>` lines, however indirectly."""
    holders = {ADMIN_ROLE}
    grown = True
    while grown:
        grown = False
        for subject, role in grants:
            if role in holders and subject not in holders:
                holders.add(subject)
                grown = True
    return holders


def _argocd_rbac_data(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    """argocd-rbac-cm's data: the ConfigMap's (or a patch's), or what the argo-cd chart renders into it
    (`configs.rbac`, argo-helm templates/argocd-configs/argocd-rbac-cm.yaml)."""
    if args.resource_type in CHART_TYPES:
        chart = str(args.props.get("chart") or "").rstrip("/").rsplit("/", 1)[-1]
        if chart != ARGOCD_CHART:
            return None
        return mapping(mapping(mapping(args.props.get("values")).get("configs")).get("rbac"))
    if object_name(args.props) != ARGOCD_RBAC_CONFIG_MAP:
        return None
    return mapping(args.props.get("data"))


@for_types(CONFIG_MAP_TYPE, *CHART_TYPES)
def _argocd_admin(args: ResourceValidationArgs, report: Report) -> None:
    data = _argocd_rbac_data(args)
    if data is None:
        return
    what = describe(args.resource_type, args.props, args.name)
    admins = [re.compile(p) for p in config_value(args, "adminGroupPatterns", ADMIN_GROUP_PATTERNS)]
    lines = _rbac_csv(data)
    grants = [(fields[1], fields[2]) for _, fields in lines if len(fields) >= 3 and fields[0] == "g"]
    holders = _admin_holders(grants)

    def is_admin(subject: str) -> bool:
        return any(p.match(subject) for p in admins)

    for subject, role in grants:
        if role in holders and not subject.startswith("role:") and not is_admin(subject):
            through = "" if role == ADMIN_ROLE else f" (through '{role}')"
            report(f"{what} grants {ADMIN_ROLE}{through} to '{subject}', which is not the platform admin group")
    for line, fields in lines:
        subject = fields[1] if len(fields) > 1 else ""
        everything = fields[0] == "p" and len(fields) >= 6 and fields[2:4] == ["*", "*"] and fields[5] == "allow"
        if everything and subject not in holders and not is_admin(subject):
            report(f"{what} lets '{subject}' do everything ('{line}'); only the platform admin group may")
    default = str(data.get("policy.default") or "")
    if default in holders:
        report(f"{what} sets policy.default to '{default}': every signed-in user gets {ADMIN_ROLE}")


argocd_rbac_admin_group = ResourceValidationPolicy(
    name="argocd-rbac-admin-group",
    description="Argo CD's argocd-rbac-cm (or the argo-cd chart's configs.rbac) grants role:admin (directly, "
    "through other roles, as policy.default or as a `*, *` policy) only to the platform admin group.",
    validate=_argocd_admin,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name=ARGO, reference="rbac.md: policy.csv, policy.default"),
    config_schema=PolicyConfigSchema(
        properties={
            "adminGroupPatterns": string_list(
                ADMIN_GROUP_PATTERNS,
                description="Regular expressions the groups granted role:admin must match.",
                min_items=1,
            )
        }
    ),
)


@for_types(APPLICATION_TYPE, APP_PROJECT_TYPE)
def _default_project(args: ResourceValidationArgs, report: Report) -> None:
    what = describe(args.resource_type, args.props, args.name)
    spec = _spec(args.props)
    kind = base_type(args.resource_type)
    if kind == APPLICATION_TYPE:
        project = spec.get("project")
        if (not project and not is_patch(args.resource_type)) or project == "default":
            report(f"{what} uses the Argo CD project 'default', which allows everything")
    elif kind == APP_PROJECT_TYPE and object_name(args.props) == "default":
        open_fields = [
            f for f in ("sourceRepos", "destinations", "clusterResourceWhitelist", "sourceNamespaces") if spec.get(f)
        ]
        if open_fields:
            report(f"{what} is not locked down: {', '.join(open_fields)} must be empty")


no_default_project = ResourceValidationPolicy(
    name="no-default-project",
    description="No Application uses the permissive `default` AppProject, and if Gatehouse manages that project "
    "it is locked down.",
    validate=_default_project,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="Kyverno", reference="application-prevent-default-project"),
)

POLICIES = [
    appproject_destinations,
    appproject_destinations_exclusive,
    appproject_no_cluster_resources,
    appproject_source_repos,
    appproject_guardrail_blacklist,
    appproject_scoped_roles,
    no_default_project,
    argocd_rbac_admin_group,
]
