"""An organization: the namespace `org-<name>` that holds what its tenants share."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from .. import config, meta

COMPONENT = "organization"


@dataclass(frozen=True)
class OrganizationArgs:
    organization: config.Organization
    production: bool


class Organization(pulumi.ComponentResource):
    namespace: k8s.core.v1.Namespace

    def __init__(self, name: str, args: OrganizationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gatehouse:tenancy:Organization", name, None, opts)
        org = args.organization
        self.namespace = k8s.core.v1.Namespace(
            org.namespace,
            metadata=meta.object_meta(
                org.namespace,
                COMPONENT,
                extra_labels={
                    meta.ORGANIZATION_LABEL: org.name,
                    meta.PSA_ENFORCE_LABEL: "restricted",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                },
            ),
            opts=meta.stateful(pulumi.ResourceOptions(parent=self), args.production),
        )
        self.register_outputs({"namespace": self.namespace.metadata.name})
