"""A tenant's pipeline (seed 002's RepoBinding), for a tenant whose config gives `pipelineName`, `templateRef` and
`pipelineSpec`:

- in its main namespace: the Pipeline; the ServiceAccount `pipeline-runner` its runs use, bound to the
  tenant's `tenant-deployer` Role (what its repository may ship, nothing more; token automount off like every
  tenant ServiceAccount: a Task that calls the API mounts a projected token itself); the Role and binding that
  let the organization's listener create PipelineRuns there (rbac.RUN_RULES); and the ExternalSecret
  `terraform-backend`, seed 002's Terraform backend secret, from the key `terraform-backend` of the
  organization's `<tenant>-secrets` through the tenant's own store, which the dispatcher template mounts into
  each run as the workspace `terraform-backend`. Runs are pods of the tenant's namespace: its quota, limits,
  network policies and admission rules apply to them as to any pod.
- in the organization's namespace (beside its webhook Secret, which the GitHub interceptor reads in the
  Trigger's namespace): the TriggerBinding, TriggerTemplate and Trigger (dispatch.py), none of which a tenant
  can edit, so no tenant can widen its own filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .. import config, meta
from ..tenancy.secret_store import source_secret, store_name
from ..tenancy.tenant import DEPLOYER_ROLE
from .dispatch import (
    RUN_SERVICE_ACCOUNT,
    TERRAFORM_SECRET,
    TRIGGERS_API,
    binding_spec,
    template_spec,
    trigger_name,
    trigger_spec,
)
from .listener import COMPONENT, SERVICE_ACCOUNT, bind, granted_role
from .rbac import RUN_ROLE, RUN_RULES

rbac = k8s.rbac.v1


def pipeline_object(tenant: config.Tenant) -> dict[str, Any]:
    """The tenant's Pipeline document, named `pipelineName` (config checked it against the Pipeline CRD)."""
    assert tenant.pipeline_spec is not None
    return dict(tenant.pipeline_spec)


def terraform_secret_spec(tenant: config.Tenant) -> dict[str, Any]:
    return {
        "refreshInterval": "1h",
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": store_name(tenant)},
        "target": {"name": TERRAFORM_SECRET, "creationPolicy": "Owner"},
        "data": [
            {"secretKey": TERRAFORM_SECRET, "remoteRef": {"key": source_secret(tenant), "property": TERRAFORM_SECRET}}
        ],
    }


@dataclass(frozen=True)
class TenantPipelineArgs:
    tenant: config.Tenant
    organization: config.Organization
    tenant_namespace: k8s.core.v1.Namespace  # its main namespace
    org_namespace: k8s.core.v1.Namespace
    secret_store: pulumi.Resource  # the tenant's ClusterSecretStore
    tekton: pulumi.Resource  # the TektonConfig: the tekton.dev and triggers.tekton.dev CRDs and webhooks
    webhook_secret: str  # the organization's webhook Secret, in its namespace


class TenantPipeline(pulumi.ComponentResource):
    def __init__(self, name: str, args: TenantPipelineArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gatehouse:pipelines:TenantPipeline", name, None, opts)
        tenant, org = args.tenant, args.organization
        assert tenant.pipeline_name is not None
        child = pulumi.ResourceOptions(parent=self)
        after_tekton = pulumi.ResourceOptions(parent=self, depends_on=[args.tekton])
        labels = {meta.TENANT_LABEL: tenant.name}
        ns = args.tenant_namespace.metadata.name
        org_ns = args.org_namespace.metadata.name
        document = pipeline_object(tenant)
        meta.custom_resource(
            f"{tenant.name}-pipeline",
            "tekton.dev/v1",
            "Pipeline",
            meta.object_meta(tenant.pipeline_name, COMPONENT, ns, labels),
            document["spec"],
            after_tekton,
        )
        k8s.core.v1.ServiceAccount(
            f"{tenant.name}-pipeline-runner",
            metadata=meta.object_meta(RUN_SERVICE_ACCOUNT, COMPONENT, ns, labels),
            automount_service_account_token=False,
            opts=child,
        )
        runner = rbac.SubjectArgs(kind="ServiceAccount", name=RUN_SERVICE_ACCOUNT, namespace=tenant.name)
        bind(f"{tenant.name}-pipeline-runner", RUN_SERVICE_ACCOUNT, ns, labels, "Role", DEPLOYER_ROLE, runner, child)
        listener = rbac.SubjectArgs(kind="ServiceAccount", name=SERVICE_ACCOUNT, namespace=org.namespace)
        granted_role(f"{tenant.name}-listener-runs", RUN_ROLE, ns, labels, RUN_RULES, listener, child)
        meta.custom_resource(
            f"{tenant.name}-terraform-backend",
            "external-secrets.io/v1",
            "ExternalSecret",
            meta.object_meta(TERRAFORM_SECRET, COMPONENT, ns, labels),
            terraform_secret_spec(tenant),
            pulumi.ResourceOptions(parent=self, depends_on=[args.secret_store]),
        )
        # in the organization's namespace: the organization's label, as its other objects there
        org_labels = {meta.ORGANIZATION_LABEL: org.name}
        name = trigger_name(tenant)
        for kind, spec in (
            ("TriggerBinding", binding_spec()),
            ("TriggerTemplate", template_spec(tenant)),
            ("Trigger", trigger_spec(tenant, args.webhook_secret)),
        ):
            meta.custom_resource(
                f"{tenant.name}-{kind.lower()}",
                TRIGGERS_API,
                kind,
                meta.object_meta(name, COMPONENT, org_ns, org_labels),
                spec,
                after_tekton,
            )
        self.register_outputs({"pipeline": tenant.pipeline_name, "trigger": name, "namespace": ns})
