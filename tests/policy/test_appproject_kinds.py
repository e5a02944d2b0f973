"""guardrails/appproject_kinds.py: per policy, a compliant fixture passes and a minimal failing fixture gives
exactly its violation."""

from __future__ import annotations

from guardrails import appproject_kinds
from policy_fixtures import APP_PROJECT, app_project, covers
from policy_harness import check


@covers(appproject_kinds.appproject_no_cluster_resources)
def test_appproject_no_cluster_resources() -> None:
    props = app_project(clusterResourceWhitelist=[{"group": "*", "kind": "*"}, {"group": "", "kind": "Namespace"}])
    assert check(appproject_kinds.appproject_no_cluster_resources, APP_PROJECT, props) == [
        "AppProject 'argocd/payments' allows cluster-scoped kinds: */*, core/Namespace"
    ]


@covers(appproject_kinds.appproject_guardrail_blacklist)
def test_appproject_guardrail_blacklist() -> None:
    props = app_project(namespaceResourceBlacklist=[{"group": "", "kind": "ResourceQuota"}])
    assert check(appproject_kinds.appproject_guardrail_blacklist, APP_PROJECT, props) == [
        "AppProject 'argocd/payments' lets Argo CD deploy guardrail kinds: core/LimitRange, "
        "networking.k8s.io/NetworkPolicy, rbac.authorization.k8s.io/Role, rbac.authorization.k8s.io/RoleBinding "
        "(add them to namespaceResourceBlacklist)"
    ]
    everything = app_project(namespaceResourceBlacklist=[{"group": "*", "kind": "*"}])
    assert check(appproject_kinds.appproject_guardrail_blacklist, APP_PROJECT, everything) == []
