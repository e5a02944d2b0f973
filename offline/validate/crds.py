"""The vendored upstream CRDs as a catalog of strict schemas: unknown fields are errors, as for an API server
with `fieldValidation=Strict`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.crd_schema import bundle_dirs, version_schema
from components.crd_schema import strict_crd_schema as _strict
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
    wins over the -experimental copy). Beside `crds_dir`, each bundle's own (`<upstream>/tekton/crds`, see
    components.crd_schema.bundle_dirs), so that a bundle vendored apart is read like the rest."""
    index: CrdCatalog = {}
    folders = [d for d in bundle_dirs(crds_dir.parent, crds_dir.name) if d.is_dir()]
    for path in [p for d in folders for p in sorted(d.rglob("*.y*ml"))]:
        for doc in _load_all(path):
            if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc.get("spec") or {}
            served = {
                v["name"]: strict_crd_schema(version_schema(spec, v))
                for v in spec.get("versions") or []
                if v.get("served")
            }
            key = (spec.get("group", ""), spec.get("names", {}).get("kind", ""))
            index.setdefault(key, []).append(_Crd(path, served))
    for (group, _), crds in index.items():
        crds.sort(key=lambda c: (c.path.parent.name != group, c.path.as_posix()))
    return index


def _load_all(path: Path) -> list[Any]:
    with path.open() as fh:
        return list(yaml.load_all(fh, Loader=SafeLoader))


def strict_crd_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """components.crd_schema's strict schema, with the strict ObjectMeta of kubernetes-validate's definitions."""
    return _strict(openapi, {"$ref": OBJECT_META_REF})
