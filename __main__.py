"""Gatehouse: load the stack configuration, then build the planes."""

import pulumi
import pulumi_cloudflare as cloudflare
import pulumi_kubernetes as k8s

from components import config
from components.gateway import AuthGateway, AuthGatewayArgs
from components.identity import IdentityStack, IdentityStackArgs
from components.tenancy import (
    Organization,
    OrganizationArgs,
    SecretsOperator,
    SecretsOperatorArgs,
    Tenant,
    TenantArgs,
)

stack = config.load()  # stops here, before any resource, if the config is bad
cloudflare_token = config.secret("cloudflareApiToken")

# Explicit providers, passed down to every plane. Kubernetes uses the ambient kubeconfig and context.
providers = {
    "kubernetes": k8s.Provider("kubernetes"),
    "cloudflare": cloudflare.Provider("cloudflare", api_token=cloudflare_token),
}
opts = pulumi.ResourceOptions(providers=providers)

secrets_operator = SecretsOperator("external-secrets", SecretsOperatorArgs(stack.is_production), opts)
organizations = [
    Organization(org.name, OrganizationArgs(org, stack, secrets_operator.chart), opts) for org in stack.organizations
]
# Only namespaces hosting a configured app or API may attach routes to the shared Gateway.
routed = frozenset(a.namespace for a in [*stack.apps, *stack.apis])
tenants = [
    Tenant(t.name, TenantArgs(t, stack.is_production, stack.network.private_ranges, routed), opts)
    for t in stack.tenants
]
tenant_namespaces = {name: ns for t in tenants for name, ns in t.namespace_resources.items()}
# Identity first: the gateway's oauth2-proxy is one of its Dex clients. Its routes wait for the Gateway
# API CRDs, which the gateway's CRDs chart installs: a deferred dependency, resolved below.
gateway_crds, resolve_gateway_crds = pulumi.deferred_output()
identity = IdentityStack("identity", IdentityStackArgs(stack, gateway_crds=gateway_crds), opts)
gateway = AuthGateway(
    "gateway",
    AuthGatewayArgs(stack, cloudflare_token, identity.clients["oauth2-proxy"].secret, tenant_namespaces),
    opts,
)
resolve_gateway_crds(pulumi.Output.from_input([gateway.gateway_crds]))

pulumi.export("domain", stack.domain)
pulumi.export("issuer", identity.issuer)
pulumi.export("publicHosts", gateway.public_hosts)
pulumi.export("webhookUrls", {org.name: f"https://{stack.host(org.name)}" for org in stack.organizations})
pulumi.export("tenantNamespaces", {t.name: t.namespace_names for t in stack.tenants})
