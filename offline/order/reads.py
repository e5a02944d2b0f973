"""What a workload reads: the Secrets, ConfigMaps and ServiceAccounts its pods cannot start without.

Shared by the `reads` rule (objects the program declares: pod specs, CloudNativePG Clusters) and the
chart facts (what any chart's values hand to a pod verbatim, and what a pinned chart's templates
read). A reference marked `optional: true` is no read: the pod starts without it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# Workload kinds declared directly, and where their pod spec sits.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


@dataclass(frozen=True)
class Read:
    """A Secret, ConfigMap or ServiceAccount a workload or chart needs in its namespace."""

    kind: str  # Secret | ConfigMap | ServiceAccount
    name: str
    via: str  # where the object or the values name it, for the message


# --- what a declared object reads -------------------------------------------------------------------


def object_reads(obj: Mapping[str, Any], group: str, kind: str) -> list[Read]:
    """What an object the program declares reads: a workload's pod spec, a CloudNativePG Cluster's
    `initdb` Secret; first of each (kind, name)."""
    reads: list[Read] = []
    if group in ("", "apps", "batch") and kind in POD_SPEC_PATHS:
        spec: Any = obj
        for key in POD_SPEC_PATHS[kind]:
            spec = spec.get(key) if isinstance(spec, Mapping) else None
        if isinstance(spec, Mapping):
            reads = list(pod_reads(spec))
    elif group == "postgresql.cnpg.io" and kind == "Cluster":
        # CloudNativePG: the application user's credentials for `initdb` (api/v1/cluster_types.go
        # BootstrapInitDB.Secret, a LocalObjectReference, at v1.30.0)
        secret = value_at(obj, "spec", "bootstrap", "initdb", "secret", "name")
        if isinstance(secret, str) and secret:
            reads = [Read("Secret", secret, "spec.bootstrap.initdb.secret")]
    seen: set[tuple[str, str]] = set()
    unique = []
    for r in reads:
        if (r.kind, r.name) not in seen:
            seen.add((r.kind, r.name))
            unique.append(r)
    return unique


def pod_reads(spec: Mapping[str, Any]) -> Iterator[Read]:
    """The Secrets, ConfigMaps and ServiceAccount a pod cannot start without (references marked
    `optional: true` excepted)."""
    yield from volume_reads(spec.get("volumes"), "volume")
    for field_name in ("initContainers", "containers"):
        containers = spec.get(field_name)
        for container in containers if isinstance(containers, list) else []:
            if isinstance(container, Mapping):
                label = f"{field_name} {container.get('name', '')}".rstrip()
                yield from env_reads(container.get("env"), f"{label} env")
                yield from env_from_reads(container.get("envFrom"), f"{label} envFrom")
    account = spec.get("serviceAccountName") or spec.get("serviceAccount")
    if isinstance(account, str) and account:
        yield Read("ServiceAccount", account, "serviceAccountName")


# --- references in a pod spec, wherever they sit --------------------------------------------------


def _ref(ref: Mapping[str, Any], kind: str, via: str, key: str = "name") -> Iterator[Read]:
    name = ref.get(key)
    if isinstance(name, str) and name and ref.get("optional") is not True:
        yield Read(kind, name, via)


def env_reads(env: Any, via: str) -> Iterator[Read]:
    for i, entry in enumerate(env if isinstance(env, list) else []):
        source = entry.get("valueFrom") if isinstance(entry, Mapping) else None
        if isinstance(source, Mapping):
            name = entry.get("name", i)
            for key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                if isinstance(source.get(key), Mapping):
                    yield from _ref(source[key], kind, f"{via} {name} {key}")


def env_from_reads(env_from: Any, via: str) -> Iterator[Read]:
    for entry in env_from if isinstance(env_from, list) else []:
        if isinstance(entry, Mapping):
            for key, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                if isinstance(entry.get(key), Mapping):
                    yield from _ref(entry[key], kind, f"{via} {key}")


def volume_reads(volumes: Any, via: str) -> Iterator[Read]:
    for volume in volumes if isinstance(volumes, list) else []:
        if not isinstance(volume, Mapping):
            continue
        name = volume.get("name", "")
        if isinstance(volume.get("secret"), Mapping):
            yield from _ref(volume["secret"], "Secret", f"{via} {name} secret", key="secretName")
        if isinstance(volume.get("configMap"), Mapping):
            yield from _ref(volume["configMap"], "ConfigMap", f"{via} {name} configMap")
        projected = volume.get("projected")
        sources = projected.get("sources") if isinstance(projected, Mapping) else None
        for source in sources if isinstance(sources, list) else []:
            if isinstance(source, Mapping):
                for key, kind in (("secret", "Secret"), ("configMap", "ConfigMap")):
                    if isinstance(source.get(key), Mapping):
                        yield from _ref(source[key], kind, f"{via} {name} projected {key}")


# --- reads any chart's values show ---------------------------------------------------------------


def generic_reads(values: Any) -> list[Read]:
    """What the user's values hand to a pod verbatim, wherever they sit: every non-optional
    `secretKeyRef` / `configMapKeyRef` (env `valueFrom`), every `envFrom` entry's `secretRef` /
    `configMapRef`, and every volume (an item of a list under a key ending in `volumes`) mounting a
    Secret, a ConfigMap or a projection of them. Charts render these `toYaml` into their pod specs."""
    return unique_reads(list(_walk_reads(values, "values")))


def _walk_reads(node: Any, path: str) -> Iterator[Read]:
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk_reads(item, f"{path}[{i}]")
        return
    if not isinstance(node, Mapping):
        return
    for key, value in node.items():
        here = f"{path}.{key}"
        if key in ("secretKeyRef", "configMapKeyRef") and isinstance(value, Mapping):
            yield from _ref(value, "Secret" if key == "secretKeyRef" else "ConfigMap", here)
        elif key == "envFrom" and isinstance(value, list):
            yield from env_from_reads(value, here)
        elif str(key).lower().endswith("volumes") and isinstance(value, list):
            yield from volume_reads(value, here)
        yield from _walk_reads(value, here)


def unique_reads(reads: list[Read]) -> list[Read]:
    """First of each (kind, name), without names Helm would still template (`{{ ... }}`)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for r in reads:
        if r.name and "{{" not in r.name and (r.kind, r.name) not in seen:
            seen.add((r.kind, r.name))
            out.append(r)
    return out


def value_at(value: Any, *path: str) -> Any:
    """The value at a path of keys through nested mappings, or None."""
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value
