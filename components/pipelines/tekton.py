"""Tekton, once per cluster: the Tekton operator from its upstream chart, and the TektonConfig it installs
Pipelines, Triggers and the Dashboard from (tektoncd/operator v0.81.1, which installs pipeline v1.15.0 and
triggers v0.37.0: its `components.yaml`).

- The chart installs the operator's CRDs (`installCRDs`; off by default in its values.yaml) in the platform
  namespace `tekton-operator`, fenced like every platform namespace. `operator.autoInstallComponents` is off:
  the chart's values.yaml says to turn it off when a TektonConfig is supplied, "to avoid racing the operator's
  own auto-install, which creates TektonConfig/config"; Gatehouse declares that TektonConfig itself, named
  `config`, the one name the operator reconciles.
- Profile `all` (docs/TektonConfig.md: on Kubernetes, Pipelines, Triggers, Chains, Results and the Dashboard),
  less Chains and Results (`disabled`): neither is used, and Results needs a database. The Dashboard is
  read-only: it acts with its own ServiceAccount, never the viewer's, so a writable one would let anyone
  past its sign-in start runs in any namespace.
- The TektonConfig carries `pulumi.com/waitFor: condition=Ready`: the operator installs the tekton.dev and
  triggers.tekton.dev CRDs and their admission webhooks only once it reconciles it, so everything of those
  kinds (pipelines/ and the organizations' listeners) depends on it, and Pulumi waits until Tekton is Ready
  (offline/order/operator_facts.py states this for the deploy-order check).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from .. import meta, network_policies
from ..charts import helm_chart, resources
from ..versions import CHARTS

NAMESPACE = "tekton-operator"
TARGET_NAMESPACE = "tekton-pipelines"  # where the operator installs Tekton (its default on Kubernetes)
COMPONENT = "tekton"
RELEASE = "tekton-operator"
CONFIG_NAME = "config"  # the only TektonConfig the operator reconciles
READY = {"pulumi.com/waitFor": "condition=Ready"}
SMALL = resources("20m", "64Mi", "256Mi")
# Pod Security `restricted`: the chart's pods get no securityContext unless given one (its values.yaml).
RESTRICTED_POD = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
}
VALUES = {
    "installCRDs": True,
    "operator": {"autoInstallComponents": False, "resources": SMALL},
    "webhook": {"resources": SMALL},
    "podSecurityContext": RESTRICTED_POD,
    "securityContext": RESTRICTED_CONTAINER,
}


def tekton_config_spec() -> dict[str, object]:
    return {
        "profile": "all",
        "targetNamespace": TARGET_NAMESPACE,
        "chain": {"disabled": True},
        "result": {"disabled": True, "is_external_db": False},
        "dashboard": {"readonly": True},
        # the containers Tekton adds to a run's pod (init, sidecars) get a restricted securityContext, so runs
        # pass the tenants' Pod Security and admission rules (tektoncd/pipeline v1.15.0 config/config-feature-flags.yaml
        # `set-security-context`, default false)
        "pipeline": {"set-security-context": True},
    }


@dataclass(frozen=True)
class TektonArgs:
    production: bool


class Tekton(pulumi.ComponentResource):
    """The operator's chart and the TektonConfig; `config` is what every Tekton object waits for."""

    config: k8s.apiextensions.CustomResource

    def __init__(self, name: str, args: TektonArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gatehouse:pipelines:Tekton", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = meta.platform_namespace(NAMESPACE, COMPONENT, args.production, child)
        network_policies.fence(namespace, NAMESPACE, network_policies.Topology(()), child)
        # carries the operator.tekton.dev CRDs: protected in prod
        chart = helm_chart(RELEASE, "tekton-operator", RELEASE, namespace.metadata.name, VALUES, child, args.production)
        self.config = meta.custom_resource(
            "tekton-config",
            "operator.tekton.dev/v1alpha1",
            "TektonConfig",
            meta.object_meta(CONFIG_NAME, COMPONENT, annotations=READY),
            tekton_config_spec(),
            pulumi.ResourceOptions(parent=self, depends_on=[chart]),
        )
        self.register_outputs({"namespace": namespace.metadata.name, "version": CHARTS["tekton-operator"].version})
