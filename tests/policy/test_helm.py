"""guardrails/helm.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

import pytest
from guardrails import helm
from policy_fixtures import CHART, CHART_V3, RELEASE, covers
from policy_harness import check


@covers(helm.no_helm_release)
def test_no_helm_release() -> None:
    assert check(helm.no_helm_release, RELEASE, {"chart": "nginx", "version": "1.0.0"}, name="legacy") == [
        "'legacy' is a helm.v3.Release: its objects bypass policy; use helm.v4.Chart"
    ]
    assert check(helm.no_helm_release, CHART, {"chart": "x"}) == []


@covers(helm.no_helm_v3_chart)
def test_no_helm_v3_chart() -> None:
    assert check(helm.no_helm_v3_chart, CHART_V3, {"chart": "nginx", "version": "1.0.0"}, name="old") == [
        "'old' is a helm.v3.Chart: use helm.v4.Chart (CRDs ordered, transforms and policies apply)"
    ]


@covers(helm.helm_chart_version_pinned)
@pytest.mark.parametrize("version", ["^1.2.0", "~1.2", ">=1.0.0", "1.x", "*", "latest"])
def test_helm_chart_version_pinned(version: str) -> None:
    assert check(helm.helm_chart_version_pinned, CHART, {"chart": "valkey", "version": version}, name="redis") == [
        f"Chart 'redis' (valkey) version '{version}' is a range, not a pinned version"
    ]


def test_helm_chart_without_version() -> None:
    assert check(helm.helm_chart_version_pinned, CHART, {"chart": "valkey"}, name="redis") == [
        "Chart 'redis' (valkey) has no version: every install could get a different chart"
    ]
    for version in ("0.11.0", "v1.21.1", "2026.8.0"):
        assert check(helm.helm_chart_version_pinned, CHART, {"chart": "valkey", "version": version}) == []
