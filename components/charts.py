"""Installing a pinned upstream chart: one helper, so every chart gets its pin the same way."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .meta import service_host
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


def resources(cpu: str, memory: str, memory_limit: str) -> dict[str, Any]:
    """A container's `resources`: what workload-resources and chart-workload-hygiene require of each."""
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory_limit}}


# Containers that run a script or generate a certificate and exit within seconds (init containers,
# hook Jobs): a small request, and a limit that leaves room for a Go binary's start-up.
ONE_SHOT = resources("10m", "32Mi", "128Mi")

VALKEY_PORT = 6379  # the chart's default `service.port`


def valkey_address(release: str, namespace: str) -> str:
    """`host:port` of the Service `valkey()` creates for `release`: consumers build their URL from this."""
    return f"{service_host(release, namespace)}:{VALKEY_PORT}"


def valkey(
    resource_name: str,
    release: str,
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    auth: dict[str, Any] | None = None,
) -> k8s.helm.v4.Chart:
    """A small single-instance Valkey (Redis) for one consumer; its Service is named `release`."""
    image = IMAGES["valkey"]
    values: dict[str, Any] = {
        # the chart would name its Service `<release>-valkey` unless the release name contains "valkey"
        "fullnameOverride": release,
        "image": {"repository": image.repository, "tag": image.tag},
        "resources": resources("50m", "64Mi", "256Mi"),
        "initResources": ONE_SHOT,  # the `<release>-init` container, which writes valkey.conf
    }
    if auth:
        values["auth"] = auth
    return helm_chart(resource_name, "valkey", release, namespace, values, opts)
