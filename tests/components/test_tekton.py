"""Tekton (components/pipelines/tekton.py) built alone: the operator's pinned chart, with its CRDs, in its own
restricted namespace, and the TektonConfig it reconciles, awaited Ready.

Upstream: tektoncd/operator v0.81.1 charts/tekton-operator/values.yaml (vendored under
shared/upstream/tekton/charts): `installCRDs` defaults to false; `operator.autoInstallComponents` defaults to
true, which creates TektonConfig `config` itself, and "if you supply a TektonConfig ... set
operator.autoInstallComponents to false"; docs/TektonConfig.md (profiles; the operator reconciles `config`).
"""

from __future__ import annotations

import pytest
import yaml
from component_harness import Built, build
from conftest import UPSTREAM

from components.pipelines.tekton import Tekton, TektonArgs
from components.versions import CHARTS
from offline.manifests import chart_values_of

CHART = "kubernetes:helm.sh/v4:Chart"
NAMESPACE = "kubernetes:core/v1:Namespace"
CONFIG = "kubernetes:operator.tekton.dev/v1alpha1:TektonConfig"


@pytest.fixture(scope="module", params=[False, True], ids=["staging", "prod"])
def tekton(request: pytest.FixtureRequest) -> tuple[bool, Built]:
    return request.param, build(lambda: Tekton("tekton", TektonArgs(request.param)))


def test_the_operator_chart_installs_its_crds_and_leaves_the_tekton_config_to_gatehouse(
    tekton: tuple[bool, Built],
) -> None:
    production, built = tekton
    upstream = yaml.safe_load((UPSTREAM / "tekton" / "charts" / "tekton-operator" / "values.yaml").read_text())
    assert upstream["installCRDs"] is False and upstream["operator"]["autoInstallComponents"] is True
    (chart,) = built.of_type(CHART)
    values = chart_values_of(chart)
    pin = CHARTS["tekton-operator"]
    assert (values.chart, values.version, values.namespace) == ("tekton-operator", pin.version, "tekton-operator")
    assert values.values["installCRDs"] is True and values.values["operator"]["autoInstallComponents"] is False
    namespace = built.named("tekton-operator", NAMESPACE)
    assert namespace.urn in chart.dependencies
    assert (namespace.protect, chart.transforms) == (production, 1 if production else 0)


def test_the_target_namespace_is_gatehouses_fenced_and_the_operators_own_policies_are_off(
    tekton: tuple[bool, Built],
) -> None:
    """tektoncd/operator v0.81.1 pkg/reconciler/common/targetnamespace.go adopts an existing target namespace;
    pkg/reconciler/kubernetes/tektonpipeline/networkpolicies.go and tektontrigger/networkpolicies.go render the
    operator's own policies unless `networkPolicy.disabled` (egress to anywhere, which would add up with the
    fence). The cron pruner is on: pkg/reconciler/common/prune.go createCronJobs makes a CronJob in the target
    namespace whose pods carry only the labels Kubernetes' Job controller gives every Job's pods
    (`batch.kubernetes.io/job-name`), which the fence's `allow-tekton-pruner` selects by key to reach the API
    server."""
    production, built = tekton
    target = built.named("tekton-pipelines", NAMESPACE)
    (config,) = built.of_type(CONFIG)
    assert target.urn in config.dependencies and target.protect == production
    # ReconcileTargetNamespace makes the TektonConfig the adopted namespace's owner: kept like it in prod
    assert (config.protect, config.retain_on_delete) == (production, production)
    labels = built.object("Namespace", "tekton-pipelines")["metadata"]["labels"]
    assert labels["gatehouse.dev/gateway-access"] == "true"
    policies = {
        p["metadata"]["name"]
        for p in built.objects("NetworkPolicy")
        if p["metadata"]["namespace"] == "tekton-pipelines"
    }
    assert {
        "default-deny",
        "allow-dns",
        "allow-tekton-dashboard",
        "allow-tekton-triggers-core-interceptors",
    } <= policies
    spec = built.object("TektonConfig", "config")["spec"]
    assert spec["networkPolicy"] == {"disabled": True}
    assert spec["pruner"]["disabled"] is False and set(spec["pruner"]["resources"]) == {"pipelinerun", "taskrun"}
    (pruner,) = [p for p in built.objects("NetworkPolicy") if p["metadata"]["name"] == "allow-tekton-pruner"]
    assert pruner["spec"]["podSelector"]["matchExpressions"] == [
        {"key": "batch.kubernetes.io/job-name", "operator": "Exists"}
    ]
    assert pruner["spec"]["policyTypes"] == ["Egress"]


def test_the_tekton_config_is_config_awaited_ready_after_the_chart(tekton: tuple[bool, Built]) -> None:
    _, built = tekton
    (config,) = built.of_type(CONFIG)
    (chart,) = built.of_type(CHART)
    assert chart.urn in config.dependencies
    obj = built.object("TektonConfig", "config")
    assert obj["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=Ready"}
    spec = obj["spec"]
    assert (spec["profile"], spec["targetNamespace"]) == ("all", "tekton-pipelines")
    assert spec["chain"]["disabled"] and spec["result"]["disabled"] and spec["dashboard"]["readonly"]
