"""A tenant namespace's NetworkPolicies: deny by default, then allow only what a tenant needs.

Policies are additive, so each allowance is its own small, named policy; tenants cannot write
NetworkPolicies themselves (see profiles.py), so they cannot add more.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from .. import meta

netv1 = k8s.networking.v1
ALL_PODS = k8s.meta.v1.LabelSelectorArgs()  # {}: every pod in the policy's own namespace


def _namespace(name: str) -> k8s.meta.v1.LabelSelectorArgs:
    return k8s.meta.v1.LabelSelectorArgs(match_labels={meta.NAMESPACE_NAME_LABEL: name})


# The proxies' listeners: each Gateway port + 10000 below 1024 (network_policies.PROXY_PORTS).
PROXY_PORTS = (10080, 10443)


def internal_gateways_spec(gateways: tuple[str, ...]) -> netv1.NetworkPolicySpecArgs:
    """Egress to the internal gateways' proxies (their Service's ClusterIP is translated to a proxy pod before
    the policy is evaluated), each selected by the Gateway it serves (meta.OWNING_GATEWAY_LABEL)."""
    proxies = [
        netv1.NetworkPolicyPeerArgs(
            namespace_selector=_namespace(meta.ENVOY_GATEWAY_NAMESPACE),
            pod_selector=k8s.meta.v1.LabelSelectorArgs(
                match_labels={**meta.ENVOY_PROXY_POD_LABELS, meta.OWNING_GATEWAY_LABEL: gateway}
            ),
        )
        for gateway in gateways
    ]
    return netv1.NetworkPolicySpecArgs(
        pod_selector=ALL_PODS,
        policy_types=["Egress"],
        egress=[
            netv1.NetworkPolicyEgressRuleArgs(
                to=proxies, ports=[netv1.NetworkPolicyPortArgs(protocol="TCP", port=p) for p in PROXY_PORTS]
            )
        ],
    )


def policy_specs(
    tenant: str, private_ranges: list[str], internal_gateways: tuple[str, ...] = ()
) -> dict[str, netv1.NetworkPolicySpecArgs]:
    """Policy name -> spec, for one namespace of `tenant`; `allow-internal-gateways` with internal gateways."""
    own_namespaces = k8s.meta.v1.LabelSelectorArgs(match_labels={meta.TENANT_LABEL: tenant})
    specs = {
        "default-deny": netv1.NetworkPolicySpecArgs(pod_selector=ALL_PODS, policy_types=["Ingress", "Egress"]),
        "allow-tenant-traffic": netv1.NetworkPolicySpecArgs(
            pod_selector=ALL_PODS,
            policy_types=["Ingress", "Egress"],
            ingress=[
                netv1.NetworkPolicyIngressRuleArgs(
                    from_=[netv1.NetworkPolicyPeerArgs(namespace_selector=own_namespaces)]
                )
            ],
            egress=[
                netv1.NetworkPolicyEgressRuleArgs(to=[netv1.NetworkPolicyPeerArgs(namespace_selector=own_namespaces)])
            ],
        ),
        "allow-dns": netv1.NetworkPolicySpecArgs(
            pod_selector=ALL_PODS,
            policy_types=["Egress"],
            egress=[
                netv1.NetworkPolicyEgressRuleArgs(
                    to=[
                        netv1.NetworkPolicyPeerArgs(
                            namespace_selector=_namespace("kube-system"),
                            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"k8s-app": "kube-dns"}),
                        )
                    ],
                    ports=[netv1.NetworkPolicyPortArgs(protocol=p, port=53) for p in ("UDP", "TCP")],
                )
            ],
        ),
        "allow-gateway-ingress": netv1.NetworkPolicySpecArgs(
            pod_selector=ALL_PODS,
            policy_types=["Ingress"],
            ingress=[
                netv1.NetworkPolicyIngressRuleArgs(
                    from_=[
                        netv1.NetworkPolicyPeerArgs(
                            namespace_selector=_namespace(meta.ENVOY_GATEWAY_NAMESPACE),
                            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=meta.ENVOY_PROXY_POD_LABELS),
                        )
                    ]
                )
            ],
        ),
        "allow-internet-egress": netv1.NetworkPolicySpecArgs(
            pod_selector=ALL_PODS,
            policy_types=["Egress"],
            egress=[
                netv1.NetworkPolicyEgressRuleArgs(
                    to=[
                        netv1.NetworkPolicyPeerArgs(
                            ip_block=netv1.IPBlockArgs(cidr="0.0.0.0/0", except_=list(private_ranges))
                        )
                    ]
                )
            ],
        ),
    }
    if internal_gateways:
        specs["allow-internal-gateways"] = internal_gateways_spec(internal_gateways)
    return specs


def network_policies(
    namespace: k8s.core.v1.Namespace,
    namespace_name: str,
    tenant: str,
    private_ranges: list[str],
    opts: pulumi.ResourceOptions,
    internal_gateways: tuple[str, ...] = (),
) -> list[netv1.NetworkPolicy]:
    return [
        netv1.NetworkPolicy(
            f"{namespace_name}-{name}",
            metadata=meta.object_meta(
                name, "tenant", namespace=namespace.metadata.name, extra_labels={meta.TENANT_LABEL: tenant}
            ),
            spec=spec,
            opts=opts,
        )
        for name, spec in policy_specs(tenant, private_ranges, internal_gateways).items()
    ]
