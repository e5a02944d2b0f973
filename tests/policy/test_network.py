"""guardrails/network.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

import copy

from guardrails import network
from policy_fixtures import NETPOL, allow_dns, covers, gateway_ingress, meta, named, tenant_world, without
from policy_harness import check, stack_violations


@covers(network.tenant_namespace_network_isolation)
def test_tenant_namespace_network_isolation() -> None:
    world = tenant_world()
    ns = named(world, "payments-batch")
    broken = without(without(world, "payments-batch-default-deny"), "payments-batch-allow-dns")
    assert stack_violations(network.tenant_namespace_network_isolation, broken) == [
        (
            "Tenant namespace 'payments-batch' has no default-deny NetworkPolicy (podSelector {}, policyTypes "
            "Ingress and Egress, no rules)",
            ns.urn,
        ),
        ("Tenant namespace 'payments-batch' has no NetworkPolicy allowing DNS egress (UDP 53)", ns.urn),
    ]


def test_a_deny_with_rules_or_one_direction_is_no_default_deny() -> None:
    for spec in (
        {"podSelector": {}, "policyTypes": ["Ingress"]},
        {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "egress": [{}]},
        {"podSelector": {"matchLabels": {"app": "x"}}, "policyTypes": ["Ingress", "Egress"]},
    ):
        world = tenant_world(extra=())
        named(world, "payments-default-deny").props["spec"] = spec
        assert len(stack_violations(network.tenant_namespace_network_isolation, world)) == 1, spec


@covers(network.networkpolicy_no_empty_namespace_selector)
def test_networkpolicy_no_empty_namespace_selector() -> None:
    props = gateway_ingress()
    props["spec"]["ingress"][0]["from"][0]["namespaceSelector"] = {}
    assert check(network.networkpolicy_no_empty_namespace_selector, NETPOL, props) == [
        "NetworkPolicy 'payments/allow-gateway-ingress' ingress rule 1 selects every namespace (empty "
        "namespaceSelector)"
    ]
    platform = copy.deepcopy(props)
    platform["metadata"] = meta("allow-scrapes", "monitoring")
    assert check(network.networkpolicy_no_empty_namespace_selector, NETPOL, platform) == []


@covers(network.networkpolicy_no_open_ingress)
def test_networkpolicy_no_open_ingress() -> None:
    props = gateway_ingress()
    props["spec"]["ingress"] = [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}, {"ports": [{"port": 8080}]}]
    assert check(network.networkpolicy_no_open_ingress, NETPOL, props) == [
        "NetworkPolicy 'payments/allow-gateway-ingress' ingress rule 1 admits 0.0.0.0/0",
        "NetworkPolicy 'payments/allow-gateway-ingress' ingress rule 2 admits every source (no 'from')",
    ]
    egress = allow_dns()
    egress["spec"]["egress"].append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]})
    assert check(network.networkpolicy_no_open_ingress, NETPOL, egress) == []
