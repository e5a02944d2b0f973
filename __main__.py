"""Gatehouse: load the stack configuration, then build the planes."""

import pulumi
import pulumi_kubernetes as k8s

from components import config
from components.gateway import AuthGateway, AuthGatewayArgs
from components.identity import IdentityStack, IdentityStackArgs
from components.tenancy import Organization, OrganizationArgs, Tenant, TenantArgs

stack = config.load()  # stops here, before any resource, if the config is bad

# Uses the ambient kubeconfig and context; the same provider is passed to every plane.
kubernetes = k8s.Provider("kubernetes")
opts = pulumi.ResourceOptions(providers={"kubernetes": kubernetes})

gateway = AuthGateway("gateway", AuthGatewayArgs(stack), opts)
identity = IdentityStack("identity", IdentityStackArgs(stack), opts)
organizations = {
    org.name: Organization(org.name, OrganizationArgs(org, stack.is_production), opts) for org in stack.organizations
}
tenants = [Tenant(t.name, TenantArgs(t, stack.is_production), opts) for t in stack.tenants]

pulumi.export("domain", stack.domain)
pulumi.export("issuer", identity.issuer)
pulumi.export("tenantNamespaces", {t.name: t.namespace_names for t in stack.tenants})
