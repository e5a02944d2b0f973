"""guardrails/workloads.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

import copy

from guardrails import POLICIES, workloads
from policy_fixtures import CHART, CRONJOB, DEPLOYMENT, GATEWAY_URN, POD, container, covers, deployment, meta
from policy_harness import check, urn_for
from pulumi_policy import ResourceValidationPolicy


@covers(workloads.workload_no_host_access)
def test_workload_no_host_access() -> None:
    bad = container(ports=[{"containerPort": 8080, "hostPort": 8080}])
    bad["securityContext"]["privileged"] = True
    props = deployment(
        [bad], hostNetwork=True, hostPID=True, volumes=[{"name": "docker", "hostPath": {"path": "/var/run"}}]
    )
    what = "Deployment 'payments/payments-api'"
    assert check(workloads.workload_no_host_access, DEPLOYMENT, props) == [
        f"{what} uses hostNetwork",
        f"{what} uses hostPID",
        f"{what} mounts the host path '/var/run' (volume 'docker')",
        f"{what} container 'app' is privileged",
        f"{what} container 'app' binds host port 8080",
    ]


@covers(workloads.workload_restricted_security_context)
def test_workload_restricted_security_context() -> None:
    root = container(name="root", securityContext={"runAsUser": 0, "capabilities": {"add": ["NET_ADMIN"]}})
    props = deployment([container(), root])
    what = "Deployment 'payments/payments-api' container 'root'"
    assert check(workloads.workload_restricted_security_context, DEPLOYMENT, props) == [
        f"{what} runs as UID 0",
        f"{what} does not set allowPrivilegeEscalation: false",
        f"{what} does not drop ALL capabilities",
        f"{what} adds capabilities: NET_ADMIN",
        f"{what} does not set readOnlyRootFilesystem: true",
    ]
    writable = container(name="init")
    writable["securityContext"]["readOnlyRootFilesystem"] = False
    assert check(workloads.workload_restricted_security_context, DEPLOYMENT, deployment(initContainers=[writable])) == [
        "Deployment 'payments/payments-api' container 'init' does not set readOnlyRootFilesystem: true"
    ]
    no_seccomp = deployment(securityContext={"runAsNonRoot": True})
    assert check(workloads.workload_restricted_security_context, DEPLOYMENT, no_seccomp) == [
        "Deployment 'payments/payments-api' container 'app' has no RuntimeDefault seccomp profile"
    ]
    as_root = deployment(securityContext={"seccompProfile": {"type": "RuntimeDefault"}})
    as_root["spec"]["template"]["spec"]["containers"][0]["securityContext"].pop("runAsNonRoot")
    assert check(workloads.workload_restricted_security_context, DEPLOYMENT, as_root) == [
        "Deployment 'payments/payments-api' container 'app' may run as root (runAsNonRoot is not true)"
    ]


def test_workload_patches_are_held_to_what_they_set() -> None:
    """A DeploymentPatch may not make a pod privileged or root; fields it leaves out are not missing."""
    patch = DEPLOYMENT + "Patch"
    image_only = {
        "metadata": {"name": "payments-api", "namespace": "payments"},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "ghcr.io/acme-corp/payments:1.4.3"}]}}},
    }
    for policy in POLICIES:
        if isinstance(policy, ResourceValidationPolicy):
            assert check(policy, patch, image_only) == [], policy.name
    bad = copy.deepcopy(image_only)
    bad["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {
        "privileged": True,
        "allowPrivilegeEscalation": True,
        "runAsUser": 0,
        "readOnlyRootFilesystem": False,
    }
    what = "DeploymentPatch 'payments/payments-api' container 'app'"
    assert check(workloads.workload_no_host_access, patch, bad) == [f"{what} is privileged"]
    assert check(workloads.workload_restricted_security_context, patch, bad) == [
        f"{what} runs as UID 0",
        f"{what} does not set allowPrivilegeEscalation: false",
        f"{what} does not set readOnlyRootFilesystem: true",
    ]


@covers(workloads.workload_resources)
def test_workload_resources() -> None:
    init = container(name="migrate", resources={"requests": {"cpu": "50m"}})
    props = deployment([container(resources=None)], initContainers=[init])
    assert check(workloads.workload_resources, DEPLOYMENT, props) == [
        "Deployment 'payments/payments-api' container 'app' has no requests.cpu, requests.memory, limits.memory",
        "Deployment 'payments/payments-api' container 'migrate' has no requests.memory, limits.memory",
    ]


def test_cronjob_and_pod_specs_are_found() -> None:
    pod_spec = deployment([container(resources=None)])["spec"]["template"]["spec"]
    cron = {
        "metadata": meta("nightly", "payments"),
        "spec": {"jobTemplate": {"spec": {"template": {"spec": pod_spec}}}},
    }
    assert len(check(workloads.workload_resources, CRONJOB, cron)) == 1
    pod = {"metadata": meta("debug", "payments"), "spec": pod_spec}
    assert len(check(workloads.workload_resources, POD, pod)) == 1


@covers(workloads.workload_image_pinned)
def test_workload_image_pinned() -> None:
    props = deployment(
        [
            container(name="a", image="nginx"),
            container(name="b", image="ghcr.io/acme/app:latest"),
            container(name="c", image="ghcr.io/acme/app@sha256:" + "a" * 64),
            container(name="d", image="localhost:5000/app:1.0"),
        ]
    )
    assert check(workloads.workload_image_pinned, DEPLOYMENT, props) == [
        "Deployment 'payments/payments-api' container 'a' image 'nginx' has no tag",
        "Deployment 'payments/payments-api' container 'b' image 'ghcr.io/acme/app:latest' uses the :latest tag",
    ]


@covers(workloads.workload_image_registry)
def test_workload_image_registry() -> None:
    props = deployment([container(name="a", image="evil.example.com/miner:1.0"), container(name="b", image="nginx:1")])
    assert check(workloads.workload_image_registry, DEPLOYMENT, props) == [
        "Deployment 'payments/payments-api' container 'a' image 'evil.example.com/miner:1.0' is not from an allowed "
        "registry"
    ]
    narrow = {"allowedRegistries": ["ghcr.io/acme-corp"]}
    assert check(workloads.workload_image_registry, DEPLOYMENT, deployment(), config=narrow) == []
    assert len(check(workloads.workload_image_registry, DEPLOYMENT, props, config=narrow)) == 2


@covers(workloads.chart_workload_hygiene)
def test_chart_workload_hygiene() -> None:
    chart_urn = urn_for(CHART, "cert-manager", GATEWAY_URN)
    props = deployment([container(resources=None)])
    direct = workloads.workload_resources
    assert check(direct, DEPLOYMENT, props, parent=chart_urn) == []  # chart children: audited, not enforced
    assert check(workloads.chart_workload_hygiene, DEPLOYMENT, props, parent=chart_urn) == [
        "Deployment 'payments/payments-api' container 'app' has no requests.cpu, requests.memory, limits.memory "
        "(rendered by Chart)"
    ]
    assert check(workloads.chart_workload_hygiene, DEPLOYMENT, props) == []  # direct workloads: the rules above
    # a writable root filesystem is not reported for charts (grafana's and authentik's defaults)
    writable = container()
    del writable["securityContext"]["readOnlyRootFilesystem"]
    assert check(workloads.chart_workload_hygiene, DEPLOYMENT, deployment([writable]), parent=chart_urn) == []
    as_root = container(securityContext={"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}})
    as_root_pod = deployment([as_root], securityContext={"seccompProfile": {"type": "RuntimeDefault"}})
    assert check(workloads.chart_workload_hygiene, DEPLOYMENT, as_root_pod, parent=chart_urn) == [
        "Deployment 'payments/payments-api' container 'app' may run as root (runAsNonRoot is not true) "
        "(rendered by Chart)"
    ]
