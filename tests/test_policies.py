"""Every policy: a compliant fixture passes and a minimal failing fixture gives exactly its violation."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from guardrails import POLICIES, helm, namespaces, protection
from policy_harness import resource_args, violations

NAMESPACE = "kubernetes:core/v1:Namespace"

TENANT_NS: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Namespace",
    "metadata": {
        "name": "payments",
        "labels": {
            "gatehouse.dev/tenant": "payments",
            "gatehouse.dev/organization": "acme",
            "gatehouse.dev/permission-profile": "standard",
            "gatehouse.dev/managed-by": "gatehouse",
            "pod-security.kubernetes.io/enforce": "restricted",
        },
    },
}


def tenant_ns(**changes: Any) -> dict[str, Any]:
    props = copy.deepcopy(TENANT_NS)
    for key, value in changes.items():
        if value is None:
            props["metadata"]["labels"].pop(key, None)
        else:
            props["metadata"]["labels"][key] = value
    return props


def test_pack_has_unique_named_described_policies() -> None:
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names))
    assert all(p.description for p in POLICIES)


def test_compliant_tenant_namespace_passes_every_policy() -> None:
    args = resource_args(NAMESPACE, tenant_ns(), protect=True)
    for policy in POLICIES:
        assert violations(policy, args) == [], policy.name


def test_explicit_name() -> None:
    props = tenant_ns()
    del props["metadata"]["name"]
    assert violations(namespaces.namespace_explicit_name, resource_args(NAMESPACE, props, name="payments")) == [
        "Namespace 'payments' has no explicit metadata.name; an auto-named namespace can be replaced"
    ]


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-anything", "cert-manager"])
def test_reserved_namespace(name: str) -> None:
    props = tenant_ns()
    props["metadata"]["name"] = name
    assert violations(namespaces.tenant_namespace_not_reserved, resource_args(NAMESPACE, props)) == [
        f"Namespace '{name}' is reserved for the platform"
    ]


def test_reserved_list_is_configurable() -> None:
    args = resource_args(NAMESPACE, tenant_ns(), config={"reserved": ["payments"]})
    assert violations(namespaces.tenant_namespace_not_reserved, args) == [
        "Namespace 'payments' is reserved for the platform"
    ]


def test_platform_namespaces_are_not_tenant_business() -> None:
    platform = {"metadata": {"name": "cert-manager", "labels": {}}}
    assert violations(namespaces.tenant_namespace_not_reserved, resource_args(NAMESPACE, platform)) == []


def test_missing_tenant_labels() -> None:
    props = tenant_ns(**{"gatehouse.dev/organization": None, "pod-security.kubernetes.io/enforce": None})
    assert violations(namespaces.tenant_namespace_labels, resource_args(NAMESPACE, props)) == [
        "Tenant namespace is missing label(s): gatehouse.dev/organization, pod-security.kubernetes.io/enforce"
    ]


def test_pod_security_level_matches_profile() -> None:
    props = tenant_ns(**{"pod-security.kubernetes.io/enforce": "privileged"})
    assert violations(namespaces.tenant_namespace_labels, resource_args(NAMESPACE, props)) == [
        "Tenant namespace with profile 'standard' enforces Pod Security 'privileged', expected 'restricted'"
    ]
    elevated = tenant_ns(
        **{"gatehouse.dev/permission-profile": "elevated", "pod-security.kubernetes.io/enforce": "baseline"}
    )
    assert violations(namespaces.tenant_namespace_labels, resource_args(NAMESPACE, elevated)) == []


def test_no_helm_release() -> None:
    args = resource_args("kubernetes:helm.sh/v3:Release", {"chart": "nginx"}, name="legacy")
    assert violations(helm.no_helm_release, args) == [
        "'legacy' is a helm.v3.Release: its objects bypass policy; use helm.v4.Chart"
    ]
    assert violations(helm.no_helm_release, resource_args("kubernetes:helm.sh/v4:Chart", {"chart": "x"})) == []


def test_protected_namespaces() -> None:
    args = resource_args(NAMESPACE, tenant_ns(), name="payments", protect=False)
    assert violations(protection.protected_namespaces, args) == [
        "Namespace 'payments' is not protected; a replace or delete would remove everything in it"
    ]
