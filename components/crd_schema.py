"""A CRD's openAPIV3Schema as a strict JSON Schema: unknown fields are errors, as for an API server with
`fieldValidation=Strict`. Here, not in offline/, because the program needs it too: a tenant's `pipelineSpec` is
checked against the vendored Tekton Pipeline CRD when the stack config is read (config/pipelines.py); the offline
preview validates every custom resource with the same conversion (offline/validate/crds.py).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from .yaml_read import SafeLoader

# The vendored upstream files, beside the project (`../shared/upstream`); each bundle laid out alike: the
# first bundle is the folder itself, later ones are its sub-folders holding `crds/` or `charts/` of their own
# (`tekton/crds/<group>/`, `tekton/charts/<chart>/`).
DEFAULT_UPSTREAM = Path(__file__).resolve().parent.parent.parent / "shared" / "upstream"
BUNDLES = ("", "tekton")


def bundle_dirs(upstream: Path, kind: str) -> list[Path]:
    """`upstream/<kind>` and each bundle's `upstream/<bundle>/<kind>` (kind: `crds` or `charts`)."""
    return [upstream / b / kind if b else upstream / kind for b in BUNDLES]


def chart_dir(upstream: Path, chart: str) -> Path:
    """Where a vendored chart's files are: the first bundle holding `charts/<chart>/` (else the first's)."""
    found = [d / chart for d in bundle_dirs(upstream, "charts") if (d / chart).is_dir()]
    return found[0] if found else upstream / "charts" / chart


def version_schema(spec: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
    # apiextensions v1 keeps the schema per version; v1beta1 CRDs had one for all.
    found = (version.get("schema") or spec.get("validation") or {}).get("openAPIV3Schema")
    return found or {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def strict_crd_schema(openapi: dict[str, Any], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """A CRD's openAPIV3Schema as a JSON Schema 2020-12 document, strict like fieldValidation=Strict.

    CEL rules (`x-kubernetes-validations`) are dropped: they need a CEL evaluator, which is not here.
    `format` is kept as an annotation only (no format checker): the API server's format semantics
    (int32, int64, byte, date-time, ...) do not match jsonschema's optional checkers.
    """
    root = _convert(openapi, structural=True)
    props = root.setdefault("properties", {})
    props["metadata"] = metadata or {"type": "object"}  # the preview gives the strict ObjectMeta, so typos are caught
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


def served_schemas(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A CRD document's served versions, each with its raw openAPIV3Schema."""
    spec = doc.get("spec") or {}
    return {v["name"]: version_schema(spec, v) for v in spec.get("versions") or [] if v.get("served")}


def load_crd(path: Path) -> dict[str, Any]:
    """The first CustomResourceDefinition of a file."""
    with path.open() as fh:
        for doc in yaml.load_all(fh, Loader=SafeLoader):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                return doc
    raise ValueError(f"{path}: no CustomResourceDefinition")
