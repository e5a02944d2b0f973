"""A tenant: a repository's isolated home, everything one config entry under `tenants` declares.

Per namespace (`<name>` and `<name>-<suffix>`): the Namespace with tenant and Pod Security labels (and
Gateway access only where a configured app or API lives), a ResourceQuota and LimitRange from the size
tier, NetworkPolicies, the profile's Role bound to the tenant's OIDC groups and its deployer Role bound to
the `deployer` ServiceAccount. Once: the ServiceAccount and an Argo CD AppProject that syncs as it. Its
secret store lives with its organization, beside the Secret it reads (secret_store.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from policy import gatehouse_contract as contract

from .. import config, meta
from .argocd import app_project_spec
from .network import network_policies
from .profiles import DEPLOYER, DEPLOYER_PROFILES, PROFILES, Rule
from .sizes import DEFAULT_LIMITS, DEFAULT_REQUESTS, SIZES

COMPONENT = "tenant"
SERVICE_ACCOUNT = DEPLOYER
ROLE = "tenant"
DEPLOYER_ROLE = f"{ROLE}-{DEPLOYER}"


@dataclass(frozen=True)
class TenantArgs:
    tenant: config.Tenant
    production: bool
    private_ranges: list[str]
    # namespaces hosting a configured app or API (stack.apps/apis): only their HTTPRoutes may attach
    gateway_namespaces: frozenset[str]
    # what installs Argo CD (its CRDs and namespace), which the AppProject waits for; None for an Argo CD
    # the cluster already has
    argocd: pulumi.Resource | None = None
    # the internal gateways (config/gateways.py), which the tenant's pods may call
    internal_gateways: tuple[str, ...] = ()


def namespace_labels(tenant: config.Tenant) -> dict[str, str]:
    """The tenant's own labels on each of its namespaces: who it is, and the repository it deploys from."""
    owner, repo = tenant.repo.split("/")
    return {
        contract.TENANT_LABEL: tenant.name,
        contract.ORGANIZATION_LABEL: tenant.organization,
        contract.PROFILE_LABEL: tenant.profile,
        contract.REPO_OWNER_LABEL: owner,
        contract.REPO_NAME_LABEL: repo,
    }


class Tenant(pulumi.ComponentResource):
    namespaces: list[k8s.core.v1.Namespace]

    def __init__(self, name: str, args: TenantArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(contract.TENANT_TYPE, name, None, opts)
        self._tenant = args.tenant
        self._labels = {meta.TENANT_LABEL: args.tenant.name}
        self._internal_gateways = args.internal_gateways
        child = pulumi.ResourceOptions(parent=self)
        tenant = args.tenant

        self.namespaces = [
            meta.namespace(
                ns_name,
                COMPONENT,
                args.production,
                child,
                pod_security=contract.POD_SECURITY_BY_PROFILE[tenant.profile],
                # restricted warnings and audit even for elevated tenants, so they see what they rely on
                warn_restricted=True,
                gateway_access=ns_name in args.gateway_namespaces,
                extra_labels=namespace_labels(tenant),
                annotations={contract.REPO_ANNOTATION: tenant.repo_url},
            )
            for ns_name in tenant.namespace_names
        ]
        self.namespace_resources = dict(zip(tenant.namespace_names, self.namespaces, strict=True))
        main = self.namespaces[0]
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{tenant.name}-{SERVICE_ACCOUNT}",
            metadata=self._meta(SERVICE_ACCOUNT, main),
            automount_service_account_token=False,
            opts=child,
        )
        for ns_name, namespace in zip(tenant.namespace_names, self.namespaces, strict=True):
            self._guardrails(ns_name, namespace, args.private_ranges, child)
            self._rbac(ns_name, namespace, child)
            self._default_service_account(ns_name, namespace, child)
        self.app_project = meta.custom_resource(
            f"{tenant.name}-project",
            "argoproj.io/v1alpha1",
            "AppProject",
            meta.object_meta(tenant.name, COMPONENT, meta.ARGOCD_NAMESPACE, self._labels),
            app_project_spec(tenant),
            pulumi.ResourceOptions(parent=self, depends_on=[args.argocd] if args.argocd else None),
        )
        self.register_outputs(
            {
                "namespaces": [ns.metadata.name for ns in self.namespaces],
                "serviceAccount": self.service_account.metadata.name,
                "appProject": tenant.name,
            }
        )

    def _default_service_account(
        self, ns_name: str, namespace: k8s.core.v1.Namespace, opts: pulumi.ResourceOptions
    ) -> None:
        """The namespace's `default` ServiceAccount without token automount: Kubernetes makes it (the
        ServiceAccount controller, with the field unset, so every pod on it would get a token), and a pod that
        names no ServiceAccount runs as it. A server-side-apply patch of that one field, which creates the
        ServiceAccount if the controller has not yet (pulumi-kubernetes provider/pkg/await/await.go, read at
        v4.32.0, the newest tag the mirror holds: a Patch resource is an apply, `types.ApplyPatchType`), and
        on delete gives the field back rather than deleting the account."""
        k8s.core.v1.ServiceAccountPatch(
            f"{ns_name}-default-sa",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(name="default", namespace=namespace.metadata.name),
            automount_service_account_token=False,
            opts=opts,
        )

    def _meta(self, name: str, namespace: k8s.core.v1.Namespace) -> k8s.meta.v1.ObjectMetaArgs:
        # the namespace's Output makes every object depend on its namespace
        return meta.object_meta(name, COMPONENT, namespace.metadata.name, self._labels)

    def _guardrails(
        self, ns_name: str, namespace: k8s.core.v1.Namespace, private_ranges: list[str], opts: pulumi.ResourceOptions
    ) -> None:
        size = SIZES[self._tenant.size]
        k8s.core.v1.ResourceQuota(
            f"{ns_name}-quota",
            metadata=self._meta("tenant-quota", namespace),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(hard=size.quota()),
            opts=opts,
        )
        k8s.core.v1.LimitRange(
            f"{ns_name}-limits",
            metadata=self._meta("tenant-limits", namespace),
            spec=k8s.core.v1.LimitRangeSpecArgs(
                limits=[
                    k8s.core.v1.LimitRangeItemArgs(
                        type="Container",
                        default=DEFAULT_LIMITS,
                        default_request=DEFAULT_REQUESTS,
                        max={"cpu": size.container_max_cpu, "memory": size.container_max_memory},
                    )
                ]
            ),
            opts=opts,
        )
        network_policies(namespace, ns_name, self._tenant.name, private_ranges, opts, self._internal_gateways)

    def _role(
        self,
        resource_name: str,
        role: str,
        rules: list[Rule],
        namespace: k8s.core.v1.Namespace,
        opts: pulumi.ResourceOptions,
    ) -> None:
        rbac = k8s.rbac.v1
        rbac.Role(
            resource_name,
            metadata=meta.object_meta(
                role, COMPONENT, namespace.metadata.name, {**self._labels, meta.PROFILE_LABEL: self._tenant.profile}
            ),
            rules=[
                rbac.PolicyRuleArgs(api_groups=list(r.api_groups), resources=list(r.resources), verbs=list(r.verbs))
                for r in rules
            ],
            opts=opts,
        )

    def _rbac(self, ns_name: str, namespace: k8s.core.v1.Namespace, opts: pulumi.ResourceOptions) -> None:
        tenant = self._tenant
        rbac = k8s.rbac.v1
        self._role(f"{ns_name}-role", ROLE, PROFILES[tenant.profile], namespace, opts)
        # what Argo CD may sync as the deployer: the app objects, which standard people may not write by hand
        self._role(f"{ns_name}-deployer-role", DEPLOYER_ROLE, DEPLOYER_PROFILES[tenant.profile], namespace, opts)
        rbac.RoleBinding(
            f"{ns_name}-deployer",
            metadata=self._meta(DEPLOYER_ROLE, namespace),
            role_ref=rbac.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=DEPLOYER_ROLE),
            subjects=[rbac.SubjectArgs(kind="ServiceAccount", name=SERVICE_ACCOUNT, namespace=tenant.name)],
            opts=opts,
        )
        rbac.RoleBinding(
            f"{ns_name}-developers",
            metadata=self._meta(f"{ROLE}-developers", namespace),
            role_ref=rbac.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=ROLE),
            subjects=[
                rbac.SubjectArgs(kind="Group", name=group, api_group="rbac.authorization.k8s.io")
                for group in tenant.oidc_groups
            ],
            opts=opts,
        )
