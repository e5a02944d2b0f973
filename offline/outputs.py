"""What the offline preview writes to `build/<stack>/`: the registrations, one manifest per object, the
values of each chart and the validation report (the policy report is written last, by the preview)."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from . import manifests as mf
from . import yaml_text
from .access import access_report
from .order import OrderReport
from .records import Registration, redact
from .stack_config import kubernetes_version

if TYPE_CHECKING:
    from .preview import PreviewResult

OUTPUT_NAMES = (
    "resources.json",
    "manifests",
    "charts",
    "validation-report.json",
    "access-report.json",
    "policy-report.json",
)


def clear_outputs(out: Path) -> None:
    """Remove only what a previous preview wrote, so a stale report can never be read as current."""
    for name in OUTPUT_NAMES:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def dump_json(path: Path, data: Any) -> None:
    """Indented two spaces, keys sorted, UTF-8. orjson writes it: json's indenting encoder is pure
    Python. json where orjson refuses a value (an integer beyond 64 bits)."""
    try:
        text = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    except TypeError:  # orjson.JSONEncodeError is one
        text = (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    path.write_bytes(text)


def _dump_yaml(path: Path, data: Any) -> None:
    path.write_text(yaml_text.dump(data))  # yaml.dump's text, mostly without its cost


def resource_entry(reg: Registration) -> dict[str, Any]:
    secret_inputs = reg.secret_inputs
    # only properties holding a secret are copied redacted; the rest are written as they are
    inputs = {k: redact(v) if k in secret_inputs else v for k, v in reg.inputs.items()}
    return {
        "urn": reg.urn,
        "type": reg.type,
        "name": reg.name,
        "parent": reg.parent,
        "custom": reg.custom,
        "inputs": inputs,
        "secret_inputs": secret_inputs,
        "dependencies": reg.dependencies,
        "protect": reg.protect,
        "retain_on_delete": reg.retain_on_delete,
        "provider": reg.provider,
    }


def _manifest_path(root: Path, m: mf.Manifest) -> Path:
    folder = m.namespace or "_cluster"
    group = m.api_version.rpartition("/")[0] or "core"
    return root / folder / f"{m.kind.lower()}.{group}.{m.name}.yaml"


def write_outputs(out: Path, result: PreviewResult) -> None:
    """Everything but the policy report, which comes from the background run."""
    assert result.run is not None
    out.mkdir(parents=True, exist_ok=True)
    dump_json(out / "resources.json", [resource_entry(r) for r in result.run.registrations])
    folders: set[Path] = set()  # made once each, not once per manifest
    for m in result.manifests:
        path = _manifest_path(out / "manifests", m)
        if path.parent not in folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            folders.add(path.parent)
        _dump_yaml(path, m.redacted)
    (out / "charts").mkdir(exist_ok=True)
    for c in result.charts:
        _dump_yaml(out / "charts" / f"{c.release}.values.yaml", c.redacted)
    dump_json(out / "access-report.json", access_report(result.manifests))
    counts = Counter(e.result.status for e in result.objects + result.chart_results)
    dump_json(
        out / "validation-report.json",
        {
            "kubernetesVersion": kubernetes_version(result.config) if result.config else "",
            "summary": {s: counts.get(s, 0) for s in ("ok", "error", "no-schema")},
            "objects": sorted((e.to_json() for e in result.objects), key=lambda e: e["urn"]),
            "charts": sorted((e.to_json() for e in result.chart_results), key=lambda e: e["urn"]),
            "order": (result.order or OrderReport()).to_json(),
        },
    )
