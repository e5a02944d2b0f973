"""AuthGateway: the environment's one front door.

Envoy Gateway behind a LoadBalancer with a reserved address; TLS from cert-manager (Let's Encrypt
over DNS-01, plus an internal CA); a Cloudflare record for every public host; browser apps behind
oauth2-proxy single sign-on; APIs behind Keycloak JWTs or API keys with rate limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from .. import config, endpoints, meta
from . import apis, edge, grafana, sso, tls
from .dns import dns_records
from .routes import route_spec

COMPONENT = "gateway"


@dataclass(frozen=True)
class AuthGatewayArgs:
    stack: config.StackConfig
    cloudflare_token: pulumi.Input[str]
    # namespace name -> the Namespace resource (tenants'), so routes wait for their namespace
    namespaces: dict[str, k8s.core.v1.Namespace] = field(default_factory=dict)


class AuthGateway(pulumi.ComponentResource):
    def __init__(self, name: str, args: AuthGatewayArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gatehouse:gateway:AuthGateway", name, None, opts)
        stack = args.stack
        production = stack.is_production
        child = pulumi.ResourceOptions(parent=self)

        def namespace(ns_name: str, gateway_access: bool) -> k8s.core.v1.Namespace:
            return meta.platform_namespace(ns_name, COMPONENT, production, child, gateway_access)

        edge_ns = namespace(meta.ENVOY_GATEWAY_NAMESPACE, gateway_access=False)
        cert_ns = namespace(tls.NAMESPACE, gateway_access=False)
        sso_ns = namespace(sso.NAMESPACE, gateway_access=True)
        namespaces = dict(args.namespaces)
        workload_namespaces = {a.namespace for a in stack.apps} | {a.namespace for a in stack.apis}
        for ns_name in sorted(workload_namespaces & set(config.APP_PLATFORM_NAMESPACES)):
            namespaces[ns_name] = namespace(ns_name, gateway_access=True)

        self.envoy_gateway = edge.envoy_gateway_chart(edge_ns, production, child)
        crds = pulumi.ResourceOptions(parent=self, depends_on=[self.envoy_gateway])
        edge.edge_objects(stack, edge_ns, crds)

        cert_manager = tls.cert_manager_chart(cert_ns, production, child)
        tls.issuers(
            stack, cert_ns, args.cloudflare_token, child, pulumi.ResourceOptions(parent=self, depends_on=[cert_manager])
        )

        # Dex's static client for oauth2-proxy; the identity plane registers the same secret.
        self.oauth2_proxy_client_secret = random.RandomPassword(
            "oauth2-proxy-client", length=40, special=False, opts=child
        ).result
        sso.oauth2_proxy(stack, sso_ns, self.oauth2_proxy_client_secret, child, crds)

        def in_namespace(ns_name: str) -> pulumi.ResourceOptions:
            waits = [self.envoy_gateway, *([namespaces[ns_name]] if ns_name in namespaces else [])]
            return pulumi.ResourceOptions(parent=self, depends_on=waits)

        sso_namespaces = []
        for app in stack.apps:
            if app.name == "grafana":
                grafana.grafana(stack, app, namespaces[app.namespace], child)
            edge.custom(
                f"app-{app.name}",
                "gateway.networking.k8s.io/v1",
                "HTTPRoute",
                meta.object_meta(app.name, COMPONENT, app.namespace, meta.public_route_labels(app.auth == "public")),
                route_spec(stack.host(app.host_label), app.service),
                in_namespace(app.namespace),
            )
            if app.auth == "sso":
                sso.protect_with_sso(app.name, app.namespace, in_namespace(app.namespace))
                sso_namespaces.append(app.namespace)
        if sso_namespaces:
            edge.custom(
                "oauth2-proxy-reference-grant",
                "gateway.networking.k8s.io/v1",
                "ReferenceGrant",
                meta.object_meta("allow-security-policies", COMPONENT, sso_ns.metadata.name),
                sso.reference_grant_spec(sso_namespaces),
                crds,
            )

        issuer, jwks = endpoints.keycloak_issuer(stack), endpoints.keycloak_jwks_uri(stack)
        for api in stack.apis:
            apis.protected_api(stack, api, issuer, jwks, in_namespace(api.namespace))

        self.public_hosts = sorted(
            {
                stack.host(stack.identity.hosts.oauth2_proxy),
                *endpoints.identity_hosts(stack),
                *(stack.host(a.host_label) for a in stack.apps),
                *(stack.host(a.host_label) for a in stack.apis),
            }
        )
        self.dns_records = dns_records(stack, self.public_hosts, child)
        self.register_outputs({"publicHosts": self.public_hosts, "address": stack.edge.load_balancer.address})
