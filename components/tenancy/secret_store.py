"""An organization's External Secrets stores: one per tenant, each reading only that tenant's source Secret.

The organization keeps its tenants' secrets in its own namespace `org-<name>`, one Secret per tenant:
`<tenant>-secrets` (created by the organization itself, never by Gatehouse). Per tenant, Gatehouse makes
the ClusterSecretStore `tenant-<tenant>-store` with the kubernetes provider, authenticated as the
ServiceAccount `eso-reader-<tenant>` of the org namespace, whose Role may `get` that one Secret by name,
and usable only from the tenant's own namespaces.

Why one store per tenant (external-secrets v2.9.0):
- a ClusterSecretStore's `conditions` choose only *which namespaces* may use it, never which remote
  keys (apis/externalsecrets/v1/secretstore_types.go ClusterSecretStoreCondition: `namespaceSelector`,
  `namespaces`, `namespaceRegexes`; pkg/controllers/secretstore/client_manager.go shouldProcessSecret
  ORs them, `namespaces` matched on the API server's own `kubernetes.io/metadata.name` label, which no
  tenant can set), so a store shared by an organization's tenants gives each all of them;
- the kubernetes provider reads `remoteRef.key` as a Secret name with a `get`
  (providers/v1/kubernetes/client.go GetSecret) under the store's ServiceAccount, and validates the
  store by that ServiceAccount's `get` on secrets (providers/v1/kubernetes/validate.go): a Role with
  `resourceNames` bounds what the store can read, and `find` (a `list`) is refused, as Kubernetes
  authorizes no unfiltered `list` by resource name.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .. import config, meta

COMPONENT = "organization"


def reader(tenant: config.Tenant) -> str:
    """The ServiceAccount (and its Role and RoleBinding) the tenant's store reads as, in the org namespace."""
    return f"eso-reader-{tenant.name}"


def source_secret(tenant: config.Tenant) -> str:
    """The one Secret of the org namespace the tenant's store may read (its ExternalSecrets' remote key)."""
    return f"{tenant.name}-secrets"


def store_name(tenant: config.Tenant) -> str:
    return f"tenant-{tenant.name}-store"


def store_spec(org: config.Organization, tenant: config.Tenant) -> dict[str, Any]:
    return {
        # by name: the API server's `kubernetes.io/metadata.name`, not a label anyone else sets
        "conditions": [{"namespaces": list(tenant.namespace_names)}],
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
                "auth": {"serviceAccount": {"name": reader(tenant), "namespace": org.namespace}},
            }
        },
    }


def reader_rules(tenant: config.Tenant) -> list[k8s.rbac.v1.PolicyRuleArgs]:
    return [
        # `get` by name only: the provider's GetSecret and its store validation need nothing more
        k8s.rbac.v1.PolicyRuleArgs(
            api_groups=[""], resources=["secrets"], resource_names=[source_secret(tenant)], verbs=["get"]
        ),
        # the provider checks its own permissions when the store is validated
        k8s.rbac.v1.PolicyRuleArgs(
            api_groups=["authorization.k8s.io"], resources=["selfsubjectrulesreviews"], verbs=["create"]
        ),
    ]


def secret_stores(
    org: config.Organization,
    tenants: list[config.Tenant],
    namespace: k8s.core.v1.Namespace,
    operator: pulumi.Resource,
    opts: pulumi.ResourceOptions,
) -> dict[str, k8s.apiextensions.CustomResource]:
    """One store per tenant of `org` (tenant name -> store); `operator`: the External Secrets chart, whose
    CRDs and webhook the stores need first."""
    ns = namespace.metadata.name
    stores = {}
    for tenant in tenants:
        # the organization's label only: the tenant label marks the tenant's own objects (the policy pack's)
        labels = {meta.ORGANIZATION_LABEL: org.name}
        name = reader(tenant)
        k8s.core.v1.ServiceAccount(
            f"{org.name}-{name}",
            metadata=meta.object_meta(name, COMPONENT, ns, labels),
            automount_service_account_token=False,
            opts=opts,
        )
        k8s.rbac.v1.Role(
            f"{org.name}-{name}",
            metadata=meta.object_meta(name, COMPONENT, ns, labels),
            rules=reader_rules(tenant),
            opts=opts,
        )
        k8s.rbac.v1.RoleBinding(
            f"{org.name}-{name}",
            metadata=meta.object_meta(name, COMPONENT, ns, labels),
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=name),
            subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=name, namespace=org.namespace)],
            opts=opts,
        )
        stores[tenant.name] = meta.custom_resource(
            f"{org.name}-{tenant.name}-store",
            "external-secrets.io/v1",
            "ClusterSecretStore",
            meta.object_meta(store_name(tenant), COMPONENT, extra_labels=labels),
            store_spec(org, tenant),
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[operator])),
        )
    return stores
