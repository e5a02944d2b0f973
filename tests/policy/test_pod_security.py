"""guardrails/pod_security.py: per policy, a compliant fixture passes and a minimal failing fixture gives
exactly its violation."""

from __future__ import annotations

from guardrails import pod_security
from policy_fixtures import DEPLOYMENT, container, covers, deployment
from policy_harness import check

WHAT = "Deployment 'payments/payments-api'"


@covers(pod_security.workload_safe_sysctls)
def test_workload_safe_sysctls() -> None:
    sysctls = [{"name": "net.ipv4.tcp_syncookies", "value": "1"}, {"name": "kernel.msgmax", "value": "65536"}]
    props = deployment(securityContext={"runAsNonRoot": True, "sysctls": sysctls})
    assert check(pod_security.workload_safe_sysctls, DEPLOYMENT, props) == [
        f"{WHAT} sets the unsafe sysctl 'kernel.msgmax'"
    ]
    assert check(pod_security.workload_safe_sysctls, DEPLOYMENT, deployment()) == []


@covers(pod_security.workload_default_proc_mount)
def test_workload_default_proc_mount() -> None:
    unmasked = container()
    unmasked["securityContext"]["procMount"] = "Unmasked"
    defaulted = container(name="side")
    defaulted["securityContext"]["procMount"] = "Default"
    props = deployment([unmasked, defaulted])
    assert check(pod_security.workload_default_proc_mount, DEPLOYMENT, props) == [
        f"{WHAT} container 'app' sets procMount Unmasked"
    ]


@covers(pod_security.workload_no_unconfined_apparmor)
def test_workload_no_unconfined_apparmor() -> None:
    app = container()
    app["securityContext"]["appArmorProfile"] = {"type": "Unconfined"}
    props = deployment([app], securityContext={"appArmorProfile": {"type": "RuntimeDefault"}})
    assert check(pod_security.workload_no_unconfined_apparmor, DEPLOYMENT, props) == [
        f"{WHAT} container 'app' runs AppArmor Unconfined"
    ]
    pod_wide = deployment(securityContext={"appArmorProfile": {"type": "Unconfined"}})
    assert check(pod_security.workload_no_unconfined_apparmor, DEPLOYMENT, pod_wide) == [
        f"{WHAT} pod runs AppArmor Unconfined"
    ]


@covers(pod_security.workload_restricted_volume_types)
def test_workload_restricted_volume_types() -> None:
    volumes = [
        {"name": "cache", "emptyDir": {}},
        {"name": "share", "nfs": {"server": "10.0.0.5", "path": "/exports"}},
        {"name": "config", "configMap": {"name": "app"}},
    ]
    props = deployment(volumes=volumes)
    assert check(pod_security.workload_restricted_volume_types, DEPLOYMENT, props) == [
        f"{WHAT} uses the volume type nfs (volume 'share')"
    ]
