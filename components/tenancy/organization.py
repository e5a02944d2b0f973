"""An organization: namespace `org-<name>`, its webhook secret, its tenants' secret stores and Cloudflare tunnel."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from policy import gatehouse_contract as contract

from .. import config, meta, network_policies
from .secret_store import secret_stores, store_name
from .tunnel import org_tunnel

COMPONENT = "organization"
WEBHOOK_SECRET = "github-webhook-secret"


@dataclass(frozen=True)
class OrganizationArgs:
    organization: config.Organization
    site: config.Site
    cloudflare: config.Cloudflare | None  # its tunnel delivers the organization's webhooks; none without it
    # the External Secrets operator (SecretsOperator.chart): the org's ClusterSecretStore waits for it
    secrets_operator: pulumi.Resource
    # its tenants (config `tenants` naming it): one secret store each (secret_store.py)
    tenants: list[config.Tenant] = field(default_factory=list)
    # what cloudflared's egress to Cloudflare's edge never reaches (the stack's network.privateRanges)
    private_ranges: tuple[str, ...] = tuple(config.DEFAULT_PRIVATE_RANGES)


class Organization(pulumi.ComponentResource):
    namespace: k8s.core.v1.Namespace

    def __init__(self, name: str, args: OrganizationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(contract.ORGANIZATION_TYPE, name, None, opts)
        org = args.organization
        child = pulumi.ResourceOptions(parent=self)
        labels = {meta.ORGANIZATION_LABEL: org.name}
        self.namespace = meta.namespace(org.namespace, COMPONENT, args.site.is_production, child, extra_labels=labels)
        tunnels = {org.namespace: org.webhook_service.port} if args.cloudflare else {}
        topology = network_policies.Topology(args.private_ranges, (org.namespace,), tunnels)
        network_policies.fence(self.namespace, org.namespace, topology, child)
        # The organization's own (config `webhookSecrets`, a Pulumi secret), or generated: seed 002's pattern
        # ^[a-zA-Z0-9_-]+$, here letters and digits only. The GitHub interceptor checks deliveries with it.
        self.webhook_secret = config.webhook_secret(org.name) or pulumi.Output.secret(
            random.RandomPassword(f"{org.name}-webhook-secret", length=40, special=False, opts=child).result
        )
        k8s.core.v1.Secret(
            f"{org.name}-webhook-secret",
            metadata=meta.object_meta(WEBHOOK_SECRET, COMPONENT, self.namespace.metadata.name, labels),
            type="Opaque",
            string_data={"secret": self.webhook_secret},
            opts=child,
        )
        tenants = [t for t in args.tenants if t.organization == org.name]
        self.secret_stores = secret_stores(org, tenants, self.namespace, args.secrets_operator, child)
        # webhooks reach the cluster through Cloudflare: a stack without it (a laptop) has no webhook URL
        cf = args.cloudflare
        self.webhook_record = org_tunnel(org, args.site, cf, self.namespace, child) if cf else None
        self.webhook_url = f"https://{args.site.host(org.name)}" if cf else None
        self.register_outputs(
            {
                "namespace": self.namespace.metadata.name,
                "secretStores": {t.name: store_name(t) for t in tenants},
                "webhookUrl": self.webhook_url,
            }
        )
