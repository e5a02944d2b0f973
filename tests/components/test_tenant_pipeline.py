"""TenantPipeline (components/pipelines/tenant_pipeline.py) built alone: the tenant's Pipeline, run
ServiceAccount and Terraform backend secret in its namespace, its Trigger objects in its organization's."""

from __future__ import annotations

import pulumi_kubernetes as k8s
from component_harness import build

from components import config
from components.pipelines.tenant_pipeline import TenantPipeline, TenantPipelineArgs

SPEC = {
    "apiVersion": "tekton.dev/v1",
    "kind": "Pipeline",
    "metadata": {"name": "deploy"},
    "spec": {"params": [{"name": "git-url"}], "tasks": [{"name": "t", "taskRef": {"name": "x"}}]},
}
PIPELINE_TENANT = config.Tenant(
    name="shop",
    organization="acme",
    repo="acme/shop",
    profile="standard",
    size="small",
    pipeline_name="deploy",
    template_ref="run-pipeline-v1",
    pipeline_spec=SPEC,
)
PLAIN_TENANT = config.Tenant(name="plain", organization="globex", repo="globex/plain", profile="standard", size="small")


def organization(name: str) -> config.Organization:
    return config.Organization(name=name, display_name=name.title(), admin_users=[f"ops@{name}.example"])


def test_objects_in_the_tenants_namespace_and_its_organizations() -> None:
    def make() -> TenantPipeline:
        tenant_ns = k8s.core.v1.Namespace("shop", metadata={"name": "shop"})
        org_ns = k8s.core.v1.Namespace("org-acme", metadata={"name": "org-acme"})
        tekton, store = k8s.core.v1.ConfigMap("tekton"), k8s.core.v1.ConfigMap("store")
        args = TenantPipelineArgs(
            PIPELINE_TENANT, organization("acme"), tenant_ns, org_ns, store, tekton, "github-webhook-secret"
        )
        return TenantPipeline("shop", args)

    built = build(make)
    where = {(o["kind"], o["metadata"]["name"]): o["metadata"].get("namespace") for o in built.objects()}
    assert where == {
        ("Pipeline", "deploy"): "shop",
        ("ServiceAccount", "pipeline-runner"): "shop",
        ("RoleBinding", "pipeline-runner"): "shop",
        ("Role", "github-listener-runs"): "shop",
        ("RoleBinding", "github-listener-runs"): "shop",
        ("ExternalSecret", "terraform-backend"): "shop",
        ("TriggerBinding", "shop-push"): "org-acme",
        ("TriggerTemplate", "shop-push"): "org-acme",
        ("Trigger", "shop-push"): "org-acme",
    }
    runner = built.object("RoleBinding", "pipeline-runner")
    assert runner["roleRef"]["name"] == "tenant-deployer"  # the tenant's deploy permissions, nothing more
    assert built.object("ServiceAccount", "pipeline-runner")["automountServiceAccountToken"] is False
    assert built.object("Pipeline", "deploy")["spec"] == SPEC["spec"]
    listener = built.object("RoleBinding", "github-listener-runs")
    assert listener["subjects"] == [{"kind": "ServiceAccount", "name": "github-listener", "namespace": "org-acme"}]
