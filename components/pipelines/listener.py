"""An organization's EventListener: `github-listener` in `org-<name>`, whose Service `el-github-listener` (Triggers
names it `el-<listener>`, port 8080: tektoncd/triggers v0.37.0 pkg/reconciler/eventlistener/eventlistener.go
`GeneratedResourcePrefix`, resources/service.go `eventListenerContainerPort`) is where
the organization's Cloudflare tunnel delivers (config `webhookService`, default `el-github-listener:8080`).

It lists one Trigger per tenant of the organization with a pipeline (dispatch.py; each checks the webhook's
signature with the organization's secret and its repository) and runs as its own ServiceAccount, bound to
exactly the rules of rbac.py: its namespace's Triggers objects, ClusterInterceptors and ClusterTriggerBindings.
Its PipelineRuns are created in tenants' namespaces, where tenant_pipeline.py grants it that one verb.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from .. import config, meta
from .dispatch import TRIGGERS_API, trigger_name
from .rbac import CLUSTER_ROLE, LISTENER_ROLE, LISTENER_RULES, Rule

COMPONENT = "pipelines"
LISTENER = "github-listener"
SERVICE_ACCOUNT = LISTENER
rbac = k8s.rbac.v1


def policy_rules(rules: Sequence[Rule]) -> list[rbac.PolicyRuleArgs]:
    return [
        rbac.PolicyRuleArgs(api_groups=list(r.api_groups), resources=list(r.resources), verbs=list(r.verbs))
        for r in rules
    ]


def granted_role(
    resource_name: str,
    name: str,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    rules: Sequence[Rule],
    subject: rbac.SubjectArgs,
    opts: pulumi.ResourceOptions,
) -> None:
    """A Role `name` with `rules` and its RoleBinding, of the same name, to `subject`."""
    rbac.Role(
        resource_name,
        metadata=meta.object_meta(name, COMPONENT, namespace, labels),
        rules=policy_rules(rules),
        opts=opts,
    )
    bind(resource_name, name, namespace, labels, "Role", name, subject, opts)


def bind(
    resource_name: str,
    name: str,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    kind: str,
    role: str,
    subject: rbac.SubjectArgs,
    opts: pulumi.ResourceOptions,
) -> None:
    """A RoleBinding `name` of the `kind` (Role or ClusterRole) `role` to `subject`."""
    rbac.RoleBinding(
        resource_name,
        metadata=meta.object_meta(name, COMPONENT, namespace, labels),
        role_ref=rbac.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind=kind, name=role),
        subjects=[subject],
        opts=opts,
    )


def listener_spec(tenants: Sequence[config.Tenant]) -> dict[str, object]:
    return {
        "serviceAccountName": SERVICE_ACCOUNT,
        "triggers": [{"triggerRef": trigger_name(t)} for t in tenants if t.has_pipeline],
    }


def org_listener(
    org: config.Organization,
    tenants: Sequence[config.Tenant],
    namespace: pulumi.Input[str],
    tekton: pulumi.Resource,
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """The listener, its ServiceAccount and bindings, in the organization's namespace."""
    labels = {meta.ORGANIZATION_LABEL: org.name}
    k8s.core.v1.ServiceAccount(
        f"{org.name}-listener",
        metadata=meta.object_meta(SERVICE_ACCOUNT, COMPONENT, namespace, labels),
        opts=opts,
    )
    subject = rbac.SubjectArgs(kind="ServiceAccount", name=SERVICE_ACCOUNT, namespace=org.namespace)
    granted_role(f"{org.name}-listener", LISTENER_ROLE, namespace, labels, LISTENER_RULES, subject, opts)
    rbac.ClusterRoleBinding(
        f"{org.name}-listener-cluster-read",
        metadata=meta.object_meta(f"{CLUSTER_ROLE}-{org.name}", COMPONENT, extra_labels=labels),
        role_ref=rbac.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=CLUSTER_ROLE),
        subjects=[subject],
        opts=opts,
    )
    return meta.custom_resource(
        f"{org.name}-listener",
        TRIGGERS_API,
        "EventListener",
        meta.object_meta(LISTENER, COMPONENT, namespace, labels),
        listener_spec(tenants),
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[tekton])),
    )
