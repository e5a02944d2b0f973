"""Schema validation for the offline preview: Kubernetes objects and Helm chart values, fully offline.

* Built-in kinds are checked against kubernetes-validate's own `-strict` JSON schemas (read from its
  package data, not a copy), with one compiled validator per (apiVersion, kind): the stock
  `kubernetes_validate.validate()` re-reads the 1.4 MB definitions file on every call.
* Custom resources are checked against the vendored upstream CRDs, made strict the way an API server
  with `fieldValidation=Strict` behaves (unknown fields are errors).
* Chart values are checked against the chart's `values.schema.json` (as Helm does), or else against
  the keys of its default `values.yaml`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import yaml
from referencing import Registry, Resource

from .schema_inline import Inliner

MAX_ERRORS = 20  # per object: past this the report gets unreadable, and the first ones point at the cause
MAX_MESSAGE = 300  # jsonschema quotes whole instances; a bad 2 KB map must not flood the report

Location = tuple[str | int, ...]  # a location inside a document: keys and list indexes
Problem = tuple[Location, str]

_SCHEMA_ROOT = Path(str(resources.files("kubernetes_validate"))) / "kubernetes-json-schema"
_STRICT_DIR = re.compile(r"^v(\d+)\.(\d+)\.\d+-local-strict$")
_DEFINITIONS_ID = "https://kubernetes.io/api/_definitions.json"
_OBJECT_META_REF = f"{_DEFINITIONS_ID}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

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
class Result:
    status: str  # "ok" | "error" | "no-schema"
    errors: list[str] = field(default_factory=list)  # "path.to.field: message", sorted, at most MAX_ERRORS (+1 note)
    schema: str = ""  # what it was checked against; "" for no-schema


class UnsupportedKubernetesVersion(ValueError):
    """The requested Kubernetes version is outside what kubernetes-validate ships schemas for."""


# --- public entry point -----------------------------------------------------------------------


class Validator:
    """Validates objects and chart values for one Kubernetes version; caches one compiled check per kind."""

    def __init__(self, kubernetes_version: str, upstream_dir: Path) -> None:
        self.version = _pick_version(kubernetes_version)
        self.upstream_dir = Path(upstream_dir)
        self._core_dir = _SCHEMA_ROOT / "v{}.{}.0-local-strict".format(*self.version)
        self._registry = _definitions_registry(self._core_dir)
        self._inliner = Inliner(_DEFINITIONS_ID, _definitions(self._core_dir))
        self._objects: dict[tuple[str, str], _ObjectCheck | None] = {}  # (apiVersion, kind) -> check
        self._charts: dict[str, _ChartCheck | None] = {}

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
        name_problems = _name_problems(obj)
        if check is None:
            note = (
                f"kind: no schema for {kind} {api_version}: not a built-in kind of Kubernetes "
                f"{self.version_label} and no CRD in crds/ serves it"
            )
            return Result("no-schema", [note, *_finish(name_problems)], "")
        problems = check.problems(obj) + name_problems
        return Result("error" if problems else "ok", _finish(problems), check.label)

    def validate_chart_values(self, chart: str, values: dict[str, Any]) -> Result:
        check = self._chart_check(chart)
        if check is None:
            return Result("no-schema", [f"(root): no chart {chart!r} in charts/ (nothing to check against)"], "")
        problems = check.problems(normalise(values if values is not None else {}))
        return Result("error" if problems else "ok", _finish(problems), check.label)

    @property
    def version_label(self) -> str:
        return "{}.{}".format(*self.version)

    def object_check(self, api_version: str, kind: str) -> _ObjectCheck | None:
        """The cached check for one (apiVersion, kind): built once, reused for every object of that kind."""
        key = (api_version, kind)
        if key not in self._objects:
            self._objects[key] = self._builtin_check(api_version, kind) or self._crd_check(api_version, kind)
        return self._objects[key]

    # --- built-in kinds ---

    def _builtin_check(self, api_version: str, kind: str) -> _ObjectCheck | None:
        # kubernetes-validate's file naming: rbac.authorization.k8s.io/v1 -> rbac-v1, v1 -> v1.
        suffix = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
        path = self._core_dir / f"{kind.lower()}-{suffix}.json"
        if not path.is_file():
            return None
        schema = json.loads(path.read_text())
        group, _, version = api_version.rpartition("/")
        # The short file name drops the group's domain, so check the full group/version/kind: a CRD
        # group like networking.example.com must not be validated as networking.k8s.io.
        gvks = schema.get("x-kubernetes-group-version-kind") or []
        if {"group": group, "version": version, "kind": kind} not in [
            {k: g.get(k) for k in ("group", "version", "kind")} for g in gvks
        ]:
            return None
        validator = jsonschema.Draft202012Validator(self._inliner.schema(schema), registry=self._registry)
        return _ObjectCheck(validator, f"kubernetes-validate {self.version_label} strict")

    # --- custom resources ---

    def _crd_check(self, api_version: str, kind: str) -> _ObjectCheck | None:
        group, _, version = api_version.rpartition("/")
        candidates = crd_catalog(self.upstream_dir / "crds").get((group, kind), [])
        for crd in candidates:
            if version in crd.served:
                schema = self._inliner.schema(crd.served[version])
                validator = jsonschema.Draft202012Validator(schema, registry=self._registry)
                return _ObjectCheck(validator, f"crd:{self._relative(crd.path)}")
        if candidates:  # the kind is known but this version is not served: the API server rejects it
            served = sorted({v for crd in candidates for v in crd.served})
            label = f"crd:{self._relative(candidates[0].path)}"
            refusal = f"{api_version} is not served by the CRD (served: {', '.join(served)})"
            return _ObjectCheck(None, label, (("apiVersion",), refusal))
        return None

    def _relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.upstream_dir).as_posix()
        except ValueError:
            return path.as_posix()

    # --- chart values ---

    def _chart_check(self, chart: str) -> _ChartCheck | None:
        if chart not in self._charts:
            self._charts[chart] = self._load_chart_check(chart)
        return self._charts[chart]

    def _load_chart_check(self, chart: str) -> _ChartCheck | None:
        if not chart or "/" in chart or chart in (".", ".."):
            return None
        chart_dir = self.upstream_dir / "charts" / chart
        values_file, schema_file = chart_dir / "values.yaml", chart_dir / "values.schema.json"
        defaults = _load_values(values_file) if values_file.is_file() else {}
        if schema_file.is_file():
            schema = json.loads(schema_file.read_text())
            cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
            label = f"chart:{self._relative(schema_file)}"
            return _ChartCheck(label, defaults, schema_validator=cls(schema))
        if values_file.is_file():
            source = self._relative(values_file)
            documented = _commented_keys(values_file.read_text())
            free = FREE_FORM_VALUE_PATHS.get(chart, [])
            return _ChartCheck(f"chart:{source}", defaults, documented=documented, free_paths=free, source=source)
        return None


# --- object checks ----------------------------------------------------------------------------


@dataclass
class _ObjectCheck:
    validator: jsonschema.protocols.Validator | None
    label: str
    refusal: Problem = ((), "")  # used instead when every object of this kind is an error (unserved version)
    fast: Any = field(init=False, default=None, repr=False, compare=False)  # jsonschema-rs, same schema

    def __post_init__(self) -> None:
        if self.validator is not None:
            self.fast = _fast_check(self.validator.schema)

    def problems(self, obj: dict[str, Any]) -> list[Problem]:
        if self.validator is None:
            return [self.refusal]
        if self.fast is not None and self.fast.is_valid(obj):
            return []
        return [(tuple(e.absolute_path), e.message) for e in self.validator.iter_errors(obj)]


def _fast_check(schema: dict[str, Any]) -> Any:
    """jsonschema-rs's compiled Draft 2020-12 check of `schema`, or None. jsonschema walks every
    object in Python (most of validation time); jsonschema-rs answers "valid" twenty times faster, and
    only an object it finds invalid is walked again, for jsonschema's messages. Used only for a schema
    with no `$ref` left (those resolve through this module's registry alone) that it compiles (its
    regular expressions are ECMA 262's: a pattern it cannot take leaves the kind to jsonschema).
    tests/test_schema_inline.py holds its verdicts to jsonschema's on mutated objects of every kind."""
    if '"$ref"' in json.dumps(schema):
        return None
    try:
        return jsonschema_rs.Draft202012Validator(schema)
    except (ValueError, jsonschema_rs.ReferencingError):
        return None


_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_RBAC_KINDS = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}


def _name_problems(obj: dict[str, Any]) -> list[Problem]:
    """The API server's name rules, which the JSON schemas do not carry."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return [(("metadata", "name"), "required: every object needs a name")]
    problems: list[Problem] = []
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        problems.append((("metadata", "name"), "required: every object needs a name"))
    else:
        rule = _name_rule(obj["apiVersion"].rpartition("/")[0], obj["kind"], name)
        if rule:
            problems.append((("metadata", "name"), f"{name!r} is not a valid {rule}"))
    namespace = meta.get("namespace")
    if isinstance(namespace, str) and namespace and not _is_label(namespace, _DNS1123_LABEL):
        problems.append((("metadata", "namespace"), f"{namespace!r} is not a valid {_LABEL_RULE}"))
    return problems


_LABEL_RULE = "DNS-1123 label (lowercase alphanumerics and '-', start and end alphanumeric, at most 63 characters)"
_SUBDOMAIN_RULE = (
    "DNS-1123 subdomain (lowercase alphanumerics, '-' and '.', each part starting and ending "
    "alphanumeric, at most 253 characters)"
)
_DNS1035_RULE = (
    "DNS-1035 label (lowercase alphanumerics and '-', start with a letter, end alphanumeric, at most 63 characters)"
)


def _name_rule(group: str, kind: str, name: str) -> str:
    """The rule `name` breaks, or "" if it is fine (per-kind rules as in the API server's validation)."""
    if group == "" and kind == "Namespace":
        return "" if _is_label(name, _DNS1123_LABEL) else _LABEL_RULE
    if group == "" and kind == "Service":  # the API server is stricter for Services than DNS-1123
        return "" if _is_label(name, _DNS1035_LABEL) else _DNS1035_RULE
    if group == "rbac.authorization.k8s.io" and kind in _RBAC_KINDS:  # "system:..." style names are legal
        ok = name not in (".", "..") and "/" not in name and "%" not in name
        return "" if ok else "RBAC name (must not be '.' or '..' or contain '/' or '%')"
    ok = len(name) <= 253 and _DNS1123_SUBDOMAIN.fullmatch(name) is not None
    return "" if ok else _SUBDOMAIN_RULE


def _is_label(value: str, pattern: re.Pattern[str]) -> bool:
    return len(value) <= 63 and pattern.fullmatch(value) is not None


# --- kubernetes-validate schemas --------------------------------------------------------------


def _shipped_versions() -> list[tuple[int, int]]:
    found = (_STRICT_DIR.match(p.name) for p in _SCHEMA_ROOT.iterdir())
    return sorted((int(m[1]), int(m[2])) for m in found if m)


def _pick_version(requested: str) -> tuple[int, int]:
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
def _definitions(core_dir: Path) -> dict[str, Any]:
    """`_definitions.json` of one schema version, which every kind's schema $refs."""
    definitions: dict[str, Any] = json.loads((core_dir / "_definitions.json").read_text())
    return definitions


@cache
def _definitions_registry(core_dir: Path) -> Registry:
    """One registry per schema version holding the definitions (for the $refs left after inlining)."""
    return Registry().with_resource(_DEFINITIONS_ID, Resource.from_contents(_definitions(core_dir))).crawl()


# --- CRDs ---------------------------------------------------------------------------------------


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
    """Every CRD file parsed once (about 7 MB of YAML: seconds), each served version's schema made
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
    props["metadata"] = {"$ref": _OBJECT_META_REF}  # strict ObjectMeta, so metadata typos are caught
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


# --- chart values -------------------------------------------------------------------------------


@dataclass
class _ChartCheck:
    label: str
    defaults: dict[str, Any]
    schema_validator: jsonschema.protocols.Validator | None = None
    documented: dict[tuple[str, ...], set[str]] = field(default_factory=dict)
    free_paths: list[str] = field(default_factory=list)
    source: str = ""

    def problems(self, values: Any) -> list[Problem]:
        if not isinstance(values, dict):
            return [((), f"chart values must be a map, got {_type_name(values)}")]
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
                    yield here, f"expected a map (the default in {self.source} is one), got {_type_name(value)}"
                else:
                    yield from self._walk(value, default, here)
            elif isinstance(value, dict):
                yield here, f"expected a {_type_name(default)} like the default {default!r} in {self.source}, got a map"

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


def _commented_keys(text: str) -> dict[tuple[str, ...], set[str]]:
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

    root = yaml.compose(text, Loader=_Loader)
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


# --- shared helpers -----------------------------------------------------------------------------

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster on big CRDs


def _load_all(path: Path) -> list[Any]:
    with path.open() as fh:
        return list(yaml.load_all(fh, Loader=_Loader))


def _load_values(path: Path) -> dict[str, Any]:
    loaded = yaml.load(path.read_text(), Loader=_Loader)  # e.g. gateway-helm's ${GatewayImage} is a plain string
    return loaded if isinstance(loaded, dict) else {}


def normalise(value: Any) -> Any:
    """Integral floats (8080.0, as Pulumi passes numbers) become ints, as a YAML manifest would have them."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__


def _finish(problems: Iterable[Problem]) -> list[str]:
    """Sorted (list indexes numerically), de-duplicated, capped, as "dotted.path: message"."""
    unique = sorted(set(problems), key=lambda p: (_path_key(p[0]), p[1]))
    lines = [f"{_dotted(path)}: {_shorten(message)}" for path, message in unique[:MAX_ERRORS]]
    if len(unique) > MAX_ERRORS:
        lines.append(f"(root): {len(unique) - MAX_ERRORS} more errors not shown")
    return lines


def _path_key(path: Location) -> tuple[tuple[int, int, str], ...]:
    return tuple((1, 0, p) if isinstance(p, str) else (0, p, "") for p in path)


def _dotted(path: Location) -> str:
    return ".".join(str(p) for p in path) if path else "(root)"


def _shorten(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"
