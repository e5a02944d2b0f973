"""Production protection: things whose replacement or deletion loses data are protected.

A replaced Namespace deletes everything in it; a deleted CRD deletes every custom resource of its kind;
a deleted database cluster deletes its data (pulumi-kubernetes #2882, #2459, #2948). These rules are
mandatory in prod and advisory in staging, whose resources are deliberately not protected.

Nothing else is protected: a chart's children inherit `protect` from it, so a protected chart could never
replace or delete any object it renders on an upgrade. Its CRDs are protected through a transform
(components/meta.py `keep_data`); `pulumi preview` sees them as the chart's children, the offline preview
(which does not render charts) sees only that the chart itself is not protected.
"""

from __future__ import annotations

from gatehouse_contract import CNPG_CLUSTER_TYPE, CRD_TYPE, MANAGED_BY_LABEL, NAMESPACE_TYPE
from pulumi_policy import (
    PolicyComplianceFramework,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import (
    HELM_V3_CHART_TYPE,
    HELM_V4_CHART_TYPE,
    YAML_V2_CONFIG_FILE_TYPE,
    Report,
    describe,
    for_types,
    is_organization_namespace,
    is_tenant_namespace,
    labels,
    rendered_by,
)

PULUMI_ISSUES = "pulumi-kubernetes"


# Protection is about deleting the object itself: a Patch's deletion only gives up its fields, so only the
# plain kinds are checked (variants=False).
@for_types(NAMESPACE_TYPE, variants=False)
def _namespace_protected(args: ResourceValidationArgs, report: Report) -> None:
    managed = (
        is_tenant_namespace(args) or is_organization_namespace(args) or bool(labels(args.props).get(MANAGED_BY_LABEL))
    )
    if managed and not args.opts.protect:
        report(f"Namespace '{args.name}' is not protected; a replace or delete would remove everything in it")


protected_namespaces = ResourceValidationPolicy(
    name="protected-namespaces",
    description="Tenant, organization and platform namespaces are protected (enforced in prod, advisory in staging).",
    validate=_namespace_protected,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name=PULUMI_ISSUES, reference="#2882, #2459"),
)


@for_types(CNPG_CLUSTER_TYPE, variants=False)
def _database_protected(args: ResourceValidationArgs, report: Report) -> None:
    if not args.opts.protect:
        report(f"{describe(args.resource_type, args.props, args.name)} is not protected; deleting it deletes its data")


protected_databases = ResourceValidationPolicy(
    name="protected-databases",
    description="CloudNativePG database clusters are protected (enforced in prod, advisory in staging).",
    validate=_database_protected,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name=PULUMI_ISSUES, reference="#2882"),
)


@for_types(CRD_TYPE, HELM_V4_CHART_TYPE, HELM_V3_CHART_TYPE, YAML_V2_CONFIG_FILE_TYPE, variants=False)
def _crds_protected(args: ResourceValidationArgs, report: Report) -> None:
    kind = args.resource_type.rsplit(":", 1)[-1]
    if args.resource_type == CRD_TYPE:
        if not args.opts.protect:
            through = " (give the chart that renders it a transform that protects it)" if rendered_by(args.urn) else ""
            report(
                f"CustomResourceDefinition '{args.name}' is not protected; deleting it deletes every custom "
                f"resource of its kind{through}"
            )
    elif args.opts.protect:
        report(
            f"{kind} '{args.name}' is protected: every object it renders inherits that, so an upgrade that "
            "replaces or deletes one of them fails; protect its CRDs through a transform instead"
        )


protected_crds = ResourceValidationPolicy(
    name="protected-crds",
    description="CustomResourceDefinitions are protected, those a chart renders included (through a transform), "
    "and charts themselves are not, since all they render would inherit it (enforced in prod, advisory in staging).",
    validate=_crds_protected,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name=PULUMI_ISSUES, reference="#2882"),
)

POLICIES = [protected_namespaces, protected_databases, protected_crds]
