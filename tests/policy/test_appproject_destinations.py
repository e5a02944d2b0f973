"""guardrails/appproject_destinations.py: per policy, a compliant fixture passes and a minimal failing fixture gives
exactly its violation."""

from __future__ import annotations

import pytest
from guardrails import appproject_destinations
from policy_fixtures import APP_PROJECT, CHART, IN_CLUSTER, app_project, covers, meta, named, tenant_world
from policy_harness import Res, check, stack_violations


@covers(appproject_destinations.appproject_destinations)
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
    assert check(appproject_destinations.appproject_destinations, APP_PROJECT, props) == [
        f"{what} destination 2 targets cluster 'https://prod.example.com:6443', not the in-cluster server",
        f"{what} destination 3 targets namespace '*' outside tenant 'payments'",
        f"{what} destination 4 targets namespace 'storefront' outside tenant 'payments'",
    ]


def two_tenants(first: str, second: str) -> list[Res]:
    world = tenant_world(first, extra=()) + tenant_world(second, extra=())
    for tenant in (first, second):  # each tenant's project reaches only its own glob
        named(world, f"{tenant}-project").props["spec"]["destinations"] = [
            {"server": IN_CLUSTER, "namespace": tenant},
            {"server": IN_CLUSTER, "namespace": f"{tenant}-*"},
        ]
    return world


@covers(appproject_destinations.appproject_destinations_exclusive)
def test_appproject_destinations_exclusive() -> None:
    world = two_tenants("pay", "pay-roll")
    pay = named(world, "pay-project")
    assert stack_violations(appproject_destinations.appproject_destinations_exclusive, world) == [
        ("AppProject 'argocd/pay' destination 2 ('pay-*') reaches namespace 'pay-roll' of tenant 'pay-roll'", pay.urn)
    ]
    assert (
        stack_violations(
            appproject_destinations.appproject_destinations_exclusive, two_tenants("payments", "storefront")
        )
        == []
    )


@pytest.mark.parametrize("pattern", ["pa?-roll", "p[a]y-*", "*roll"])
def test_appproject_destination_globs_with_any_wildcard_are_checked(pattern: str) -> None:
    world = two_tenants("pay", "pay-roll")
    pay = named(world, "pay-project")
    pay.props["spec"]["destinations"] = [{"server": IN_CLUSTER, "namespace": pattern}]
    assert stack_violations(appproject_destinations.appproject_destinations_exclusive, world) == [
        (
            f"AppProject 'argocd/pay' destination 1 ('{pattern}') reaches namespace 'pay-roll' of tenant 'pay-roll'",
            pay.urn,
        )
    ]


def test_appproject_destinations_must_not_reach_platform_namespaces() -> None:
    world = tenant_world("cert", extra=())
    chart = Res(CHART, "ratelimit-redis", {"chart": "valkey", "version": "0.11.0", "namespace": "cert-redis"})
    project = named(world, "cert-project")
    assert stack_violations(appproject_destinations.appproject_destinations_exclusive, [*world, chart]) == [
        (
            "AppProject 'argocd/cert' destination 2 ('cert-*') reaches namespace 'cert-manager' of the platform",
            project.urn,
        ),
        (
            "AppProject 'argocd/cert' destination 2 ('cert-*') reaches namespace 'cert-redis' of the platform",
            project.urn,
        ),
    ]


@covers(appproject_destinations.appproject_destinations_exclusive)
def test_a_project_no_tenant_owns_reaches_no_tenant_namespace() -> None:
    """Class: objects neither labelled nor under a Tenant escaped the tenant rules. An AppProject nobody owns
    that reaches a tenant's namespace is reported: the namespace says whose it is."""
    world = tenant_world()
    stray = Res(
        APP_PROJECT,
        "stray-project",
        {
            "metadata": meta("stray", "argocd"),
            "spec": {
                "destinations": [
                    {"server": IN_CLUSTER, "namespace": "pay*"},
                    {"server": IN_CLUSTER, "namespace": "monitoring"},
                ]
            },
        },
    )
    found = stack_violations(appproject_destinations.appproject_destinations_exclusive, [*world, stray])
    assert found == [
        (
            "AppProject 'argocd/stray' destination 1 ('pay*') reaches namespace 'payments' of tenant 'payments'",
            stray.urn,
        ),
        (
            "AppProject 'argocd/stray' destination 1 ('pay*') reaches namespace 'payments-batch' of tenant 'payments'",
            stray.urn,
        ),
    ]
