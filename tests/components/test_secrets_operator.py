"""SecretsOperator (components/tenancy/secrets_operator.py) built alone: the External Secrets chart, pinned,
with its CRDs, in its own restricted namespace; in production what holds definitions is protected."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from component_harness import Built, build
from conftest import UPSTREAM

from components.tenancy import SecretsOperator, SecretsOperatorArgs
from components.versions import CHARTS
from offline.manifests import chart_values_of

CHART = "kubernetes:helm.sh/v4:Chart"
NAMESPACE = "kubernetes:core/v1:Namespace"


def build_operator(production: bool) -> Built:
    return build(lambda: SecretsOperator("external-secrets", SecretsOperatorArgs(production)))


@pytest.fixture(scope="module", params=[False, True], ids=["staging", "prod"])
def operator(request: pytest.FixtureRequest) -> tuple[bool, Built]:
    return request.param, build_operator(request.param)


def test_the_pinned_chart_installs_into_its_own_restricted_namespace(operator: tuple[bool, Built]) -> None:
    _, built = operator
    (namespace,) = built.of_type(NAMESPACE)
    labels = built.objects("Namespace")[0]["metadata"]["labels"]
    assert (namespace.name, labels["pod-security.kubernetes.io/enforce"]) == ("external-secrets", "restricted")
    (chart,) = built.of_type(CHART)
    values = chart_values_of(chart)
    pin = CHARTS["external-secrets"]
    assert (values.chart, values.version, values.release) == (pin.chart, pin.version, "external-secrets")
    assert values.namespace == "external-secrets"
    assert namespace.urn in chart.dependencies  # the release waits for its namespace
    assert built.outputs == {"namespace": "external-secrets"}
    assert all(r.parent == built.component.urn for r in built.children)


def _values_at(values: dict[str, Any], path: str) -> Any:
    for key in path.split("."):
        values = values[key]
    return values


def test_the_chart_installs_its_crds_and_gives_each_of_its_deployments_resources() -> None:
    """external-secrets chart 2.9.0 values.yaml (vendored under shared/upstream/charts): `installCRDs`
    defaults to true; the controller's `resources`, `webhook.resources` and `certController.resources`
    default to {} (no requests, no limits), which workload-resources would refuse."""
    upstream = yaml.safe_load((UPSTREAM / "charts" / "external-secrets" / "values.yaml").read_text())
    given = chart_values_of(build_operator(production=False).of_type(CHART)[0]).values
    assert given["installCRDs"] is True
    for path in ("resources", "webhook.resources", "certController.resources"):
        assert _values_at(upstream, path) == {}, path
        resources = _values_at(given, path)
        assert set(resources["requests"]) == {"cpu", "memory"} and "memory" in resources["limits"], path


def test_in_production_the_namespace_is_kept_and_the_chart_protects_what_it_renders_through_a_transform(
    operator: tuple[bool, Built],
) -> None:
    production, built = operator
    (namespace,) = built.of_type(NAMESPACE)
    (chart,) = built.of_type(CHART)
    assert (namespace.protect, namespace.retain_on_delete) == (production, production)
    assert not chart.protect  # its children would inherit it (tests/test_prod_protection.py)
    assert chart.transforms == (1 if production else 0)
