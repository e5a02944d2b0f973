"""A tenant: a repository's isolated home, a set of namespaces that one config entry declares."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from .. import config, meta

COMPONENT = "tenant"

# Pod Security Admission level per permission profile.
POD_SECURITY = {"standard": "restricted", "elevated": "baseline"}


@dataclass(frozen=True)
class TenantArgs:
    tenant: config.Tenant
    production: bool


def namespace_labels(tenant: config.Tenant) -> dict[str, str]:
    owner, repo = tenant.repo.split("/")
    return {
        meta.TENANT_LABEL: tenant.name,
        meta.ORGANIZATION_LABEL: tenant.organization,
        meta.PROFILE_LABEL: tenant.profile,
        f"{meta.LABEL_DOMAIN}/repo-owner": owner,
        f"{meta.LABEL_DOMAIN}/repo-name": repo,
        meta.GATEWAY_ACCESS_LABEL: "true",
        meta.PSA_ENFORCE_LABEL: POD_SECURITY[tenant.profile],
        "pod-security.kubernetes.io/enforce-version": "latest",
        # warn and audit at restricted even for elevated tenants, so they see what they rely on
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }


class Tenant(pulumi.ComponentResource):
    """Namespaces `<name>` and `<name>-<suffix>`, labelled for policy, gateway and secret-store selection."""

    namespaces: list[k8s.core.v1.Namespace]

    def __init__(self, name: str, args: TenantArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gatehouse:tenancy:Tenant", name, None, opts)
        tenant = args.tenant
        child = meta.stateful(pulumi.ResourceOptions(parent=self), args.production)
        annotations = {f"{meta.LABEL_DOMAIN}/repo": tenant.repo_url}
        self.namespaces = [
            k8s.core.v1.Namespace(
                ns_name,
                metadata=meta.object_meta(
                    ns_name, COMPONENT, extra_labels=namespace_labels(tenant), annotations=annotations
                ),
                opts=child,
            )
            for ns_name in tenant.namespace_names
        ]
        self.register_outputs({"namespaces": [ns.metadata.name for ns in self.namespaces]})
