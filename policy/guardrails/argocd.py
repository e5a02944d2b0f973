"""Argo CD: a tenant's AppProject reaches only its own namespaces, from only its own repository.

Anchors: Argo CD projects.md and operator-manual/project.yaml ("namespaced-scoped resources are restricted
via a deny list, whereas cluster-scoped resources are restricted via allow list"; the `default` project
allows everything), app-any-namespace.md, Kyverno appproject-clusterresourceblacklist and
application-prevent-default-project.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

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
    NAMESPACE_TYPE,
    REPO_ANNOTATION,
    REPO_NAME_LABEL,
    REPO_OWNER_LABEL,
    Report,
    args_tenant,
    belongs_to_tenant_namespace,
    config_value,
    describe,
    for_types,
    labels,
    mapping,
    object_annotations,
    object_name,
    resource_tenant,
    sequence,
    string_list,
)
from .rbac import GROUP_PATTERNS

ARGO = "Argo CD"
IN_CLUSTER_SERVERS = ["https://kubernetes.default.svc"]
IN_CLUSTER_NAMES = ["in-cluster"]
REPO_URL_PREFIXES = ["https://github.com/"]
GUARDRAIL_KINDS = [
    {"group": "", "kind": "ResourceQuota"},
    {"group": "", "kind": "LimitRange"},
    {"group": "networking.k8s.io", "kind": "NetworkPolicy"},
    {"group": "rbac.authorization.k8s.io", "kind": "Role"},
    {"group": "rbac.authorization.k8s.io", "kind": "RoleBinding"},
]
WILDCARD_CHARS = re.compile(r"[*?\[\]]")
DESCRIPTION_REPO_RE = re.compile(r"\(([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)\)\s*$")


def _spec(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(props.get("spec"))


def _project_tenant(args: ResourceValidationArgs) -> str | None:
    """The tenant of a tenant AppProject (its label, its Tenant parent, else its own name); None otherwise."""
    tenant = args_tenant(args)
    if tenant is None:
        return None
    return tenant or object_name(args.props)


def _namespace_allowed(namespace: str, tenant: str) -> bool:
    """`<tenant>`, `<tenant>-<suffix>`, or the glob `<tenant>-*`; a negation (`!x`) only narrows."""
    if namespace.startswith("!"):
        return True
    if namespace == f"{tenant}-*":
        return True
    return not WILDCARD_CHARS.search(namespace) and belongs_to_tenant_namespace(namespace, tenant)


@for_types(APP_PROJECT_TYPE)
def _destinations(args: ResourceValidationArgs, report: Report) -> None:
    tenant = _project_tenant(args)
    if tenant is None:
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
    if _project_tenant(args) is None:
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
    if _project_tenant(args) is None:
        return
    entries = [mapping(e) for e in sequence(_spec(args.props).get("namespaceResourceBlacklist"))]
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
    tenant = _project_tenant(args)
    if tenant is None:
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
    config_schema=PolicyConfigSchema(
        properties={
            "groupPatterns": {"type": "array", "items": {"type": "string"}, "minItems": 1, "default": GROUP_PATTERNS}
        }
    ),
)


def _tenant_repos(project: Mapping[str, Any], namespace: Mapping[str, Any] | None) -> list[str]:
    """The tenant's repository as `owner/name` (project labels, then its namespace, then the description)."""
    for props in (project, namespace or {}):
        owner, name = labels(props).get(REPO_OWNER_LABEL), labels(props).get(REPO_NAME_LABEL)
        if owner and name:
            return [f"{owner}/{name}"]
    annotation = object_annotations(namespace or {}).get(REPO_ANNOTATION)
    if annotation:
        return [str(annotation)]
    match = DESCRIPTION_REPO_RE.search(str(_spec(project).get("description") or ""))
    return [match.group(1)] if match else []


def _allowed_urls(repo: str, prefixes: list[str]) -> set[str]:
    bases = {repo} if "://" in repo else {prefix + repo for prefix in prefixes}
    return bases | {base + ".git" for base in bases}


def _source_repos(args: StackValidationArgs, report: Report) -> None:
    prefixes = list(config_value(args, "repoUrlPrefixes", REPO_URL_PREFIXES))
    namespaces = {
        object_name(r.props): r.props
        for r in args.resources
        if r.resource_type == NAMESPACE_TYPE and resource_tenant(r) is not None
    }
    for r in args.resources:
        if r.resource_type != APP_PROJECT_TYPE:
            continue
        tenant = resource_tenant(r)
        if tenant is None:
            continue
        what = describe(r.resource_type, r.props, r.name)
        repos = _tenant_repos(r.props, namespaces.get(tenant))
        if not repos:
            report(f"{what}: cannot tell the repository of tenant '{tenant}' (no repo labels or description)", r.urn)
            continue
        allowed = set().union(*(_allowed_urls(repo, prefixes) for repo in repos))
        sources = [str(s) for s in sequence(_spec(r.props).get("sourceRepos"))]
        if not sources:
            report(f"{what} names no source repository", r.urn)
        for source in sources:
            if source not in allowed:
                report(
                    f"{what} allows source repository '{source}'; tenant '{tenant}' deploys only from "
                    f"{' or '.join(sorted(repos))}",
                    r.urn,
                )


appproject_source_repos = StackValidationPolicy(
    name="appproject-source-repos",
    description="A tenant AppProject's sourceRepos are exactly the tenant's repository (with or without "
    ".git), as its namespace records it; never '*'.",
    validate=_source_repos,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name=ARGO, reference="projects.md: sourceRepos"),
    config_schema=PolicyConfigSchema(
        properties={
            "repoUrlPrefixes": string_list(REPO_URL_PREFIXES),
        }
    ),
)


def _default_project(args: ResourceValidationArgs, report: Report) -> None:
    what = describe(args.resource_type, args.props, args.name)
    spec = _spec(args.props)
    if args.resource_type == APPLICATION_TYPE:
        project = spec.get("project")
        if not project or project == "default":
            report(f"{what} uses the Argo CD project 'default', which allows everything")
    elif args.resource_type == APP_PROJECT_TYPE and object_name(args.props) == "default":
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
    appproject_no_cluster_resources,
    appproject_source_repos,
    appproject_guardrail_blacklist,
    appproject_scoped_roles,
    no_default_project,
]
