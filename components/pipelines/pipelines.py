"""The pipelines plane: Tekton once, a listener per organization, a TenantPipeline per tenant with a pipeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from .. import config, meta, network_policies
from .listener import COMPONENT, org_listener, policy_rules
from .platform_access import platform_access
from .rbac import CLUSTER_ROLE, CLUSTER_RULES
from .tekton import TARGET_NAMESPACE, Tekton, TektonArgs
from .tenant_pipeline import TenantPipeline, TenantPipelineArgs


@dataclass(frozen=True)
class PipelinesArgs:
    production: bool
    organizations: Sequence[config.Organization]
    tenants: Sequence[config.Tenant]
    org_namespaces: Mapping[str, k8s.core.v1.Namespace]  # organization name -> its namespace
    tenant_namespaces: Mapping[str, k8s.core.v1.Namespace]  # tenant name -> its main namespace
    secret_stores: Mapping[str, pulumi.Resource]  # tenant name -> its ClusterSecretStore
    webhook_secret: str  # the name of each organization's webhook Secret
    platform_admins: Sequence[str]  # OIDC groups that run and manage pipelines
    platform_viewers: Sequence[str]  # OIDC groups that read them
    topology: network_policies.Topology = network_policies.Topology(())  # the fences' paths


class Pipelines(pulumi.ComponentResource):
    def __init__(self, name: str, args: PipelinesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gatehouse:pipelines:Pipelines", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tekton = Tekton("tekton", TektonArgs(args.production, args.topology), child)
        # the Dashboard's namespace, where the gateway plane puts its route (dashboard.py)
        self.namespaces = {TARGET_NAMESPACE: tekton.target_namespace}
        platform_access(args.platform_admins, args.platform_viewers, child)
        cluster_read = k8s.rbac.v1.ClusterRole(
            CLUSTER_ROLE,
            metadata=meta.object_meta(CLUSTER_ROLE, COMPONENT),
            rules=policy_rules(CLUSTER_RULES),
            opts=child,
        )
        listeners = {}
        for org in args.organizations:
            tenants = [t for t in args.tenants if t.organization == org.name and t.has_pipeline]
            if not tenants:
                continue  # a listener lists at least one trigger (tektoncd/triggers v0.37.0 EventListenerSpec.validate)
            listeners[org.name] = org_listener(
                org,
                tenants,
                args.org_namespaces[org.name].metadata.name,
                tekton.config,
                pulumi.ResourceOptions(parent=self, depends_on=[cluster_read]),
            )
        organizations = {o.name: o for o in args.organizations}
        for tenant in args.tenants:
            if not tenant.has_pipeline:
                continue
            TenantPipeline(
                tenant.name,
                TenantPipelineArgs(
                    tenant,
                    organizations[tenant.organization],
                    args.tenant_namespaces[tenant.name],
                    args.org_namespaces[tenant.organization],
                    args.secret_stores[tenant.name],
                    tekton.config,
                    args.webhook_secret,
                ),
                child,
            )
        self.register_outputs(
            {"listeners": {org: f"el-{name}" for org, name in ((o, "github-listener") for o in listeners)}}
        )
