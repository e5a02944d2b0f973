"""Namespaces: explicit, prefixed, unreserved names, the labels every other guardrail selects on, Pod Security."""

from __future__ import annotations

import re

import gatehouse_contract as contract
from gatehouse_contract import MANAGED_BY_LABEL, NAMESPACE_TYPE, PROFILE_LABEL, PSA_ENFORCE_LABEL, TENANT_LABEL
from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._kinds import scope_of
from ._util import (
    HELM_V3_CHART_TYPE,
    HELM_V4_CHART_TYPE,
    NON_OBJECT_TYPES,
    Report,
    args_tenant,
    base_type,
    config_value,
    describe,
    for_types,
    is_organization_namespace,
    is_patch,
    is_tenant_namespace,
    labels,
    metadata,
    object_namespace,
    objects,
    rendered_by,
    require_tenant,
    string_list,
)

# Policy config defaults (lists and dicts, as the engine takes them), from the names the program shares.
RESERVED = list(contract.RESERVED_NAMESPACES)
RESERVED_PREFIXES = list(contract.RESERVED_PREFIXES)
TENANT_RESERVED_PREFIXES = list(contract.TENANT_RESERVED_PREFIXES)  # organization namespaces are `org-<name>`
REQUIRED_TENANT_LABELS = [
    TENANT_LABEL,
    contract.ORGANIZATION_LABEL,
    PROFILE_LABEL,
    MANAGED_BY_LABEL,
    PSA_ENFORCE_LABEL,
]
# Permission profile -> the Pod Security level its namespaces must enforce.
PSA_BY_PROFILE = dict(contract.POD_SECURITY_BY_PROFILE)
ALLOWED_PSA_LEVELS = list(contract.POD_SECURITY_LEVELS)
DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def _home(args: ResourceValidationArgs) -> bool:
    return is_tenant_namespace(args) or is_organization_namespace(args)


@for_types(NAMESPACE_TYPE)
def _explicit_name(args: ResourceValidationArgs, report: Report) -> None:
    if _home(args) and not metadata(args.props).get("name"):
        report(f"Namespace '{args.name}' has no explicit metadata.name; an auto-named namespace can be replaced")


namespace_explicit_name = ResourceValidationPolicy(
    name="namespace-explicit-name",
    description="Tenant and organization namespaces carry an explicit name derived from an immutable slug.",
    validate=_explicit_name,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="Capsule", reference="forceTenantPrefix"),
)


@for_types(NAMESPACE_TYPE)
def _not_reserved(args: ResourceValidationArgs, report: Report) -> None:
    if not _home(args):
        return
    name = str(metadata(args.props).get("name") or "")
    prefixes = list(config_value(args, "reservedPrefixes", RESERVED_PREFIXES))
    if is_tenant_namespace(args):
        prefixes += config_value(args, "tenantReservedPrefixes", TENANT_RESERVED_PREFIXES)
    if name in config_value(args, "reserved", RESERVED) or name.startswith(tuple(prefixes)):
        report(f"Namespace '{name}' is reserved for the platform")


tenant_namespace_not_reserved = ResourceValidationPolicy(
    name="tenant-namespace-not-reserved",
    description="No tenant or organization takes a reserved namespace (default, kube-*, platform namespaces).",
    validate=_not_reserved,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="CIS Kubernetes Benchmark", version="1.9", reference="5.7.4"),
    config_schema=PolicyConfigSchema(
        properties={
            "reserved": string_list(RESERVED),
            "reservedPrefixes": string_list(RESERVED_PREFIXES),
            "tenantReservedPrefixes": string_list(TENANT_RESERVED_PREFIXES),
        }
    ),
)


@for_types(NAMESPACE_TYPE)
def _tenant_labels(args: ResourceValidationArgs, report: Report) -> None:
    tenant = args_tenant(args)
    if tenant is None:
        return
    found = labels(args.props)
    required = config_value(args, "requiredLabels", REQUIRED_TENANT_LABELS)
    missing = [label for label in required if not found.get(label)]
    if missing and not is_patch(args.resource_type):  # a patch leaves the labels it does not name alone
        report(f"Tenant namespace is missing label(s): {', '.join(missing)}")
    label = found.get(TENANT_LABEL)
    if tenant and label and label != tenant:
        report(f"Tenant namespace of tenant '{tenant}' is labelled {TENANT_LABEL}: '{label}'")
    profile = found.get(PROFILE_LABEL)
    expected = PSA_BY_PROFILE.get(profile or "")
    actual = found.get(PSA_ENFORCE_LABEL)
    if expected and actual and actual != expected:
        report(f"Tenant namespace with profile '{profile}' enforces Pod Security '{actual}', expected '{expected}'")


tenant_namespace_labels = ResourceValidationPolicy(
    name="tenant-namespace-labels",
    description="Tenant namespaces carry the tenant, organization, profile and Pod Security labels policies select on.",
    validate=_tenant_labels,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="Kyverno", reference="require-labels, add-psa-labels"),
    config_schema=PolicyConfigSchema(properties={"requiredLabels": string_list(REQUIRED_TENANT_LABELS)}),
)


@for_types(NAMESPACE_TYPE)
def _pod_security(args: ResourceValidationArgs, report: Report) -> None:
    found = labels(args.props)
    level = found.get(PSA_ENFORCE_LABEL)
    name = metadata(args.props).get("name") or args.name
    allowed = config_value(args, "allowedLevels", ALLOWED_PSA_LEVELS)
    if level is not None and level not in allowed:
        report(f"Namespace '{name}' enforces Pod Security '{level}'; allowed: {', '.join(allowed)}")
    elif level is None and not is_patch(args.resource_type) and (found.get(MANAGED_BY_LABEL) or _home(args)):
        report(f"Namespace '{name}' is managed by Gatehouse but enforces no Pod Security level")


namespace_pod_security = ResourceValidationPolicy(
    name="namespace-pod-security",
    description="Every namespace Gatehouse manages enforces Pod Security restricted or baseline; no namespace "
    "enforces privileged.",
    validate=_pod_security,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="CIS Kubernetes Benchmark", version="1.9", reference="5.2.1"),
    remediation_steps="Label the namespace pod-security.kubernetes.io/enforce=restricted (baseline for elevated).",
    config_schema=PolicyConfigSchema(properties={"allowedLevels": string_list(ALLOWED_PSA_LEVELS)}),
)


@for_types(NAMESPACE_TYPE)
def _tenant_prefix(args: ResourceValidationArgs, report: Report) -> None:
    tenant = require_tenant(args, report)
    if not tenant:
        return
    name = str(metadata(args.props).get("name") or "")
    if not name:
        return  # namespace-explicit-name reports it
    if not DNS_LABEL_RE.match(name):
        report(f"Namespace '{name}' is not a DNS label of at most 63 characters")
    if name != tenant and not name.startswith(tenant + "-"):
        report(f"Namespace '{name}' of tenant '{tenant}' is neither '{tenant}' nor '{tenant}-<suffix>'")


tenant_namespace_prefix = ResourceValidationPolicy(
    name="tenant-namespace-prefix",
    description="A tenant's namespaces are named `<tenant>` or `<tenant>-<suffix>` (DNS labels), so the tenant's "
    "AppProject glob and selectors reach exactly its own.",
    validate=_tenant_prefix,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="Capsule", reference="forceTenantPrefix"),
)


def _chart_not_default(args: ResourceValidationArgs, report: Report) -> None:
    namespace = args.props.get("namespace")
    if namespace == "default":
        report(f"Chart '{args.name}' installs into the default namespace")
    elif not namespace:
        report(f"Chart '{args.name}' sets no namespace, so it installs into the provider's default namespace")


def _no_default_namespace(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type in (HELM_V4_CHART_TYPE, HELM_V3_CHART_TYPE):
        _chart_not_default(args, report)
        return
    if not args.resource_type.startswith("kubernetes:") or args.resource_type in NON_OBJECT_TYPES:
        return
    rendered = rendered_by(args.urn) is not None
    for each in objects(args):
        namespace = object_namespace(each.props)
        what = describe(each.resource_type, each.props, each.name)
        if namespace == "default":
            report(f"{what} is in the default namespace")
        elif not namespace and not rendered and scope_of(base_type(each.resource_type)) == "Namespaced":
            # the provider puts it in its default namespace: `default` unless the provider says otherwise
            # (a chart's or file's objects go where the rendering component puts them, checked above)
            report(f"{what} sets no metadata.namespace, so it lands in the provider's default namespace")


no_default_namespace = ResourceValidationPolicy(
    name="no-default-namespace",
    description="Nothing is deployed into the default namespace, explicitly or by leaving a namespaced object's "
    "(or a chart's) namespace unset.",
    validate=_no_default_namespace,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="CIS Kubernetes Benchmark", version="1.9", reference="5.7.4"),
)

POLICIES = [
    namespace_explicit_name,
    tenant_namespace_not_reserved,
    tenant_namespace_labels,
    namespace_pod_security,
    tenant_namespace_prefix,
    no_default_namespace,
]
