"""The vendored upstream CRDs as a catalog of strict schemas: unknown fields are errors, as for an API server
with `fieldValidation=Strict`."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.yaml_read import SafeLoader

from .builtin import OBJECT_META_REF


@dataclass(frozen=True)
class _Crd:
    path: Path
    served: dict[str, dict[str, Any]]  # served version -> its strict schema (see strict_crd_schema)


CrdCatalog = dict[tuple[str, str], list[_Crd]]  # (group, kind) -> CRDs defining it, best first
_CATALOGS: dict[Path, CrdCatalog] = {}  # per crds/ folder, for the life of the process


def crd_catalog(crds_dir: Path) -> CrdCatalog:
    """The CRDs of a crds/ folder, read once per process (or handed over with `remember_crd_catalog`)."""
    if crds_dir not in _CATALOGS:
        _CATALOGS[crds_dir] = load_crd_catalog(crds_dir)
    return _CATALOGS[crds_dir]


def has_crd_catalog(crds_dir: Path) -> bool:
    return crds_dir in _CATALOGS


def remember_crd_catalog(crds_dir: Path, catalog: CrdCatalog) -> None:
    """Keep a catalog built elsewhere (the preview builds it in a fork while the program runs)."""
    _CATALOGS[crds_dir] = catalog


def load_crd_catalog(crds_dir: Path) -> CrdCatalog:
    """Every CRD file parsed once (the most YAML the preview reads), each served version's schema made
    strict; the one in a folder named exactly after the group first (so crds/gateway.networking.k8s.io/
    wins over the -experimental copy)."""
    index: CrdCatalog = {}
    for path in sorted(crds_dir.rglob("*.y*ml")) if crds_dir.is_dir() else []:
        for doc in _load_all(path):
            if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc.get("spec") or {}
            served = {
                v["name"]: strict_crd_schema(_version_schema(spec, v))
                for v in spec.get("versions") or []
                if v.get("served")
            }
            key = (spec.get("group", ""), spec.get("names", {}).get("kind", ""))
            index.setdefault(key, []).append(_Crd(path, served))
    for (group, _), crds in index.items():
        crds.sort(key=lambda c: (c.path.parent.name != group, c.path.as_posix()))
    return index


def _version_schema(spec: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
    # apiextensions v1 keeps the schema per version; v1beta1 CRDs had one for all.
    found = (version.get("schema") or spec.get("validation") or {}).get("openAPIV3Schema")
    return found or {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def strict_crd_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """A CRD's openAPIV3Schema as a JSON Schema 2020-12 document, strict like fieldValidation=Strict.

    CEL rules (`x-kubernetes-validations`) are dropped: they need a CEL evaluator, which is not here.
    `format` is kept as an annotation only (no format checker): the API server's format semantics
    (int32, int64, byte, date-time, ...) do not match jsonschema's optional checkers.
    """
    root = _convert(openapi, structural=True)
    props = root.setdefault("properties", {})
    props["metadata"] = {"$ref": OBJECT_META_REF}  # strict ObjectMeta, so metadata typos are caught
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    if not openapi.get("x-kubernetes-preserve-unknown-fields"):
        root["additionalProperties"] = False
    root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return root


_DROPPED = {"description", "example", "externalDocs", "default", "nullable", "x-kubernetes-validations"}


def _convert(node: dict[str, Any], structural: bool) -> dict[str, Any]:
    """Translate one OpenAPI v3 (structural) schema node. `structural` is False inside anyOf/allOf/oneOf/not:
    those branches only add value constraints, so they must not get additionalProperties: false."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key == "properties":
            out[key] = {name: _convert(sub, structural) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = _convert(value, structural)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [_convert(sub, False) for sub in value]
        elif key == "not":
            out[key] = _convert(value, False)
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
            # OpenAPI 3.0 booleans modify minimum/maximum; 2020-12 wants the bound itself.
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            if value and bound in node:
                out[key] = node[bound]
        else:
            out[key] = copy.deepcopy(value)
    if node.get("exclusiveMinimum") is True:
        out.pop("minimum", None)
    if node.get("exclusiveMaximum") is True:
        out.pop("maximum", None)
    if node.get("x-kubernetes-int-or-string") and "type" not in out:
        out["type"] = ["integer", "string"]
    if node.get("nullable"):
        _allow_null(out)
    if node.get("x-kubernetes-embedded-resource"):  # embedded objects always accept their own TypeMeta/ObjectMeta
        embedded = out.setdefault("properties", {})
        for name in ("apiVersion", "kind"):
            embedded.setdefault(name, {"type": "string"})
        embedded.setdefault("metadata", {"type": "object"})
    if (
        structural
        and "properties" in out
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def _allow_null(schema: dict[str, Any]) -> None:
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        schema["type"] = [*kind, "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]


def _load_all(path: Path) -> list[Any]:
    with path.open() as fh:
        return list(yaml.load_all(fh, Loader=SafeLoader))
