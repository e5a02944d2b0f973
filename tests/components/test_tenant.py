"""Tenant (components/tenancy/tenant.py) built alone from a TenantArgs: what it registers, and what each
argument changes.

tests/test_tenancy.py tests the staging stack's tenants as the whole program builds them; here one Tenant
is built by itself, so each argument can be varied on its own.
"""

from __future__ import annotations

from typing import Any

import pulumi_kubernetes as k8s
import pytest
from component_harness import Built, build

from components import config
from components.tenancy import Tenant, TenantArgs
from components.tenancy.sizes import SIZES

PAYMENTS = config.Tenant(
    name="payments",
    organization="acme",
    repo="acme-corp/payments-service",
    profile="standard",
    size="small",
    namespaces=["batch"],
)
PRIVATE_RANGES = ["10.0.0.0/8", "192.168.0.0/16"]
NAMESPACES = ["payments", "payments-batch"]
# What each of a tenant's namespaces holds besides itself: (kind, name).
GUARDRAILS = {
    ("ResourceQuota", "tenant-quota"),
    ("LimitRange", "tenant-limits"),
    ("NetworkPolicy", "default-deny"),
    ("NetworkPolicy", "allow-tenant-traffic"),
    ("NetworkPolicy", "allow-dns"),
    ("NetworkPolicy", "allow-gateway-ingress"),
    ("NetworkPolicy", "allow-internet-egress"),
    ("Role", "tenant"),
    ("Role", "tenant-deployer"),
    ("RoleBinding", "tenant-developers"),
    ("RoleBinding", "tenant-deployer"),
    ("ServiceAccount", "default"),  # patched: no token automount
}


def build_tenant(
    tenant: config.Tenant = PAYMENTS,
    production: bool = False,
    gateway_namespaces: frozenset[str] = frozenset({"payments"}),
    with_argocd: bool = False,
) -> Built:
    def make() -> Tenant:
        # stands in for what installs Argo CD (the chart in the identity plane)
        argocd = k8s.core.v1.Namespace("argocd") if with_argocd else None
        args = TenantArgs(tenant, production, PRIVATE_RANGES, gateway_namespaces, argocd)
        return Tenant(tenant.name, args)

    return build(make)


@pytest.fixture(scope="module")
def payments() -> Built:
    return build_tenant()


def by_name(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects}


def test_everything_is_a_direct_child_of_the_tenant(payments: Built) -> None:
    assert payments.component.type == "gatehouse:tenancy:Tenant"
    assert payments.children
    assert all(r.parent == payments.component.urn for r in payments.children)
    assert payments.handed == []


def test_each_namespace_is_labelled_for_the_tenant_its_organization_and_repository(payments: Built) -> None:
    namespaces = by_name(payments.objects("Namespace"))
    assert sorted(namespaces) == NAMESPACES
    for namespace in namespaces.values():
        assert namespace["metadata"]["annotations"] == {
            "gatehouse.dev/repo": "https://github.com/acme-corp/payments-service"
        }
    assert namespaces["payments-batch"]["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/part-of": "gatehouse",
        "gatehouse.dev/managed-by": "gatehouse",
        "gatehouse.dev/component": "tenant",
        "gatehouse.dev/tenant": "payments",
        "gatehouse.dev/organization": "acme",
        "gatehouse.dev/permission-profile": "standard",
        "gatehouse.dev/repo-owner": "acme-corp",
        "gatehouse.dev/repo-name": "payments-service",
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }


@pytest.mark.parametrize(
    ("gateway_namespaces", "with_access"),
    [({"payments"}, ["payments"]), (set(), []), ({"payments-batch", "storefront"}, ["payments-batch"])],
)
def test_only_the_gateway_namespaces_may_attach_routes(gateway_namespaces: set[str], with_access: list[str]) -> None:
    namespaces = build_tenant(gateway_namespaces=frozenset(gateway_namespaces)).objects("Namespace")
    access = {n["metadata"]["name"]: n["metadata"]["labels"].get("gatehouse.dev/gateway-access") for n in namespaces}
    assert access == {ns: "true" if ns in with_access else None for ns in NAMESPACES}


def test_every_namespace_gets_the_same_guardrails_and_only_the_main_one_the_deployer(payments: Built) -> None:
    placed: dict[str, set[tuple[str, str]]] = {}
    for obj in payments.objects():
        if obj["kind"] not in ("Namespace", "AppProject"):
            placed.setdefault(obj["metadata"]["namespace"], set()).add((obj["kind"], obj["metadata"]["name"]))
    assert placed == {"payments": GUARDRAILS | {("ServiceAccount", "deployer")}, "payments-batch": GUARDRAILS}
    accounts = payments.objects("ServiceAccount")
    assert len(accounts) == 3 and all(a["automountServiceAccountToken"] is False for a in accounts)


@pytest.mark.parametrize("size", ["small", "large"])
def test_the_size_tier_sets_every_namespaces_quota_and_container_maximum(size: str) -> None:
    built = build_tenant(PAYMENTS.model_copy(update={"size": size}))
    quotas = built.objects("ResourceQuota")
    assert len(quotas) == 2 and all(q["spec"]["hard"] == SIZES[size].quota() for q in quotas)
    for limits in built.objects("LimitRange"):
        (container,) = limits["spec"]["limits"]
        assert container["max"] == {"cpu": SIZES[size].container_max_cpu, "memory": SIZES[size].container_max_memory}
        assert container["default"] == {"cpu": "500m", "memory": "512Mi"}
        assert container["defaultRequest"] == {"cpu": "100m", "memory": "128Mi"}
    assert SIZES["small"].quota() != SIZES["large"].quota()


def test_the_elevated_profile_relaxes_pod_security_to_baseline_and_lets_people_manage_secrets(payments: Built) -> None:
    elevated = build_tenant(PAYMENTS.model_copy(update={"profile": "elevated"}))
    for built, profile, enforce in ((payments, "standard", "restricted"), (elevated, "elevated", "baseline")):
        for namespace in built.objects("Namespace"):
            labels = namespace["metadata"]["labels"]
            assert labels["pod-security.kubernetes.io/enforce"] == enforce
            # warned and audited at restricted either way, so elevated tenants see what they rely on
            assert (
                labels["pod-security.kubernetes.io/warn"] == labels["pod-security.kubernetes.io/audit"] == "restricted"
            )
        for role in built.objects("Role"):
            assert role["metadata"]["labels"]["gatehouse.dev/permission-profile"] == profile
            granted = {resource for rule in role["rules"] for resource in rule["resources"]}
            assert ("secrets" in granted) is (profile == "elevated"), role["metadata"]


def test_people_are_bound_through_their_groups_and_argo_cd_through_the_deployer(payments: Built) -> None:
    explicit = build_tenant(PAYMENTS.model_copy(update={"groups": ["acme:payments-devs", "acme:sre"]}))
    for built, groups in ((payments, ["acme-corp:payments"]), (explicit, ["acme:payments-devs", "acme:sre"])):
        bindings = built.objects("RoleBinding")
        assert len(bindings) == 4
        for binding in bindings:
            name = binding["metadata"]["name"]
            role = {"tenant-developers": "tenant", "tenant-deployer": "tenant-deployer"}[name]
            assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role}
            if name == "tenant-developers":
                expected = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g} for g in groups]
            else:  # the one ServiceAccount, in the main namespace, deploys into every namespace
                expected = [{"kind": "ServiceAccount", "name": "deployer", "namespace": "payments"}]
            assert binding["subjects"] == expected, binding["metadata"]


def test_internet_egress_leaves_out_the_private_ranges(payments: Built) -> None:
    policies = [p for p in payments.objects("NetworkPolicy") if p["metadata"]["name"] == "allow-internet-egress"]
    assert len(policies) == 2
    for policy in policies:
        assert policy["spec"]["egress"] == [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_RANGES}}]}]


def test_the_app_project_lives_in_argo_cds_namespace_and_waits_for_argo_cd(payments: Built) -> None:
    (project,) = payments.objects("AppProject")
    assert (project["metadata"]["name"], project["metadata"]["namespace"]) == ("payments", "argocd")
    assert project["spec"]["sourceRepos"][0] == "https://github.com/acme-corp/payments-service"
    waiting = build_tenant(with_argocd=True)
    (argocd,) = waiting.handed
    assert argocd.urn in waiting.named("payments-project").dependencies
    assert all(argocd.urn not in r.dependencies for r in waiting.children if r.name != "payments-project")
    assert payments.named("payments-project").dependencies == []


def test_namespaces_are_protected_and_kept_in_production_only(payments: Built) -> None:
    production = build_tenant(production=True)
    for built, kept in ((payments, False), (production, True)):
        for registration in built.children:
            expected = kept and registration.type == "kubernetes:core/v1:Namespace"
            assert (registration.protect, registration.retain_on_delete) == (expected, expected), registration.urn


def test_outputs_name_the_namespaces_the_service_account_and_the_project(payments: Built) -> None:
    assert payments.outputs == {"namespaces": NAMESPACES, "serviceAccount": "deployer", "appProject": "payments"}


def test_a_profile_without_a_pod_security_level_stops_the_build() -> None:
    """config.load refuses such an entry; handed one anyway (model_construct skips validation), the Tenant
    stops rather than create a namespace without Pod Security."""
    rogue = PAYMENTS.model_construct(**{**dict(PAYMENTS), "profile": "root"})
    with pytest.raises(KeyError, match="root"):
        build_tenant(rogue)
