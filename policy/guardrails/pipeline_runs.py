"""A tenant's pipeline runs keep what is theirs: only Tekton's run pods act as `pipeline-runner`, and only pods
acting as it read seed 002's Terraform backend Secret.

`pipeline-runner` holds the tenant's deploy rights and the Secret holds the tenant's Terraform state
credentials; a tenant's repository ships Deployments and Jobs (Argo CD syncs them as `deployer`) that could
otherwise name that ServiceAccount or mount that Secret. Tekton makes each run's pod with an ownerReference to
its TaskRun (tektoncd/pipeline v1.15.0 pkg/pod/pod.go: `OwnerReferences` of the TaskRun, kind `TaskRun`),
which a Deployment's or Job's pods never have: their controllers set their own. Both rules are also
ValidatingAdmissionPolicies on tenant namespaces (policy/admission_rules.py), the gate that holds at runtime.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gatehouse_contract import PIPELINE_RUNNER_SERVICE_ACCOUNT, TERRAFORM_BACKEND_SECRET
from pulumi_policy import PolicyComplianceFramework, ResourceValidationArgs, ResourceValidationPolicy, Severity

from ._util import Report, base_type, mapping, rendered_by, sequence
from .workloads import _containers, _workload_policy, _workloads

POD_TYPE = "kubernetes:core/v1:Pod"


def _owned_by_a_task_run(obj: Mapping[str, Any]) -> bool:
    owners = sequence(mapping(obj.get("metadata")).get("ownerReferences"))
    return any(
        mapping(o).get("kind") == "TaskRun" and str(mapping(o).get("apiVersion", "")).startswith("tekton.dev/")
        for o in owners
    )


def _runner_for_runs(args: ResourceValidationArgs, report: Report) -> None:
    if rendered_by(args.urn):
        return
    for what, obj, pod, _config in _workloads(args):
        if pod.get("serviceAccountName") != PIPELINE_RUNNER_SERVICE_ACCOUNT:
            continue
        if base_type(args.resource_type) != POD_TYPE or not _owned_by_a_task_run(obj):
            report(
                f"{what} runs as the pipeline ServiceAccount '{PIPELINE_RUNNER_SERVICE_ACCOUNT}' but is no Tekton "
                "run's pod (no TaskRun owns it)"
            )


def reads_terraform_backend(pod: Mapping[str, Any]) -> bool:
    """A secret or projected volume of the Secret, or an env var or envFrom of it, in any container."""
    for volume in (mapping(v) for v in sequence(pod.get("volumes"))):
        if mapping(volume.get("secret")).get("secretName") == TERRAFORM_BACKEND_SECRET:
            return True
        sources = sequence(mapping(volume.get("projected")).get("sources"))
        if any(mapping(mapping(s).get("secret")).get("name") == TERRAFORM_BACKEND_SECRET for s in sources):
            return True
    for container in _containers(pod):
        env = (mapping(mapping(e).get("valueFrom")).get("secretKeyRef") for e in sequence(container.get("env")))
        env_from = (mapping(f).get("secretRef") for f in sequence(container.get("envFrom")))
        if any(mapping(ref).get("name") == TERRAFORM_BACKEND_SECRET for ref in (*env, *env_from)):
            return True
    return False


def terraform_backend_for_runs(what: str, pod: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    if reads_terraform_backend(pod) and pod.get("serviceAccountName") != PIPELINE_RUNNER_SERVICE_ACCOUNT:
        return [
            f"{what} reads the Terraform backend Secret '{TERRAFORM_BACKEND_SECRET}' but does not run as "
            f"'{PIPELINE_RUNNER_SERVICE_ACCOUNT}'"
        ]
    return []


workload_pipeline_runner_for_runs = ResourceValidationPolicy(
    name="workload-pipeline-runner-for-runs",
    description="Only Tekton's run pods (a Pod a TaskRun owns) run as a tenant's pipeline-runner ServiceAccount, "
    "which holds the tenant's deploy rights.",
    validate=_runner_for_runs,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="CIS Kubernetes Benchmark", version="1.9", reference="5.1.5"),
)
workload_terraform_backend_for_runs = ResourceValidationPolicy(
    name="workload-terraform-backend-for-runs",
    description="Only pods running as pipeline-runner read a tenant's Terraform backend Secret (seed 002): its "
    "state credentials are its pipeline runs' alone.",
    validate=_workload_policy(terraform_backend_for_runs),
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="CIS Kubernetes Benchmark", version="1.9", reference="5.4.1"),
)

POLICIES = [workload_pipeline_runner_for_runs, workload_terraform_backend_for_runs]
