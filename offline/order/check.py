"""The deploy-order check: replay an empty cluster in dependency order and prove that every Kubernetes
object and every Helm chart can be created when Pulumi creates it.

`check_order` is the entry point. The check is made of:

* graph.py: the dependency graph, what Pulumi has created before it creates a resource, and the waves;
* replay.py: the replay and its rules (`namespace`, `crd`, `webhook`, `reads`);
* reads.py: the Secrets, ConfigMaps and ServiceAccounts a workload reads;
* chart_facts/: what each pinned chart installs, guards and reads, given its values (values.py: as
  Helm coalesces them);
* report.py: the report, its violations and the stack's stated prerequisites.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import manifests as mf
from ..records import Registration
from .replay import Replay
from .report import OrderReport, prerequisites_of

DEFAULT_UPSTREAM = Path(__file__).resolve().parents[3] / "shared" / "upstream"


def check_order(
    registrations: Sequence[Registration],
    manifests: Sequence[mf.Manifest] | None = None,
    charts: Sequence[mf.ChartValues] | None = None,
    schemas: Mapping[str, str] | None = None,
    exports: Mapping[str, Any] | None = None,
    upstream: Path = DEFAULT_UPSTREAM,
) -> OrderReport:
    """The order report of a program's registrations.

    `manifests` and `charts` are those of `registrations` (computed when not given); `schemas` maps an
    object's URN to the schema label its validation used (`crd:...` marks a custom resource; without it
    the vendored CRD catalog decides); `exports` are the stack outputs (for `prerequisites`).
    """
    if manifests is None:
        manifests = [mf.manifest_of(r) for r in registrations if mf.is_kubernetes_object(r)]
    if charts is None:
        charts = [mf.chart_values_of(r) for r in registrations if mf.is_helm_chart(r)]
    return Replay(registrations, manifests, charts, schemas, prerequisites_of(exports), Path(upstream)).report()
