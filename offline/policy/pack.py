"""Loading a CrossGuard (pulumi-policy) pack in-process, and serving it as its plugin would.

`load_pack` runs the pack's `__main__.py` with `PolicyPack` swapped for a recorder, because the real
`PolicyPack(...)` starts a gRPC server and sleeps forever. The recorded arguments build the pack's
analyzer servicer: pulumi-policy's own (`_PolicyAnalyzerServicer`, a private name: the version guard in
offline/versions.py covers it), or a faster one that answers the same (offline/accel/analyzer.py).
"""

from __future__ import annotations

import functools
import inspect
import runpy
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pulumi_policy
import pulumi_policy.policy as _pp
import yaml
from pulumi_policy import EnforcementLevel, Policy

from .report import PolicyPackLoadError

DEFAULT_PACK_VERSION = "0.0.1"  # what PolicyPack reports when PulumiPolicy.yaml has no version
S = TypeVar("S", bound=_pp._PolicyAnalyzerServicer)


class StockServicer(_pp._PolicyAnalyzerServicer):
    """pulumi-policy's analyzer servicer as its plugin serves it, but for one call."""

    def _configure_runtime_settings(self) -> None:
        """Does nothing here. pulumi-policy's copies PULUMI_CONFIG into the global config and, when
        PULUMI_PROJECT, PULUMI_STACK and PULUMI_DRY_RUN are set, calls `pulumi.runtime.configure`, which
        replaces every runtime setting (monitor, mocks...): harmless in its own plugin process, it
        would clobber the caller's runtime in this one."""
        return None


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

    def servicer(self, cls: type[S], **extra: Any) -> S:
        """A fresh, unconfigured analyzer servicer of class `cls` for this pack (no gRPC server); `extra`
        goes to its constructor after the pack's own arguments."""
        return cls(
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
            **extra,
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
