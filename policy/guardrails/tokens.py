"""Service-account tokens: pods mount none they were not given, and nothing keeps a token that never expires.

Anchors: CIS 5.1.6 (service account tokens only where necessary), Kyverno restrict-automount-sa-token; the
Kubernetes docs on long-lived API tokens (a Secret of type kubernetes.io/service-account-token is filled by
the token controller with a token without expiry, for as long as the Secret exists). Both rules are also
ValidatingAdmissionPolicies on tenant namespaces (policy/admission_rules.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gatehouse_contract import DEPLOYER_SERVICE_ACCOUNT
from pulumi_policy import PolicyComplianceFramework, ResourceValidationArgs, ResourceValidationPolicy, Severity

from ._util import SECRET_TYPE, Report, describe, for_types, rendered_by, truthy
from .workloads import _workload_policy

CIS = "CIS Kubernetes Benchmark"
TOKEN_SECRET = "kubernetes.io/service-account-token"


def token_automount(what: str, pod: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    if truthy(pod.get("automountServiceAccountToken")):
        return [f"{what} mounts its service account's token (automountServiceAccountToken: true)"]
    return []


def not_as_deployer(what: str, pod: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    """Argo CD syncs as the deployer; a pod running as it (a Tekton run's included: the pod is made from the
    run's serviceAccountName) would hold that power with whatever code it runs."""
    if pod.get("serviceAccountName") == DEPLOYER_SERVICE_ACCOUNT:
        return [f"{what} runs as the ServiceAccount '{DEPLOYER_SERVICE_ACCOUNT}' Argo CD syncs as"]
    return []


@for_types(SECRET_TYPE)
def _no_token_secrets(args: ResourceValidationArgs, report: Report) -> None:
    if rendered_by(args.urn):
        return  # a chart's own Secrets are the chart's business
    if args.props.get("type") == TOKEN_SECRET:
        what = describe(args.resource_type, args.props, args.name)
        report(f"{what} is a {TOKEN_SECRET} Secret: a token that never expires")


workload_no_token_automount = ResourceValidationPolicy(
    name="workload-no-token-automount",
    description="No pod sets automountServiceAccountToken: true: workloads get no API token they did not ask "
    "the platform for.",
    validate=_workload_policy(token_automount),
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name=CIS, version="1.9", reference="5.1.6"),
)
no_service_account_token_secrets = ResourceValidationPolicy(
    name="no-service-account-token-secrets",
    description="No Secret of type kubernetes.io/service-account-token: its token never expires; workloads use "
    "projected, expiring tokens.",
    validate=_no_token_secrets,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name=CIS, version="1.9", reference="5.1.6"),
)

workload_not_as_deployer = ResourceValidationPolicy(
    name="workload-not-as-deployer",
    description="No pod runs as the tenant's deployer ServiceAccount, whose rights are what GitOps may change.",
    validate=_workload_policy(not_as_deployer),
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name=CIS, version="1.9", reference="5.1.5"),
)

POLICIES = [workload_no_token_automount, no_service_account_token_secrets, workload_not_as_deployer]
