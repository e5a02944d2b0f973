"""guardrails/argocd.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

import pytest
from guardrails import argocd
from policy_fixtures import (
    APP_PROJECT,
    APPLICATION,
    CHART,
    CONFIG_MAP,
    IN_CLUSTER,
    NAMESPACE,
    RBAC_CSV,
    app_project,
    covers,
    meta,
    named,
    rbac_cm,
    tenant_world,
)
from policy_harness import Res, check, stack_violations


@covers(argocd.appproject_destinations)
def test_appproject_destinations() -> None:
    props = app_project(
        destinations=[
            {"server": IN_CLUSTER, "namespace": "payments-batch"},
            {"server": "https://prod.example.com:6443", "namespace": "payments"},
            {"server": IN_CLUSTER, "namespace": "*"},
            {"server": IN_CLUSTER, "namespace": "storefront"},
            {"name": "in-cluster", "namespace": "payments-*"},
        ]
    )
    what = "AppProject 'argocd/payments'"
    assert check(argocd.appproject_destinations, APP_PROJECT, props) == [
        f"{what} destination 2 targets cluster 'https://prod.example.com:6443', not the in-cluster server",
        f"{what} destination 3 targets namespace '*' outside tenant 'payments'",
        f"{what} destination 4 targets namespace 'storefront' outside tenant 'payments'",
    ]


@covers(argocd.appproject_no_cluster_resources)
def test_appproject_no_cluster_resources() -> None:
    props = app_project(clusterResourceWhitelist=[{"group": "*", "kind": "*"}, {"group": "", "kind": "Namespace"}])
    assert check(argocd.appproject_no_cluster_resources, APP_PROJECT, props) == [
        "AppProject 'argocd/payments' allows cluster-scoped kinds: */*, core/Namespace"
    ]


@covers(argocd.appproject_guardrail_blacklist)
def test_appproject_guardrail_blacklist() -> None:
    props = app_project(namespaceResourceBlacklist=[{"group": "", "kind": "ResourceQuota"}])
    assert check(argocd.appproject_guardrail_blacklist, APP_PROJECT, props) == [
        "AppProject 'argocd/payments' lets Argo CD deploy guardrail kinds: core/LimitRange, "
        "networking.k8s.io/NetworkPolicy, rbac.authorization.k8s.io/Role, rbac.authorization.k8s.io/RoleBinding "
        "(add them to namespaceResourceBlacklist)"
    ]
    everything = app_project(namespaceResourceBlacklist=[{"group": "*", "kind": "*"}])
    assert check(argocd.appproject_guardrail_blacklist, APP_PROJECT, everything) == []


@covers(argocd.appproject_scoped_roles)
def test_appproject_scoped_roles() -> None:
    props = app_project(
        roles=[
            {
                "name": "developers",
                "policies": [
                    "p, proj:payments:developers, applications, *, payments/*, allow",
                    "p, proj:payments:developers, applications, *, storefront/*, allow",
                    "p, proj:storefront:developers, applications, get, payments/*, allow",
                ],
                "groups": ["acme:payments", "platform-admins"],
            }
        ],
        sourceNamespaces=["payments", "argocd"],
        destinationServiceAccounts=[
            {"server": IN_CLUSTER, "namespace": "payments", "defaultServiceAccount": "deployer"},
            {"server": IN_CLUSTER, "namespace": "*", "defaultServiceAccount": "deployer"},
        ],
    )
    what = "AppProject 'argocd/payments'"
    assert check(argocd.appproject_scoped_roles, APP_PROJECT, props) == [
        f"{what} role 'developers' has a policy outside its project: "
        "'p, proj:payments:developers, applications, *, storefront/*, allow'",
        f"{what} role 'developers' has a policy outside its project: "
        "'p, proj:storefront:developers, applications, get, payments/*, allow'",
        f"{what} role 'developers' grants the group 'platform-admins', which is not a group of 'payments'",
        f"{what} accepts Applications from namespace 'argocd' outside tenant 'payments'",
        f"{what} syncs as a ServiceAccount for namespace '*' outside tenant 'payments'",
    ]


@covers(argocd.appproject_source_repos)
def test_appproject_source_repos() -> None:
    world = tenant_world()
    project = named(world, "payments-project")
    project.props["spec"]["sourceRepos"] = [
        "https://github.com/acme-corp/payments-service.git",
        "https://github.com/acme-corp/*",
        "https://github.com/globex/storefront",
    ]
    expected = "tenant 'payments' deploys only from acme-corp/payments-service"
    assert stack_violations(argocd.appproject_source_repos, world) == [
        (
            f"AppProject 'argocd/payments' allows source repository 'https://github.com/acme-corp/*'; {expected}",
            project.urn,
        ),
        (
            f"AppProject 'argocd/payments' allows source repository 'https://github.com/globex/storefront'; {expected}",
            project.urn,
        ),
    ]


def test_appproject_repository_comes_only_from_the_tenant_namespace() -> None:
    """The project cannot vouch for itself: its labels and description must agree with the namespace's labels."""
    world = tenant_world(extra=())
    project = named(world, "payments-project")
    project.props["metadata"]["labels"].update(
        {"gatehouse.dev/repo-owner": "evil-corp", "gatehouse.dev/repo-name": "payload"}
    )
    project.props["spec"]["description"] = "Tenant payments of organization acme (evil-corp/payload)"
    project.props["spec"]["sourceRepos"] = ["https://github.com/evil-corp/payload"]
    what = "AppProject 'argocd/payments'"
    assert stack_violations(argocd.appproject_source_repos, world) == [
        (
            f"{what}: its labels name the repository 'evil-corp/payload', but tenant 'payments' deploys from "
            "acme-corp/payments-service (its namespace's labels)",
            project.urn,
        ),
        (
            f"{what}: its description names the repository 'evil-corp/payload', but tenant 'payments' deploys from "
            "acme-corp/payments-service (its namespace's labels)",
            project.urn,
        ),
        (
            f"{what} allows source repository 'https://github.com/evil-corp/payload'; tenant 'payments' deploys "
            "only from acme-corp/payments-service",
            project.urn,
        ),
    ]


def test_appproject_repository_unknown_without_the_namespace_labels() -> None:
    world = tenant_world(extra=())
    for label in ("gatehouse.dev/repo-owner", "gatehouse.dev/repo-name"):
        del named(world, "payments", NAMESPACE).props["metadata"]["labels"][label]
    project = named(world, "payments-project")
    expected = [
        (
            "AppProject 'argocd/payments': cannot tell the repository of tenant 'payments' (its namespace "
            "'payments' carries no gatehouse.dev/repo-owner and gatehouse.dev/repo-name labels)",
            project.urn,
        )
    ]
    assert stack_violations(argocd.appproject_source_repos, world) == expected
    # the project's own description no longer tells (it used to be trusted)
    no_namespace = [r for r in world if r.type != NAMESPACE]
    assert stack_violations(argocd.appproject_source_repos, no_namespace) == expected


def two_tenants(first: str, second: str) -> list[Res]:
    world = tenant_world(first, extra=()) + tenant_world(second, extra=())
    for tenant in (first, second):  # each tenant's project reaches only its own glob
        named(world, f"{tenant}-project").props["spec"]["destinations"] = [
            {"server": IN_CLUSTER, "namespace": tenant},
            {"server": IN_CLUSTER, "namespace": f"{tenant}-*"},
        ]
    return world


@covers(argocd.appproject_destinations_exclusive)
def test_appproject_destinations_exclusive() -> None:
    world = two_tenants("pay", "pay-roll")
    pay = named(world, "pay-project")
    assert stack_violations(argocd.appproject_destinations_exclusive, world) == [
        ("AppProject 'argocd/pay' destination 2 ('pay-*') reaches namespace 'pay-roll' of tenant 'pay-roll'", pay.urn)
    ]
    assert stack_violations(argocd.appproject_destinations_exclusive, two_tenants("payments", "storefront")) == []


@pytest.mark.parametrize("pattern", ["pa?-roll", "p[a]y-*", "*roll"])
def test_appproject_destination_globs_with_any_wildcard_are_checked(pattern: str) -> None:
    world = two_tenants("pay", "pay-roll")
    pay = named(world, "pay-project")
    pay.props["spec"]["destinations"] = [{"server": IN_CLUSTER, "namespace": pattern}]
    assert stack_violations(argocd.appproject_destinations_exclusive, world) == [
        (
            f"AppProject 'argocd/pay' destination 1 ('{pattern}') reaches namespace 'pay-roll' of tenant 'pay-roll'",
            pay.urn,
        )
    ]


def test_appproject_destinations_must_not_reach_platform_namespaces() -> None:
    world = tenant_world("cert", extra=())
    chart = Res(CHART, "ratelimit-redis", {"chart": "valkey", "version": "0.11.0", "namespace": "cert-redis"})
    project = named(world, "cert-project")
    assert stack_violations(argocd.appproject_destinations_exclusive, [*world, chart]) == [
        (
            "AppProject 'argocd/cert' destination 2 ('cert-*') reaches namespace 'cert-manager' of the platform",
            project.urn,
        ),
        (
            "AppProject 'argocd/cert' destination 2 ('cert-*') reaches namespace 'cert-redis' of the platform",
            project.urn,
        ),
    ]


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
