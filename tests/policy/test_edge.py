"""guardrails/edge.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

from edge_fixtures import internal_world
from guardrails import authentication, edge
from policy_fixtures import covers, named, without
from policy_harness import stack_violations


@covers(edge.gateway_edge_client_traffic)
def test_gateway_edge_client_traffic() -> None:
    """Both Gateways covered: compliant. Without the internal one's policy, each of its listeners is reported
    (the public Gateway's policy targets the public Gateway only: each Gateway has proxies of its own); a
    policy that keeps escaped slashes or drops the request id is reported on every listener it covers."""
    world = internal_world()
    assert stack_violations(edge.gateway_edge_client_traffic, world) == []
    bare = without(world, "internal-edge")
    internal = named(bare, "internal-gateway")
    assert stack_violations(edge.gateway_edge_client_traffic, bare) == [
        (
            f"Gateway 'envoy-gateway-system/internal' listener '{listener}' is covered by no ClientTrafficPolicy: "
            "paths are not normalised",
            internal.urn,
        )
        for listener in ("http", "https")
    ]
    lax = internal_world()
    spec = named(lax, "internal-edge").props["spec"]
    spec["path"] = {"escapedSlashesAction": "KeepUnchanged", "disableMergeSlashes": True}
    spec["headers"]["requestID"] = "Disable"
    gaps = (
        "ClientTrafficPolicy 'envoy-gateway-system/internal-edge' sets path.escapedSlashesAction: KeepUnchanged, "
        "path.disableMergeSlashes: true, headers.requestID: Disable"
    )
    assert stack_violations(edge.gateway_edge_client_traffic, lax) == [
        (f"Gateway 'envoy-gateway-system/internal' listener '{listener}': {gaps}", internal.urn)
        for listener in ("http", "https")
    ]


def test_a_second_gateways_edge_must_strip_too() -> None:
    """edge-strips-identity-headers holds per Gateway: the internal Gateway's proxies run its own policy."""
    world = internal_world()
    assert stack_violations(authentication.edge_strips_identity_headers, world) == []
    named(world, "internal-edge").props["spec"]["headers"]["earlyRequestHeaders"]["remove"] = []
    found = stack_violations(authentication.edge_strips_identity_headers, world)
    assert found and all("Gateway 'envoy-gateway-system/internal'" in message for message, _ in found)
