"""The External Secrets operator, once per cluster: it serves every organization's ClusterSecretStore.

Installed from its upstream chart with its CRDs, in the reserved platform namespace `external-secrets`;
every store waits for it (the CRDs, and the webhook that validates stores).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from .. import meta, network_policies
from ..charts import helm_chart, resources

NAMESPACE = "external-secrets"
COMPONENT = "secrets-operator"
RELEASE = "external-secrets"
# The chart's defaults already run every container non-root, read-only, without privilege escalation and
# with RuntimeDefault seccomp (Pod Security `restricted`); they only lack resources.
SMALL = resources("10m", "64Mi", "256Mi")
VALUES = {
    "installCRDs": True,
    "resources": SMALL,
    "webhook": {"resources": SMALL},
    "certController": {"resources": SMALL},
}


@dataclass(frozen=True)
class SecretsOperatorArgs:
    production: bool


class SecretsOperator(pulumi.ComponentResource):
    chart: k8s.helm.v4.Chart

    def __init__(self, name: str, args: SecretsOperatorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gatehouse:tenancy:SecretsOperator", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = meta.platform_namespace(NAMESPACE, COMPONENT, args.production, child)
        network_policies.fence(namespace, NAMESPACE, network_policies.Topology(()), child)
        # carries the external-secrets.io CRDs: protected in prod
        self.chart = helm_chart(
            RELEASE, "external-secrets", RELEASE, namespace.metadata.name, VALUES, child, args.production
        )
        self.register_outputs({"namespace": namespace.metadata.name})
