"""Run a CrossGuard (pulumi-policy) pack in-process, the way `pulumi preview --policy-pack` would.

There is no Pulumi engine or CLI here, so this module plays the engine's part against the pack's
analyzer servicer (pulumi-policy's `_PolicyAnalyzerServicer`, private API, pinned to pulumi-policy
1.21.0; offline/analyzer.py makes the same calls on policies at a fraction of the cost):

1. `load_pack` runs the pack's `__main__.py` with `PolicyPack` swapped for a recorder, because the
   real `PolicyPack(...)` starts a gRPC server and sleeps forever.
2. `effective_config` reconciles policy defaults, the pack's `initial_config` and the user's
   `--policy-pack-config` file like the engine does (pulumi/pulumi pkg/resource/analyzer/config.go),
   and validates every policy's properties against its config schema.
3. `run_policies` configures the servicer and calls `Analyze` once per resource (inputs) and
   `AnalyzeStack` once (outputs), with the same protobuf messages the engine sends, then turns the
   diagnostics into a sorted `PolicyReport`.

Secrets reach the servicer wire-encoded, exactly as the engine sends them; the servicer unwraps them
before policies see the values. Nothing here is written to disk.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import runpy
import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pulumi_policy
import pulumi_policy.policy as _pp
import yaml
from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import proto
from pulumi.runtime.rpc import UNKNOWN
from pulumi_policy import EnforcementLevel, Policy

from offline.analyzer import OfflineAnalyzerServicer
from offline.records import SECRET_SIG, SIG_KEY, Registration, Secret

__all__ = [
    "LoadedPack",
    "PolicyConfigError",
    "PolicyPackLoadError",
    "PolicyReport",
    "Violation",
    "effective_config",
    "load_pack",
    "run_policies",
]

STACK_TYPE = "pulumi:pulumi:Stack"
DEFAULT_PACK_VERSION = "0.0.1"  # what PolicyPack reports when PulumiPolicy.yaml has no version
LEVELS = tuple(level.value for level in EnforcementLevel)  # advisory, mandatory, remediate, disabled

_PROTO_LEVELS: dict[proto.EnforcementLevel.ValueType, str] = {
    proto.ADVISORY: "advisory",
    proto.MANDATORY: "mandatory",
    proto.REMEDIATE: "remediate",
    proto.DISABLED: "disabled",
}
_LEVEL_TO_PROTO = {name: number for number, name in _PROTO_LEVELS.items()}


# --------------------------------------------------------------------------------------------------
# Results


@dataclass
class Violation:
    policy: str
    enforcement: str  # "advisory" | "mandatory" | "remediate" | "disabled"
    urn: str  # resource URN ("" if a stack policy reported none)
    message: str  # the policy's report text (the servicer's description prefix removed)


def _report_order(violation: Violation) -> tuple[str, str, str]:
    return violation.policy, violation.urn, violation.message


@dataclass
class PolicyReport:
    pack: str
    version: str
    policies_run: list[str]  # policies whose effective level is not disabled, sorted
    violations: list[Violation]  # sorted by (policy, urn, message)

    def to_json(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "version": self.version,
            "policies_run": list(self.policies_run),
            "violations": [asdict(v) for v in self.violations],
        }

    def with_violations(self, more: list[Violation]) -> PolicyReport:
        """This report with `more` violations (found by another process), in the report's order."""
        violations = sorted([*self.violations, *more], key=_report_order)
        return PolicyReport(self.pack, self.version, self.policies_run, violations)

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement == "mandatory"]


class PolicyConfigError(Exception):
    """The policy config (defaults + initial_config + user file) is invalid; lists every problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))

    def __reduce__(self) -> tuple[Any, ...]:  # pickled whole (notes too): the preview runs policies in a fork
        return PolicyConfigError, (self.errors,), self.__dict__


class PolicyPackLoadError(Exception):
    """The pack's __main__.py could not be run, or built no usable PolicyPack (only the first one counts)."""


# --------------------------------------------------------------------------------------------------
# Loading the pack


@dataclass
class LoadedPack:
    """What `PolicyPack(...)` received, plus the version from PulumiPolicy.yaml: the servicer's arguments."""

    directory: Path
    name: str
    version: str
    policies: list[Policy]
    enforcement_level: EnforcementLevel  # pack default (ADVISORY when the pack sets none, as PolicyPack does)
    initial_config: dict[str, Any] | None = None
    description: str | None = None
    display_name: str | None = None
    readme: str | None = None
    provider: str | None = None
    tags: list[str] | None = None
    repository: str | None = None
    modules: dict[str, types.ModuleType] = field(default_factory=dict, repr=False)  # the pack's own modules
    policy_names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.policy_names = [p.name for p in self.policies]

    @contextmanager
    def importable(self) -> Iterator[None]:
        """The pack's directory and modules importable again, as while its plugin runs; undone on exit."""
        with _LOAD_LOCK, _pack_import_scope(self.directory, self.modules):
            yield

    def servicer(self) -> OfflineAnalyzerServicer:
        """A fresh, unconfigured analyzer servicer for this pack (no gRPC server)."""
        return OfflineAnalyzerServicer(
            self.name,
            self.version,
            self.policies,
            self.enforcement_level,
            self.initial_config,
            self.description,
            self.display_name,
            self.readme,
            self.provider,
            self.tags,
            self.repository,
        )


class _PackCaptured(BaseException):
    """Raised by the recorder to stop __main__.py where the real PolicyPack would block forever."""


_LOAD_LOCK = threading.RLock()
_POLICY_PACK_SIGNATURE = inspect.signature(_pp.PolicyPack.__init__)


def _make_recorder(captured: list[dict[str, Any]]) -> type:
    class PolicyPackRecorder:
        """Stands in for pulumi_policy.PolicyPack: checks and records the arguments, starts nothing."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            bound = _POLICY_PACK_SIGNATURE.bind(self, *args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
            arguments.pop("self", None)
            _check_pack_arguments(arguments)
            captured.append(arguments)
            # The real constructor never returns (it serves gRPC until killed): nothing after it runs.
            raise _PackCaptured()

    return PolicyPackRecorder


def _check_pack_arguments(arguments: dict[str, Any]) -> None:
    """The argument checks PolicyPack.__init__ makes before it builds its servicer."""
    name = arguments.get("name")
    if not name or not isinstance(name, str):
        raise TypeError("Expected name to be a non-empty string")
    if _pp._POLICY_PACK_NAME_RE.match(name) is None:
        raise TypeError(
            f"Invalid policy pack name {name}. Policy pack names may only contain "
            "alphanumerics, hyphens, underscores, or periods."
        )
    policies = arguments.get("policies")
    if not policies or not isinstance(policies, list):
        raise TypeError("Expected policies to be a non-empty list of policies")
    if not all(isinstance(p, Policy) for p in policies):
        raise TypeError("Expected each policy in policies to be a Policy")
    level = arguments.get("enforcement_level")
    if level is not None and not isinstance(level, EnforcementLevel):
        raise TypeError("Expected enforcement_level to be an EnforcementLevel")
    initial = arguments.get("initial_config")
    if initial is not None:
        if not isinstance(initial, dict):
            raise TypeError("Expected initial_config to be a dict")
        for key, value in initial.items():
            if not isinstance(key, str) or not isinstance(value, EnforcementLevel | dict):
                raise TypeError(f"Expected initial_config['{key}'] to be an EnforcementLevel or dict")


@functools.cache
def _resolved(path: str) -> Path | None:
    try:
        return Path(path).resolve()
    except OSError:
        return None


def _is_under(path: str | None, directory: Path) -> bool:
    resolved = _resolved(path) if path else None
    return resolved is not None and resolved.is_relative_to(directory)


def _module_file(module: types.ModuleType | None) -> str | None:
    if module is None:
        return None
    file = getattr(module, "__file__", None)
    if file:
        return str(file)
    paths = list(getattr(module, "__path__", []) or [])
    return str(paths[0]) if paths else None


def _top_level_names(pack_dir: Path) -> set[str]:
    """Module names an `import` inside the pack resolves to files of the pack (pack_dir is sys.path[0])."""
    names = set()
    for entry in pack_dir.iterdir():
        if entry.is_file() and entry.suffix == ".py" and entry.stem != "__main__" and entry.stem.isidentifier():
            names.add(entry.stem)
        elif entry.is_dir() and entry.name.isidentifier() and (entry / "__init__.py").is_file():
            names.add(entry.name)
    return names


@contextmanager
def _pack_import_scope(
    pack_dir: Path, modules: dict[str, types.ModuleType] | None = None
) -> Iterator[dict[str, types.ModuleType]]:
    """Make the pack importable as its plugin host would, and undo it afterwards.

    While inside: pack_dir is sys.path[0]; `modules` (the pack's modules from an earlier load) are in
    sys.modules; same-named modules imported from elsewhere (another pack's `policies.py`) are set
    aside. On exit: sys.path is restored, the pack's modules that were not imported before are
    dropped from sys.modules, and the set-aside ones are put back. The yielded dict is filled on
    exit with every module of the pack that was loaded, so a later scope can bring them back (a
    policy may import lazily, or relatively, while it validates).
    """
    modules = modules or {}
    saved_path = list(sys.path)
    before = dict(sys.modules)
    shadowed: dict[str, types.ModuleType] = {}
    for top in _top_level_names(pack_dir) | {name.partition(".")[0] for name in modules}:
        for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
            if not _is_under(_module_file(sys.modules[name]), pack_dir):
                shadowed[name] = sys.modules.pop(name)
    for name, module in modules.items():
        sys.modules.setdefault(name, module)
    sys.path.insert(0, str(pack_dir))
    loaded: dict[str, types.ModuleType] = {}
    try:
        yield loaded
    finally:
        sys.path[:] = saved_path
        for name, module in list(sys.modules.items()):
            if _is_under(_module_file(module), pack_dir):
                loaded[name] = module
                if before.get(name) is not module:
                    del sys.modules[name]
        sys.modules.update(shadowed)


@contextmanager
def _policy_pack_replaced(recorder: type) -> Iterator[None]:
    original_pkg = pulumi_policy.PolicyPack
    original_mod = _pp.PolicyPack
    pulumi_policy.PolicyPack = recorder  # type: ignore[misc,assignment]
    _pp.PolicyPack = recorder  # type: ignore[misc,assignment]
    try:
        yield
    finally:
        pulumi_policy.PolicyPack = original_pkg  # type: ignore[misc]
        _pp.PolicyPack = original_mod  # type: ignore[misc]


def _read_pack_yaml(pack_dir: Path) -> dict[str, Any]:
    path = pack_dir / "PulumiPolicy.yaml"
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyPackLoadError(f"{path}: {exc}") from exc
    return data if isinstance(data, dict) else {}


def load_pack(pack_dir: Path) -> LoadedPack:
    """Run pack_dir/__main__.py with PolicyPack recorded instead of served; return the servicer's arguments.

    pack_dir is sys.path[0] while the script runs (as under the plugin host), and
    `pulumi_policy.PolicyPack` / `pulumi_policy.policy.PolicyPack` are a recorder class for that time.
    Afterwards sys.path and both PolicyPack attributes are restored, and the pack's own modules are
    taken out of sys.modules again (kept in `LoadedPack.modules`; see `LoadedPack.importable`).
    The version comes from PulumiPolicy.yaml `version` (default "0.0.1").
    """
    pack_dir = Path(pack_dir).resolve()
    main = pack_dir / "__main__.py"
    if not main.is_file():
        raise PolicyPackLoadError(f"{pack_dir} is not a Python policy pack: no __main__.py")
    meta = _read_pack_yaml(pack_dir)

    captured: list[dict[str, Any]] = []
    with _LOAD_LOCK, _policy_pack_replaced(_make_recorder(captured)), _pack_import_scope(pack_dir) as modules:
        try:
            runpy.run_path(str(main), run_name="__main__")
        except _PackCaptured:
            pass
        except SystemExit as exc:
            raise PolicyPackLoadError(f"{main} exited ({exc.code}) before building a PolicyPack") from exc
        except Exception as exc:
            raise PolicyPackLoadError(f"{main} failed: {type(exc).__name__}: {exc}") from exc
    if not captured:
        raise PolicyPackLoadError(f"{main} did not construct a PolicyPack")

    args = captured[0]
    version = meta.get("version")
    level = args.get("enforcement_level")
    return LoadedPack(
        directory=pack_dir,
        name=args["name"],
        version=str(version) if version not in (None, "") else DEFAULT_PACK_VERSION,
        policies=list(args["policies"]),
        enforcement_level=level if level is not None else EnforcementLevel.ADVISORY,
        initial_config=args.get("initial_config"),
        description=args.get("description") or meta.get("description"),
        display_name=args.get("display_name"),
        readme=args.get("readme"),
        provider=args.get("provider"),
        tags=args.get("tags"),
        repository=args.get("repository"),
        modules=dict(modules),
    )


# --------------------------------------------------------------------------------------------------
# Policy configuration, engine semantics


def _level_name(level: Any) -> str | None:
    if isinstance(level, EnforcementLevel):
        return level.value
    if isinstance(level, str) and level in LEVELS:
        return level
    return None


def _parse_entry(name: str, value: Any, errors: list[str]) -> tuple[str | None, dict[str, Any]] | None:
    """One config entry -> (level or None, properties), like the engine's parsePolicyPackConfig."""
    if isinstance(value, EnforcementLevel | str):
        level = _level_name(value)
        if level is None:
            errors.append(f"{name}: {json.dumps(value)} is not a valid enforcement level")
            return None
        return level, {}
    if isinstance(value, dict):
        props = dict(value)
        level = None
        if "enforcementLevel" in props:
            raw = props.pop("enforcementLevel")
            level = _level_name(raw)
            if level is None:
                errors.append(
                    f"{name}: enforcementLevel {json.dumps(raw, default=str)} is not a valid enforcement level"
                )
                return None
        return level, props
    errors.append(f"{name}: {json.dumps(value, default=str)} is not a valid value; must be a string or object")
    return None


def _apply(
    result: dict[str, dict[str, Any]], config: dict[str, Any], unknown_is_error: bool, errors: list[str]
) -> None:
    """The engine's applyConfig: "all" sets every level first, then per-policy levels and properties."""
    parsed: dict[str, tuple[str | None, dict[str, Any]]] = {}
    for name, value in config.items():
        entry = _parse_entry(name, value, errors)
        if entry is None:
            continue
        if name != "all" and name not in result:
            if unknown_is_error:
                errors.append(f"{name}: no policy of that name in the policy pack")
            continue
        parsed[name] = entry
    if "all" in parsed and parsed["all"][0] is not None:
        for cfg in result.values():
            cfg["enforcementLevel"] = parsed["all"][0]
    for name, (level, props) in parsed.items():
        if name == "all":
            continue
        if level is not None:
            result[name]["enforcementLevel"] = level
        result[name]["properties"].update(props)


def _error_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path)


def effective_config(pack: LoadedPack, user_config: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """{policy: {"enforcementLevel": "advisory"|..., "properties": {...}}} for every policy of the pack.

    Defaults (policy level, else pack level; schema "default"s) -> the pack's initial_config -> the user
    config (`--policy-pack-config` JSON). In each layer "all" sets every policy's level first, then each
    policy entry (a level string, or an object with optional "enforcementLevel" plus properties) applies.
    Unknown policy names in the user config are errors. Each policy's properties are then validated
    against {"type": "object", "properties": ..., "required": ...}; all problems are raised together
    as one PolicyConfigError ("<policy>: <message>").
    """
    errors: list[str] = []
    result: dict[str, dict[str, Any]] = {}
    for policy in pack.policies:
        level = policy.enforcement_level if policy.enforcement_level is not None else pack.enforcement_level
        props: dict[str, Any] = {}
        schema = policy.config_schema
        if schema is not None:
            for key, prop_schema in (schema.properties or {}).items():
                if isinstance(prop_schema, dict) and "default" in prop_schema:
                    props[key] = copy.deepcopy(prop_schema["default"])
        result[policy.name] = {"enforcementLevel": _level_name(level) or "advisory", "properties": props}

    if pack.initial_config:
        _apply(result, pack.initial_config, unknown_is_error=False, errors=errors)
    if user_config is not None:
        if not isinstance(user_config, dict):
            errors.append(f"policy config must be a JSON object, got {type(user_config).__name__}")
        else:
            _apply(result, user_config, unknown_is_error=True, errors=errors)

    for policy in pack.policies:
        schema = policy.config_schema
        if schema is None:
            continue
        document: dict[str, Any] = {"type": "object"}
        if schema.properties:
            document["properties"] = schema.properties
        if schema.required:
            document["required"] = list(schema.required)
        validator_cls = jsonschema.validators.validator_for(document, default=jsonschema.Draft7Validator)
        try:
            validator_cls.check_schema(document)
        except jsonschema.SchemaError as exc:
            errors.append(f"{policy.name}: invalid config schema: {exc.message}")
            continue
        found = sorted(
            validator_cls(document).iter_errors(result[policy.name]["properties"]),
            key=lambda e: (_error_path(e), e.message),
        )
        for error in found:
            path = _error_path(error)
            errors.append(f"{policy.name}: {path}: {error.message}" if path else f"{policy.name}: {error.message}")

    if errors:
        raise PolicyConfigError(errors)
    return result


def _read_user_config(config_file: Path | None) -> dict[str, Any] | None:
    if config_file is None:
        return None
    try:
        text = Path(config_file).read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyConfigError([f"cannot read {config_file}: {exc.strerror or exc}"]) from exc
    if not text.strip():  # the engine accepts an empty file
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyConfigError([f"{config_file} is not valid JSON: {exc}"]) from exc
    if not isinstance(data, dict):
        raise PolicyConfigError([f"{config_file} must hold a JSON object, got {type(data).__name__}"])
    return data


# --------------------------------------------------------------------------------------------------
# Running


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    """Registration values as the engine sends them: secrets in their envelope, unknowns as the
    sentinel, keys as strings; built field by field, in one walk."""
    message = struct_pb2.Struct()
    _fill_struct(message, values)
    return message


def _fill_struct(message: struct_pb2.Struct, values: dict[Any, Any]) -> None:
    fields = message.fields
    for key, value in values.items():
        _fill_value(fields[str(key)], value)


def _fill_value(message: struct_pb2.Value, value: Any) -> None:
    if value is None:
        message.null_value = struct_pb2.NULL_VALUE
    elif isinstance(value, bool):  # before int: a bool is one
        message.bool_value = value
    elif isinstance(value, int | float):
        message.number_value = value
    elif isinstance(value, str):
        message.string_value = value
    elif isinstance(value, dict):
        message.struct_value.SetInParent()  # an empty map is still a map
        _fill_struct(message.struct_value, value)
    elif isinstance(value, list | tuple):
        items = message.list_value
        items.SetInParent()
        for item in value:
            _fill_value(items.values.add(), item)
    elif isinstance(value, Secret):
        _fill_struct(message.struct_value, {SIG_KEY: SECRET_SIG})
        _fill_value(message.struct_value.fields["value"], value.value)
    elif isinstance(value, Unknown):
        message.string_value = UNKNOWN
    else:
        raise ValueError(f"unexpected value of type {type(value).__name__} in a resource's properties")


def _urn_parts(urn: str) -> tuple[str, str]:
    """(type, name) of a URN `urn:pulumi:<stack>::<project>::<qualified type>::<name>`."""
    parts = urn.split("::", 3)
    if len(parts) < 4:
        return "", ""
    return parts[2].rsplit("$", 1)[-1], parts[3]


def _provider_urn(reference: str) -> str:
    """`<provider urn>::<provider id>` -> the URN (a bare URN is returned as is)."""
    if reference.count("::") >= 4:
        return reference.rsplit("::", 1)[0]
    return reference


def _options(reg: Registration) -> proto.AnalyzerResourceOptions:
    return proto.AnalyzerResourceOptions(
        protect=reg.protect,
        ignoreChanges=list(reg.ignore_changes),
        # Registration keeps a plain bool: report it as defined only when set, so policies see None or True.
        deleteBeforeReplace=reg.delete_before_replace,
        deleteBeforeReplaceDefined=reg.delete_before_replace,
        additionalSecretOutputs=list(reg.additional_secret_outputs),
        parent=reg.parent,
    )


def _provider(reference: str, by_urn: dict[str, Registration]) -> proto.AnalyzerProviderResource | None:
    if not reference:
        return None
    urn = _provider_urn(reference)
    type_, name = _urn_parts(urn)
    provider_reg = by_urn.get(urn)
    # Like the engine, the provider's properties are its inputs when the provider was registered.
    properties = _struct(provider_reg.inputs) if provider_reg is not None else struct_pb2.Struct()
    return proto.AnalyzerProviderResource(type=type_, properties=properties, urn=urn, name=name)


def _stack_resource(
    reg: Registration, properties: struct_pb2.Struct, provider: proto.AnalyzerProviderResource | None
) -> proto.AnalyzerResource:
    return proto.AnalyzerResource(
        type=reg.type,
        properties=properties,
        urn=reg.urn,
        name=reg.name,
        options=_options(reg),
        provider=provider,
        parent=reg.parent,
        dependencies=list(reg.dependencies),
        propertyDependencies={
            key: proto.AnalyzerPropertyDependencies(urns=list(urns)) for key, urns in reg.property_dependencies.items()
        },
    )


def _configure(servicer: _pp._PolicyAnalyzerServicer, config: dict[str, dict[str, Any]]) -> None:
    request = proto.ConfigureAnalyzerRequest()
    for name, cfg in config.items():
        policy_config = proto.PolicyConfig(enforcementLevel=_LEVEL_TO_PROTO[cfg["enforcementLevel"]])
        _fill_struct(policy_config.properties, cfg["properties"])
        request.policyConfig[name].CopyFrom(policy_config)
    servicer.Configure(request, None)


def _strip_description(message: str, description: str) -> str:
    """The servicer reports `description + "\\n" + detail`; keep the detail, else the description."""
    prefix = description + "\n"
    if message.startswith(prefix):
        return message[len(prefix) :]
    return message


def _violations(response: Any, resource_urn: str | None) -> list[Violation]:
    """Diagnostics -> Violations. Resource-policy findings belong to the analyzed resource (the engine
    files them under that URN whatever the policy passed); stack-policy findings keep the URN they named."""
    return [
        Violation(
            policy=d.policyName,
            enforcement=_PROTO_LEVELS.get(d.enforcementLevel, str(d.enforcementLevel)),
            urn=resource_urn if resource_urn is not None else d.urn,
            message=_strip_description(d.message, d.description),
        )
        for d in response.diagnostics
    ]


class PolicySession:
    """A pack loaded and configured like the engine's analyzer plugin, for one preview: `analyze` as
    resources arrive (in as many parts as convenient), `analyze_stack` once they all have, `report`.

    Raises PolicyConfigError for an unreadable or invalid policy config, PolicyPackLoadError for a pack
    that cannot be loaded; an exception raised by a policy propagates (with a note naming the resource),
    as it fails `pulumi preview` too. The pack's directory is importable only while its policies run.
    """

    def __init__(
        self,
        pack_dir: Path,
        config_file: Path | None,
        stack_tags: dict[str, str] | None = None,
        remember_properties: bool = True,  # for AnalyzeStack: see OfflineAnalyzerServicer._values
    ) -> None:
        self.pack = load_pack(pack_dir)
        self.config = effective_config(self.pack, _read_user_config(config_file))
        self.servicer = self.pack.servicer()
        self.servicer.remember_properties = remember_properties
        _configure(self.servicer, self.config)
        self.servicer.ConfigureStack(proto.AnalyzerStackConfigureRequest(tags=dict(stack_tags or {})), None)

    def analyze(
        self,
        registrations: list[Registration],
        by_urn: dict[str, Registration],
        analyzed: Callable[[int], bool] = lambda index: True,
        for_stack: bool = True,
    ) -> tuple[list[Violation], list[proto.AnalyzerResource]]:
        """`Analyze` for each resource whose position `analyzed` accepts (its inputs); the violations,
        and, `for_stack`, every resource as `AnalyzeStack` will see it (outputs). `by_urn` holds at
        least the providers the resources name."""
        # one message for every resource of a provider, and one for outputs that are the inputs
        provider_of = functools.cache(lambda reference: _provider(reference, by_urn))
        violations: list[Violation] = []
        stack_resources = []
        with self.pack.importable():
            for index, reg in enumerate(registrations):
                if reg.type == STACK_TYPE or not (for_stack or analyzed(index)):
                    continue
                inputs, provider = _struct(reg.inputs), provider_of(reg.provider)
                if analyzed(index):
                    violations.extend(self._analyze(reg, inputs, provider))
                if for_stack:
                    outputs = inputs if reg.outputs is reg.inputs or not reg.outputs else _struct(reg.outputs)
                    stack_resources.append(_stack_resource(reg, outputs, provider))
        return violations, stack_resources

    def _analyze(
        self, reg: Registration, inputs: struct_pb2.Struct, provider: proto.AnalyzerProviderResource | None
    ) -> list[Violation]:
        request = proto.AnalyzeRequest(
            type=reg.type, properties=inputs, urn=reg.urn, name=reg.name, options=_options(reg), provider=provider
        )
        try:
            response = self.servicer.Analyze(request, None)
        except Exception as exc:
            exc.add_note(f"while policy pack {self.pack.name!r} analyzed {reg.urn}")
            raise
        return _violations(response, reg.urn)

    def analyze_stack(self, resources: list[proto.AnalyzerResource]) -> list[Violation]:
        """`AnalyzeStack` over every resource, sorted by URN (as the preview's registrations come),
        whatever the order or the parts they were analyzed in."""
        request = proto.AnalyzeStackRequest(resources=sorted(resources, key=lambda r: r.urn))
        with self.pack.importable():
            try:
                response = self.servicer.AnalyzeStack(request, None)
            except Exception as exc:
                exc.add_note(f"while policy pack {self.pack.name!r} analyzed the stack")
                raise
        return _violations(response, None)

    def report(self, violations: list[Violation]) -> PolicyReport:
        return PolicyReport(
            pack=self.pack.name,
            version=self.pack.version,
            policies_run=sorted(name for name, cfg in self.config.items() if cfg["enforcementLevel"] != "disabled"),
            violations=sorted(violations, key=_report_order),
        )


def run_policies(
    pack_dir: Path,
    config_file: Path | None,
    registrations: list[Registration],
    stack_tags: dict[str, str] | None = None,
    analyzed: Callable[[int], bool] = lambda index: True,
) -> PolicyReport:
    """Load the pack, configure it like the engine, analyze every resource (or those whose position
    `analyzed` accepts: `analyze_resources` may do the others elsewhere) and the stack; report.

    Raises as `PolicySession` does. Safe to call repeatedly: every call loads the pack afresh and
    builds a fresh servicer.
    """
    session = PolicySession(pack_dir, config_file, stack_tags)
    by_urn = {r.urn: r for r in registrations}  # providers may come after the resources they serve
    violations, stack_resources = session.analyze(registrations, by_urn, analyzed)
    return session.report(violations + session.analyze_stack(stack_resources))


def analyze_resources(
    pack_dir: Path,
    config_file: Path | None,
    registrations: list[Registration],
    stack_tags: dict[str, str] | None,
    analyzed: Callable[[int], bool],
) -> list[Violation]:
    """The resource policies' violations for the resources whose position `analyzed` accepts, and
    nothing else: the share of a `run_policies` run done in another process. Raises as it does."""
    session = PolicySession(pack_dir, config_file, stack_tags, remember_properties=False)
    by_urn = {r.urn: r for r in registrations}
    return session.analyze(registrations, by_urn, analyzed, for_stack=False)[0]
