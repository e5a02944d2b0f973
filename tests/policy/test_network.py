"""guardrails/network.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

import copy

from guardrails import network
from policy_fixtures import NETPOL, allow_dns, covers, gateway_ingress, meta, named, tenant_world, without
from policy_harness import Res, check, stack_violations


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


@covers(network.networkpolicy_egress_scoped)
def test_networkpolicy_egress_scoped() -> None:
    """Class: egress NetworkPolicies were never checked. A tenant's (known from its namespace, labelled or not)
    allows egress only to named peers: not everywhere, not into the cluster's private ranges by address, not to
    another tenant's namespaces."""
    world = tenant_world() + tenant_world("storefront", extra=())
    open_egress = Res(
        NETPOL,
        "open-egress",
        {
            "metadata": meta("open-egress", "payments"),  # neither labelled nor under the Tenant
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {},
                    {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]},
                    {"to": [{"ipBlock": {"cidr": "10.42.0.0/16"}}]},
                    {"to": [{"namespaceSelector": {"matchLabels": {"gatehouse.dev/tenant": "storefront"}}}]},
                    {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "storefront"}}}]},
                ],
            },
        },
    )
    what = "NetworkPolicy 'payments/open-egress'"
    assert [m for m, _ in stack_violations(network.networkpolicy_egress_scoped, [*world, open_egress])] == [
        f"{what} egress rule 1 allows every destination (no 'to'), other tenants' pods included",
        f"{what} egress rule 2 reaches 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16, 100.64.0.0/10 through ipBlock "
        "0.0.0.0/0: addresses inside the cluster are reached by selectors, never by address",
        f"{what} egress rule 3 reaches 10.42.0.0/16 through ipBlock 10.42.0.0/16: addresses inside the cluster are "
        "reached by selectors, never by address",
        f"{what} egress rule 4 reaches tenant 'storefront'",
        f"{what} egress rule 5 reaches namespace 'storefront' of tenant 'storefront'",
    ]
    # what the tenant component registers: DNS, its own namespaces, the internet without the private ranges
    internet = Res(
        NETPOL,
        "internet",
        {
            "metadata": meta("allow-internet-egress", "payments"),
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": network.PRIVATE_RANGES[:5]}}]}],
            },
        },
    )
    assert stack_violations(network.networkpolicy_egress_scoped, [*world, internet]) == []
