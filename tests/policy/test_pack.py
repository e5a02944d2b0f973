"""The pack as a whole: named, described policies, each with a failing fixture in the test module of its
guardrails module (tests/policy mirrors policy/guardrails/); compliant objects and stacks pass every policy."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from conftest import REPO
from edge_fixtures import dns, edge_world, gateway, redirect_route, route, sso_policy
from guardrails import MODULES, POLICIES, rbac
from policy_fixtures import (
    APP_PROJECT,
    CHART,
    CONFIG_MAP,
    COVERED,
    DEPLOYER,
    DEPLOYMENT,
    DNS,
    DOMAIN,
    GATEWAY,
    GROUP,
    LIMITS,
    NAMESPACE,
    NETPOL,
    QUOTA,
    ROLE,
    ROLE_BINDING,
    ROUTE,
    SECURITY_POLICY,
    SERVICE_ACCOUNT,
    TENANT_URN,
    allow_dns,
    app_project,
    binding,
    default_deny,
    deployment,
    gateway_ingress,
    limit_range,
    quota,
    rbac_cm,
    role,
    tenant_meta,
    tenant_ns,
    tenant_world,
)
from policy_harness import check, resource_args, stack_violations, violations
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

HERE = Path(__file__).resolve().parent
GUARDRAILS = REPO / "policy" / "guardrails"
# test modules of the pack as a whole, not of one guardrails module
# (the pack as a whole, or with admission; test_admission_tekton_runs: a Tekton run's pod through the rules)
WHOLE_PACK = {"test_pack", "test_pack_in_preview", "test_admission", "test_admission_tekton_runs"}


def test_pack_has_unique_named_described_policies() -> None:
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names)) >= 25
    for policy in POLICIES:
        assert isinstance(policy, ResourceValidationPolicy | StackValidationPolicy)
        assert policy.description and policy.description.endswith("."), policy.name
        assert policy.severity is not None, policy.name
        assert policy.framework is not None and policy.framework.name, policy.name


def mirror_of(guardrails_module: str) -> str:
    """guardrails/<m>.py is tested in tests/policy/test_<m>.py (a private module without its leading `_`)."""
    return "test_" + guardrails_module.lstrip("_")


def _import_every_test_module() -> None:
    """`covers` records at import: load every mirror, whichever of them this run collected."""
    for path in sorted(HERE.glob("test_*.py")):
        if path.stem not in WHOLE_PACK:
            importlib.import_module(path.stem)


def test_the_tests_mirror_policy_guardrails() -> None:
    """One test module per guardrails module, and none for a module that is gone; every public module is
    in the pack."""
    modules = {path.stem for path in GUARDRAILS.glob("*.py")} - {"__init__"}
    found = {path.stem for path in HERE.glob("test_*.py")} - WHOLE_PACK
    assert sorted({mirror_of(m) for m in modules} - found) == [], "guardrails modules without a test module"
    assert sorted(found - {mirror_of(m) for m in modules}) == [], "test modules of no guardrails module"
    assert {m.__name__.rpartition(".")[2] for m in MODULES} == {m for m in modules if not m.startswith("_")}


def test_every_policy_has_a_failing_fixture() -> None:
    _import_every_test_module()
    assert {p.name for p in POLICIES} - COVERED.keys() == set()
    assert COVERED.keys() - {p.name for p in POLICIES} == set()


def test_each_failing_fixture_is_in_the_test_module_of_its_policys_module() -> None:
    _import_every_test_module()
    for module in MODULES:
        expected = mirror_of(module.__name__.rpartition(".")[2])
        for policy in module.POLICIES:
            assert expected in COVERED.get(policy.name, set()), (policy.name, expected)


def test_compliant_tenant_objects_pass_every_resource_policy() -> None:
    fixtures = [
        (NAMESPACE, tenant_ns(), "payments"),
        (ROLE, role(), "payments-role"),
        (ROLE_BINDING, binding([GROUP]), "payments-developers"),
        (ROLE_BINDING, binding([DEPLOYER], metadata=tenant_meta("tenant-deployer", "payments-batch")), "deployer"),
        (SERVICE_ACCOUNT, {"metadata": tenant_meta("deployer"), "automountServiceAccountToken": False}, "sa"),
        (QUOTA, quota(), "payments-quota"),
        (LIMITS, limit_range(), "payments-limits"),
        (NETPOL, default_deny(), "payments-default-deny"),
        (NETPOL, allow_dns(), "payments-allow-dns"),
        (NETPOL, gateway_ingress(), "payments-allow-gateway-ingress"),
        (APP_PROJECT, app_project(), "payments-project"),
        (DEPLOYMENT, deployment(), "api"),
        (GATEWAY, gateway(), "public-gateway"),
        (ROUTE, route(), "app-shop"),
        (ROUTE, redirect_route(), "https-redirect"),
        (SECURITY_POLICY, sso_policy(), "shop-sso"),
        (DNS, dns(f"shop.{DOMAIN}"), "dns-shop"),
        (CHART, {"chart": "cert-manager", "version": "v1.21.1", "namespace": "cert-manager"}, "cert-manager"),
        (CONFIG_MAP + "Patch", rbac_cm(), "argocd-argocd-rbac-cm"),
    ]
    config = {"domains": [DOMAIN]}
    for type_, props, name in fixtures:
        protect = type_ != CHART  # a chart is never protected: its children would inherit it
        args = resource_args(type_, props, name=name, protect=protect, parent=TENANT_URN, config=config)
        for policy in POLICIES:
            if isinstance(policy, ResourceValidationPolicy):
                assert violations(policy, args) == [], (policy.name, name)


def test_compliant_stacks_pass_every_stack_policy() -> None:
    world = tenant_world() + tenant_world("archon", extra=()) + edge_world()
    for policy in POLICIES:
        if isinstance(policy, StackValidationPolicy):
            assert stack_violations(policy, world) == [], policy.name


def test_unknown_values_raise_like_under_the_engine() -> None:
    """A value unknown during preview stops the policy (the analyzer reports "can't run during preview")."""
    props = binding([GROUP], role_ref={"kind": "ClusterRole", "name": UNKNOWN_STRING_VALUE})
    with pytest.raises(UnknownValueError):
        check(rbac.no_cluster_admin_binding, ROLE_BINDING, props)
