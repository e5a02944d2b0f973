"""Helm: charts go through helm.v4.Chart, whose objects CrossGuard and transforms can see, at pinned versions.

Anchors: Pulumi docs (pulumi-hugo #1023: a Release's objects bypass policy; pulumi/pulumi #10055), the
architecture's decision "never helm.v3.Release; versions of every chart pinned in one module".
"""

from __future__ import annotations

import re

from pulumi_policy import PolicyComplianceFramework, ResourceValidationArgs, ResourceValidationPolicy, Severity

from ._util import HELM_RELEASE_TYPE, HELM_V3_CHART_TYPE, HELM_V4_CHART_TYPE, Report, for_types

PULUMI = "Pulumi Kubernetes"
# SemVer ranges and wildcards Helm accepts for `version`: ^1.2, ~1.2, >=1, 1.x, *, 1.2 || 1.3
VERSION_RANGE_RE = re.compile(r"[\^~<>=*|]|(^|\.)[xX](\.|$)|\s")


@for_types(HELM_RELEASE_TYPE)
def _no_release(args: ResourceValidationArgs, report: Report) -> None:
    report(f"'{args.name}' is a helm.v3.Release: its objects bypass policy; use helm.v4.Chart")


no_helm_release = ResourceValidationPolicy(
    name="no-helm-release",
    description="Helm charts are installed with helm.v4.Chart, never helm.v3.Release.",
    validate=_no_release,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name=PULUMI, reference="pulumi-hugo #1023"),
)


@for_types(HELM_V3_CHART_TYPE)
def _no_v3_chart(args: ResourceValidationArgs, report: Report) -> None:
    report(f"'{args.name}' is a helm.v3.Chart: use helm.v4.Chart (CRDs ordered, transforms and policies apply)")


no_helm_v3_chart = ResourceValidationPolicy(
    name="no-helm-v3-chart",
    description="Helm charts are installed with helm.v4.Chart, not the legacy helm.v3.Chart.",
    validate=_no_v3_chart,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name=PULUMI, reference="pulumi-kubernetes #3110, #3160"),
)


@for_types(HELM_V4_CHART_TYPE, HELM_V3_CHART_TYPE, HELM_RELEASE_TYPE)
def _version_pinned(args: ResourceValidationArgs, report: Report) -> None:
    chart = str(args.props.get("chart") or "")
    version = str(args.props.get("version") or "")
    if "@sha256:" in chart:
        return
    if not version:
        report(f"Chart '{args.name}' ({chart}) has no version: every install could get a different chart")
    elif version == "latest" or VERSION_RANGE_RE.search(version):
        report(f"Chart '{args.name}' ({chart}) version '{version}' is a range, not a pinned version")


helm_chart_version_pinned = ResourceValidationPolicy(
    name="helm-chart-version-pinned",
    description="Every Helm chart is pinned to an exact version.",
    validate=_version_pinned,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="Kyverno", reference="disallow-latest-tag (charts)"),
)

POLICIES = [no_helm_release, no_helm_v3_chart, helm_chart_version_pinned]
