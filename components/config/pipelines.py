"""A tenant's pipeline (seed 002's RepoBinding): `pipelineName`, `templateRef`, `pipelineSpec`, checked when the
stack config is read.

`pipelineSpec` is a Tekton Pipeline (`tekton.dev/v1`), as seed 002 gives it (a YAML string) or as a mapping. It is
validated against the vendored Pipeline CRD (`tekton/crds/tekton.dev/pipeline.yaml` under the upstream folder,
tektoncd/pipeline v1.15.0), strict like the API server (unknown fields are errors), so a typo is a config error
naming the tenant rather than a failed `pulumi up`. Beyond the CRD's schema: its `metadata` holds at most its
name, which must be `pipelineName`; and every param it requires (no default) is one the dispatcher template
passes, or each run would fail with "pipelineRun missing parameters" (tektoncd/pipeline v1.15.0
pkg/reconciler/pipelinerun/resources/validate_params.go; extra params are ignored there).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any, Literal

import jsonschema
import yaml

from ..crd_schema import DEFAULT_UPSTREAM, load_crd, served_schemas, strict_crd_schema
from ..yaml_read import load_strict

PIPELINE_CRD = Path("tekton") / "crds" / "tekton.dev" / "pipeline.yaml"
PIPELINE_API_VERSION = "tekton.dev/v1"
UPSTREAM_ENV = "GATEHOUSE_UPSTREAM"  # where the vendored upstream files are, if not ../shared/upstream

# The dispatcher templates Gatehouse ships (components/pipelines/dispatch.py renders them): each passes these
# params to the tenant's Pipeline, from the push event.
TEMPLATE_PARAMS: dict[str, tuple[str, ...]] = {
    "run-pipeline-v1": ("git-url", "git-revision", "tenant-name"),
}
TemplateRef = Literal["run-pipeline-v1"]


def upstream_dir() -> Path:
    return Path(os.environ.get(UPSTREAM_ENV) or DEFAULT_UPSTREAM)


@cache
def _pipeline_validator(crd_file: Path) -> jsonschema.protocols.Validator:
    schema = served_schemas(load_crd(crd_file))["v1"]
    name_only = {"type": "object", "properties": {"name": {"type": "string"}}, "additionalProperties": False}
    return jsonschema.Draft202012Validator(strict_crd_schema(schema, name_only))


def parse_pipeline_spec(value: Any) -> dict[str, Any]:
    """The Pipeline document of a `pipelineSpec`: a mapping as given, or the one YAML document of a string."""
    if isinstance(value, str):
        try:
            value = load_strict(value)
        except yaml.YAMLError as exc:
            raise ValueError(f"is not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(value, dict):
        raise ValueError("must be a Tekton Pipeline (a mapping, or its YAML as a string)")
    return value


def pipeline_problems(pipeline: dict[str, Any], name: str, template: str) -> list[str]:
    """What is wrong with a tenant's Pipeline document, each a message for `pipelineSpec`."""
    crd_file = upstream_dir() / PIPELINE_CRD
    if not crd_file.is_file():
        return [f"cannot be checked: no vendored Pipeline CRD at {crd_file} (set {UPSTREAM_ENV})"]
    if pipeline.get("apiVersion") != PIPELINE_API_VERSION or pipeline.get("kind") != "Pipeline":
        return [f"must be a Pipeline of {PIPELINE_API_VERSION} (apiVersion and kind)"]
    problems = []
    for error in sorted(_pipeline_validator(crd_file).iter_errors(pipeline), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in error.absolute_path) or "(document)"
        problems.append(f"{where}: {error.message} (the Tekton Pipeline CRD, tektoncd/pipeline v1.15.0)")
    given = (pipeline.get("metadata") or {}).get("name") if isinstance(pipeline.get("metadata"), dict) else None
    if given is not None and given != name:
        problems.append(f"metadata.name '{given}' is not the tenant's pipelineName '{name}'")
    spec = pipeline.get("spec")
    params = spec.get("params") if isinstance(spec, dict) else None
    if not problems and isinstance(params, list):
        passed = TEMPLATE_PARAMS[template]
        for param in params:
            if isinstance(param, dict) and "default" not in param and param.get("name") not in passed:
                problems.append(
                    f"spec.params: '{param.get('name')}' has no default and {template} passes only "
                    f"{', '.join(passed)}: every run would fail (give it a default)"
                )
    return problems
