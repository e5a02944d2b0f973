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
- Gatehouse declares the target namespace `tekton-pipelines` itself, restricted and with gateway access (the
  Dashboard's route, dashboard.py), and fences it from network_policies.flows() like its own namespaces: the
  operator adopts an existing target namespace (tektoncd/operator v0.81.1 pkg/reconciler/common/
  targetnamespace.go ReconcileTargetNamespace adds its label and, when the namespace has no owner, an owner
  reference to the TektonConfig). Its own NetworkPolicies (`networkPolicy`, v0.81.1 pkg/reconciler/kubernetes/
  tektonpipeline/networkpolicies.go, tektontrigger/networkpolicies.go) are off: they would add up with the fence
  and open every address to the controllers (`APIServerEgressRule` is egress to anywhere). The cron pruner
  deletes runs beyond the last PRUNE_KEEP of each namespace once a day (docs/TektonConfig.md "pruner"); its
  Jobs' pods carry no label of the operator's (pkg/reconciler/common/prune.go createCronJobs), and the fence
  selects them by the label Kubernetes puts on every Job's pods (network_policies.TEKTON_PRUNER); their pod
  template is Pod Security restricted.
- Runs' pods: with `set-security-context` the containers Tekton adds (the `prepare` entrypoint init container,
  `place-scripts`, `working-dir-initializer`, the results sidecar) get a restricted securityContext, and
  `set-security-context-read-only-root-filesystem` (tektoncd/pipeline v1.15.0 config/config-feature-flags.yaml,
  pkg/pod/security_context_config.go) a read-only root filesystem too, which a `standard` tenant's admission
  rules require of every container. The operator has no field for that flag: it goes into the `feature-flags`
  ConfigMap through the component's `options` (docs/TektonConfig.md "Additional fields as options").
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
READ_ONLY_ROOT_FLAG = "set-security-context-read-only-root-filesystem"
PRUNE_KEEP = 50  # runs kept per namespace (and resource kind): enough to read back a few days of pushes
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
        "networkPolicy": {"disabled": True},
        # old PipelineRuns and TaskRuns (and their pods) would otherwise pile up in tenants' namespaces
        "pruner": {
            "disabled": False,
            "resources": ["pipelinerun", "taskrun"],
            "keep": PRUNE_KEEP,
            "schedule": "0 3 * * *",
        },
        # the containers Tekton adds to a run's pod get a restricted securityContext with a read-only root
        # filesystem (both default false upstream), so runs pass a standard tenant's admission rules
        "pipeline": {
            "set-security-context": True,
            "options": {"configMaps": {"feature-flags": {"data": {READ_ONLY_ROOT_FLAG: "true"}}}},
        },
    }


@dataclass(frozen=True)
class TektonArgs:
    production: bool
    # the paths of the fences: the organizations' listeners call the core interceptors, the public gateway's
    # proxies the Dashboard (network_policies.flows)
    topology: network_policies.Topology = network_policies.Topology(())


class Tekton(pulumi.ComponentResource):
    """The operator's chart and the TektonConfig; `config` is what every Tekton object waits for."""

    config: k8s.apiextensions.CustomResource
    target_namespace: k8s.core.v1.Namespace

    def __init__(self, name: str, args: TektonArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gatehouse:pipelines:Tekton", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = meta.platform_namespace(NAMESPACE, COMPONENT, args.production, child)
        network_policies.fence(namespace, NAMESPACE, args.topology, child)
        target = meta.platform_namespace(TARGET_NAMESPACE, COMPONENT, args.production, child, gateway_access=True)
        network_policies.fence(target, TARGET_NAMESPACE, args.topology, child)
        self.target_namespace = target
        # carries the operator.tekton.dev CRDs: protected in prod
        chart = helm_chart(RELEASE, "tekton-operator", RELEASE, namespace.metadata.name, VALUES, child, args.production)
        self.config = meta.custom_resource(
            "tekton-config",
            "operator.tekton.dev/v1alpha1",
            "TektonConfig",
            meta.object_meta(CONFIG_NAME, COMPONENT, annotations=READY),
            tekton_config_spec(),
            # the operator makes it the owner of the namespace it adopts: deleting it would delete
            # tekton-pipelines and Tekton with it, so in production it is kept like a namespace
            meta.stateful(pulumi.ResourceOptions(parent=self, depends_on=[chart, target]), args.production),
        )
        self.register_outputs({"namespace": namespace.metadata.name, "version": CHARTS["tekton-operator"].version})
