"""guardrails/services.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

from guardrails import services
from policy_fixtures import SERVICE, covers, meta, tenant_world
from policy_harness import Res, stack_violations


@covers(services.tenant_service_exposure)
def test_tenant_service_exposure() -> None:
    world = tenant_world()
    balancer = Res(SERVICE, "api-lb", {"metadata": meta("api", "payments-batch"), "spec": {"type": "LoadBalancer"}})
    node_port = Res(
        SERVICE,
        "api-np",
        {"metadata": meta("api-np", "payments"), "spec": {"type": "NodePort", "externalIPs": ["198.51.100.7"]}},
    )
    platform = Res(
        SERVICE, "edge", {"metadata": meta("edge", "envoy-gateway-system"), "spec": {"type": "LoadBalancer"}}
    )
    inside = Res(SERVICE, "web", {"metadata": meta("web", "payments"), "spec": {"type": "ClusterIP"}})
    assert stack_violations(services.tenant_service_exposure, [*world, balancer, node_port, platform, inside]) == [
        (
            "Service 'payments-batch/api' of tenant 'payments' is of type LoadBalancer; tenants are reached only "
            "through the gateway",
            balancer.urn,
        ),
        (
            "Service 'payments/api-np' of tenant 'payments' is of type NodePort; tenants are reached only through "
            "the gateway",
            node_port.urn,
        ),
        ("Service 'payments/api-np' of tenant 'payments' sets externalIPs", node_port.urn),
    ]


def test_a_service_patch_cannot_expose_a_tenant() -> None:
    world = tenant_world(extra=())
    patch = Res(
        SERVICE + "Patch",
        "web-lb",
        {"metadata": {"name": "web", "namespace": "payments"}, "spec": {"type": "LoadBalancer"}},
    )
    assert stack_violations(services.tenant_service_exposure, [*world, patch]) == [
        (
            "ServicePatch 'payments/web' of tenant 'payments' is of type LoadBalancer; tenants are reached only "
            "through the gateway",
            patch.urn,
        )
    ]


@covers(services.tenant_service_exposure)
def test_no_service_anywhere_sets_external_ips() -> None:
    """Class: Services with externalIPs passed outside tenant namespaces. CVE-2020-8554: whoever sets them
    intercepts traffic to those addresses cluster-wide, so no Service sets them, the platform's included."""
    world = tenant_world()
    platform = Res(SERVICE, "edge-ips", {"metadata": meta("edge", "monitoring"), "spec": {"externalIPs": ["8.8.8.8"]}})
    assert stack_violations(services.tenant_service_exposure, [*world, platform]) == [
        ("Service 'monitoring/edge' sets externalIPs (CVE-2020-8554: it intercepts traffic to them)", platform.urn)
    ]
