"""From registrations to Kubernetes manifests and Helm chart values.

A registration is a Kubernetes object when its type token is `kubernetes:<group>/<version>:<Kind>`
and it is a custom resource (providers, Helm charts and YAML groups are not objects themselves).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .records import SCALAR_TYPES, Registration, Secret, redact, reveal

# Component-like kubernetes types: they expand into objects provider-side, they are not objects.
_NOT_OBJECTS = ("kubernetes:helm.sh/", "kubernetes:yaml", "kubernetes:kustomize")
HELM_CHART_TYPES = ("kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart", "kubernetes:helm.sh/v3:Release")
_KEY_ORDER = {"apiVersion": 0, "kind": 1, "metadata": 2}


def is_kubernetes_object(reg: Registration) -> bool:
    return reg.custom and reg.type.startswith("kubernetes:") and not reg.type.startswith(_NOT_OBJECTS)


def is_helm_chart(reg: Registration) -> bool:
    return reg.type in HELM_CHART_TYPES


@dataclass
class Manifest:
    urn: str
    obj: dict[str, Any]  # plain values: in memory only, for validation
    redacted: dict[str, Any]  # what is written to disk

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", ""))

    @property
    def api_version(self) -> str:
        return str(self.obj.get("apiVersion", ""))

    @property
    def name(self) -> str:
        return str((self.obj.get("metadata") or {}).get("name", ""))

    @property
    def namespace(self) -> str:
        return str((self.obj.get("metadata") or {}).get("namespace", ""))

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """What the API server keys an object by: group, kind, namespace, name."""
        group = self.api_version.rpartition("/")[0]
        return group, self.kind, self.namespace, self.name


@dataclass
class ChartValues:
    urn: str
    release: str
    chart: str  # chart name as the vendored upstream folder names it
    version: str
    namespace: str
    values: dict[str, Any]
    redacted: dict[str, Any]


def _sorted(value: Any) -> Any:
    """Maps sorted by key, recursively: protobuf maps arrive in no stable order."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _sorted_plain(value: Any, secrets: list[Secret]) -> Any:
    """`_sorted(reveal(value))` in one walk; each secret met is added to `secrets`."""
    if type(value) in SCALAR_TYPES:
        return value
    if isinstance(value, Secret):
        secrets.append(value)
        return _sorted_plain(value.value, secrets)
    if isinstance(value, dict):
        return {k: _sorted_plain(value[k], secrets) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_plain(v, secrets) for v in value]
    return value


def _ordered(obj: dict[str, Any]) -> dict[str, Any]:
    """apiVersion, kind, metadata first, as people write manifests; everything else sorted (`obj`'s
    own maps are already)."""
    return dict(sorted(obj.items(), key=lambda kv: (_KEY_ORDER.get(kv[0], 3), kv[0])))


def manifest_of(reg: Registration) -> Manifest:
    """The object as the provider would send it (its outputs carry the auto-name, if any)."""
    source = reg.outputs or reg.inputs
    body = {k: v for k, v in source.items() if not k.startswith("__")}
    secrets: list[Secret] = []
    plain = _ordered(_sorted_plain(body, secrets))
    # most objects hold no secret: share one copy (memory matters at thousands of tenants)
    return Manifest(reg.urn, plain, _ordered(_sorted(redact(body))) if secrets else plain)


def chart_name(reference: str) -> str:
    """`oci://docker.io/envoyproxy/gateway-helm` -> `gateway-helm`; `repo/grafana` -> `grafana`."""
    return reference.rstrip("/").rsplit("/", 1)[-1]


def chart_values_of(reg: Registration) -> ChartValues:
    inputs = reg.inputs
    values = inputs.get("values") or {}
    return ChartValues(
        urn=reg.urn,
        release=str(reveal(inputs.get("name")) or reg.name),
        chart=chart_name(str(reveal(inputs.get("chart", "")))),
        version=str(reveal(inputs.get("version", ""))),
        namespace=str(reveal(inputs.get("namespace", ""))),
        values=reveal(values),
        redacted=_sorted(redact(values)),
    )
