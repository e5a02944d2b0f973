"""guardrails/argocd.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

from guardrails import argocd
from policy_fixtures import APP_PROJECT, APPLICATION, CHART, CONFIG_MAP, RBAC_CSV, covers, meta, rbac_cm
from policy_harness import check


@covers(argocd.argocd_rbac_admin_group)
def test_argocd_rbac_admin_group() -> None:
    patch = CONFIG_MAP + "Patch"  # what components/identity/argocd.py registers
    assert check(argocd.argocd_rbac_admin_group, patch, rbac_cm()) == []
    csv = RBAC_CSV + "g, acme:payments, role:admin\n"
    assert check(argocd.argocd_rbac_admin_group, patch, rbac_cm(csv)) == [
        "ConfigMapPatch 'argocd/argocd-rbac-cm' grants role:admin to 'acme:payments', which is not the platform "
        "admin group"
    ]


def test_argocd_rbac_admin_group_in_the_argo_cd_charts_values() -> None:
    """What Gatehouse installs: argo-helm argo-cd-10.1.1 renders `configs.rbac` into argocd-rbac-cm
    (templates/argocd-configs/argocd-rbac-cm.yaml)."""
    values = {"configs": {"rbac": {"policy.csv": RBAC_CSV, "policy.default": "role:admin"}}}
    chart = {"chart": "argo-cd", "version": "10.1.1", "values": values}
    assert check(argocd.argocd_rbac_admin_group, CHART, chart, name="argocd") == [
        "Chart 'argocd' sets policy.default to 'role:admin': every signed-in user gets role:admin"
    ]
    values["configs"]["rbac"]["policy.default"] = ""
    assert check(argocd.argocd_rbac_admin_group, CHART, chart, name="argocd") == []
    other = {
        "chart": "grafana",
        "version": "12.11.1",
        "values": values | {"configs": {"rbac": {"policy.default": "role:admin"}}},
    }
    assert check(argocd.argocd_rbac_admin_group, CHART, other) == []


def test_argocd_admin_through_roles_overlays_default_and_wildcards() -> None:
    what = "ConfigMap 'argocd/argocd-rbac-cm'"
    csv = RBAC_CSV + "g, role:deployer, role:admin\ng, globex:storefront, role:deployer\n"
    overlay = "# ops\np, acme:ops, *, *, */*, allow\np, acme:ops, applications, get, */*, allow\n"
    props = rbac_cm(csv, **{"policy.overlay.csv": overlay, "policy.default": "role:deployer"})
    assert check(argocd.argocd_rbac_admin_group, CONFIG_MAP, props) == [
        f"{what} grants role:admin (through 'role:deployer') to 'globex:storefront', which is not the platform "
        "admin group",
        f"{what} lets 'acme:ops' do everything ('p, acme:ops, *, *, */*, allow'); only the platform admin group may",
        f"{what} sets policy.default to 'role:deployer': every signed-in user gets role:admin",
    ]
    config = {"adminGroupPatterns": ["^authentik:platform-admins$"]}
    assert check(argocd.argocd_rbac_admin_group, CONFIG_MAP, rbac_cm(), config=config) == [
        f"{what} grants role:admin to 'example-org:platform-admins', which is not the platform admin group"
    ]
    other = rbac_cm(RBAC_CSV + "g, acme:payments, role:admin\n")
    other["metadata"]["name"] = "payments-settings"
    assert check(argocd.argocd_rbac_admin_group, CONFIG_MAP, other) == []


@covers(argocd.no_default_project)
def test_no_default_project() -> None:
    application = {"metadata": meta("shop", "argocd"), "spec": {"project": "default", "source": {}}}
    assert check(argocd.no_default_project, APPLICATION, application) == [
        "Application 'argocd/shop' uses the Argo CD project 'default', which allows everything"
    ]
    application["spec"]["project"] = "payments"
    assert check(argocd.no_default_project, APPLICATION, application) == []
    default = {"metadata": meta("default", "argocd"), "spec": {"sourceRepos": ["*"], "destinations": []}}
    assert check(argocd.no_default_project, APP_PROJECT, default) == [
        "AppProject 'argocd/default' is not locked down: sourceRepos must be empty"
    ]
