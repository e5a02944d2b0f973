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


@covers(argocd.argocd_rbac_admin_group)
def test_admin_like_lines_and_a_permissive_default_role() -> None:
    """Class: lines that give admin-like power without naming role:admin, and a non-empty policy.default
    (every signed-in user's role, Argo CD v3.4.4 rbac.md), passed."""
    what = "ConfigMap 'argocd/argocd-rbac-cm'"
    csv = RBAC_CSV + (
        "p, acme:payments, clusters, update, *, allow\n"
        "p, acme:payments, applications, sync, */*, allow\n"
        "p, acme:payments, applications, get, */*, allow\n"
        "p, acme:payments, applications, sync, payments/*, allow\n"
    )
    assert check(argocd.argocd_rbac_admin_group, CONFIG_MAP, rbac_cm(csv, **{"policy.default": "role:readonly"})) == [
        f"{what} gives 'acme:payments' platform-wide power ('p, acme:payments, clusters, update, *, allow'); only "
        "the platform admin group may",
        f"{what} gives 'acme:payments' platform-wide power ('p, acme:payments, applications, sync, */*, allow'); "
        "only the platform admin group may",
        f"{what} sets policy.default to 'role:readonly': every signed-in user (every tenant) gets it across all "
        "projects; it must be empty",
    ]


@covers(argocd.argocd_sync_impersonation)
def test_argocd_sync_impersonation() -> None:
    """Class: Argo CD's sync-impersonation switch turned off passed; with it off Argo CD ignores every
    AppProject's destinationServiceAccounts (v3.4.4 util/settings/settings.go: only the string "true" enables)."""
    cm = {"metadata": {"name": "argocd-cm", "namespace": "argocd"}, "data": {"url": "https://argocd.example.com"}}
    assert check(argocd.argocd_sync_impersonation, CONFIG_MAP, cm) == [
        "ConfigMap 'argocd/argocd-cm' sets application.sync.impersonation.enabled to nothing: Argo CD then ignores "
        "every AppProject's destinationServiceAccounts and syncs tenants' repositories as its own cluster-wide "
        "controller"
    ]
    patch = CONFIG_MAP + "Patch"
    assert check(argocd.argocd_sync_impersonation, patch, cm) == []  # a patch leaves the key alone
    cm["data"]["application.sync.impersonation.enabled"] = "True"
    assert len(check(argocd.argocd_sync_impersonation, patch, cm)) == 1  # not exactly "true": off
    cm["data"]["application.sync.impersonation.enabled"] = "true"
    assert check(argocd.argocd_sync_impersonation, CONFIG_MAP, cm) == []
    chart = {"chart": "argo-cd", "version": "10.1.1", "values": {"configs": {"cm": {"admin.enabled": False}}}}
    assert check(argocd.argocd_sync_impersonation, CHART, chart, name="argocd") == [
        "Chart 'argocd' sets application.sync.impersonation.enabled to nothing: Argo CD then ignores every "
        "AppProject's destinationServiceAccounts and syncs tenants' repositories as its own cluster-wide controller"
    ]
