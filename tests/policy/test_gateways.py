"""guardrails/gateways.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

from edge_fixtures import gateway
from guardrails import gateways
from policy_fixtures import GATEWAY, covers
from policy_harness import check


@covers(gateways.gateway_https_listeners_tls)
def test_gateway_https_listeners_tls() -> None:
    props = gateway()
    del props["spec"]["listeners"][1]["tls"]
    props["spec"]["listeners"].append({"name": "plain", "protocol": "HTTP", "port": 443})
    assert check(gateways.gateway_https_listeners_tls, GATEWAY, props) == [
        "Gateway 'envoy-gateway-system/public' listener 'https' is HTTPS but does not terminate TLS with a "
        "certificateRef",
        "Gateway 'envoy-gateway-system/public' listener 'plain' serves plain HTTP on port 443",
    ]


@covers(gateways.gateway_listener_route_scope)
def test_gateway_listener_route_scope() -> None:
    props = gateway()
    props["spec"]["listeners"][0]["allowedRoutes"] = {"namespaces": {"from": "All"}}
    props["spec"]["listeners"][1]["allowedRoutes"] = {"namespaces": {"from": "Selector", "selector": {}}}
    assert check(gateways.gateway_listener_route_scope, GATEWAY, props) == [
        "Gateway 'envoy-gateway-system/public' listener 'http' accepts routes from every namespace",
        "Gateway 'envoy-gateway-system/public' listener 'https' selects namespaces with an empty selector",
        "Gateway 'envoy-gateway-system/public' listener 'https' does not pin the route kinds it accepts",
    ]
