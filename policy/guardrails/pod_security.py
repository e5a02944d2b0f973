"""Pod Security beyond host access and the security context: sysctls, /proc, AppArmor, volume types.

Anchors: the Pod Security Standards (baseline: sysctls, procMount, AppArmor; restricted: volume types),
Kyverno disallow-proc-mount, restrict-sysctls, restrict-apparmor-profiles, restrict-volume-types. Each rule
is also a ValidatingAdmissionPolicy on tenant namespaces
(policy/admission_rules.py), where the same words identify its finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gatehouse_contract import RESTRICTED_VOLUME_SOURCES, SAFE_SYSCTLS
from pulumi_policy import PolicyComplianceFramework, ResourceValidationPolicy, Severity

from ._util import mapping, sequence
from .workloads import PSS, _cname, _containers, _workload_policy


def sysctls(what: str, pod: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    names = [str(mapping(s).get("name")) for s in sequence(mapping(pod.get("securityContext")).get("sysctls"))]
    return [f"{what} sets the unsafe sysctl '{name}'" for name in names if name not in SAFE_SYSCTLS]


def proc_mount(what: str, pod: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    found = []
    for c in _containers(pod):
        mount = mapping(c.get("securityContext")).get("procMount")
        if mount not in (None, "Default"):
            found.append(f"{what} container '{_cname(c)}' sets procMount {mount}")
    return found


def apparmor(what: str, pod: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    profiles = [("pod", mapping(pod.get("securityContext")).get("appArmorProfile"))]
    profiles += [
        (f"container '{_cname(c)}'", mapping(c.get("securityContext")).get("appArmorProfile")) for c in _containers(pod)
    ]
    return [f"{what} {who} runs AppArmor Unconfined" for who, p in profiles if mapping(p).get("type") == "Unconfined"]


def volume_types(what: str, pod: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    found = []
    for volume in (mapping(v) for v in sequence(pod.get("volumes"))):
        for source in sorted(set(volume) - {"name", *RESTRICTED_VOLUME_SOURCES}):
            found.append(f"{what} uses the volume type {source} (volume '{volume.get('name')}')")
    return found


workload_safe_sysctls = ResourceValidationPolicy(
    name="workload-safe-sysctls",
    description="Pods set only the sysctls Pod Security baseline calls safe.",
    validate=_workload_policy(sysctls),
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name=PSS, reference="baseline: Sysctls"),
)
workload_default_proc_mount = ResourceValidationPolicy(
    name="workload-default-proc-mount",
    description="No container unmasks /proc: procMount is unset or Default.",
    validate=_workload_policy(proc_mount),
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name=PSS, reference="baseline: /proc Mount Type"),
)
workload_no_unconfined_apparmor = ResourceValidationPolicy(
    name="workload-no-unconfined-apparmor",
    description="No pod or container runs with the AppArmor profile Unconfined.",
    validate=_workload_policy(apparmor),
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name=PSS, reference="baseline: AppArmor"),
)
workload_restricted_volume_types = ResourceValidationPolicy(
    name="workload-restricted-volume-types",
    description="Pods use only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, "
    "projected and secret volumes.",
    validate=_workload_policy(volume_types),
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name=PSS, reference="restricted: Volume Types"),
)

POLICIES = [
    workload_safe_sysctls,
    workload_default_proc_mount,
    workload_no_unconfined_apparmor,
    workload_restricted_volume_types,
]
