"""Argo CD itself: role:admin only for the platform admin group, and no Application in the permissive `default`
project.

Anchors: Argo CD v3.4.4 docs/operator-manual/rbac.md (policy.csv, policy.default: the role of every signed-in
user, and of anonymous users if anonymous access is on; the resources and actions), util/settings/settings.go
(`application.sync.impersonation.enabled` counts only as the exact string "true"; default off), controller/sync.go
`deriveServiceAccountToImpersonate` (with it off the controller's own ServiceAccount applies everything), and
docs/user-guide/projects.md (the `default` project allows everything), argo-helm argo-cd-10.1.1
templates/argocd-configs/argocd-rbac-cm.yaml (`configs.rbac`), Kyverno application-prevent-default-project.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import gatehouse_contract as contract
from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import (
    APP_PROJECT_TYPE,
    APPLICATION_TYPE,
    CHART_TYPES,
    CONFIG_MAP_TYPE,
    Report,
    base_type,
    config_value,
    describe,
    for_types,
    is_patch,
    known_items,
    mapping,
    object_name,
    object_spec,
    string_list,
)

ARGOCD_RBAC_CONFIG_MAP = contract.ARGOCD_RBAC_CONFIG_MAP
ARGOCD_CHART = contract.ARGOCD_CHART
ADMIN_ROLE = contract.ADMIN_ROLE
# The platform admin group as each Dex connector names it: `authentik:platform-admins`, `<github-org>:platform-admins`.
ADMIN_GROUP_PATTERNS = ["^[a-z0-9]([-a-z0-9]*[a-z0-9])?:platform-admins$"]
POLICY_CSV_KEY_RE = re.compile(r"^policy(\.[^.]+)*\.csv$")


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


# Argo CD v3.4.4 docs/operator-manual/rbac.md: resources that are not inside a project (the "global" ones),
# and those that are, whose object is `<project>/<name>`.
GLOBAL_RESOURCES = frozenset(
    {"clusters", "projects", "repositories", "write-repositories", "accounts", "certificates", "gpgkeys", "extensions"}
)
PROJECT_RESOURCES = frozenset({"applications", "applicationsets", "logs", "exec"})


def _admin_like(fields: list[str]) -> bool:
    """A `p, <subject>, <resource>, <action>, <object>, allow` line only an admin may hold: any resource, a
    platform-wide resource beyond reading, or an action beyond reading on every project's applications."""
    if fields[0] != "p" or len(fields) < 5 or (len(fields) > 5 and fields[5] != "allow"):
        return False
    resource, action, obj = fields[2], fields[3], fields[4]
    if resource == "*":
        return True
    if resource in GLOBAL_RESOURCES:
        return action != "get"
    every_project = "*" in obj.split("/", 1)[0]
    return resource in PROJECT_RESOURCES and every_project and action != "get"


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
    for line, fields in lines:
        subject = fields[1] if len(fields) > 1 else ""
        everything = fields[0] == "p" and len(fields) >= 6 and fields[2:4] == ["*", "*"] and fields[5] == "allow"
        if everything or subject in holders or is_admin(subject) or not _admin_like(fields):
            continue  # (a `*, *` line is reported above)
        report(f"{what} gives '{subject}' platform-wide power ('{line}'); only the platform admin group may")
    default = str(data.get("policy.default") or "")
    if default in holders:
        report(f"{what} sets policy.default to '{default}': every signed-in user gets {ADMIN_ROLE}")
    elif default:
        report(
            f"{what} sets policy.default to '{default}': every signed-in user (every tenant) gets it across all "
            "projects; it must be empty"
        )


argocd_rbac_admin_group = ResourceValidationPolicy(
    name="argocd-rbac-admin-group",
    description="Argo CD's argocd-rbac-cm (or the argo-cd chart's configs.rbac) grants role:admin (directly, "
    "through other roles, as policy.default or as a `*, *` policy) only to the platform admin group.",
    validate=_argocd_admin,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="Argo CD", reference="rbac.md: policy.csv, policy.default"),
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
    spec = object_spec(args.props)
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

ARGOCD_CM = contract.ARGOCD_CONFIG_MAP
IMPERSONATION_KEY = "application.sync.impersonation.enabled"


def _argocd_cm_data(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    """argocd-cm's data: the ConfigMap's (or a patch's), or the argo-cd chart's `configs.cm` (argo-helm
    templates/argocd-configs/argocd-cm.yaml renders it unless `configs.cm.create` is false)."""
    if args.resource_type in CHART_TYPES:
        chart = str(args.props.get("chart") or "").rstrip("/").rsplit("/", 1)[-1]
        if chart != ARGOCD_CHART:
            return None
        cm = mapping(mapping(mapping(args.props.get("values")).get("configs")).get("cm"))
        return None if cm.get("create") is False else cm
    if object_name(args.props) != ARGOCD_CM:
        return None
    return mapping(args.props.get("data"))


@for_types(CONFIG_MAP_TYPE, *CHART_TYPES)
def _sync_impersonation(args: ResourceValidationArgs, report: Report) -> None:
    data = _argocd_cm_data(args)
    if data is None:
        return
    value = data.get(IMPERSONATION_KEY)
    if value is None and is_patch(args.resource_type):
        return  # a patch leaves the keys it does not name alone
    # Argo CD v3.4.4 util/settings/settings.go: enabled only when the value is exactly the string "true"
    if value is True or str(value) == "true":
        return
    report(
        f"{describe(args.resource_type, args.props, args.name)} sets {IMPERSONATION_KEY} to "
        f"{'nothing' if value is None else repr(str(value))}: Argo CD then ignores every AppProject's "
        "destinationServiceAccounts and syncs tenants' repositories as its own cluster-wide controller"
    )


argocd_sync_impersonation = ResourceValidationPolicy(
    name="argocd-sync-impersonation",
    description="Argo CD syncs as each project's destination ServiceAccount: argocd-cm (or the argo-cd chart's "
    'configs.cm) sets application.sync.impersonation.enabled to "true".',
    validate=_sync_impersonation,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="Argo CD", reference="app-sync-using-impersonation.md"),
)

POLICIES = [no_default_project, argocd_rbac_admin_group, argocd_sync_impersonation]
