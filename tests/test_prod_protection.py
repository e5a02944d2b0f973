"""Protection in prod covers what holds data or definitions, and nothing else (charts' children included)."""

from __future__ import annotations

import pulumi
import pytest
from conftest import REPO

from components import meta
from offline.manifests import chart_values_of, is_helm_chart
from offline.runtime import ProgramRun, run_program
from offline.stack_config import load_stack_config

CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
# The pinned charts that install CRDs with the values Gatehouse gives them (offline/order/chart_facts/api_charts.py).
CRD_CHARTS = {"gateway-crds-helm", "cert-manager", "cloudnative-pg", "external-secrets", "argo-cd", "tekton-operator"}


@pytest.fixture(scope="module", params=["staging", "prod"])
def run(request: pytest.FixtureRequest) -> tuple[str, ProgramRun]:
    result = run_program(REPO, load_stack_config(REPO, request.param))
    assert result.error is None, result.error
    return request.param, result


def _transform(type_: str, opts: pulumi.ResourceOptions | None = None) -> pulumi.ResourceTransformResult | None:
    return meta.keep_data(pulumi.ResourceTransformArgs(True, type_, "child", {}, opts or pulumi.ResourceOptions()))


def test_the_chart_transform_protects_definitions_namespaces_and_databases_only() -> None:
    """A chart's children inherit `protect` from the chart (pulumi v3.272 sdk/python/lib/pulumi/resource.py,
    and the engine's inheritFromParent in pkg/resource/deploy/source_eval.go), so a protected chart could
    never replace or delete anything it renders on an upgrade. Transforms run on the children of packaged
    components such as helm.v4.Chart (Pulumi docs, "Transforms"): the one Gatehouse gives a chart in prod
    protects (and keeps) only what holds data or definitions."""
    for type_ in (CRD, "kubernetes:core/v1:Namespace", "kubernetes:postgresql.cnpg.io/v1:Cluster"):
        result = _transform(type_, pulumi.ResourceOptions(depends_on=[]))
        assert result is not None, type_
        assert result.opts is not None and result.opts.protect is True and result.opts.retain_on_delete is True
    for type_ in (
        "kubernetes:apps/v1:Deployment",
        "kubernetes:core/v1:Secret",
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration",
    ):
        assert _transform(type_) is None, type_


def test_no_chart_is_protected_and_crd_charts_protect_their_crds_in_prod(run: tuple[str, ProgramRun]) -> None:
    stack, result = run
    charts = [r for r in result.registrations if is_helm_chart(r)]
    assert charts
    for chart in charts:
        assert not chart.protect and not chart.retain_on_delete, chart.urn
        expected = 1 if stack == "prod" and chart_values_of(chart).chart in CRD_CHARTS else 0
        assert chart.transforms == expected, chart.urn
    assert {chart_values_of(c).chart for c in charts} >= CRD_CHARTS


def test_namespaces_and_databases_are_protected_in_prod_only(run: tuple[str, ProgramRun]) -> None:
    stack, result = run
    kept = [
        r
        for r in result.registrations
        if r.type in ("kubernetes:core/v1:Namespace", "kubernetes:postgresql.cnpg.io/v1:Cluster")
    ]
    assert len(kept) > 10
    for r in kept:
        assert (r.protect, r.retain_on_delete) == ((True, True) if stack == "prod" else (False, False)), r.urn
