"""Network isolation: every tenant namespace denies by default, allows DNS, and opens nothing to everyone.

Anchors: Kyverno add-network-policy / add-networkpolicy-dns, the Kubernetes multi-tenancy guide ("not to
use empty label selector '{}' for namespaceSelector"), CIS 5.3.2, NSA/CISA hardening guide.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gatehouse_contract import NAMESPACE_TYPE
from pulumi_policy import (
    PolicyComplianceFramework,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._util import (
    NETWORK_POLICY_TYPE,
    Report,
    args_tenant,
    describe,
    for_types,
    mapping,
    object_name,
    object_namespace,
    object_spec,
    per_object,
    sequence,
    tenant_namespaces,
)

OPEN_CIDRS = ("0.0.0.0/0", "::/0")


def _empty_selector(selector: Any) -> bool:
    selector = mapping(selector)
    return not mapping(selector.get("matchLabels")) and not sequence(selector.get("matchExpressions"))


def is_default_deny(props: Mapping[str, Any]) -> bool:
    """podSelector {}, policyTypes Ingress and Egress, and no rule that allows anything."""
    spec = object_spec(props)
    types = {str(t) for t in sequence(spec.get("policyTypes"))}
    return (
        _empty_selector(spec.get("podSelector"))
        and {"Ingress", "Egress"} <= types
        and not sequence(spec.get("ingress"))
        and not sequence(spec.get("egress"))
    )


def _is_dns_port(port: Mapping[str, Any]) -> bool:
    value = port.get("port")
    protocol = port.get("protocol") or "TCP"
    numeric = isinstance(value, int | float) and not isinstance(value, bool) and float(value) == 53.0
    return protocol == "UDP" and (numeric or value in ("53", "dns"))


def allows_dns(props: Mapping[str, Any]) -> bool:
    """An egress rule to UDP port 53 (named or numbered) for every pod of the namespace."""
    spec = object_spec(props)
    if not _empty_selector(spec.get("podSelector")):
        return False
    return any(
        _is_dns_port(mapping(port))
        for rule in sequence(spec.get("egress"))
        for port in sequence(mapping(rule).get("ports"))
    )


def _isolation(args: StackValidationArgs, report: Report) -> None:
    namespaces = tenant_namespaces(args.resources)
    policies: dict[str, list[Mapping[str, Any]]] = {}
    for r in args.resources:
        if r.resource_type == NETWORK_POLICY_TYPE:
            policies.setdefault(object_namespace(r.props), []).append(r.props)
    for r in args.resources:
        if r.resource_type != NAMESPACE_TYPE or object_name(r.props) not in namespaces:
            continue
        name = object_name(r.props)
        found = policies.get(name, [])
        if not any(is_default_deny(p) for p in found):
            report(
                f"Tenant namespace '{name}' has no default-deny NetworkPolicy "
                "(podSelector {}, policyTypes Ingress and Egress, no rules)",
                r.urn,
            )
        if not any(allows_dns(p) for p in found):
            report(f"Tenant namespace '{name}' has no NetworkPolicy allowing DNS egress (UDP 53)", r.urn)


tenant_namespace_network_isolation = StackValidationPolicy(
    name="tenant-namespace-network-isolation",
    description="Every tenant namespace has a default-deny NetworkPolicy for ingress and egress, and a DNS "
    "egress allowance.",
    validate=_isolation,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="CIS Kubernetes Benchmark", version="1.9", reference="5.3.2"),
)


def _peers(props: Mapping[str, Any]) -> list[tuple[str, int, Mapping[str, Any]]]:
    spec = object_spec(props)
    found: list[tuple[str, int, Mapping[str, Any]]] = []
    for direction, field, peers in (("ingress", "ingress", "from"), ("egress", "egress", "to")):
        for index, rule in enumerate(sequence(spec.get(field)), start=1):
            for peer in sequence(mapping(rule).get(peers)):
                found.append((direction, index, mapping(peer)))
    return found


@for_types(NETWORK_POLICY_TYPE)
def _no_empty_namespace_selector(args: ResourceValidationArgs, report: Report) -> None:
    if args_tenant(args) is None:
        return
    what = describe(args.resource_type, args.props, args.name)
    for direction, index, peer in _peers(args.props):
        if "namespaceSelector" in peer and _empty_selector(peer.get("namespaceSelector")):
            report(f"{what} {direction} rule {index} selects every namespace (empty namespaceSelector)")


networkpolicy_no_empty_namespace_selector = StackValidationPolicy(
    name="networkpolicy-no-empty-namespace-selector",
    description="A tenant's NetworkPolicies never use an empty namespaceSelector, which matches every namespace.",
    validate=per_object(_no_empty_namespace_selector),
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="Kubernetes multi-tenancy guide", reference="Network isolation"),
)


@for_types(NETWORK_POLICY_TYPE)
def _no_open_ingress(args: ResourceValidationArgs, report: Report) -> None:
    if args_tenant(args) is None:
        return
    what = describe(args.resource_type, args.props, args.name)
    for index, rule in enumerate(sequence(object_spec(args.props).get("ingress")), start=1):
        sources = sequence(mapping(rule).get("from"))
        if not sources:
            report(f"{what} ingress rule {index} admits every source (no 'from')")
        for peer in sources:
            cidr = mapping(mapping(peer).get("ipBlock")).get("cidr")
            if cidr in OPEN_CIDRS:
                report(f"{what} ingress rule {index} admits {cidr}")


networkpolicy_no_open_ingress = StackValidationPolicy(
    name="networkpolicy-no-open-ingress",
    description="A tenant's NetworkPolicies never admit ingress from anywhere (0.0.0.0/0, ::/0, or a rule "
    "without sources): traffic enters only through the gateway.",
    validate=per_object(_no_open_ingress),
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="Kubernetes multi-tenancy guide", reference="Network isolation"),
)

POLICIES = [
    tenant_namespace_network_isolation,
    networkpolicy_no_empty_namespace_selector,
    networkpolicy_no_open_ingress,
]
