"""guardrails/pipelines.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

from typing import Any

from guardrails import pipeline_runs
from policy_fixtures import DEPLOYMENT, POD, covers, deployment, tenant_meta
from policy_harness import check

TASK_RUN = {"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "name": "deploy-x7k2", "uid": "0b5c", "controller": True}
TF_VOLUME = {"name": "tf", "secret": {"secretName": "terraform-backend"}}


def run_pod(owners: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    """A pod as Tekton makes one for a TaskRun: owned by it, as pipeline-runner (tektoncd/pipeline v1.15.0
    pkg/pod/pod.go)."""
    pod = deployment(serviceAccountName="pipeline-runner", **spec)["spec"]["template"]["spec"]
    metadata = {**tenant_meta("deploy-x7k2-pod"), "ownerReferences": [TASK_RUN] if owners is None else owners}
    return {"metadata": metadata, "spec": pod}


@covers(pipeline_runs.workload_pipeline_runner_for_runs)
def test_workload_pipeline_runner_for_runs() -> None:
    policy = pipeline_runs.workload_pipeline_runner_for_runs
    assert check(policy, POD, run_pod()) == []
    assert check(policy, DEPLOYMENT, deployment(serviceAccountName="payments-api")) == []
    assert check(policy, DEPLOYMENT, deployment(serviceAccountName="pipeline-runner")) == [
        "Deployment 'payments/payments-api' runs as the pipeline ServiceAccount 'pipeline-runner' but is no Tekton "
        "run's pod (no TaskRun owns it)"
    ]
    replica_set = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "x", "uid": "1"}
    assert len(check(policy, POD, run_pod([replica_set]))) == 1
    assert len(check(policy, POD, run_pod([]))) == 1


@covers(pipeline_runs.workload_terraform_backend_for_runs)
def test_workload_terraform_backend_for_runs() -> None:
    policy = pipeline_runs.workload_terraform_backend_for_runs
    assert check(policy, POD, run_pod(volumes=[TF_VOLUME])) == []
    assert check(policy, DEPLOYMENT, deployment(volumes=[TF_VOLUME])) == [
        "Deployment 'payments/payments-api' reads the Terraform backend Secret 'terraform-backend' but does not "
        "run as 'pipeline-runner'"
    ]
    projected = {"name": "tf", "projected": {"sources": [{"secret": {"name": "terraform-backend"}}]}}
    assert len(check(policy, DEPLOYMENT, deployment(volumes=[projected]))) == 1
    other = {"name": "tls", "secret": {"secretName": "payments-tls"}}
    assert check(policy, DEPLOYMENT, deployment(volumes=[other])) == []
