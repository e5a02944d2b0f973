"""What the pinned upstream charts install, guard and read, given their values: the facts the deploy-order
check (offline/order/replay.py) needs about a chart it cannot render offline.

One entry per chart in `FACTS`, keyed by the vendored chart folder name (`offline.manifests.chart_values_of`
gives it as `chart`): the charts that install CRDs or run admission webhooks in api_charts.py, those whose
workloads read what the program must declare in workload_charts.py. Each fact names where it was read:
project, tag and file. Values are looked up as Helm coalesces them (offline/order/values.py), so an
absent value takes the chart's default.

Pulumi's `helm.v4.Chart` installs no Helm hook (pulumi/pulumi-kubernetes v4.32.0
`provider/pkg/provider/helm/v4/chart.go`: `cmd.DisableHooks = true`, only `release.Manifest` is
applied), so nothing a chart creates in a hook counts as created here.

A chart without an entry installs no CRD and runs no webhook as far as this package knows; what it
reads is only what any chart's values show (`offline.order.reads.generic_reads`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..reads import Read, generic_reads, unique_reads
from ..values import Values, chart_defaults
from .api_charts import API_CHARTS
from .fact import NO_KINDS, ChartFacts, Kinds
from .workload_charts import WORKLOAD_CHARTS

__all__ = ["FACTS", "NO_KINDS", "ChartFacts", "EvaluatedChart", "Kinds", "evaluate"]

FACTS: dict[str, ChartFacts] = {**API_CHARTS, **WORKLOAD_CHARTS}


@dataclass(frozen=True)
class EvaluatedChart:
    """The facts of one chart registration: its values applied."""

    chart: str
    known: bool  # FACTS has an entry for it
    namespace: str  # where its namespaced objects go
    crds: Kinds
    webhooks: Kinds
    reads: list[Read]
    cluster_scoped_only: bool
    creates_namespace: bool


def evaluate(
    chart: str, user_values: Mapping[str, Any] | None, release_namespace: str, upstream: Path
) -> EvaluatedChart:
    """The facts of one chart registration: its values over the chart's vendored defaults, its release
    namespace unless the chart's `namespaceOverride` moves its objects."""
    facts = FACTS.get(chart)
    values = Values(user_values, chart_defaults(upstream, chart) if facts else {})
    reads = generic_reads(values.user)
    namespace = release_namespace
    if facts is None:
        return EvaluatedChart(chart, False, namespace, NO_KINDS, NO_KINDS, reads, False, False)
    if facts.namespace_override and values.text("namespaceOverride"):
        namespace = values.text("namespaceOverride")
    return EvaluatedChart(
        chart,
        True,
        namespace,
        facts.crds(values),
        facts.webhooks(values),
        unique_reads([*reads, *facts.reads(values)]),
        facts.cluster_scoped_only,
        facts.creates_namespace(values),
    )
