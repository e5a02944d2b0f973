"""A Tekton run's pod in a `standard` tenant passes the admission rules, with the feature flags Gatehouse's
TektonConfig sets, and does not without them (issue 21).

The pod is shaped as tektoncd/pipeline v1.15.0 builds it for a TaskRun (pkg/pod/pod.go `Build`): the init
container `prepare` (entrypointInitContainer: the entrypoint image copying itself to /tekton/bin), `place-scripts`
for steps with a script (pkg/pod/script.go), the step containers `step-<name>`, the `tekton-internal-*`
emptyDir and downwardAPI volumes, the workspace's Secret volume, the run's ServiceAccount, and the pod-level
securityContext and token automount of the run's pod template (none here: the dispatcher template sets none).
Tekton's own containers get pkg/pod/security_context_config.go `LinuxSecurityContext` when `set-security-context`
is on, with `readOnlyRootFilesystem` when `set-security-context-read-only-root-filesystem` is on too (both
"false" in config/config-feature-flags.yaml). A step's securityContext is the tenant's Task's (its `stepTemplate`),
like any container a tenant writes. Resources are the tenant's LimitRange defaults (tenancy/sizes.py), which
the LimitRanger admission plugin fills in before validating admission policies run.

The CEL is evaluated as test_admission.py does.
"""

from __future__ import annotations

from typing import Any

from test_admission import admitted

from components.pipelines.tekton import READ_ONLY_ROOT_FLAG, tekton_config_spec
from components.tenancy.sizes import DEFAULT_LIMITS, DEFAULT_REQUESTS
from policy import admission_rules as rules

DIGEST = "@sha256:" + "0" * 64  # release images are pinned by digest
ENTRYPOINT = "ghcr.io/tektoncd/pipeline/entrypoint-bff0a22da108bc2f16c818c97641a296" + DIGEST
SHELL = "cgr.dev/chainguard/busybox" + DIGEST
RESOURCES = {"requests": dict(DEFAULT_REQUESTS), "limits": dict(DEFAULT_LIMITS)}
TENANT_STEP_CONTEXT = {  # a Task's stepTemplate for a standard tenant
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def tekton_context(set_security_context: bool, read_only_root: bool) -> dict[str, Any] | None:
    """pkg/pod/security_context_config.go GetSecurityContext (Linux)."""
    if not set_security_context:
        return None
    context: dict[str, Any] = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    return {**context, "readOnlyRootFilesystem": True} if read_only_root else context


def run_pod(set_security_context: bool, read_only_root: bool) -> dict[str, Any]:
    injected = tekton_context(set_security_context, read_only_root)

    def tekton_container(name: str, image: str, command: list[str]) -> dict[str, Any]:
        container = {"name": name, "image": image, "command": command, "workingDir": "/", "resources": RESOURCES}
        return {**container, "securityContext": injected} if injected else container

    internal = ["bin", "steps", "scripts", "home", "results", "workspace"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "deploy-abcde-deploy-pod",
            "namespace": "archon",
            "labels": {"tekton.dev/task": "deploy"},
            # pkg/pod/pod.go: `metav1.NewControllerRef(taskRun, groupVersionKind)`, a tekton.dev/v1 TaskRun
            "ownerReferences": [
                {
                    "apiVersion": "tekton.dev/v1",
                    "kind": "TaskRun",
                    "name": "deploy-abcde",
                    "uid": "9f1c",
                    "controller": True,
                }
            ],
        },
        "spec": {
            "restartPolicy": "Never",
            "serviceAccountName": "pipeline-runner",
            "initContainers": [
                tekton_container("prepare", ENTRYPOINT, ["/ko-app/entrypoint", "init", "/ko-app/entrypoint"]),
                tekton_container("place-scripts", SHELL, ["sh"]),
            ],
            "containers": [
                {
                    "name": "step-deploy",
                    "image": "registry.example.com/archon/cdktf:1.2.3",
                    "command": ["/tekton/bin/entrypoint"],
                    "resources": RESOURCES,
                    "securityContext": TENANT_STEP_CONTEXT,
                }
            ],
            "volumes": [
                *({"name": f"tekton-internal-{v}", "emptyDir": {}} for v in internal),
                {"name": "tekton-internal-downward", "downwardAPI": {"items": []}},
                {"name": "ws-terraform-backend", "secret": {"secretName": "terraform-backend"}},
            ],
        },
    }


def gatehouse_flags() -> tuple[bool, bool]:
    """What components/pipelines/tekton.py's TektonConfig sets."""
    pipeline = tekton_config_spec()["pipeline"]
    flags = pipeline["options"]["configMaps"]["feature-flags"]["data"]
    return pipeline["set-security-context"] is True, flags[READ_ONLY_ROOT_FLAG] == "true"


def denied_by(pod: dict[str, Any]) -> list[str]:
    standard = [r for r in rules.RULES if r.resources == rules.WORKLOADS and "standard" in r.profiles]
    return [r.name for r in standard if not admitted(r, pod)]


def test_a_run_pod_with_gatehouses_flags_passes_every_standard_rule() -> None:
    assert gatehouse_flags() == (True, True)
    assert denied_by(run_pod(*gatehouse_flags())) == []


def test_without_the_read_only_root_flag_tektons_init_containers_are_refused() -> None:
    assert denied_by(run_pod(True, False)) == ["read-only-root-filesystem"]


def test_without_set_security_context_tektons_init_containers_are_refused() -> None:
    denied = set(denied_by(run_pod(False, False)))
    assert {"run-as-non-root", "no-privilege-escalation", "drop-all-capabilities", "seccomp-runtime-default"} <= denied
