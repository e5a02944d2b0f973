"""guardrails/namespaces.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

import pytest
from guardrails import namespaces, protection
from policy_fixtures import CHART, CLUSTER_ROLE, CONFIG_MAP, GATEWAY_URN, NAMESPACE, TENANT_URN, covers, meta, tenant_ns
from policy_harness import check, resource_args, urn_for, violations


@covers(namespaces.namespace_explicit_name)
def test_explicit_name() -> None:
    props = tenant_ns()
    del props["metadata"]["name"]
    assert check(namespaces.namespace_explicit_name, NAMESPACE, props, name="payments") == [
        "Namespace 'payments' has no explicit metadata.name; an auto-named namespace can be replaced"
    ]


@covers(namespaces.tenant_namespace_not_reserved)
@pytest.mark.parametrize("name", ["default", "kube-system", "kube-anything", "cert-manager", "monitoring"])
def test_reserved_namespace(name: str) -> None:
    assert check(namespaces.tenant_namespace_not_reserved, NAMESPACE, tenant_ns(name)) == [
        f"Namespace '{name}' is reserved for the platform"
    ]


def test_org_prefix_is_reserved_for_organizations() -> None:
    assert check(namespaces.tenant_namespace_not_reserved, NAMESPACE, tenant_ns("org-acme")) == [
        "Namespace 'org-acme' is reserved for the platform"
    ]
    org = {"metadata": meta("org-acme", **{"gatehouse.dev/organization": "acme"})}
    assert check(namespaces.tenant_namespace_not_reserved, NAMESPACE, org) == []


def test_reserved_list_is_configurable() -> None:
    args = resource_args(NAMESPACE, tenant_ns(), config={"reserved": ["payments"]})
    assert violations(namespaces.tenant_namespace_not_reserved, args) == [
        "Namespace 'payments' is reserved for the platform"
    ]


def test_platform_namespaces_are_not_tenant_business() -> None:
    platform = {"metadata": {"name": "cert-manager", "labels": {}}}
    assert check(namespaces.tenant_namespace_not_reserved, NAMESPACE, platform) == []


def test_an_unlabelled_namespace_under_a_tenant_is_a_tenant_namespace() -> None:
    """The Tenant parent makes it tenant business: no label needed to be held to the tenant rules."""
    props = {"metadata": {"name": "kube-system"}}
    on = {"parent": TENANT_URN, "name": "kube-system"}
    assert check(namespaces.tenant_namespace_not_reserved, NAMESPACE, props, **on) == [
        "Namespace 'kube-system' is reserved for the platform"
    ]
    assert check(namespaces.tenant_namespace_labels, NAMESPACE, props, **on) == [
        "Tenant namespace is missing label(s): gatehouse.dev/tenant, gatehouse.dev/organization, "
        "gatehouse.dev/permission-profile, gatehouse.dev/managed-by, pod-security.kubernetes.io/enforce"
    ]
    assert check(namespaces.namespace_pod_security, NAMESPACE, props, **on) == [
        "Namespace 'kube-system' is managed by Gatehouse but enforces no Pod Security level"
    ]
    assert check(namespaces.tenant_namespace_prefix, NAMESPACE, props, **on) == [
        "Namespace 'kube-system' of tenant 'payments' is neither 'payments' nor 'payments-<suffix>'"
    ]
    assert check(namespaces.namespace_explicit_name, NAMESPACE, {"metadata": {}}, **on) == [
        "Namespace 'kube-system' has no explicit metadata.name; an auto-named namespace can be replaced"
    ]
    # outside any Tenant, the same namespace is the platform's
    for policy in (namespaces.tenant_namespace_not_reserved, namespaces.tenant_namespace_labels):
        assert check(policy, NAMESPACE, props) == [], policy.name


def test_a_tenant_namespace_labelled_for_another_tenant() -> None:
    props = tenant_ns("payments-batch", **{"gatehouse.dev/tenant": "storefront"})
    assert check(namespaces.tenant_namespace_labels, NAMESPACE, props, parent=TENANT_URN) == [
        "Tenant namespace of tenant 'payments' is labelled gatehouse.dev/tenant: 'storefront'"
    ]
    nested = urn_for("gatehouse:tenancy:TenantExtras", "payments-extras", TENANT_URN)
    unlabelled = tenant_ns("payments-batch", **{"gatehouse.dev/tenant": None})
    assert check(namespaces.tenant_namespace_prefix, NAMESPACE, unlabelled, parent=nested) == [
        "Namespace 'payments-batch' is inside a Tenant but its tenant cannot be determined (no gatehouse.dev/tenant "
        "label and not a direct child of the Tenant), so its scope cannot be checked"
    ]


def test_namespace_patches() -> None:
    """A NamespacePatch sets only its labels: privileged is caught, labels it leaves alone are not missing."""
    patch = NAMESPACE + "Patch"
    privileged = {"metadata": {"name": "payments", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}
    assert check(namespaces.namespace_pod_security, patch, privileged) == [
        "Namespace 'payments' enforces Pod Security 'privileged'; allowed: restricted, baseline"
    ]
    partial = {"metadata": {"name": "payments", "labels": {"team": "payments"}}}
    for policy in (namespaces.namespace_pod_security, namespaces.tenant_namespace_labels):
        assert check(policy, patch, partial, parent=TENANT_URN) == [], policy.name
    reserved = {"metadata": {"name": "kube-system", "labels": {"gatehouse.dev/tenant": "payments"}}}
    assert check(namespaces.tenant_namespace_not_reserved, patch, reserved) == [
        "Namespace 'kube-system' is reserved for the platform"
    ]
    # deleting a patch deletes nothing: it needs no protection
    assert check(protection.protected_namespaces, patch, tenant_ns()) == []


@covers(namespaces.tenant_namespace_labels)
def test_missing_tenant_labels() -> None:
    props = tenant_ns(**{"gatehouse.dev/organization": None, "pod-security.kubernetes.io/enforce": None})
    assert check(namespaces.tenant_namespace_labels, NAMESPACE, props) == [
        "Tenant namespace is missing label(s): gatehouse.dev/organization, pod-security.kubernetes.io/enforce"
    ]


def test_pod_security_level_matches_profile() -> None:
    props = tenant_ns(**{"pod-security.kubernetes.io/enforce": "baseline"})
    assert check(namespaces.tenant_namespace_labels, NAMESPACE, props) == [
        "Tenant namespace with profile 'standard' enforces Pod Security 'baseline', expected 'restricted'"
    ]
    elevated = tenant_ns(
        **{"gatehouse.dev/permission-profile": "elevated", "pod-security.kubernetes.io/enforce": "baseline"}
    )
    assert check(namespaces.tenant_namespace_labels, NAMESPACE, elevated) == []


@covers(namespaces.namespace_pod_security)
def test_namespace_pod_security() -> None:
    privileged = {"metadata": {"name": "debug", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}
    assert check(namespaces.namespace_pod_security, NAMESPACE, privileged) == [
        "Namespace 'debug' enforces Pod Security 'privileged'; allowed: restricted, baseline"
    ]
    unset = {"metadata": meta("monitoring")}
    assert check(namespaces.namespace_pod_security, NAMESPACE, unset) == [
        "Namespace 'monitoring' is managed by Gatehouse but enforces no Pod Security level"
    ]
    foreign = {"metadata": {"name": "someone-elses"}}
    assert check(namespaces.namespace_pod_security, NAMESPACE, foreign) == []


@covers(namespaces.tenant_namespace_prefix)
def test_tenant_namespace_prefix() -> None:
    assert check(namespaces.tenant_namespace_prefix, NAMESPACE, tenant_ns("payments-batch")) == []
    assert check(namespaces.tenant_namespace_prefix, NAMESPACE, tenant_ns("storefront-x")) == [
        "Namespace 'storefront-x' of tenant 'payments' is neither 'payments' nor 'payments-<suffix>'"
    ]
    assert check(namespaces.tenant_namespace_prefix, NAMESPACE, tenant_ns("payments_" + "x" * 60)) == [
        f"Namespace 'payments_{'x' * 60}' is not a DNS label of at most 63 characters",
        f"Namespace 'payments_{'x' * 60}' of tenant 'payments' is neither 'payments' nor 'payments-<suffix>'",
    ]


@covers(namespaces.no_default_namespace)
def test_no_default_namespace() -> None:
    assert check(namespaces.no_default_namespace, CONFIG_MAP, {"metadata": meta("settings", "default")}) == [
        "ConfigMap 'default/settings' is in the default namespace"
    ]
    chart = {"chart": "grafana", "version": "12.11.1", "namespace": "default"}
    assert check(namespaces.no_default_namespace, CHART, chart, name="grafana") == [
        "Chart 'grafana' installs into the default namespace"
    ]
    assert check(namespaces.no_default_namespace, CONFIG_MAP, {"metadata": meta("settings", "payments")}) == []


def test_a_namespaced_object_without_a_namespace_lands_in_default() -> None:
    assert check(namespaces.no_default_namespace, CONFIG_MAP, {"metadata": meta("settings")}) == [
        "ConfigMap 'settings' sets no metadata.namespace, so it lands in the provider's default namespace"
    ]
    assert check(namespaces.no_default_namespace, CONFIG_MAP + "Patch", {"metadata": {"name": "settings"}}) == [
        "ConfigMapPatch 'settings' sets no metadata.namespace, so it lands in the provider's default namespace"
    ]
    listed = {"items": [{"metadata": meta("a", "payments")}, {"metadata": meta("b", "default")}]}
    assert check(namespaces.no_default_namespace, CONFIG_MAP + "List", listed) == [
        "ConfigMap 'default/b' is in the default namespace"
    ]
    assert check(namespaces.no_default_namespace, CHART, {"chart": "grafana", "version": "1.0.0"}, name="grafana") == [
        "Chart 'grafana' sets no namespace, so it installs into the provider's default namespace"
    ]
    # cluster-scoped and unknown kinds have no namespace to set; a chart's objects go where the chart puts them
    assert check(namespaces.no_default_namespace, CLUSTER_ROLE, {"metadata": meta("reader")}) == []
    assert check(namespaces.no_default_namespace, "kubernetes:example.com/v1:Widget", {"metadata": meta("w")}) == []
    chart_urn = urn_for(CHART, "grafana", GATEWAY_URN)
    assert check(namespaces.no_default_namespace, CONFIG_MAP, {"metadata": meta("x")}, parent=chart_urn) == []
