"""What the gateway plane registers, as policy fixtures: the Gateway, HTTPRoutes, SecurityPolicies, the
ClientTrafficPolicy and DNS records (`edge_world`, a compliant AuthGateway); `internal_world` adds an internal
Gateway (its EnvoyProxy's Service a ClusterIP) with its own edge policy and an API on it, without DNS."""

from __future__ import annotations

from typing import Any

from policy_fixtures import CLIENT_TRAFFIC, DNS, DOMAIN, ENVOY_PROXY, GATEWAY, ROUTE, SECURITY_POLICY, meta
from policy_harness import Res


def gateway(name: str = "public", domain: str = DOMAIN) -> dict[str, Any]:
    return {
        "metadata": meta(name, "envoy-gateway-system"),
        "spec": {
            "gatewayClassName": "gatehouse",
            "infrastructure": {
                "parametersRef": {"group": "gateway.envoyproxy.io", "kind": "EnvoyProxy", "name": f"{name}-proxy"}
            },
            "listeners": [
                {"name": "http", "protocol": "HTTP", "port": 80, "allowedRoutes": {"namespaces": {"from": "Same"}}},
                {
                    "name": "https",
                    "protocol": "HTTPS",
                    "port": 443,
                    "hostname": f"*.{domain}",
                    "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": f"{name}-tls"}]},
                    "allowedRoutes": {
                        "namespaces": {
                            "from": "Selector",
                            "selector": {"matchLabels": {"gatehouse.dev/gateway-access": "true"}},
                        },
                        "kinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}],
                    },
                },
            ],
        },
    }


def envoy_proxy(name: str = "public", service_type: str = "LoadBalancer") -> dict[str, Any]:
    return {
        "metadata": meta(f"{name}-proxy", "envoy-gateway-system"),
        "spec": {"provider": {"type": "Kubernetes", "kubernetes": {"envoyService": {"type": service_type}}}},
    }


PARENT_REF = {
    "group": "gateway.networking.k8s.io",
    "kind": "Gateway",
    "name": "public",
    "namespace": "envoy-gateway-system",
    "sectionName": "https",
}


def route(
    name: str = "shop", namespace: str = "storefront", hosts: list[str] | None = None, public: bool = False
) -> dict[str, Any]:
    labels = {"gatehouse.dev/public-route": "true"} if public else {}
    return {
        "metadata": meta(name, namespace, **labels),
        "spec": {
            "parentRefs": [PARENT_REF],
            "hostnames": hosts if hosts is not None else [f"{name}.{DOMAIN}"],
            "rules": [{"backendRefs": [{"name": f"{name}-web", "port": 8080}]}],
        },
    }


def redirect_route() -> dict[str, Any]:
    return {
        "metadata": meta("https-redirect", "envoy-gateway-system"),
        "spec": {
            "parentRefs": [{"name": "public", "sectionName": "http"}],
            "rules": [
                {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}
            ],
        },
    }


SSO_HEADERS = ["x-auth-request-user", "x-auth-request-email"]


def sso_policy(route_name: str = "shop", namespace: str = "storefront", **ext: Any) -> dict[str, Any]:
    ext_auth: dict[str, Any] = {
        "failOpen": False,
        "http": {
            "backendRefs": [{"name": "oauth2-proxy", "namespace": "oauth2-proxy", "port": 80}],
            "path": "/_extauth",
            "headersToBackend": SSO_HEADERS,
        },
    }
    ext_auth.update(ext)
    return {
        "metadata": meta(f"{route_name}-sso", namespace),
        "spec": {
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": route_name}],
            "extAuth": ext_auth,
            # who may enter: one group (the program checks the verified token, components/gateway/sso.py)
            "authorization": {
                "defaultAction": "Deny",
                "rules": [
                    {
                        "name": "platform-groups",
                        "action": "Allow",
                        "principal": {"headers": [{"name": "x-auth-request-groups", "values": ["platform-admins"]}]},
                    }
                ],
            },
        },
    }


def jwt_policy(route_name: str = "tickets", namespace: str = "helpdesk") -> dict[str, Any]:
    return {
        "metadata": meta(f"{route_name}-jwt", namespace),
        "spec": {
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": route_name}],
            "jwt": {
                "providers": [
                    {
                        "name": "keycloak",
                        "remoteJWKS": {"uri": "http://keycloak/certs"},
                        "claimToHeaders": [{"claim": "sub", "header": "x-user-id"}],
                    }
                ]
            },
        },
    }


def client_traffic(remove: list[str], gateway: str = "public") -> dict[str, Any]:
    return {
        "metadata": meta(f"{gateway}-edge", "envoy-gateway-system"),
        "spec": {
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gateway}],
            "headers": {"earlyRequestHeaders": {"remove": remove}},
        },
    }


def dns(host: str) -> dict[str, Any]:
    return {"name": host, "type": "A", "content": "203.0.113.10", "zoneId": "0f1e", "ttl": 300}


def edge_world() -> list[Res]:
    component = Res("gatehouse:gateway:AuthGateway", "gateway")
    return [
        component,
        Res(ENVOY_PROXY, "public-proxy", envoy_proxy(), component),
        Res(GATEWAY, "public-gateway", gateway(), component),
        Res(ROUTE, "https-redirect", redirect_route(), component),
        Res(CLIENT_TRAFFIC, "public-edge", client_traffic([*SSO_HEADERS, "x-user-id", "x-forwarded-uri"]), component),
        Res(ROUTE, "app-shop", route(), component),
        Res(SECURITY_POLICY, "storefront-shop-sso", sso_policy(), component),
        Res(ROUTE, "api-tickets", route("tickets", "helpdesk"), component),
        Res(SECURITY_POLICY, "api-tickets-jwt", jwt_policy(), component),
        Res(ROUTE, "oauth2-proxy-route", route("sso", "oauth2-proxy", public=True)),
        Res(DNS, "dns-shop", dns(f"shop.{DOMAIN}"), component),
        Res(DNS, "dns-tickets", dns(f"tickets.{DOMAIN}"), component),
        Res(DNS, "dns-sso", dns(f"sso.{DOMAIN}"), component),
    ]


INTERNAL_DOMAIN = f"internal.{DOMAIN}"


def internal_world() -> list[Res]:
    """edge_world, and the internal Gateway with its edge policy and the catalog API on it (no DNS record)."""
    world = edge_world()
    component = world[0]
    catalog = route("catalog", "storefront", hosts=[f"catalog.{INTERNAL_DOMAIN}"], public=True)
    catalog["spec"]["parentRefs"] = [{**PARENT_REF, "name": "internal"}]
    return [
        *world,
        Res(ENVOY_PROXY, "internal-proxy", envoy_proxy("internal", "ClusterIP"), component),
        Res(GATEWAY, "internal-gateway", gateway("internal", INTERNAL_DOMAIN), component),
        Res(
            CLIENT_TRAFFIC,
            "internal-edge",
            client_traffic([*SSO_HEADERS, "x-user-id", "x-forwarded-uri"], "internal"),
            component,
        ),
        Res(ROUTE, "api-catalog", catalog, component),
    ]
