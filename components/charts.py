"""Installing a pinned upstream chart: one helper, so every chart gets its pin the same way."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .versions import CHARTS, IMAGES


def helm_chart(
    resource_name: str,
    pin: str,
    release: str,
    namespace: pulumi.Input[str],
    values: dict[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v4.Chart:
    """`pin` is a key of versions.CHARTS; helm.v4.Chart, so policies and transforms see the objects."""
    chart = CHARTS[pin]
    return k8s.helm.v4.Chart(
        resource_name,
        name=release,
        chart=chart.chart,
        version=chart.version,
        repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=chart.repo) if chart.repo else None,
        namespace=namespace,
        values=values,
        opts=opts,
    )


def valkey(
    resource_name: str,
    release: str,
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    auth: dict[str, Any] | None = None,
) -> k8s.helm.v4.Chart:
    """A small single-instance Valkey (Redis) for one consumer."""
    image = IMAGES["valkey"]
    values: dict[str, Any] = {
        "image": {"repository": image.repository, "tag": image.tag},
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
    }
    if auth:
        values["auth"] = auth
    return helm_chart(resource_name, "valkey", release, namespace, values, opts)
