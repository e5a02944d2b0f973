"""How the preview writes its files: JSON reports and one YAML file per manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from . import manifests as mf

# libyaml's emitter when PyYAML has it: the same output, many times faster on large stacks
_YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def dump_yaml(path: Path, data: Any) -> None:
    path.write_text(yaml.dump(data, Dumper=_YAML_DUMPER, sort_keys=False, default_flow_style=False))


def manifest_path(root: Path, m: mf.Manifest) -> Path:
    folder = m.namespace or "_cluster"
    group = m.api_version.rpartition("/")[0] or "core"
    return root / folder / f"{m.kind.lower()}.{group}.{m.name}.yaml"


def write_manifests(root: Path, manifests: list[mf.Manifest]) -> None:
    """`root/<namespace>/<kind>.<group>.<name>.yaml` for each; of two with one path, the later wins."""
    for m in manifests:
        path = manifest_path(root, m)
        path.parent.mkdir(parents=True, exist_ok=True)
        dump_yaml(path, m.redacted)


def rewrite_shared_paths(root: Path, manifests: list[mf.Manifest]) -> None:
    """Where manifests share a path (duplicates, an error in itself), the last in `manifests`' order
    is the one on disk, whatever order they were first written in."""
    last: dict[Path, mf.Manifest] = {}
    seen: set[Path] = set()
    shared: set[Path] = set()
    for m in manifests:
        path = manifest_path(root, m)
        (shared if path in seen else seen).add(path)
        last[path] = m
    write_manifests(root, [last[path] for path in sorted(shared)])
