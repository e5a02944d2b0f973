"""Pipelines (components/pipelines/pipelines.py) built alone: Tekton once, a listener only for an organization
with a tenant that has a pipeline, a TenantPipeline per such tenant, the platform groups' ClusterRoles."""

from __future__ import annotations

import pulumi_kubernetes as k8s
from component_harness import build
from test_tenant_pipeline import PIPELINE_TENANT, PLAIN_TENANT, organization

from components.pipelines import Pipelines, PipelinesArgs

LISTENER = "kubernetes:triggers.tekton.dev/v1beta1:EventListener"


def _built():
    acme, globex = organization("acme"), organization("globex")

    def make() -> Pipelines:
        ns = {
            name: k8s.core.v1.Namespace(name, metadata={"name": name})
            for name in ("org-acme", "org-globex", "shop", "plain")
        }
        store = k8s.core.v1.ConfigMap("store")
        return Pipelines(
            "pipelines",
            PipelinesArgs(
                production=False,
                organizations=[acme, globex],
                tenants=[PIPELINE_TENANT, PLAIN_TENANT],
                org_namespaces={"acme": ns["org-acme"], "globex": ns["org-globex"]},
                tenant_namespaces={"shop": ns["shop"], "plain": ns["plain"]},
                secret_stores={"shop": store, "plain": store},
                webhook_secret="github-webhook-secret",
                platform_admins=["authentik:platform-admins"],
                platform_viewers=["authentik:platform-engineering"],
            ),
        )

    return build(make)


def test_a_listener_per_organization_with_a_pipeline_and_the_platform_roles() -> None:
    built = _built()
    (listener,) = built.objects("EventListener")
    assert listener["metadata"]["namespace"] == "org-acme"
    assert [p.name for p in built.of_type("gatehouse:pipelines:TenantPipeline")] == ["shop"]
    bindings = {b["metadata"]["name"]: b for b in built.objects("ClusterRoleBinding")}
    assert [s["name"] for s in bindings["gatehouse-tekton-admin"]["subjects"]] == ["authentik:platform-admins"]
    assert [s["name"] for s in bindings["gatehouse-tekton-view"]["subjects"]] == ["authentik:platform-engineering"]
    view = built.object("ClusterRole", "gatehouse-tekton-view")
    assert all(set(r["verbs"]) == {"get", "list", "watch"} for r in view["rules"])
    assert not any("*" in r["verbs"] or "*" in r["resources"] for c in built.objects("ClusterRole") for r in c["rules"])
