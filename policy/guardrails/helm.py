"""Helm: charts go through helm.v4.Chart, whose objects CrossGuard and transforms can see."""

from __future__ import annotations

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy, Severity

from ._util import Report, for_types

HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"


@for_types(HELM_RELEASE_TYPE)
def _no_release(args: ResourceValidationArgs, report: Report) -> None:
    report(f"'{args.name}' is a helm.v3.Release: its objects bypass policy; use helm.v4.Chart")


no_helm_release = ResourceValidationPolicy(
    name="no-helm-release",
    description="Helm charts are installed with helm.v4.Chart, never helm.v3.Release.",
    validate=_no_release,
    severity=Severity.HIGH,
)

POLICIES = [no_helm_release]
