"""Installing a pinned upstream chart: one helper, so every chart gets its pin the same way; and what
charts' pods are given: resources, and a digest of the Secrets they read so they roll when one changes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from .meta import keep_data, object_meta, service_host
from .versions import CHARTS, IMAGES


def helm_chart(
    resource_name: str,
    pin: str,
    release: str,
    namespace: pulumi.Input[str],
    values: dict[str, Any],
    opts: pulumi.ResourceOptions,
    production: bool = False,
) -> k8s.helm.v4.Chart:
    """`pin` is a key of versions.CHARTS; helm.v4.Chart, so policies and transforms see the objects. In
    `production`, what the chart renders that holds data or definitions is protected (`meta.keep_data`)."""
    chart = CHARTS[pin]
    if production:
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transforms=[keep_data]))
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


SECRETS_CHECKSUM = "checksum/secrets"  # the pod annotation secrets_checksum() fills


@dataclass(frozen=True)
class SecretData:
    """A Secret we create and the values we gave it: the provider's outputs cannot stand in for them, since
    the API server returns only base64 `data`, and no `stringData`."""

    name: str
    resource: k8s.core.v1.Secret
    data: Mapping[str, pulumi.Input[str]]


def stored_secret(
    resource_name: str,
    name: str,
    component: str,
    namespace: pulumi.Input[str],
    data: Mapping[str, pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
    type_: str = "Opaque",
) -> SecretData:
    """A Secret (values in `stringData`), kept with its values."""
    resource = k8s.core.v1.Secret(
        resource_name, metadata=object_meta(name, component, namespace), type=type_, string_data=data, opts=opts
    )
    return SecretData(name, resource, data)


def secret_refs(env: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(Secret, key) of every environment variable taken from a Secret (`valueFrom.secretKeyRef`)."""
    return [(ref["name"], ref["key"]) for e in env if (ref := (e.get("valueFrom") or {}).get("secretKeyRef"))]


def secrets_checksum(refs: Iterable[tuple[str, str]], secrets: Iterable[SecretData]) -> pulumi.Output[str]:
    """The `checksum/secrets` pod annotation: SHA-256 over the Secret values a workload reads, as the compact,
    key-sorted JSON of `{secret: {key: value}}`.

    Environment variables are read once, when a pod starts: a rotated value alone restarts nothing. With its
    digest in the pod template, the new template rolls the pods. The digest stays a Pulumi secret. Its
    dependencies are the Secret objects, not the generators behind the values: a one-way digest is not the
    credential, which `generated-credentials-only-in-secrets` would take it for.
    """
    by_name = {s.name: s for s in secrets}
    read: dict[str, dict[str, pulumi.Input[str]]] = {}
    for name, key in sorted(set(refs)):
        data = by_name[name].data if name in by_name else {}
        if key not in data:
            raise ValueError(f"secrets_checksum: no value given for key '{key}' of Secret '{name}'")
        read.setdefault(name, {})[key] = data[key]
    pairs = [(name, key) for name in read for key in read[name]]

    def digest(values: list[str]) -> str:
        document: dict[str, dict[str, str]] = {}
        for (name, key), value in zip(pairs, values, strict=True):
            document.setdefault(name, {})[key] = value
        return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    hashed: pulumi.Output[str] = pulumi.Output.all(*(read[name][key] for name, key in pairs)).apply(digest)
    hashed = pulumi.Output.secret(hashed)

    async def value() -> str:
        return cast(str, await hashed.future())

    # the same value, secret and known or not alike, depending on the Secrets instead of the generators
    sources: set[pulumi.Resource] = {by_name[name].resource for name in read}
    return pulumi.Output(sources, value(), hashed.is_known(), hashed.is_secret())


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
    """A small single-instance Valkey (Redis) for one consumer; its Service is named `release`. With `auth`,
    `opts` must make it depend on the users Secret `auth` names (its pods read it at start)."""
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
