"""Namespaces: explicit, unreserved names and the labels every other guardrail selects on."""

from __future__ import annotations

from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import (
    NAMESPACE_TYPE,
    PSA_ENFORCE_LABEL,
    Report,
    for_types,
    is_organization_namespace,
    is_tenant_namespace,
    labels,
)

RESERVED = [
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "argocd",
    "cert-manager",
    "envoy-gateway-system",
    "external-secrets",
    "cnpg-system",
]
REQUIRED_TENANT_LABELS = [
    "gatehouse.dev/tenant",
    "gatehouse.dev/organization",
    "gatehouse.dev/permission-profile",
    "gatehouse.dev/managed-by",
    PSA_ENFORCE_LABEL,
]
# Permission profile -> the Pod Security level its namespaces must enforce.
PSA_BY_PROFILE = {"standard": "restricted", "elevated": "baseline"}


@for_types(NAMESPACE_TYPE)
def _explicit_name(args: ResourceValidationArgs, report: Report) -> None:
    if not (is_tenant_namespace(args.props) or is_organization_namespace(args.props)):
        return
    if not (args.props.get("metadata") or {}).get("name"):
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
    if not (is_tenant_namespace(args.props) or is_organization_namespace(args.props)):
        return
    name = (args.props.get("metadata") or {}).get("name") or ""
    reserved = (args.get_config() or {}).get("reserved", RESERVED)
    if name in reserved or name.startswith("kube-"):
        report(f"Namespace '{name}' is reserved for the platform")


tenant_namespace_not_reserved = ResourceValidationPolicy(
    name="tenant-namespace-not-reserved",
    description="No tenant or organization takes a reserved namespace (default, kube-*, platform namespaces).",
    validate=_not_reserved,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="CIS Kubernetes", version="1.9", reference="5.7.4"),
    config_schema=PolicyConfigSchema(
        properties={"reserved": {"type": "array", "items": {"type": "string"}, "default": RESERVED}}
    ),
)


@for_types(NAMESPACE_TYPE)
def _tenant_labels(args: ResourceValidationArgs, report: Report) -> None:
    if not is_tenant_namespace(args.props):
        return
    found = labels(args.props)
    required = (args.get_config() or {}).get("requiredLabels", REQUIRED_TENANT_LABELS)
    missing = [label for label in required if not found.get(label)]
    if missing:
        report(f"Tenant namespace is missing label(s): {', '.join(missing)}")
    profile = found.get("gatehouse.dev/permission-profile")
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
    config_schema=PolicyConfigSchema(
        properties={"requiredLabels": {"type": "array", "items": {"type": "string"}, "default": REQUIRED_TENANT_LABELS}}
    ),
)

POLICIES = [namespace_explicit_name, tenant_namespace_not_reserved, tenant_namespace_labels]
