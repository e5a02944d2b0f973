"""Production protection: things whose replacement or deletion loses data are protected.

A replaced Namespace deletes everything in it; a deleted CRD deletes every custom resource of its kind;
a deleted database cluster deletes its data (pulumi-kubernetes #2882, #2459, #2948). These rules are
mandatory in prod and advisory in staging, whose resources are deliberately not protected.
"""

from __future__ import annotations

import re

from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import (
    CNPG_CLUSTER_TYPE,
    CRD_TYPE,
    HELM_V3_CHART_TYPE,
    HELM_V4_CHART_TYPE,
    MANAGED_BY_LABEL,
    NAMESPACE_TYPE,
    YAML_V2_CONFIG_FILE_TYPE,
    Report,
    config_value,
    describe,
    for_types,
    is_organization_namespace,
    is_tenant_namespace,
    labels,
    rendered_by,
    sequence,
    string_list,
)

PULUMI_ISSUES = "pulumi-kubernetes"
# Charts that install CRDs (matched on the chart name, the last segment of an oci:// reference).
CRD_CHARTS = ["gateway-helm", "gateway-crds-helm", "cert-manager", "cloudnative-pg", "external-secrets", "argo-cd"]
# yaml.v2.ConfigFile sources that carry CRDs (the Keycloak operator's release manifests).
CRD_FILE_PATTERNS = [r"keycloak-k8s-resources", r"k8s\.keycloak\.org", r"(^|[/_.-])crds?([/_.-]|$)"]


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


def chart_name(chart: str) -> str:
    """`oci://docker.io/envoyproxy/gateway-helm` -> `gateway-helm`; `jetstack/cert-manager` -> `cert-manager`."""
    return chart.rstrip("/").rsplit("/", 1)[-1].split(":", 1)[0]


def _crd_bearer(args: ResourceValidationArgs) -> str | None:
    """What makes this resource carry CRDs, or None."""
    if args.resource_type == CRD_TYPE and not rendered_by(args.urn):
        return "is a CustomResourceDefinition"
    if args.resource_type in (HELM_V4_CHART_TYPE, HELM_V3_CHART_TYPE):
        name = chart_name(str(args.props.get("chart") or ""))
        if name in config_value(args, "crdCharts", CRD_CHARTS):
            return f"installs the CRDs of chart '{name}'"
    if args.resource_type == YAML_V2_CONFIG_FILE_TYPE:
        sources = [str(args.props.get("file") or ""), *(str(f) for f in sequence(args.props.get("files")))]
        patterns = [re.compile(p) for p in config_value(args, "crdFilePatterns", CRD_FILE_PATTERNS)]
        source = next((s for s in sources if any(p.search(s) for p in patterns)), None)
        if source:
            return f"installs CRDs from '{source}'"
    return None


def _crds_protected(args: ResourceValidationArgs, report: Report) -> None:
    reason = _crd_bearer(args)
    if reason and not args.opts.protect:
        report(
            f"{args.resource_type.rsplit(':', 1)[-1]} '{args.name}' {reason} but is not protected; deleting it "
            "deletes every custom resource of those kinds"
        )


protected_crd_charts = ResourceValidationPolicy(
    name="protected-crd-charts",
    description="Charts and manifests that carry CRDs (Envoy Gateway, cert-manager, CloudNativePG, External "
    "Secrets, the Keycloak operator) are protected (enforced in prod, advisory in staging).",
    validate=_crds_protected,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name=PULUMI_ISSUES, reference="#2882"),
    config_schema=PolicyConfigSchema(
        properties={
            "crdCharts": string_list(CRD_CHARTS),
            "crdFilePatterns": string_list(CRD_FILE_PATTERNS),
        }
    ),
)

POLICIES = [protected_namespaces, protected_databases, protected_crd_charts]
