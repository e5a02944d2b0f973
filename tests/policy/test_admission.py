"""Both gates, one answer: every admission rule's fixtures through its CrossGuard policy and through its CEL.

The CEL runs on cel-python (celpy), which evaluates standard CEL: the rules keep to what Kubernetes and it
share (policy/admission_rules.py). The policy's variables are evaluated in order, as the API server does
(admissionregistration.k8s.io/v1 `variables`), then the validation; true allows. The preview gate is the
pack policy the rule names, run in-process; it denies when one of its findings carries the rule's words.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import celpy
import pytest
from guardrails import POLICIES, pod_security
from policy_fixtures import DEPLOYMENT, NETPOL, SECRET, container, deployment, tenant_meta, tenant_ns
from policy_harness import Res, check, stack_violations
from pulumi_policy import ResourceValidationPolicy

from policy import admission_rules as rules

POD = "kubernetes:core/v1:Pod"
CRONJOB = "kubernetes:batch/v1:CronJob"
SERVICE = "kubernetes:core/v1:Service"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
BY_NAME = {policy.name: policy for policy in POLICIES}
ENVIRONMENT = celpy.Environment()


def admitted(rule: rules.AdmissionRule, obj: dict[str, Any]) -> bool:
    """The API server's answer: the variables in order, then the validation (an error denies: Fail)."""
    variables: dict[str, Any] = {}
    for name, expression in rule.variables:
        program = ENVIRONMENT.program(ENVIRONMENT.compile(expression))
        variables[name] = program.evaluate(
            {"object": celpy.json_to_cel(obj), "variables": celpy.celtypes.MapType(variables)}
        )
    program = ENVIRONMENT.program(ENVIRONMENT.compile(rule.expression))
    result = program.evaluate({"object": celpy.json_to_cel(obj), "variables": celpy.celtypes.MapType(variables)})
    assert isinstance(result, celpy.celtypes.BoolType), (rule.name, result)
    return bool(result)


def previewed(rule: rules.AdmissionRule, type_: str, obj: dict[str, Any]) -> bool:
    """The pack's answer: no finding of the rule's policy carries the rule's words."""
    policy = BY_NAME[rule.preview]
    if isinstance(policy, ResourceValidationPolicy):
        messages = check(policy, type_, obj, name=obj["metadata"]["name"])
    else:
        world = [Res("kubernetes:core/v1:Namespace", "payments", tenant_ns()), Res(type_, "fixture", obj)]
        messages = [message for message, _ in stack_violations(policy, world)]
    return not any(rule.finding in message for message in messages)


# --- fixtures: a compliant object per kind, and what breaks each rule ---------------------------------------


def workload(kind: str = "Deployment") -> tuple[str, dict[str, Any]]:
    """A compliant workload of `kind` in a standard tenant's namespace."""
    base = deployment()
    base["metadata"] = tenant_meta("payments-api")
    pod = base["spec"]["template"]["spec"]
    if kind == "Pod":
        return POD, {"apiVersion": "v1", "kind": "Pod", "metadata": base["metadata"], "spec": pod}
    if kind == "CronJob":
        template = {"spec": {"template": {"spec": {**pod, "restartPolicy": "OnFailure"}}}}
        spec = {"schedule": "@hourly", "jobTemplate": template}
        return CRONJOB, {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": base["metadata"], "spec": spec}
    return DEPLOYMENT, {"apiVersion": "apps/v1", "kind": "Deployment", **base}


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    if obj["kind"] == "Pod":
        found: dict[str, Any] = obj["spec"]
    elif obj["kind"] == "CronJob":
        found = obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    else:
        found = obj["spec"]["template"]["spec"]
    return found


def first_container(obj: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = pod_spec(obj)["containers"][0]
    return found


def security(**fields: Any) -> Callable[[dict[str, Any]], None]:
    """Set fields of the first container's securityContext."""

    def apply(obj: dict[str, Any]) -> None:
        first_container(obj)["securityContext"].update(fields)

    return apply


def pod(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def apply(obj: dict[str, Any]) -> None:
        pod_spec(obj).update(fields)

    return apply


def without_context(field: str) -> Callable[[dict[str, Any]], None]:
    def apply(obj: dict[str, Any]) -> None:
        first_container(obj)["securityContext"].pop(field)

    return apply


def resources(kind: str, name: str) -> Callable[[dict[str, Any]], None]:
    def apply(obj: dict[str, Any]) -> None:
        first_container(obj)["resources"][kind].pop(name)

    return apply


def image(value: str) -> Callable[[dict[str, Any]], None]:
    def apply(obj: dict[str, Any]) -> None:
        first_container(obj)["image"] = value

    return apply


def sidecar(**changes: Any) -> Callable[[dict[str, Any]], None]:
    """An init container with its own settings (rules hold for every container, not the first only)."""

    def apply(obj: dict[str, Any]) -> None:
        pod_spec(obj)["initContainers"] = [container(name="init", **changes)]

    return apply


def env_from_secret(name: str) -> Callable[[dict[str, Any]], None]:
    def apply(obj: dict[str, Any]) -> None:
        first_container(obj)["envFrom"] = [{"secretRef": {"name": name}}]

    return apply


def env_var_from_secret(name: str) -> Callable[[dict[str, Any]], None]:
    def apply(obj: dict[str, Any]) -> None:
        first_container(obj)["env"] = [{"name": "TF", "valueFrom": {"secretKeyRef": {"name": name, "key": "k"}}}]

    return apply


def as_runner(kind: str, owner: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """A workload of `kind` running as pipeline-runner (a Pod owned by `owner`)."""
    type_, obj = workload(kind)
    pod_spec(obj)["serviceAccountName"] = "pipeline-runner"
    if owner:
        obj["metadata"]["ownerReferences"] = [owner]
    return type_, obj


TASK_RUN = {"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "name": "deploy-x7k2", "uid": "0b5c", "controller": True}


def unmasked(obj: dict[str, Any]) -> None:
    first_container(obj)["securityContext"]["procMount"] = "Unmasked"


def no_pod_non_root(obj: dict[str, Any]) -> None:
    pod_spec(obj)["securityContext"].pop("runAsNonRoot")
    first_container(obj)["securityContext"].pop("runAsNonRoot")


# rule -> (breaking mutations, mutations that keep it whole) on a workload
WORKLOAD_CASES: dict[str, tuple[list[Callable[[dict[str, Any]], None]], list[Callable[[dict[str, Any]], None]]]] = {
    "no-host-network": ([pod(hostNetwork=True)], [pod(hostNetwork=False)]),
    "no-host-pid": ([pod(hostPID=True)], [pod(hostPID=False)]),
    "no-host-ipc": ([pod(hostIPC=True)], [pod(hostIPC=False)]),
    "no-host-path-volumes": (
        [pod(volumes=[{"name": "docker", "hostPath": {"path": "/var/run"}}])],
        [pod(volumes=[{"name": "cache", "emptyDir": {}}])],
    ),
    "no-privileged-containers": ([security(privileged=True)], [security(privileged=False)]),
    "no-host-ports": (
        [lambda o: first_container(o).update(ports=[{"containerPort": 80, "hostPort": 80}])],
        [lambda o: first_container(o).update(ports=[{"containerPort": 80}])],
    ),
    "run-as-non-root": (
        [security(runAsNonRoot=False), no_pod_non_root],
        [without_context("runAsNonRoot")],  # the pod's runAsNonRoot holds for it
    ),
    "no-root-uid": (
        [
            security(runAsUser=0),
            pod(securityContext={"runAsNonRoot": True, "runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}}),
        ],
        [security(runAsUser=1000)],
    ),
    "no-privilege-escalation": (
        [security(allowPrivilegeEscalation=True), without_context("allowPrivilegeEscalation")],
        [],
    ),
    "drop-all-capabilities": (
        [security(capabilities={"drop": ["NET_RAW"]}), without_context("capabilities")],
        [security(capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})],
    ),
    "no-added-capabilities": (
        [security(capabilities={"drop": ["ALL"], "add": ["NET_ADMIN"]})],
        [security(capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})],
    ),
    "seccomp-runtime-default": (
        [pod(securityContext={"runAsNonRoot": True}), security(seccompProfile={"type": "Unconfined"})],
        [security(seccompProfile={"type": "Localhost", "localhostProfile": "p.json"})],
    ),
    "read-only-root-filesystem": (
        [security(readOnlyRootFilesystem=False), without_context("readOnlyRootFilesystem")],
        [],
    ),
    "cpu-requests": ([resources("requests", "cpu")], [sidecar()]),
    "memory-requests": ([resources("requests", "memory")], [sidecar()]),
    "memory-limits": ([resources("limits", "memory")], [sidecar()]),
    "image-tagged": (
        [image("ghcr.io/acme-corp/payments"), image("localhost:5000/payments")],
        [image("ghcr.io/acme-corp/payments@sha256:" + "a" * 64), image("localhost:5000/payments:2")],
    ),
    "image-not-latest": ([image("ghcr.io/acme-corp/payments:latest")], [image("ghcr.io/acme-corp/payments:latest-2")]),
    "no-deployer-pods": ([pod(serviceAccountName="deployer")], [pod(serviceAccountName="payments-api")]),
    "terraform-backend-for-runs-only": (
        [
            pod(volumes=[{"name": "tf", "secret": {"secretName": "terraform-backend"}}]),
            pod(volumes=[{"name": "tf", "projected": {"sources": [{"secret": {"name": "terraform-backend"}}]}}]),
            env_from_secret("terraform-backend"),
            env_var_from_secret("terraform-backend"),
        ],
        [
            pod(
                serviceAccountName="pipeline-runner",
                volumes=[{"name": "tf", "secret": {"secretName": "terraform-backend"}}],
            ),
            pod(volumes=[{"name": "tls", "secret": {"secretName": "payments-tls"}}]),
            env_from_secret("payments-config"),
        ],
    ),
    "no-token-automount": ([pod(automountServiceAccountToken=True)], [pod(automountServiceAccountToken=False)]),
    "safe-sysctls": (
        [pod(securityContext={"runAsNonRoot": True, "sysctls": [{"name": "kernel.msgmax", "value": "1"}]})],
        [pod(securityContext={"runAsNonRoot": True, "sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}]})],
    ),
    "default-proc-mount": ([unmasked], [security(procMount="Default")]),
    "no-unconfined-apparmor": (
        [security(appArmorProfile={"type": "Unconfined"})],
        [security(appArmorProfile={"type": "RuntimeDefault"})],
    ),
    "restricted-volume-types": (
        [pod(volumes=[{"name": "share", "nfs": {"server": "10.0.0.5", "path": "/x"}}])],
        [pod(volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}])],
    ),
}


def service(**spec: Any) -> tuple[str, dict[str, Any]]:
    body = {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": 8080}], **spec}
    return SERVICE, {"apiVersion": "v1", "kind": "Service", "metadata": tenant_meta("api"), "spec": body}


def network_policy(
    ingress: list[dict[str, Any]], egress: list[dict[str, Any]] | None = None
) -> tuple[str, dict[str, Any]]:
    spec: dict[str, Any] = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": ingress}
    if egress is not None:
        spec["egress"] = egress
    return NETPOL, {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": tenant_meta("np"),
        "spec": spec,
    }


def service_account(**fields: Any) -> tuple[str, dict[str, Any]]:
    return SERVICE_ACCOUNT, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": tenant_meta("worker"), **fields}


def secret(type_: str) -> tuple[str, dict[str, Any]]:
    return SECRET, {"apiVersion": "v1", "kind": "Secret", "metadata": tenant_meta("creds"), "type": type_}


SAME_NAMESPACE = {"podSelector": {"matchLabels": {"app": "web"}}}
TENANTS = {"namespaceSelector": {"matchLabels": {"gatehouse.dev/tenant": "payments"}}}
# rule -> (breaking objects, objects it allows)
OTHER_CASES: dict[str, tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, dict[str, Any]]]]] = {
    "no-loadbalancer-services": ([service(type="LoadBalancer")], [service(), service(type="ClusterIP")]),
    "no-nodeport-services": ([service(type="NodePort")], [service(type="ClusterIP")]),
    "no-external-ips": ([service(externalIPs=["203.0.113.7"])], [service(externalIPs=[])]),
    "networkpolicy-no-open-ingress": (
        [
            network_policy([{"ports": [{"port": 8080}]}]),
            network_policy([{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]),
            network_policy([{"from": [SAME_NAMESPACE, {"ipBlock": {"cidr": "::/0"}}]}]),
        ],
        [network_policy([{"from": [SAME_NAMESPACE]}]), network_policy([])],
    ),
    "networkpolicy-no-empty-namespace-selector": (
        [
            network_policy([{"from": [{"namespaceSelector": {}}]}]),
            network_policy([{"from": [SAME_NAMESPACE]}], [{"to": [{"namespaceSelector": {"matchLabels": {}}}]}]),
        ],
        [network_policy([{"from": [TENANTS]}], [{"to": [TENANTS]}, {"ports": [{"port": 53, "protocol": "UDP"}]}])],
    ),
    "serviceaccount-no-automount": (
        [
            service_account(),
            service_account(automountServiceAccountToken=True),
            (
                SERVICE_ACCOUNT,
                {**service_account(automountServiceAccountToken=True)[1], "metadata": tenant_meta("default")},
            ),
        ],
        [service_account(automountServiceAccountToken=False)],
    ),
    "pipeline-runner-for-runs-only": (
        [
            as_runner("Deployment"),
            as_runner("CronJob"),
            as_runner("Pod"),
            as_runner("Pod", {**TASK_RUN, "apiVersion": "example.com/v1"}),
            as_runner("Pod", {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "x", "uid": "1"}),
        ],
        [as_runner("Pod", TASK_RUN), workload("Deployment")],
    ),
    "no-service-account-token-secrets": (
        [secret("kubernetes.io/service-account-token")],
        [secret("Opaque"), secret("kubernetes.io/tls")],
    ),
}


def _cases() -> list[tuple[str, str, dict[str, Any], bool]]:
    """(rule, type, object, allowed) for every fixture: workload rules on a Deployment, a Pod and a CronJob."""
    found = []
    for name, (breaking, keeping) in WORKLOAD_CASES.items():
        for kind in ("Deployment", "Pod", "CronJob"):
            type_, base = workload(kind)
            found.append((name, type_, base, True))
            for mutations, allowed in ((breaking, False), (keeping, True)):
                for mutate in mutations:
                    obj = copy.deepcopy(base)
                    mutate(obj)
                    found.append((name, type_, obj, allowed))
    for name, (breaking_objects, allowed_objects) in OTHER_CASES.items():
        found += [(name, type_, obj, False) for type_, obj in breaking_objects]
        found += [(name, type_, obj, True) for type_, obj in allowed_objects]
    return found


CASES = _cases()


@pytest.mark.parametrize(
    ("rule_name", "type_", "obj", "allowed"),
    CASES,
    ids=[f"{c[0]}-{c[2]['kind']}-{'allowed' if c[3] else 'denied'}-{i}" for i, c in enumerate(CASES)],
)
def test_both_gates_give_every_fixture_the_same_answer(
    rule_name: str, type_: str, obj: dict[str, Any], allowed: bool
) -> None:
    rule = next(r for r in rules.RULES if r.name == rule_name)
    assert previewed(rule, type_, obj) is allowed, "the CrossGuard policy"
    assert admitted(rule, obj) is allowed, "the admission CEL"


def test_every_rule_has_fixtures_both_ways_and_a_policy_in_the_pack() -> None:
    covered = {(name, allowed) for name, _, _, allowed in CASES}
    for rule in rules.RULES:
        assert {(rule.name, True), (rule.name, False)} <= covered, rule.name
        assert rule.preview in BY_NAME, rule.name
    assert len({r.name for r in rules.RULES}) == len(rules.RULES) >= 30


def test_the_lists_both_gates_use_are_the_same() -> None:
    """Pod Security's safe sysctls and restricted volume sources, as the pack and the admission rules hold them."""
    assert set(rules.SAFE_SYSCTLS) == set(pod_security.SAFE_SYSCTLS)
    assert set(rules.RESTRICTED_VOLUME_SOURCES) == set(pod_security.RESTRICTED_VOLUME_SOURCES)


def test_restricted_rules_bind_to_standard_tenants_only() -> None:
    """Elevated tenants run at Pod Security baseline (their namespaces' enforce label): the restricted
    profile's rules do not hold there, the baseline's do."""
    restricted = {r.name for r in rules.RULES if r.profiles == rules.RESTRICTED}
    assert {"run-as-non-root", "drop-all-capabilities", "restricted-volume-types"} <= restricted
    assert {"no-host-network", "no-privileged-containers", "safe-sysctls"}.isdisjoint(restricted)


def test_the_readme_lists_every_rule_with_both_gates() -> None:
    """README "Two gates": one row per rule, naming its pack policy (the preview gate)."""
    import re

    from conftest import REPO

    rows = re.findall(
        r"^\| `([a-z0-9-]+)` \| .* \| `([a-z0-9-]+)` \| [a-z, ]+ \| (all|standard) \|$",
        (REPO / "README.md").read_text(),
        re.M,
    )
    assert rows == [(r.name, r.preview, "standard" if r.profiles == rules.RESTRICTED else "all") for r in rules.RULES]
