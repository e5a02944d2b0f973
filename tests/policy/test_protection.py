"""guardrails/protection.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

from guardrails import protection
from policy_fixtures import CHART, CNPG, NAMESPACE, covers, meta, tenant_ns
from policy_harness import check, urn_for


@covers(protection.protected_namespaces)
def test_protected_namespaces() -> None:
    assert check(protection.protected_namespaces, NAMESPACE, tenant_ns(), name="payments") == [
        "Namespace 'payments' is not protected; a replace or delete would remove everything in it"
    ]
    platform = {"metadata": meta("cert-manager", **{"pod-security.kubernetes.io/enforce": "restricted"})}
    assert len(check(protection.protected_namespaces, NAMESPACE, platform, name="cert-manager")) == 1
    assert check(protection.protected_namespaces, NAMESPACE, platform, protect=True) == []


@covers(protection.protected_databases)
def test_protected_databases() -> None:
    props = {"metadata": meta("keycloak-db", "keycloak"), "spec": {"instances": 3}}
    assert check(protection.protected_databases, CNPG, props) == [
        "Cluster 'keycloak/keycloak-db' is not protected; deleting it deletes its data"
    ]
    assert check(protection.protected_databases, CNPG, props, protect=True) == []


@covers(protection.protected_crds)
def test_protected_crds() -> None:
    crd_type = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
    crd = {"metadata": {"name": "widgets.example.com"}, "spec": {"group": "example.com"}}
    assert check(protection.protected_crds, crd_type, crd, name="widgets") == [
        "CustomResourceDefinition 'widgets' is not protected; deleting it deletes every custom resource of its kind"
    ]
    assert check(protection.protected_crds, crd_type, crd, protect=True) == []
    # one a chart renders (what `pulumi preview` sees): protected through the chart's transform
    rendered = check(protection.protected_crds, crd_type, crd, name="widgets", parent=urn_for(CHART, "eg"))
    assert rendered == [
        "CustomResourceDefinition 'widgets' is not protected; deleting it deletes every custom resource of its "
        "kind (give the chart that renders it a transform that protects it)"
    ]
    chart = {"chart": "oci://docker.io/envoyproxy/gateway-crds-helm", "version": "v1.9.0"}
    assert check(protection.protected_crds, CHART, chart, name="gateway-crds") == []
    assert check(protection.protected_crds, CHART, chart, name="gateway-crds", protect=True) == [
        "Chart 'gateway-crds' is protected: every object it renders inherits that, so an upgrade that replaces or "
        "deletes one of them fails; protect its CRDs through a transform instead"
    ]
