"""Gatehouse: load the stack configuration, then build the planes."""

import pulumi
import pulumi_cloudflare as cloudflare
import pulumi_kubernetes as k8s

from components import config
from components.gateway import AuthGateway, AuthGatewayArgs
from components.identity import IdentityStack, IdentityStackArgs
from components.tenancy import Organization, OrganizationArgs, Tenant, TenantArgs

stack = config.load()  # stops here, before any resource, if the config is bad

# Explicit providers, passed down to every plane. Kubernetes uses the ambient kubeconfig and context.
providers = {
    "kubernetes": k8s.Provider("kubernetes"),
    "cloudflare": cloudflare.Provider("cloudflare", api_token=config.secret("cloudflareApiToken")),
}
opts = pulumi.ResourceOptions(providers=providers)

gateway = AuthGateway("gateway", AuthGatewayArgs(stack), opts)
identity = IdentityStack("identity", IdentityStackArgs(stack), opts)
organizations = [Organization(org.name, OrganizationArgs(org, stack), opts) for org in stack.organizations]
tenants = [
    Tenant(t.name, TenantArgs(t, stack.is_production, stack.network.private_ranges), opts) for t in stack.tenants
]

pulumi.export("domain", stack.domain)
pulumi.export("issuer", identity.issuer)
pulumi.export("webhookUrls", {org.name: f"https://{stack.host(org.name)}" for org in stack.organizations})
pulumi.export("tenantNamespaces", {t.name: t.namespace_names for t in stack.tenants})
