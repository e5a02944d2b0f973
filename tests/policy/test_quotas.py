"""guardrails/quotas.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

from guardrails import quotas
from policy_fixtures import LIMITS, NAMESPACE, QUOTA, covers, limit_range, named, quota, tenant_world, without
from policy_harness import check, stack_violations


@covers(quotas.tenant_namespace_quota_and_limits)
def test_tenant_namespace_quota_and_limits() -> None:
    world = tenant_world()
    ns = named(world, "payments", NAMESPACE)
    broken = without(without(world, "payments-quota"), "payments-limits")
    assert stack_violations(quotas.tenant_namespace_quota_and_limits, broken) == [
        ("Tenant namespace 'payments' has no ResourceQuota", ns.urn),
        ("Tenant namespace 'payments' has no LimitRange", ns.urn),
    ]


@covers(quotas.tenant_quota_within_ceiling)
def test_tenant_quota_within_ceiling() -> None:
    props = quota(limits__cpu="32", services__loadbalancers="1", services__nodeports=None, pods=250)
    assert check(quotas.tenant_quota_within_ceiling, QUOTA, props) == [
        "ResourceQuota 'payments/tenant-quota' does not limit services.nodeports",
        "ResourceQuota 'payments/tenant-quota' sets limits.cpu=32, above the ceiling 16",
        "ResourceQuota 'payments/tenant-quota' sets pods=250, above the ceiling 100",
        "ResourceQuota 'payments/tenant-quota' sets services.loadbalancers=1, above the ceiling 0",
    ]
    large = quota(requests__cpu="8", requests__memory="16Gi", limits__cpu="16000m", limits__memory="32Gi")
    assert check(quotas.tenant_quota_within_ceiling, QUOTA, large) == []


def test_quota_ceilings_come_from_config_as_floats() -> None:
    config = {"ceilings": {"pods": 10, "requests.memory": "2Gi"}}
    assert check(quotas.tenant_quota_within_ceiling, QUOTA, quota(), config=config) == [
        "ResourceQuota 'payments/tenant-quota' sets pods=20, above the ceiling 10",
        "ResourceQuota 'payments/tenant-quota' sets requests.memory=4Gi, above the ceiling 2Gi",
    ]


@covers(quotas.tenant_limitrange_defaults)
def test_tenant_limitrange_defaults() -> None:
    assert check(quotas.tenant_limitrange_defaults, LIMITS, limit_range(defaultRequest=None, max=None)) == [
        "LimitRange 'payments/tenant-limits' Container limit has no defaultRequest, max"
    ]
    pods_only = limit_range(type="Pod")
    assert check(quotas.tenant_limitrange_defaults, LIMITS, pods_only) == [
        "LimitRange 'payments/tenant-limits' has no Container limit"
    ]
