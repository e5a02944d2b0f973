"""Schema validation for the offline preview: Kubernetes objects and Helm chart values, fully offline.

* Built-in kinds are checked against kubernetes-validate's own `-strict` JSON schemas (builtin.py), with
  one compiled validator per (apiVersion, kind): the stock `kubernetes_validate.validate()` re-reads
  its whole definitions file on every call.
* Custom resources are checked against the vendored upstream CRDs, made strict the way an API server
  with `fieldValidation=Strict` behaves (crds.py: unknown fields are errors).
* Chart values are checked against the chart's `values.schema.json` (as Helm does), or else against
  the keys of its default `values.yaml` (charts.py).
* Names and namespaces follow the API server's rules (names.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs

from .builtin import DEFINITIONS_ID, builtin_schema, core_dir, definitions, definitions_registry, pick_version
from .charts import ChartCheck, load_chart_check
from .crds import crd_catalog
from .names import name_problems
from .problems import Problem, Result, finish
from .schema_inline import Inliner


class Validator:
    """Validates objects and chart values for one Kubernetes version; caches one compiled check per kind."""

    def __init__(self, kubernetes_version: str, upstream_dir: Path) -> None:
        self.version = pick_version(kubernetes_version)
        self.upstream_dir = Path(upstream_dir)
        self._core_dir = core_dir(self.version)
        self._registry = definitions_registry(self._core_dir)
        self._inliner = Inliner(DEFINITIONS_ID, definitions(self._core_dir))
        self._objects: dict[tuple[str, str], ObjectCheck | None] = {}  # (apiVersion, kind) -> check
        self._charts: dict[str, ChartCheck | None] = {}

    def validate_object(self, obj: dict[str, Any]) -> Result:
        obj = normalise(obj)
        if (
            not isinstance(obj, dict)
            or not isinstance(obj.get("apiVersion"), str)
            or not isinstance(obj.get("kind"), str)
        ):
            return Result("error", ["(root): an object needs string apiVersion and kind"], "")
        api_version, kind = obj["apiVersion"], obj["kind"]
        check = self.object_check(api_version, kind)
        names = name_problems(obj)
        if check is None:
            note = (
                f"kind: no schema for {kind} {api_version}: not a built-in kind of Kubernetes "
                f"{self.version_label} and no CRD in crds/ serves it"
            )
            return Result("no-schema", [note, *finish(names)], "")
        problems = check.problems(obj) + names
        return Result("error" if problems else "ok", finish(problems), check.label)

    def validate_chart_values(self, chart: str, values: dict[str, Any]) -> Result:
        if chart not in self._charts:
            self._charts[chart] = load_chart_check(self.upstream_dir, chart, self._relative)
        check = self._charts[chart]
        if check is None:
            return Result("no-schema", [f"(root): no chart {chart!r} in charts/ (nothing to check against)"], "")
        problems = check.problems(normalise(values if values is not None else {}))
        return Result("error" if problems else "ok", finish(problems), check.label)

    @property
    def version_label(self) -> str:
        return "{}.{}".format(*self.version)

    def object_check(self, api_version: str, kind: str) -> ObjectCheck | None:
        """The cached check for one (apiVersion, kind): built once, reused for every object of that kind."""
        key = (api_version, kind)
        if key not in self._objects:
            self._objects[key] = self._builtin_check(api_version, kind) or self._crd_check(api_version, kind)
        return self._objects[key]

    def _builtin_check(self, api_version: str, kind: str) -> ObjectCheck | None:
        schema = builtin_schema(self._core_dir, api_version, kind)
        if schema is None:
            return None
        validator = jsonschema.Draft202012Validator(self._inliner.schema(schema), registry=self._registry)
        return ObjectCheck(validator, f"kubernetes-validate {self.version_label} strict")

    def _crd_check(self, api_version: str, kind: str) -> ObjectCheck | None:
        group, _, version = api_version.rpartition("/")
        candidates = crd_catalog(self.upstream_dir / "crds").get((group, kind), [])
        for crd in candidates:
            if version in crd.served:
                schema = self._inliner.schema(crd.served[version])
                validator = jsonschema.Draft202012Validator(schema, registry=self._registry)
                return ObjectCheck(validator, f"crd:{self._relative(crd.path)}")
        if candidates:  # the kind is known but this version is not served: the API server rejects it
            served = sorted({v for crd in candidates for v in crd.served})
            label = f"crd:{self._relative(candidates[0].path)}"
            refusal = f"{api_version} is not served by the CRD (served: {', '.join(served)})"
            return ObjectCheck(None, label, (("apiVersion",), refusal))
        return None

    def _relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.upstream_dir).as_posix()
        except ValueError:
            return path.as_posix()


@dataclass
class ObjectCheck:
    validator: jsonschema.protocols.Validator | None
    label: str
    refusal: Problem = ((), "")  # used instead when every object of this kind is an error (unserved version)
    fast: Any = field(init=False, default=None, repr=False, compare=False)  # jsonschema-rs, same schema

    def __post_init__(self) -> None:
        if self.validator is not None:
            self.fast = fast_check(self.validator.schema)

    def problems(self, obj: dict[str, Any]) -> list[Problem]:
        if self.validator is None:
            return [self.refusal]
        if self.fast is not None and self.fast.is_valid(obj):
            return []
        return [(tuple(e.absolute_path), e.message) for e in self.validator.iter_errors(obj)]


def fast_check(schema: dict[str, Any]) -> Any:
    """jsonschema-rs's compiled Draft 2020-12 check of `schema`, or None. jsonschema walks every
    object in Python; jsonschema-rs answers "valid" far faster, and only an object it finds invalid
    is walked again, for jsonschema's messages. Used only for a schema with no `$ref` left (those
    resolve through this package's registry alone) that it compiles (its regular expressions are ECMA
    262's: a pattern it cannot take leaves the kind to jsonschema). tests/test_schema_inline.py holds
    its verdicts to jsonschema's on mutated objects of every kind."""
    if '"$ref"' in json.dumps(schema):
        return None
    try:
        return jsonschema_rs.Draft202012Validator(schema)
    except (ValueError, jsonschema_rs.ReferencingError):
        return None


def normalise(value: Any) -> Any:
    """Integral floats (8080.0, as Pulumi passes numbers) become ints, as a YAML manifest would have them."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value
