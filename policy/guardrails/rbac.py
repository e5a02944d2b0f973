"""RBAC: tenants get their profile's namespaced Role, bound to their own groups and ServiceAccounts, nothing more.

Anchors: CIS Kubernetes 1.9 section 5.1, Kyverno restrict-binding-clusteradmin / -system-groups,
restrict-wildcard-verbs / -resources, restrict-escalation-verbs-roles, restrict-secret-role-verbs, and the
Kubernetes bootstrap roles (`edit` grants NetworkPolicy writes, Secret reads, impersonation and tokens).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import gatehouse_contract as contract
from gatehouse_contract import CRD_TYPE, NAMESPACE_TYPE
from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from ._kinds import scope_of
from ._util import (
    CLUSTER_ROLE_BINDING_TYPE,
    CLUSTER_ROLE_TYPE,
    NON_OBJECT_TYPES,
    ROLE_BINDING_TYPE,
    ROLE_TYPE,
    SERVICE_ACCOUNT_TYPE,
    Report,
    args_tenant,
    base_type,
    belongs_to_tenant_namespace,
    config_value,
    describe,
    for_types,
    is_patch,
    mapping,
    object_namespace,
    organization_owned,
    per_object,
    rendered_by,
    require_tenant,
    resource_objects,
    resource_tenant,
    sequence,
    string_list,
    strings,
    tenant_organization,
    tenant_profile,
)

CIS = "CIS Kubernetes Benchmark"
CIS_VERSION = "1.9"
BINDING_TYPES = (ROLE_BINDING_TYPE, CLUSTER_ROLE_BINDING_TYPE)
ROLE_TYPES = (ROLE_TYPE, CLUSTER_ROLE_TYPE)

ESCALATION_VERBS = contract.ESCALATION_VERBS
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection", "*"})
READ_VERBS = frozenset({"get", "list", "watch", "*"})
# What no tenant may change: its own guardrails, RBAC, and its ServiceAccounts' tokens.
GUARDRAIL_RESOURCES = list(contract.GUARDRAIL_RESOURCES)
SECRET_READER_PROFILES = list(contract.SECRET_READER_PROFILES)
FORBIDDEN_CLUSTER_ROLES = ["edit", "admin"]
# Groups no binding may name: every (or no) identity, every ServiceAccount, the superusers.
SYSTEM_GROUPS = [
    "system:masters",
    "system:anonymous",
    "system:unauthenticated",
    "system:authenticated",
    "system:serviceaccounts",
]
SERVICE_ACCOUNTS_GROUP_PREFIX = "system:serviceaccounts:"  # + <namespace>: every ServiceAccount of it
# `<github-org>:<tenant>`, a tenant's default OIDC group (any `<org>:`; {tenant} is the tenant's slug).
GROUP_PATTERNS = ["^[a-z0-9]([-a-z0-9]*[a-z0-9])?:{tenant}$"]
CLUSTER_SCOPED_TYPES = [
    CLUSTER_ROLE_TYPE,
    CLUSTER_ROLE_BINDING_TYPE,
    CRD_TYPE,
    "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration",
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration",
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
    "kubernetes:core/v1:PersistentVolume",
    "kubernetes:storage.k8s.io/v1:StorageClass",
    "kubernetes:scheduling.k8s.io/v1:PriorityClass",
    "kubernetes:node.k8s.io/v1:RuntimeClass",
    "kubernetes:networking.k8s.io/v1:IngressClass",
    "kubernetes:apiregistration.k8s.io/v1:APIService",
    "kubernetes:gateway.networking.k8s.io/v1:GatewayClass",
    "kubernetes:cert-manager.io/v1:ClusterIssuer",
    "kubernetes:external-secrets.io/v1:ClusterSecretStore",
]


def _role_ref(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(props.get("roleRef"))


def _rules(props: Mapping[str, Any]) -> list[tuple[int, Mapping[str, Any]]]:
    return [(i, mapping(rule)) for i, rule in enumerate(sequence(props.get("rules")), start=1)]


# --- bindings ------------------------------------------------------------------------------------------


@for_types(*BINDING_TYPES)
def _no_cluster_admin(args: ResourceValidationArgs, report: Report) -> None:
    if _role_ref(args.props).get("name") == "cluster-admin":
        report(f"{describe(args.resource_type, args.props, args.name)} grants cluster-admin")


no_cluster_admin_binding = ResourceValidationPolicy(
    name="no-cluster-admin-binding",
    description="No RoleBinding or ClusterRoleBinding grants cluster-admin.",
    validate=_no_cluster_admin,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name=CIS, version=CIS_VERSION, reference="5.1.1"),
    remediation_steps="Bind a namespaced Role with only the verbs and resources needed.",
)


@for_types(*BINDING_TYPES)
def _no_builtin_roles(args: ResourceValidationArgs, report: Report) -> None:
    ref = _role_ref(args.props)
    forbidden = config_value(args, "forbiddenClusterRoles", FORBIDDEN_CLUSTER_ROLES)
    if ref.get("kind") == "ClusterRole" and ref.get("name") in forbidden:
        report(
            f"{describe(args.resource_type, args.props, args.name)} binds the built-in ClusterRole "
            f"'{ref.get('name')}'; bind a Gatehouse profile Role instead"
        )


no_builtin_edit_admin_binding = ResourceValidationPolicy(
    name="no-builtin-edit-admin-binding",
    description="The built-in edit and admin ClusterRoles are never bound: they grant NetworkPolicy and RBAC "
    "writes, Secret reads, ServiceAccount impersonation and token creation.",
    validate=_no_builtin_roles,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="Kubernetes bootstrap roles", reference="edit, admin; Capsule #649"),
    config_schema=PolicyConfigSchema(properties={"forbiddenClusterRoles": string_list(FORBIDDEN_CLUSTER_ROLES)}),
)


@for_types(*BINDING_TYPES)
def _no_system_groups(args: ResourceValidationArgs, report: Report) -> None:
    forbidden = config_value(args, "forbiddenGroups", SYSTEM_GROUPS)
    what = describe(args.resource_type, args.props, args.name)
    tenant = args_tenant(args)
    for subject in sequence(args.props.get("subjects")):
        subject = mapping(subject)
        name = str(subject.get("name") or "")
        if subject.get("kind") not in ("Group", "User"):
            continue
        if name in forbidden:
            report(f"{what} binds '{name}'")
        elif name.startswith(SERVICE_ACCOUNTS_GROUP_PREFIX) and tenant is not None:
            # every ServiceAccount of a namespace: for a tenant, only ever one of its own namespaces
            namespace = name[len(SERVICE_ACCOUNTS_GROUP_PREFIX) :]
            if not belongs_to_tenant_namespace(namespace, tenant):
                owner = f"tenant '{tenant}'" if tenant else "its tenant (which cannot be determined)"
                report(f"{what} binds '{name}', every ServiceAccount of a namespace outside {owner}")


no_system_group_bindings = StackValidationPolicy(
    name="no-system-group-bindings",
    description="No binding grants anything to system:masters, system:anonymous, system:unauthenticated, "
    "system:authenticated or system:serviceaccounts, nor a tenant's to another namespace's ServiceAccounts.",
    validate=per_object(_no_system_groups),
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name=CIS, version=CIS_VERSION, reference="5.1.7"),
    config_schema=PolicyConfigSchema(properties={"forbiddenGroups": string_list(SYSTEM_GROUPS)}),
)


@for_types(*BINDING_TYPES)
def _tenant_subjects(args: ResourceValidationArgs, report: Report) -> None:
    if args_tenant(args) is None:
        return
    tenant = require_tenant(args, report) or ""  # "": still no User or system: group
    what = describe(args.resource_type, args.props, args.name)
    patterns = [
        re.compile(p.replace("{tenant}", re.escape(tenant)))
        for p in config_value(args, "groupPatterns", GROUP_PATTERNS)
    ]
    for subject in sequence(args.props.get("subjects")):
        subject = mapping(subject)
        kind, name = subject.get("kind"), str(subject.get("name") or "")
        if kind == "User":
            report(f"{what} binds the User '{name}'; tenants bind only their groups and ServiceAccounts")
        elif kind == "Group":
            if name.startswith("system:"):
                report(f"{what} binds the system group '{name}'")
            elif tenant and not any(p.match(name) for p in patterns):
                report(f"{what} binds the group '{name}', which is not a group of tenant '{tenant}'")
        elif kind == "ServiceAccount":
            namespace = str(subject.get("namespace") or object_namespace(args.props))
            if _listener_runs(args, name, namespace):
                continue
            if tenant and not belongs_to_tenant_namespace(namespace, tenant):
                report(f"{what} binds the ServiceAccount '{namespace}/{name}' from outside tenant '{tenant}'")
        else:
            report(f"{what} binds a subject of kind '{kind}'")


def _listener_runs(args: ResourceValidationArgs, name: str, namespace: str) -> bool:
    """The one ServiceAccount from outside a tenant a tenant namespace may bind: its own organization's webhook
    listener, to the Role that lets it create the tenant's PipelineRuns (components/pipelines/rbac.py)."""
    org = tenant_organization(args)
    role_ref = mapping(args.props.get("roleRef"))
    return (
        org is not None
        and name == contract.LISTENER_SERVICE_ACCOUNT
        and namespace == f"{contract.ORGANIZATION_NAMESPACE_PREFIX}{org}"
        and role_ref.get("kind") == "Role"
        and role_ref.get("name") == contract.LISTENER_RUNS_ROLE
    )


tenant_binding_subjects = StackValidationPolicy(
    name="tenant-binding-subjects",
    description="A tenant's RoleBindings bind only the tenant's OIDC groups and ServiceAccounts of its own "
    "namespaces: never a User, never a system: group.",
    validate=per_object(_tenant_subjects),
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name=CIS, version=CIS_VERSION, reference="5.1.7; Capsule owners"),
    config_schema=PolicyConfigSchema(
        properties={
            "groupPatterns": string_list(
                GROUP_PATTERNS,
                description="Regular expressions a tenant's group must match; {tenant} is the tenant slug.",
                min_items=1,
            )
        }
    ),
)


# --- roles ---------------------------------------------------------------------------------------------


@for_types(*ROLE_TYPES)
def _least_privilege(args: ResourceValidationArgs, report: Report) -> None:
    if args_tenant(args) is None:
        return
    what = describe(args.resource_type, args.props, args.name)
    for index, rule in _rules(args.props):
        for field in ("apiGroups", "resources", "verbs", "nonResourceURLs"):
            if "*" in strings(rule.get(field)):
                report(f"{what} rule {index} uses '*' in {field}")
        for verb in ESCALATION_VERBS:
            if verb in strings(rule.get("verbs")):
                report(f"{what} rule {index} grants '{verb}'")


tenant_role_least_privilege = StackValidationPolicy(
    name="tenant-role-least-privilege",
    description="Tenant Roles name their API groups, resources and verbs (no '*') and never grant bind, "
    "escalate or impersonate.",
    validate=per_object(_least_privilege),
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name=CIS, version=CIS_VERSION, reference="5.1.3, 5.1.8"),
)


@for_types(*ROLE_TYPES)
def _no_guardrail_writes(args: ResourceValidationArgs, report: Report) -> None:
    if args_tenant(args) is None:
        return
    what = describe(args.resource_type, args.props, args.name)
    guarded = config_value(args, "guardrailResources", GUARDRAIL_RESOURCES)
    for index, rule in _rules(args.props):
        verbs = set(strings(rule.get("verbs")))
        for resource in strings(rule.get("resources")):
            if resource not in guarded:
                continue
            # a token is minted by creating it, and nothing else can be done with one
            written = verbs if resource == "serviceaccounts/token" else verbs & WRITE_VERBS
            if written:
                report(f"{what} rule {index} lets the tenant {'/'.join(sorted(written))} {resource}")


tenant_role_no_guardrail_writes = StackValidationPolicy(
    name="tenant-role-no-guardrail-writes",
    description="No tenant Role may change quotas, limit ranges, network policies or RBAC, or mint "
    "ServiceAccount tokens.",
    validate=per_object(_no_guardrail_writes),
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name=CIS, version=CIS_VERSION, reference="5.1.13; Capsule #649"),
    config_schema=PolicyConfigSchema(properties={"guardrailResources": string_list(GUARDRAIL_RESOURCES)}),
)


@for_types(*ROLE_TYPES)
def _no_secret_reads(args: ResourceValidationArgs, report: Report) -> None:
    if args_tenant(args) is None:
        return
    profile = tenant_profile(args)  # the namespace's profile, never the Role's own label
    if profile in config_value(args, "secretReaderProfiles", SECRET_READER_PROFILES):
        return
    what = describe(args.resource_type, args.props, args.name)
    for index, rule in _rules(args.props):
        resources = set(strings(rule.get("resources")))
        reads = set(strings(rule.get("verbs"))) & READ_VERBS
        if reads and resources & {"secrets", "*"}:
            report(f"{what} (profile '{profile}') rule {index} lets the tenant {'/'.join(sorted(reads))} secrets")


standard_profile_no_secret_reads = StackValidationPolicy(
    name="standard-profile-no-secret-reads",
    description="Tenant Roles of the standard profile (and of any profile not allowed to) never read Secrets.",
    validate=per_object(_no_secret_reads),
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name=CIS, version=CIS_VERSION, reference="5.1.2"),
    config_schema=PolicyConfigSchema(properties={"secretReaderProfiles": string_list(SECRET_READER_PROFILES)}),
)


# --- tenant scope ----------------------------------------------------------------------------------------


def _known_namespace(props: Mapping[str, Any]) -> str | None:
    """metadata.namespace; None when unknown during preview (it is set, to something)."""
    try:
        return object_namespace(props)
    except UnknownValueError:
        return None


def _no_cluster_scoped(args: StackValidationArgs, report: Report) -> None:
    types = {base_type(t) for t in config_value(args, "clusterScopedTypes", CLUSTER_SCOPED_TYPES)}
    for r in args.resources:
        kind = base_type(r.resource_type)
        if not kind.startswith("kubernetes:") or kind in NON_OBJECT_TYPES or kind == NAMESPACE_TYPE:
            continue
        tenant = resource_tenant(r)
        if tenant is None:
            continue
        scope = "Cluster" if kind in types else scope_of(kind)
        for props in resource_objects(r):
            what = describe(r.resource_type, props, r.name)
            rule = "only platform components create cluster-scoped objects"
            if scope == "Cluster":
                report(f"{what} is cluster-scoped but belongs to tenant '{tenant}'; {rule}", r.urn)
            elif scope is None and _known_namespace(props) == "":
                # an unknown kind without a namespace is cluster-scoped as far as anyone can tell; a known
                # namespaced one without a namespace is no-default-namespace's business
                report(
                    f"{what} has no metadata.namespace and is not a known namespaced kind, so it counts as "
                    f"cluster-scoped, but it belongs to tenant '{tenant}'; {rule}",
                    r.urn,
                )


no_cluster_scoped_tenant_objects = StackValidationPolicy(
    name="no-cluster-scoped-tenant-objects",
    description="Nothing inside a Tenant is cluster-scoped (no ClusterRole, ClusterRoleBinding, CRD, webhook, "
    "ClusterIssuer, ..., nor any object of an unknown kind without a namespace) besides its namespaces.",
    validate=_no_cluster_scoped,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name=CIS, version=CIS_VERSION, reference="5.1.1, 5.1.9, 5.1.12"),
    config_schema=PolicyConfigSchema(properties={"clusterScopedTypes": string_list(CLUSTER_SCOPED_TYPES)}),
)


@for_types(SERVICE_ACCOUNT_TYPE)
def _no_automount(args: ResourceValidationArgs, report: Report) -> None:
    if rendered_by(args.urn):
        return  # a chart's own ServiceAccounts are the chart's business
    tenant = args_tenant(args)
    owned = tenant is not None or organization_owned(args)
    if tenant is None and _org_listener(args):
        return  # the listener's pod cannot mount a token itself (gatehouse_contract.LISTENER_SERVICE_ACCOUNT)
    automount = args.props.get("automountServiceAccountToken")
    if owned and (automount is True or (automount is not False and not is_patch(args.resource_type))):
        report(
            f"{describe(args.resource_type, args.props, args.name)} does not set automountServiceAccountToken: false"
        )


def _org_listener(args: ResourceValidationArgs) -> bool:
    name = str(mapping(args.props.get("metadata")).get("name") or "")
    namespace = object_namespace(args.props)
    return name == contract.LISTENER_SERVICE_ACCOUNT and namespace.startswith(contract.ORGANIZATION_NAMESPACE_PREFIX)


tenant_serviceaccount_no_automount = StackValidationPolicy(
    name="tenant-serviceaccount-no-automount",
    description="ServiceAccounts of tenants and organizations do not mount API tokens into pods.",
    validate=per_object(_no_automount),
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name=CIS, version=CIS_VERSION, reference="5.1.5, 5.1.6"),
)


POLICIES = [
    no_cluster_admin_binding,
    no_builtin_edit_admin_binding,
    no_system_group_bindings,
    tenant_binding_subjects,
    tenant_role_least_privilege,
    tenant_role_no_guardrail_writes,
    standard_profile_no_secret_reads,
    no_cluster_scoped_tenant_objects,
    tenant_serviceaccount_no_automount,
]
