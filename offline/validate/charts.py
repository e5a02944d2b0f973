"""Helm chart values, checked as Helm does against the chart's `values.schema.json`, or else against the
keys of its default `values.yaml` (and the keys it documents in comments)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from components.crd_schema import chart_dir
from components.yaml_read import SafeLoader

from .problems import Problem, type_name

# Chart paths whose content is free-form: anything below them is accepted by the values.yaml check.
# Only paths the chart's values.yaml documents (by comment or structure) as arbitrary maps rendered
# verbatim, or as Kubernetes objects copied as-is into a manifest (their keys come from the Kubernetes
# API, not from the chart). Empty `{}` and list defaults are free-form anyway and are listed only
# where the chart documents them as a verbatim config document.
FREE_FORM_VALUE_PATHS: dict[str, list[str]] = {
    "dex": [
        "config",  # "Application configuration": the whole dex config.yaml, written verbatim into a Secret
    ],
    "grafana": [
        "grafana.ini",  # every section/key is rendered verbatim into grafana.ini (auth.*, server.root_url, ...)
        "datasources",  # provisioning files: `<file>.yaml: <document>`, written verbatim
        "dashboardProviders",  # same, dashboard provider provisioning files
        "dashboards",  # `<provider>: <dashboard>: {json|url|gnetId...}` maps
        "alerting",  # alerting provisioning files, verbatim
        "notifiers",  # legacy notifier provisioning files, verbatim
        "imageRenderer.env",  # env map: each key becomes an environment variable of the renderer
        "securityContext",  # pod SecurityContext, toYaml'd as-is
        "containerSecurityContext",  # container SecurityContext, toYaml'd as-is
        "readinessProbe",  # container Probe, toYaml'd as-is
        "livenessProbe",  # container Probe, toYaml'd as-is
    ],
    "oauth2-proxy": [
        "extraArgs",  # map (or list) of oauth2-proxy command-line flags, one arg per key
        "alphaConfig.configData",  # "Arbitrary configuration data to append"
        "alphaConfig.serverConfigData",  # "Arbitrary configuration data to append to the server section"
        "alphaConfig.metricsConfigData",  # "Arbitrary configuration data to append to the metrics section"
        "securityContext",  # container SecurityContext (minus `enabled`), toYaml'd as-is
        "redis-ha",  # values of the redis-ha sub-chart (see charts/redis-ha), not of this chart
    ],
    "authentik": [
        "authentik",  # every key is rendered as an AUTHENTIK_<KEY> env var: any authentik config option
        "postgresql",  # values of the Bitnami postgresql sub-chart, which is not vendored here
    ],
    "gateway-helm": [
        "config.envoyGateway",  # the EnvoyGateway config API object, written verbatim into a ConfigMap
        "deployment.pod.annotations",  # annotation map (defaults to two prometheus.io annotations)
        "deployment.envoyGateway.resources",  # container ResourceRequirements, toYaml'd as-is
        "deployment.envoyGateway.securityContext",  # container SecurityContext, toYaml'd as-is
        "deployment.envoyGateway.startupProbe",  # container Probe, toYaml'd as-is
        "deployment.envoyGateway.livenessProbe",  # container Probe, toYaml'd as-is
        "deployment.envoyGateway.readinessProbe",  # container Probe, toYaml'd as-is
        "deployment.pod.securityContext",  # pod SecurityContext, toYaml'd as-is
        "certgen.job.pod.securityContext",  # pod SecurityContext, toYaml'd as-is
        "certgen.job.securityContext",  # container SecurityContext, toYaml'd as-is
    ],
    "cloudflare-tunnel": [
        "podSecurityContext",  # pod SecurityContext, toYaml'd as-is
        "securityContext",  # container SecurityContext, toYaml'd as-is
    ],
    "cloudflare-tunnel-remote": [
        "podSecurityContext",  # pod SecurityContext, toYaml'd as-is
        "securityContext",  # container SecurityContext, toYaml'd as-is
    ],
    "redis-ha": [
        "redis.config",  # "Any valid redis config options": redis.conf directives, one per key
        "sentinel.config",  # sentinel.conf directives, one per key
        "securityContext",  # pod SecurityContext, toYaml'd as-is
        "containerSecurityContext",  # container SecurityContext, toYaml'd as-is
    ],
    "argo-cd": [
        "configs.cm",  # "Any values you put under .configs.cm are passed to argocd-cm ConfigMap"
        "configs.params",  # keys of argocd-cmd-params-cm ("You can customize parameters by adding parameters here")
        "configs.rbac",  # keys of argocd-rbac-cm (policy.csv, policy.<name>.csv, scopes, ...)
        "redis-ha",  # values of the redis-ha sub-chart (see charts/redis-ha), not of this chart
    ],
}


@dataclass
class ChartCheck:
    label: str
    defaults: dict[str, Any]
    schema_validator: jsonschema.protocols.Validator | None = None
    documented: dict[tuple[str, ...], set[str]] = field(default_factory=dict)
    free_paths: list[str] = field(default_factory=list)
    source: str = ""

    def problems(self, values: Any) -> list[Problem]:
        if not isinstance(values, dict):
            return [((), f"chart values must be a map, got {type_name(values)}")]
        if self.schema_validator is not None:
            # Helm validates the coalesced values (defaults overlaid with the user's), not the user's alone.
            merged = coalesce(self.defaults, values)
            return [(tuple(e.absolute_path), e.message) for e in self.schema_validator.iter_errors(merged)]
        return list(self._walk(values, self.defaults, ()))

    def _walk(self, values: dict[str, Any], defaults: dict[str, Any], path: tuple[str, ...]) -> Iterator[Problem]:
        for key, value in values.items():
            here = (*path, str(key))
            if self._is_free(here):
                continue
            if key not in defaults:
                if str(key) not in self.documented.get(path, set()):
                    yield here, f"unknown key (not in {self.source})"
                continue
            default = defaults[key]
            if value is None or default is None or isinstance(default, list):
                continue  # null removes a default (Helm); null and list defaults do not constrain content
            if isinstance(default, dict):
                if not default:
                    continue  # `{}`: a map the chart renders as given
                if not isinstance(value, dict):
                    yield here, f"expected a map (the default in {self.source} is one), got {type_name(value)}"
                else:
                    yield from self._walk(value, default, here)
            elif isinstance(value, dict):
                yield here, f"expected a {type_name(default)} like the default {default!r} in {self.source}, got a map"

    def _is_free(self, path: tuple[str, ...]) -> bool:
        dotted = ".".join(path)
        return any(dotted == p or dotted.startswith(p + ".") for p in self.free_paths)


def coalesce(defaults: Any, values: Any) -> Any:
    """Helm's merge of user values over chart defaults: maps merge key by key, a user null deletes the key."""
    if not (isinstance(defaults, dict) and isinstance(values, dict)):
        return copy.deepcopy(values)
    merged = copy.deepcopy(defaults)
    for key, value in values.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = coalesce(merged.get(key), value)
    return merged


# Values keys start lowercase; capitalised "Example:", "Ref:", "NOTE:" comments are prose, not keys.
_COMMENTED_KEY = re.compile(r"^(\s*)# ?([a-z_][\w.-]*):(\s|$)")


def commented_keys(text: str) -> dict[tuple[str, ...], set[str]]:
    """Keys a values.yaml documents but leaves commented out (`# podAnnotations: {}`), per map path.

    Charts read many optional keys that have no default; their values.yaml shows them as a comment
    aligned with the sibling keys. A comment counts for the innermost map whose keys sit at the same
    column and whose lines span the comment.
    """
    spans: list[tuple[tuple[str, ...], int, int, int]] = []  # path, key column, first line, last line

    def visit(node: yaml.Node, path: tuple[str, ...], first_line: int) -> None:
        if isinstance(node, yaml.MappingNode) and node.value:
            spans.append((path, node.value[0][0].start_mark.column, first_line, node.end_mark.line))
            for key, child in node.value:
                if isinstance(key, yaml.ScalarNode):
                    visit(child, (*path, key.value), key.start_mark.line + 1)

    root = yaml.compose(text, Loader=SafeLoader)
    if root is not None:
        visit(root, (), 0)
    found: dict[tuple[str, ...], set[str]] = {}
    for number, line in enumerate(text.splitlines()):
        m = _COMMENTED_KEY.match(line)
        if not m:
            continue
        column = len(m[1])
        owners = [s for s in spans if s[1] == column and s[2] <= number <= s[3]]
        if owners:
            found.setdefault(max(owners, key=lambda s: len(s[0]))[0], set()).add(m[2])
    return found


def load_values(path: Path) -> dict[str, Any]:
    loaded = yaml.load(path.read_text(), Loader=SafeLoader)  # e.g. gateway-helm's ${GatewayImage} is a plain string
    return loaded if isinstance(loaded, dict) else {}


def load_chart_check(upstream_dir: Path, chart: str, relative: Callable[[Path], str]) -> ChartCheck | None:
    """The check for a vendored chart's values (`upstream_dir/charts/<chart>/`), or None if there is no
    such chart
    (or `upstream_dir/<bundle>/charts/<chart>/`); `relative` names a file in the labels and messages."""
    if not chart or "/" in chart or chart in (".", ".."):
        return None
    folder = chart_dir(upstream_dir, chart)
    values_file, schema_file = folder / "values.yaml", folder / "values.schema.json"
    defaults = load_values(values_file) if values_file.is_file() else {}
    if schema_file.is_file():
        schema = json.loads(schema_file.read_text())
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
        return ChartCheck(f"chart:{relative(schema_file)}", defaults, schema_validator=cls(schema))
    if values_file.is_file():
        source = relative(values_file)
        documented = commented_keys(values_file.read_text())
        free = FREE_FORM_VALUE_PATHS.get(chart, [])
        return ChartCheck(f"chart:{source}", defaults, documented=documented, free_paths=free, source=source)
    return None
