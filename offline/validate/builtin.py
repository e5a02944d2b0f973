"""The built-in kinds' schemas: kubernetes-validate's own `-strict` JSON schemas, read from its package data
(not a copy), one set per Kubernetes minor version."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from referencing import Registry, Resource

_SCHEMA_ROOT = Path(str(resources.files("kubernetes_validate"))) / "kubernetes-json-schema"
_STRICT_DIR = re.compile(r"^v(\d+)\.(\d+)\.\d+-local-strict$")
DEFINITIONS_ID = "https://kubernetes.io/api/_definitions.json"
OBJECT_META_REF = f"{DEFINITIONS_ID}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


class UnsupportedKubernetesVersion(ValueError):
    """The requested Kubernetes version is outside what kubernetes-validate ships schemas for."""


def _shipped_versions() -> list[tuple[int, int]]:
    found = (_STRICT_DIR.match(p.name) for p in _SCHEMA_ROOT.iterdir())
    return sorted((int(m[1]), int(m[2])) for m in found if m)


def pick_version(requested: str) -> tuple[int, int]:
    """The newest shipped schema version not newer than `requested` (like kubernetes_validate.validate)."""
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", requested.strip())
    if not m:
        raise UnsupportedKubernetesVersion(f"not a Kubernetes version: {requested!r} (expected e.g. '1.33')")
    wanted = (int(m[1]), int(m[2]))
    shipped = _shipped_versions()
    oldest, newest = "{}.{}".format(*shipped[0]), "{}.{}".format(*shipped[-1])
    if wanted > shipped[-1] or wanted < shipped[0]:
        raise UnsupportedKubernetesVersion(
            f"kubernetes-validate has schemas for Kubernetes {oldest} to {newest}, not {requested}"
        )
    return [v for v in shipped if v <= wanted][-1]


@cache
def definitions(core_dir: Path) -> dict[str, Any]:
    """`_definitions.json` of one schema version, which every kind's schema $refs."""
    definitions: dict[str, Any] = json.loads((core_dir / "_definitions.json").read_text())
    return definitions


@cache
def definitions_registry(core_dir: Path) -> Registry:
    """One registry per schema version holding the definitions (for the $refs left after inlining)."""
    return Registry().with_resource(DEFINITIONS_ID, Resource.from_contents(definitions(core_dir))).crawl()


def core_dir(version: tuple[int, int]) -> Path:
    """The strict schemas of one Kubernetes minor version."""
    return _SCHEMA_ROOT / "v{}.{}.0-local-strict".format(*version)


def builtin_schema(schemas: Path, api_version: str, kind: str) -> dict[str, Any] | None:
    """The schema of a built-in kind from the folder `core_dir` gives, or None if it is not one."""
    # kubernetes-validate's file naming: rbac.authorization.k8s.io/v1 -> rbac-v1, v1 -> v1.
    suffix = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = schemas / f"{kind.lower()}-{suffix}.json"
    if not path.is_file():
        return None
    schema: dict[str, Any] = json.loads(path.read_text())
    group, _, version = api_version.rpartition("/")
    # The short file name drops the group's domain, so check the full group/version/kind: a CRD
    # group like networking.example.com must not be validated as networking.k8s.io.
    gvks = schema.get("x-kubernetes-group-version-kind") or []
    if {"group": group, "version": version, "kind": kind} not in [
        {k: g.get(k) for k in ("group", "version", "kind")} for g in gvks
    ]:
        return None
    return schema
