"""Network isolation: every tenant namespace denies by default, allows DNS, and opens nothing to everyone.

Anchors: Kyverno add-network-policy / add-networkpolicy-dns, the Kubernetes multi-tenancy guide ("not to
use empty label selector '{}' for namespaceSelector"), CIS 5.3.2, NSA/CISA hardening guide.

Kubernetes NetworkPolicy semantics the egress rule relies on: an egress rule without `to` matches every
destination; an ipBlock matches addresses, pod and node IPs included, regardless of namespace (so an ipBlock
over the cluster's private ranges bypasses namespace isolation); a namespaceSelector matches namespaces by their
labels (`kubernetes.io/metadata.name` is set by the API server). The tenant of a NetworkPolicy is its
namespace's (`per_object`), not its own label.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from gatehouse_contract import NAMESPACE_TYPE, TENANT_LABEL
from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._util import (
    NETWORK_POLICY_TYPE,
    Report,
    args_tenant,
    config_value,
    describe,
    for_types,
    known_namespaces,
    mapping,
    object_name,
    object_namespace,
    object_spec,
    per_object,
    sequence,
    string_list,
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

# Addresses inside the cluster and its hosts: pods, Services, nodes, the API server, cloud metadata (RFC 1918,
# link-local, carrier-grade NAT as some CNIs use it; IPv6 unique-local and link-local). An egress ipBlock must
# leave them out: namespaces and pods are reached by selectors, which the tenant rules can check.
PRIVATE_RANGES = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "fc00::/7",
    "fe80::/10",
]
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(value: Any) -> Network | None:
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return None


def _private_reach(peer: Mapping[str, Any], private: list[Network]) -> list[str]:
    """The private ranges an ipBlock reaches (some address of them not in its `except`)."""
    block = mapping(peer.get("ipBlock"))
    cidr = _network(block.get("cidr"))
    if cidr is None:
        return []
    excepted = [n for n in (_network(e) for e in sequence(block.get("except"))) if n is not None]
    reached = []
    for prange in private:
        if prange.version != cidr.version or not prange.overlaps(cidr):
            continue
        inside = prange if prange.subnet_of(cidr) else cidr  # type: ignore[arg-type]
        if not any(e.version == inside.version and inside.subnet_of(e) for e in excepted):  # type: ignore[arg-type]
            reached.append(str(inside))
    return reached


def _other_tenant(selector: Mapping[str, Any], tenant: str) -> str | None:
    """The namespace or tenant of another tenant a namespaceSelector names by label, if any."""
    wanted = mapping(selector.get("matchLabels"))
    label = wanted.get(TENANT_LABEL)
    if label and str(label) != tenant:
        return f"tenant '{label}'"
    name = str(wanted.get(NAMESPACE_NAME_LABEL) or "")
    owner = known_namespaces().get(name)
    if name and owner is not None and owner.tenant and owner.tenant != tenant:
        return f"namespace '{name}' of tenant '{owner.tenant}'"
    return None


@for_types(NETWORK_POLICY_TYPE)
def _egress_scoped(args: ResourceValidationArgs, report: Report) -> None:
    tenant = args_tenant(args)
    if tenant is None:
        return
    what = describe(args.resource_type, args.props, args.name)
    private = [n for n in (_network(r) for r in config_value(args, "privateRanges", PRIVATE_RANGES)) if n]
    for index, rule in enumerate(sequence(object_spec(args.props).get("egress")), start=1):
        peers = [mapping(p) for p in sequence(mapping(rule).get("to"))]
        if not peers:
            report(f"{what} egress rule {index} allows every destination (no 'to'), other tenants' pods included")
        for peer in peers:
            reached = _private_reach(peer, private)
            if reached:
                cidr = mapping(peer.get("ipBlock")).get("cidr")
                report(
                    f"{what} egress rule {index} reaches {', '.join(reached)} through ipBlock {cidr}: addresses "
                    "inside the cluster are reached by selectors, never by address"
                )
            if "namespaceSelector" in peer:
                selector = mapping(peer.get("namespaceSelector"))
                other = _other_tenant(selector, tenant) if tenant else None
                if other:
                    report(f"{what} egress rule {index} reaches {other}")
                elif sequence(selector.get("matchExpressions")) and not mapping(selector.get("matchLabels")):
                    report(
                        f"{what} egress rule {index} selects namespaces by expression only; name them by "
                        f"{TENANT_LABEL} or {NAMESPACE_NAME_LABEL}"
                    )


networkpolicy_egress_scoped = StackValidationPolicy(
    name="networkpolicy-egress-scoped",
    description="A tenant's NetworkPolicies (the tenant known from their namespace) allow egress only to named "
    "peers: never without 'to', never by ipBlock into the cluster's private ranges (0.0.0.0/0 must except them), "
    "never to another tenant's namespaces.",
    validate=per_object(_egress_scoped),
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="Kubernetes multi-tenancy guide", reference="Network isolation"),
    config_schema=PolicyConfigSchema(properties={"privateRanges": string_list(PRIVATE_RANGES)}),
)

POLICIES = [
    tenant_namespace_network_isolation,
    networkpolicy_no_empty_namespace_selector,
    networkpolicy_no_open_ingress,
    networkpolicy_egress_scoped,
]
