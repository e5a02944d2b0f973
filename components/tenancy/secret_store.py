"""An organization's External Secrets store: its tenants read `org-secrets` from the org namespace.

Seed 002's shape: ClusterSecretStore `org-<name>-store` with the kubernetes provider, authenticated as
the `eso-secrets-reader` ServiceAccount, usable only from namespaces labelled with the organization.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .. import config, meta

READER = "eso-secrets-reader"
SOURCE_SECRET = "org-secrets"  # created by the organization itself, never by Gatehouse
COMPONENT = "organization"


def store_spec(org: config.Organization) -> dict[str, Any]:
    return {
        "conditions": [{"namespaceSelector": {"matchLabels": {meta.ORGANIZATION_LABEL: org.name}}}],
        "provider": {
            "kubernetes": {
                "remoteNamespace": org.namespace,
                "server": {
                    "caProvider": {
                        "type": "ConfigMap",
                        "name": "kube-root-ca.crt",
                        "key": "ca.crt",
                        "namespace": org.namespace,
                    }
                },
                "auth": {"serviceAccount": {"name": READER, "namespace": org.namespace}},
            }
        },
    }


def secret_store(
    org: config.Organization,
    namespace: k8s.core.v1.Namespace,
    operator: pulumi.Resource,
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """`operator`: the External Secrets chart, whose CRDs and webhook the store needs first."""
    labels = {meta.ORGANIZATION_LABEL: org.name}
    ns = namespace.metadata.name
    k8s.core.v1.ServiceAccount(
        f"{org.name}-{READER}",
        metadata=meta.object_meta(READER, COMPONENT, ns, labels),
        automount_service_account_token=False,
        opts=opts,
    )
    k8s.rbac.v1.Role(
        f"{org.name}-{READER}",
        metadata=meta.object_meta(READER, COMPONENT, ns, labels),
        rules=[
            k8s.rbac.v1.PolicyRuleArgs(
                api_groups=[""], resources=["secrets"], resource_names=[SOURCE_SECRET], verbs=["get", "list", "watch"]
            ),
            # the provider checks its own permissions when the store is validated
            k8s.rbac.v1.PolicyRuleArgs(
                api_groups=["authorization.k8s.io"], resources=["selfsubjectrulesreviews"], verbs=["create"]
            ),
        ],
        opts=opts,
    )
    k8s.rbac.v1.RoleBinding(
        f"{org.name}-{READER}",
        metadata=meta.object_meta(READER, COMPONENT, ns, labels),
        role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=READER),
        subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=READER, namespace=org.namespace)],
        opts=opts,
    )
    return meta.custom_resource(
        f"{org.name}-store",
        "external-secrets.io/v1",
        "ClusterSecretStore",
        meta.object_meta(f"{org.namespace}-store", COMPONENT, extra_labels=labels),
        store_spec(org),
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[operator])),
    )
