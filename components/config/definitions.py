"""API definition files: seed 001's API configuration, with Gatehouse's fields under the same `data:`.

`gatehouse:apiDefinitions` names them by glob, relative to the project (`apis/*.yaml`). Each file is read
with the strict loader of the stack files (components/yaml_read.py: a key given twice, an alias bomb, more
than one document are errors), validated like the stack config, and converted into one `Api`, appended
to `gatehouse:apis`. Problems name the file and the field path (`apis/tickets.yaml:
data.operations[2].method: ...`); any bad file stops the program before a resource is registered.

One-to-one mapping, seed field -> Api field:
- `version` must be `api-platform.wso2.com/v1`, `kind` must be `http/rest` (nothing else is built).
- `data.name` + `data.version` -> `name`: `<name>-<version>` (`catalog` v2 -> `catalog-v2`), which names
  the HTTPRoute, the policies and the default host: two versions are two APIs side by side. A name defined
  both here and in `gatehouse:apis` (or in two files) is an error. Scopes and the token audience are named
  after `tokenName` when given (`tickets` -> `tickets:read`, `tickets-api`), else after the name.
- `data.context` + `data.version` -> `basePath`: `/<context>/<version>`.
- `data.upstream[0].url` -> `service` for an in-cluster URL, `http://<service>.<namespace>.svc:<port>` (or
  `.svc.cluster.local`), whose namespace must be `data.namespace`; `external` for `https://<host>[:<port>]`
  (config/upstreams.py). Exactly one upstream; no path (the upstream receives the request's whole path).
  `data.upstream[0].healthCheck` (Gatehouse's) -> `healthCheck`.
- `data.operations[]` -> `operations`, field for field: `method`, `path` (a `{name}` segment: any one
  segment), `requestPolicies`, `responsePolicies` (config/operations.py has the policies), and Gatehouse's
  `scope`.
- Gatehouse's fields under `data:` are `gatehouse:apis` fields of the same name: `tokenName`, `host`,
  `namespace`, `auth`, `scopes`, `adminPaths`, `m2mClients`, `apiKeyTiers`, `corsOrigins`,
  `organizationScoped`, `partnerOnlyScopes`, `gateway` (seed 001's gateway registration: where the API is
  served, one of `gatehouse:gateways`, default `public`).
"""

from __future__ import annotations

import glob
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from policy.gatehouse_contract import PUBLIC_GATEWAY

from ..yaml_read import StrictLoadError, load_strict  # the stack files' strict loader
from .apps import ApiKeyTier, M2MClient
from .fields import DnsLabel, M2MScope, Model, Origin, PathPrefix, Scope
from .operations import Operation
from .problems import Problem, config_path, located, reject
from .upstreams import ExternalUpstream, HealthCheck, check_external_hostname

API_VERSION = "api-platform.wso2.com/v1"
KIND = "http/rest"
VERSION_RE = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
CONTEXT_RE = re.compile(r"/?[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*")
# http://<service>.<namespace>.svc[.cluster.local]:<port>[/]
UPSTREAM_RE = re.compile(r"http://([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.cluster\.local)?:([0-9]{1,5})/?")
# https://<hostname>[:<port>][/]: an external upstream (config/upstreams.py checks the hostname and port)
EXTERNAL_RE = re.compile(r"https://([^/:?#@]+)(?::([0-9]{1,5}))?/?")


class Upstream(Model):
    url: str
    health_check: HealthCheck | None = None  # Gatehouse's: an active check of the upstream

    @field_validator("url")
    @classmethod
    def _known_shape(cls, value: str) -> str:
        in_cluster = UPSTREAM_RE.fullmatch(value)
        if in_cluster:
            if not 1 <= int(in_cluster.group(4)) <= 65535:
                raise ValueError("the port must be 1-65535")
            return value
        external = EXTERNAL_RE.fullmatch(value)
        if not external:
            raise ValueError(
                "must be an in-cluster Service URL http://<service>.<namespace>.svc:<port> or an external"
                " https://<hostname>[:<port>] (no path: the upstream receives the request's whole path)"
            )
        check_external_hostname(external.group(1))
        if not 1 <= int(external.group(2) or 443) <= 65535:
            raise ValueError("the port must be 1-65535")
        return value

    @property
    def service(self) -> tuple[str, str, int] | None:
        """(service, namespace, port) of an in-cluster upstream; None for an external one."""
        found = UPSTREAM_RE.fullmatch(self.url)
        return (found.group(1), found.group(2), int(found.group(4))) if found else None

    @property
    def external(self) -> ExternalUpstream | None:
        found = EXTERNAL_RE.fullmatch(self.url)
        return ExternalUpstream(hostname=found.group(1), port=int(found.group(2) or 443)) if found else None


class DefinitionData(Model):
    # seed 001
    name: DnsLabel
    version: str
    context: str
    upstream: list[Upstream] = Field(min_length=1, max_length=1)
    operations: list[Operation] = []
    # Gatehouse's, as in `gatehouse:apis`
    token_name: DnsLabel | None = None
    host: DnsLabel | None = None
    namespace: DnsLabel
    auth: Literal["jwt", "apiKey", "public"]
    scopes: list[Scope] = ["read", "write", "admin"]
    admin_paths: list[PathPrefix] = ["/admin"]
    m2m_clients: list[M2MClient] = Field(default=[], alias="m2mClients")
    api_key_tiers: list[ApiKeyTier] = []
    cors_origins: list[Origin] = []
    organization_scoped: bool = False
    partner_only_scopes: list[M2MScope] = []
    gateway: DnsLabel = PUBLIC_GATEWAY

    @model_validator(mode="after")
    def _upstream_in_its_namespace(self) -> DefinitionData:
        """An in-cluster upstream Service is in the API's namespace (its HTTPRoute's backendRef cannot leave it)."""
        if self.upstream[0].service is None:
            return self
        _, namespace, _ = self.upstream[0].service
        if namespace != self.namespace:
            message = f"the Service is in '{namespace}', the API in '{self.namespace}': they must be one namespace"
            reject([Problem(("upstream", 0, "url"), message)], "DefinitionData")
        return self

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not VERSION_RE.fullmatch(value):
            raise ValueError("must be lowercase letters, digits and '-', such as v2 (it names the API and its path)")
        return value

    @field_validator("context")
    @classmethod
    def _context(cls, value: str) -> str:
        if not CONTEXT_RE.fullmatch(value) or any(s in (".", "..") for s in value.split("/")):
            raise ValueError("must be a path such as /catalog: segments of letters, digits, '.', '_', '~' or '-'")
        return value


class ApiDefinition(Model):
    version: Literal["api-platform.wso2.com/v1"]
    kind: Literal["http/rest"]
    data: DefinitionData


# Api field (its stack-file key) -> where it comes from in a definition, for problems found on the Api
API_FIELD_SOURCES: dict[str, tuple[str | int, ...]] = {
    "name": ("data", "name"),
    "service": ("data", "upstream", 0, "url"),
    "external": ("data", "upstream", 0, "url"),
    "healthCheck": ("data", "upstream", 0, "healthCheck"),
    "basePath": ("data", "context"),
}


def to_api_entry(definition: ApiDefinition) -> dict[str, Any]:
    """The `gatehouse:apis` entry a definition stands for (see the module's mapping)."""
    data = definition.data
    upstream = data.upstream[0]
    entry = data.model_dump(
        by_alias=True,
        exclude_unset=True,
        exclude={"name", "version", "context", "upstream", "operations"},
    )
    if data.operations:
        entry["operations"] = [op.model_dump(by_alias=True, exclude_unset=True) for op in data.operations]
    entry["name"] = f"{data.name}-{data.version}"
    if upstream.service:
        service, _namespace, port = upstream.service
        entry["service"] = {"name": service, "port": port}
    elif upstream.external:
        entry["external"] = upstream.external.model_dump(by_alias=True)
    if upstream.health_check:
        entry["healthCheck"] = upstream.health_check.model_dump(by_alias=True, exclude_unset=True)
    entry["basePath"] = f"/{data.context.strip('/')}/{data.version}"
    return entry


def _at(file: str, loc: tuple[str | int, ...]) -> str:
    return f"{file}: {config_path(loc).split(':', 1)[1]}"


def _read(path: Path) -> Any:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise _FileProblem(f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise _FileProblem("not UTF-8") from None
    try:
        return load_strict(text)
    except StrictLoadError as exc:
        raise _FileProblem(f"{f'line {exc.line}: ' if exc.line else ''}{exc.message}") from None
    except yaml.YAMLError as exc:
        raise _FileProblem(f"not valid YAML ({' '.join(str(exc).split())})") from None


class _FileProblem(Exception):
    pass


def load_definitions(patterns: list[str], base: Path) -> tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, str]]]:
    """(file, `gatehouse:apis` entry) for every file the globs name, relative to `base`, in name order;
    and every problem, as (where, message) with `where` the file and the field path."""
    entries: list[tuple[str, dict[str, Any]]] = []
    problems: list[tuple[str, str]] = []
    files: list[str] = []
    for p, pattern in enumerate(patterns):
        where = config_path(["apiDefinitions", p])
        if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
            problems.append((where, "must be a glob relative to the project, such as apis/*.yaml"))
            continue
        found = sorted(glob.glob(pattern, root_dir=base))
        if not found:
            problems.append((where, f"'{pattern}' matches no file"))
        files += [f for f in found if f not in files]
    for file in files:
        try:
            raw = _read(base / file)
        except _FileProblem as exc:
            problems.append((file, str(exc)))
            continue
        if not isinstance(raw, dict):
            problems.append((file, "expected a mapping at the top level (version, kind, data)"))
            continue
        try:
            definition = ApiDefinition.model_validate(raw)
        except ValidationError as exc:
            problems += [(_at(file, path), message) for path, message in located(exc)]
            continue
        entries.append((file, to_api_entry(definition)))
    return entries, problems


def api_problem_source(file: str, rest: tuple[str | int, ...]) -> str:
    """Where a problem found on a definition's Api entry (`rest`: the path under the entry) is in its file."""
    if rest and isinstance(rest[0], str) and rest[0] in API_FIELD_SOURCES:
        source = API_FIELD_SOURCES[rest[0]]
        return _at(file, source if rest[0] in ("service", "external", "basePath") else source + rest[1:])
    return _at(file, ("data", *rest))
