"""The platform: every plane, built from one stack config in the order their dependencies need. Each
plane gets the parts of the config it reads (`identity_settings`, `gateway_settings`), never the whole.

Identity comes before the gateway (the gateway's oauth2-proxy is one of Dex's clients), yet identity's
routes wait for the Gateway API CRDs the gateway installs, Keycloak's and Dex's serving certificates for
cert-manager, which the gateway installs, and on a stack with its own CA Dex and Argo CD trust
that CA, which the gateway makes too: all are deferred outputs, resolved once the gateway exists, and
resolved even when building a plane fails, or the SDK would wait forever on the registrations that need
them instead of reporting the error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_cloudflare as cloudflare
import pulumi_kubernetes as k8s

from . import config, network_policies
from .endpoints import IdentityEndpoints, connector_groups
from .gateway import AuthGateway, AuthGatewayArgs
from .gateway.settings import GatewaySettings
from .identity import IdentityStack, IdentityStackArgs
from .identity.argocd import PREREQUISITE as EXISTING_ARGOCD
from .identity.settings import IdentitySettings
from .pipelines import Pipelines, PipelinesArgs
from .pipelines.dashboard import dashboard_access, dashboard_app
from .tenancy import (
    Organization,
    OrganizationArgs,
    SecretsOperator,
    SecretsOperatorArgs,
    Tenant,
    TenantAdmission,
    TenantAdmissionArgs,
    TenantArgs,
)
from .tenancy.organization import WEBHOOK_SECRET


def providers(
    stack: config.StackConfig, cloudflare_token: pulumi.Input[str] | None
) -> dict[str, pulumi.ProviderResource]:
    """Explicit providers, passed down to every plane. Kubernetes always targets the stack's named
    context (of the secret kubeconfig when set), never whatever context happens to be current."""
    found: dict[str, pulumi.ProviderResource] = {
        "kubernetes": k8s.Provider(
            "kubernetes", context=stack.cluster.context, kubeconfig=config.optional_secret("kubeconfig")
        )
    }
    if cloudflare_token is not None:
        found["cloudflare"] = cloudflare.Provider("cloudflare", api_token=cloudflare_token)
    return found


def identity_settings(stack: config.StackConfig) -> IdentitySettings:
    return IdentitySettings(
        environment=stack.environment,
        domain=stack.domain,
        identity=stack.identity,
        network=stack.network,
        argocd=stack.argocd,
        apps=stack.apps,
        access=config.app_access(stack),
        apis=stack.apis,
        organizations=stack.organizations,
        tenants=stack.tenants,
        uses_private_ca=stack.uses_private_ca,
        internal_gateways=[g.name for g in stack.gateways if g.internal],
    )


def gateway_settings(stack: config.StackConfig, identity: IdentityEndpoints) -> GatewaySettings:
    """The configured apps and the Tekton Dashboard, which Gatehouse installs and publishes as a staff app."""
    dashboard = dashboard_app(stack.identity)
    return GatewaySettings(
        environment=stack.environment,
        domain=stack.domain,
        edge=stack.edge,
        network=stack.network,
        resolve_domain_to_gateway=stack.cluster.resolve_domain_to_gateway,
        apps=[*stack.apps, dashboard],
        access={**config.app_access(stack), dashboard.name: dashboard_access(stack.identity)},
        apis=stack.apis,
        partner_tiers=stack.partner_tiers,
        identity=identity,
        gateways=stack.gateways,
    )


def prerequisites(stack: config.StackConfig) -> list[dict[str, Any]]:
    """What the stack expects the cluster to have already (the offline preview states it)."""
    return [] if stack.argocd.install else [EXISTING_ARGOCD]


def pipelines(
    stack: config.StackConfig, organizations: list[Organization], tenants: list[Tenant], opts: pulumi.ResourceOptions
) -> Pipelines:
    """Tekton, each organization's listener and each tenant's pipeline (components/pipelines/)."""
    groups = stack.identity.platform_groups
    settings = identity_settings(stack)
    return Pipelines(
        "pipelines",
        PipelinesArgs(
            production=stack.site.is_production,
            organizations=stack.organizations,
            tenants=stack.tenants,
            org_namespaces={org.name: o.namespace for org, o in zip(stack.organizations, organizations, strict=True)},
            tenant_namespaces={t.name: tr.namespaces[0] for t, tr in zip(stack.tenants, tenants, strict=True)},
            secret_stores={name: store for o in organizations for name, store in o.secret_stores.items()},
            webhook_secret=WEBHOOK_SECRET,
            platform_admins=[
                g for group in (groups.admins, groups.operators) for g in connector_groups(settings, group)
            ],
            platform_viewers=connector_groups(settings, groups.engineering),
            topology=network_policies.Topology(
                tuple(stack.network.private_ranges),
                tuple(sorted(o.namespace for o in stack.organizations)),
                internal_gateways=tuple(g.name for g in stack.gateways if g.internal),
            ),
        ),
        opts,
    )


def build(stack: config.StackConfig) -> None:
    site = stack.site
    cloudflare_token = config.secret("cloudflareApiToken") if stack.edge.cloudflare else None
    opts = pulumi.ResourceOptions(providers=providers(stack, cloudflare_token))

    secrets_operator = SecretsOperator("external-secrets", SecretsOperatorArgs(site.is_production), opts)
    TenantAdmission("tenant-admission", TenantAdmissionArgs(), opts)  # what tenants deploy, checked on arrival
    organizations = [
        Organization(
            org.name,
            OrganizationArgs(
                org,
                site,
                stack.edge.cloudflare,
                secrets_operator.chart,
                stack.tenants,
                tuple(stack.network.private_ranges),
            ),
            opts,
        )
        for org in stack.organizations
    ]
    gateway_crds: pulumi.Output[list[pulumi.Resource]]
    resolve_gateway_crds: Callable[[pulumi.Output[list[pulumi.Resource]]], None]
    gateway_crds, resolve_gateway_crds = pulumi.deferred_output()
    private_ca: pulumi.Output[str]
    resolve_private_ca: Callable[[pulumi.Output[str]], None]
    private_ca, resolve_private_ca = pulumi.deferred_output()
    cert_manager: pulumi.Output[list[pulumi.Resource]]
    resolve_cert_manager: Callable[[pulumi.Output[list[pulumi.Resource]]], None]
    cert_manager, resolve_cert_manager = pulumi.deferred_output()
    gateway: AuthGateway | None = None
    try:
        identity = IdentityStack(
            "identity",
            IdentityStackArgs(
                identity_settings(stack),
                gateway_crds=gateway_crds,
                private_ca=private_ca if stack.uses_private_ca else None,
                cert_manager=cert_manager,
            ),
            opts,
        )
        # Only namespaces hosting a configured app or API may attach routes to the shared Gateway.
        routed = frozenset({a.namespace for a in stack.apps} | {a.namespace for a in stack.apis})
        tenants = [
            Tenant(
                t.name,
                TenantArgs(
                    t,
                    site.is_production,
                    stack.network.private_ranges,
                    routed,
                    identity.argocd,
                    tuple(g.name for g in stack.gateways if g.internal),
                ),
                opts,
            )
            for t in stack.tenants
        ]
        tenant_namespaces = {name: ns for t in tenants for name, ns in t.namespace_resources.items()}
        tekton = pipelines(stack, organizations, tenants, opts)
        gateway = AuthGateway(
            "gateway",
            AuthGatewayArgs(
                gateway_settings(stack, identity.endpoints),
                cloudflare_token,
                identity.clients["oauth2-proxy"].secret,
                {**tenant_namespaces, **identity.namespaces, **tekton.namespaces},
                identity.app_client_secrets,
            ),
            opts,
        )
    finally:
        resolve_gateway_crds(pulumi.Output.from_input([gateway.gateway_crds] if gateway else []))
        resolve_private_ca(gateway.ca_certificate if gateway else pulumi.Output.from_input(""))
        resolve_cert_manager(pulumi.Output.from_input(gateway.cert_manager if gateway else []))

    pulumi.export("domain", stack.domain)
    pulumi.export("issuer", identity.issuer)
    pulumi.export("publicHosts", gateway.public_hosts)
    webhooks = {org.name: o.webhook_url for org, o in zip(stack.organizations, organizations, strict=True)}
    pulumi.export("webhookUrls", {name: url for name, url in webhooks.items() if url})
    pulumi.export("tenantNamespaces", {t.name: t.namespace_names for t in stack.tenants})
    pulumi.export("prerequisites", prerequisites(stack))
