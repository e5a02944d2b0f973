"""The offline preview: run, render, validate, check the deploy order, check policies, write the reports,
summarise.

Exit codes: 0 clean; 1 problems found (schema error, kind without a schema, deploy-order violation,
mandatory policy violation); 2 the program did not run (bad stack config, program error, bad policy config).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar

import orjson
import pulumi

from . import manifests as mf
from . import yaml_text
from .background import Background
from .gc_tuning import relaxed_gc, survivors_frozen
from .order import OrderReport, OrderViolation, check_order
from .policy_runner import (
    PolicyConfigError,
    PolicyPackLoadError,
    PolicyReport,
    Violation,
    analyze_resources,
    run_policies,
)
from .records import Registration, redact
from .runtime import ProgramRun, run_program
from .stack_config import StackConfig, StackConfigError, load_stack_config
from .validate import (
    Result,
    UnsupportedKubernetesVersion,
    Validator,
    has_crd_catalog,
    load_crd_catalog,
    remember_crd_catalog,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_UPSTREAM = REPO_ROOT.parent / "shared" / "upstream"
OUTPUT_NAMES = ("resources.json", "manifests", "charts", "validation-report.json", "policy-report.json")

EXIT_OK, EXIT_PROBLEMS, EXIT_NOT_RUN = 0, 1, 2
ADVICE_EXAMPLES = 3  # resource names shown per advisory policy in the summary
T = TypeVar("T")


@dataclass
class Options:
    stack: str
    program: Path = REPO_ROOT
    policy_pack: Path | None = None  # default <program>/policy
    policy_config: Path | None = None  # default <policy_pack>/<stack>.json, if it exists
    out: Path | None = None  # default <program>/build/<stack>
    upstream: Path = DEFAULT_UPSTREAM
    secrets: dict[str, str] = field(default_factory=dict)  # key -> value, replacing placeholders

    def resolved(self) -> Options:
        pack = self.policy_pack or self.program / "policy"
        default_config = pack / f"{self.stack}.json"
        return Options(
            stack=self.stack,
            program=self.program,
            policy_pack=pack,
            policy_config=self.policy_config or (default_config if default_config.exists() else None),
            out=self.out or self.program / "build" / self.stack,
            upstream=self.upstream,
            secrets=self.secrets,
        )


@dataclass
class ValidationEntry:
    urn: str
    what: dict[str, str]  # apiVersion/kind/namespace/name, or release/chart/version
    result: Result

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            **self.what,
            "status": self.result.status,
            "schema": self.result.schema,
            "errors": self.result.errors,
        }


@dataclass
class PreviewResult:
    exit_code: int
    config: StackConfig | None = None
    run: ProgramRun | None = None
    manifests: list[mf.Manifest] = field(default_factory=list)
    charts: list[mf.ChartValues] = field(default_factory=list)
    objects: list[ValidationEntry] = field(default_factory=list)
    chart_results: list[ValidationEntry] = field(default_factory=list)
    order: OrderReport | None = None  # the deploy-order check (offline/order.py)
    policy: PolicyReport | None = None
    error: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase

    @property
    def validation_problems(self) -> list[ValidationEntry]:
        return [e for e in self.objects + self.chart_results if e.result.status != "ok"]

    @property
    def order_problems(self) -> list[OrderViolation]:
        return self.order.violations if self.order is not None else []


def preview(options: Options, stream: TextIO = sys.stdout) -> PreviewResult:
    with relaxed_gc():  # rare collections throughout: see offline/gc_tuning.py
        return _preview(options, stream)


def _preview(options: Options, stream: TextIO) -> PreviewResult:
    opts = options.resolved()
    assert opts.out is not None and opts.policy_pack is not None
    _clear_outputs(opts.out)
    try:
        config = load_stack_config(opts.program, opts.stack, opts.secrets)
    except StackConfigError as exc:
        return _not_run(stream, f"error: {exc}")

    # The CRDs (seconds of YAML) are read in a fork, on the other core, while the program runs.
    crds_dir = opts.upstream / "crds"
    crds = None if has_crd_catalog(crds_dir) else Background(lambda: load_crd_catalog(crds_dir))
    try:
        clock = _Clock()
        run = run_program(opts.program, config)
        render_seconds = clock.lap()
        if crds is not None and run.error is None:
            remember_crd_catalog(crds_dir, crds.result())
        with survivors_frozen():  # the registrations live to the end: collections need not walk them
            return _check_and_report(opts, stream, config, run, clock, render_seconds)
    finally:
        if crds is not None:
            crds.cancel()


def _check_and_report(
    opts: Options, stream: TextIO, config: StackConfig, run: ProgramRun, clock: _Clock, render_seconds: float
) -> PreviewResult:
    assert opts.out is not None and opts.policy_pack is not None
    if run.error is not None:
        if isinstance(run.error, pulumi.RunError):
            return _not_run(stream, f"error: {run.error}", config, run)
        detail = "".join(traceback.format_exception(run.error))
        return _not_run(stream, f"error: the program failed:\n{detail}", config, run)

    result = PreviewResult(EXIT_OK, config, run)
    result.timings["render"] = render_seconds
    try:
        validator = Validator(_kubernetes_version(config), opts.upstream)
    except UnsupportedKubernetesVersion as exc:
        return _not_run(
            stream, f"error: {config.project}:kubernetesVersion: cannot validate offline: {exc}", config, run
        )
    # The policy pack runs in a fork, on the other core, while this process validates and writes, then
    # runs the resource policies on its share of the resources (the fork has the stack policies).
    tags = _stack_tags(config)
    regs = run.registrations
    policy_run = Background(
        lambda: _timed(run_policies, opts.policy_pack, opts.policy_config, regs, tags, _in_fork_share)
    )
    try:
        with policy_run.cancelled_on_error():
            result.manifests = [mf.manifest_of(r) for r in regs if mf.is_kubernetes_object(r)]
            result.charts = [mf.chart_values_of(r) for r in regs if mf.is_helm_chart(r)]
            result.objects = _validate_objects(validator, result.manifests)
            result.chart_results = _validate_charts(validator, result.charts)
            result.timings["validation"] = clock.lap()
            schemas = {e.urn: e.result.schema for e in result.objects}
            result.order = check_order(regs, result.manifests, result.charts, schemas, run.exports, opts.upstream)
            result.timings["order"] = clock.lap()
            _write_outputs(opts.out, result)
            result.timings["write"] = clock.lap()
            here = analyze_resources(
                opts.policy_pack, opts.policy_config, regs, tags, lambda index: not _in_fork_share(index)
            )
            result.timings["policy_here"] = clock.lap()
        report, result.timings["policy"] = policy_run.result()
    except (PolicyConfigError, PolicyPackLoadError) as exc:
        _clear_outputs(opts.out)  # no report of a preview that did not finish
        what = (
            f"cannot load the policy pack {opts.policy_pack}"
            if isinstance(exc, PolicyPackLoadError)
            else f"invalid policy config {opts.policy_config}"
        )
        return _not_run(stream, f"error: {what}: {exc}", config, run)
    result.policy = report.with_violations(here)
    _dump_json(opts.out / "policy-report.json", result.policy.to_json())
    result.timings["total"] = clock.total()
    if result.validation_problems or result.order_problems or result.policy.mandatory:
        result.exit_code = EXIT_PROBLEMS
    _print_summary(stream, opts, result)
    return result


def _in_fork_share(index: int) -> bool:
    """The resources the policy fork analyzes, by position: three in eight, every kind among them. It
    also runs the stack policies, so at 1,000 tenants both processes finish about together (with two
    in five the fork ended 2 s after this process, with one in three 1 to 2 s before it)."""
    return index % 8 < 3


def _timed(fn: Callable[..., T], *args: Any) -> tuple[T, float]:
    start = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - start


class _Clock:
    def __init__(self) -> None:
        self._start = self._last = time.perf_counter()

    def total(self) -> float:
        return time.perf_counter() - self._start

    def lap(self) -> float:
        now = time.perf_counter()
        elapsed, self._last = now - self._last, now
        return elapsed


def _not_run(
    stream: TextIO, message: str, config: StackConfig | None = None, run: ProgramRun | None = None
) -> PreviewResult:
    print(message, file=stream)
    return PreviewResult(EXIT_NOT_RUN, config, run, error=message)


def _kubernetes_version(config: StackConfig) -> str:
    return config.values.get(f"{config.project}:kubernetesVersion", "1.33")


def _stack_tags(config: StackConfig) -> dict[str, str]:
    return {"pulumi:project": config.project, "pulumi:runtime": "python", "pulumi:stack": config.stack}


def _validate_objects(validator: Validator, manifests: list[mf.Manifest]) -> list[ValidationEntry]:
    entries = []
    first_urn: dict[Any, str] = {}
    for m in manifests:
        # two registrations fighting over one object
        result = _unless_taken(
            validator.validate_object(m.obj), first_urn, m.identity, m.urn, "duplicate object: also declared by"
        )
        what = {"apiVersion": m.api_version, "kind": m.kind, "namespace": m.namespace, "name": m.name}
        entries.append(ValidationEntry(m.urn, what, result))
    return entries


def _unless_taken(result: Result, first_urn: dict[Any, str], key: Any, urn: str, message: str) -> Result:
    """`result`, plus an error if another registration took `key` first (recorded in `first_urn`)."""
    if key in first_urn:
        return Result("error", [*result.errors, f"{message} {first_urn[key]}"], result.schema)
    first_urn[key] = urn
    return result


def _validate_charts(validator: Validator, charts: list[mf.ChartValues]) -> list[ValidationEntry]:
    entries = []
    first_urn: dict[Any, str] = {}
    for c in charts:
        # one values file per release name: a second one would overwrite it
        result = validator.validate_chart_values(c.chart, c.values)
        result = _unless_taken(
            result, first_urn, c.release, c.urn, f"duplicate release name '{c.release}': also released by"
        )
        entries.append(ValidationEntry(c.urn, {"release": c.release, "chart": c.chart, "version": c.version}, result))
    return entries


# --- writing ----------------------------------------------------------------------------------


def _clear_outputs(out: Path) -> None:
    """Remove only what a previous preview wrote, so a stale report can never be read as current."""
    for name in OUTPUT_NAMES:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def _dump_json(path: Path, data: Any) -> None:
    """Indented two spaces, keys sorted, UTF-8. orjson writes it: json's indenting encoder is pure
    Python (seconds at 1,000 tenants). json where orjson refuses a value (an integer beyond 64 bits)."""
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


def _write_outputs(out: Path, result: PreviewResult) -> None:
    """Everything but the policy report, which comes from the background run."""
    assert result.run is not None
    out.mkdir(parents=True, exist_ok=True)
    _dump_json(out / "resources.json", [resource_entry(r) for r in result.run.registrations])
    folders: set[Path] = set()  # made once each, not once per manifest (19,000 calls at 1,000 tenants)
    for m in result.manifests:
        path = _manifest_path(out / "manifests", m)
        if path.parent not in folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            folders.add(path.parent)
        _dump_yaml(path, m.redacted)
    (out / "charts").mkdir(exist_ok=True)
    for c in result.charts:
        _dump_yaml(out / "charts" / f"{c.release}.values.yaml", c.redacted)
    counts = Counter(e.result.status for e in result.objects + result.chart_results)
    _dump_json(
        out / "validation-report.json",
        {
            "kubernetesVersion": _kubernetes_version(result.config) if result.config else "",
            "summary": {s: counts.get(s, 0) for s in ("ok", "error", "no-schema")},
            "objects": sorted((e.to_json() for e in result.objects), key=lambda e: e["urn"]),
            "charts": sorted((e.to_json() for e in result.chart_results), key=lambda e: e["urn"]),
            "order": (result.order or OrderReport()).to_json(),
        },
    )


# --- the summary --------------------------------------------------------------------------------


def _print_summary(stream: TextIO, opts: Options, result: PreviewResult) -> None:
    assert result.run is not None and result.policy is not None and result.config is not None
    regs = result.run.registrations
    print(f"Previewing {result.config.project}/{opts.stack} offline (mock runtime, no cloud calls)\n", file=stream)
    by_type = Counter(r.type for r in regs)
    width = max((len(t) for t in by_type), default=10)
    print(f"     {'Type':<{width}}  Count", file=stream)
    for typ, count in sorted(by_type.items()):
        print(f" +   {typ:<{width}}  {count:>5}", file=stream)
    counts = Counter(e.result.status for e in result.objects + result.chart_results)
    policy = result.policy
    print(f"\nResources:  {len(regs)} to create", file=stream)
    print(
        f"Validation: {counts.get('ok', 0)} ok, {counts.get('error', 0)} errors, "
        f"{counts.get('no-schema', 0)} without a schema "
        f"({len(result.objects)} objects, {len(result.chart_results)} charts)",
        file=stream,
    )
    order = result.order or OrderReport()
    print(
        f"Order:      {order.checked} objects and charts in {len(order.waves)} waves, "
        f"{len(order.violations)} violations",
        file=stream,
    )
    for i, prerequisite in enumerate(order.prerequisites):
        print(f"{'Prerequisites:' if i == 0 else '':<14} {prerequisite.describe()}", file=stream)
    print(
        f"Policies:   {len(policy.policies_run)} run from {policy.pack}@v{policy.version}, "
        f"{len(policy.violations)} violations ({len(policy.mandatory)} mandatory)",
        file=stream,
    )
    problems = result.validation_problems
    blocking = [v for v in policy.violations if v.enforcement == "mandatory"]
    if problems or order.violations or blocking:
        print("\nProblems:", file=stream)
    for entry in problems:
        print(f"  [{entry.result.status}] {entry.urn}", file=stream)
        for error in entry.result.errors:
            print(f"      {error}", file=stream)
    for violation in order.violations:
        print(f"  [order:{violation.rule}] {violation.urn}\n      {violation.message}", file=stream)
    for v in blocking:
        print(f"  [{v.enforcement}] {v.policy}: {v.urn}\n      {v.message}", file=stream)
    _print_advice(stream, [v for v in policy.violations if v.enforcement != "mandatory"])
    t = result.timings
    print(
        f"Time:       {t['total']:.1f}s: render {t['render']:.1f}s, then validation {t['validation']:.1f}s, "
        f"order {t['order']:.1f}s, write {t['write']:.1f}s and resource policies {t['policy_here']:.1f}s "
        f"beside policies {t['policy']:.1f}s",
        file=stream,
    )
    print(f"\nWrote {opts.out}", file=stream)


def _print_advice(stream: TextIO, advice: list[Violation]) -> None:
    """Advisory findings one line per policy (staging has dozens by design); all are in policy-report.json."""
    if not advice:
        return
    print("\nAdvice (not blocking; every finding is in policy-report.json):", file=stream)
    by_policy: dict[str, list[Violation]] = {}
    for v in advice:
        by_policy.setdefault(v.policy, []).append(v)
    for name, found in by_policy.items():
        names = ", ".join(v.urn.rsplit("::", 1)[-1] for v in found[:ADVICE_EXAMPLES])
        more = f" and {len(found) - ADVICE_EXAMPLES} more" if len(found) > ADVICE_EXAMPLES else ""
        print(f"  [{found[0].enforcement}] {name}: {len(found)} ({names}{more})", file=stream)
