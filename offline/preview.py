"""The offline preview: run, render, validate, check the deploy order, check policies, write the reports,
summarise.

Exit codes: 0 clean; 1 problems found (schema error, kind without a schema, deploy-order violation,
mandatory policy violation); 2 the program did not run (bad stack config, program error, bad policy config,
no upstream folder). The accelerators (offline/accel/) change how long it takes, never what it writes.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO, TypeVar

import pulumi

from . import accel
from . import manifests as mf
from .background import Background
from .gc_tuning import relaxed_gc, survivors_frozen
from .options import DEFAULT_UPSTREAM, REPO_ROOT, Options
from .order import OrderReport, OrderViolation, check_order
from .outputs import clear_outputs, dump_json, write_outputs
from .policy import PolicyConfigError, PolicyPackLoadError, PolicyReport, analyze_resources, run_policies
from .runtime import ProgramRun, run_program
from .stack_config import StackConfig, StackConfigError, kubernetes_version, load_stack_config
from .summary import print_summary
from .validate import (
    Result,
    UnsupportedKubernetesVersion,
    Validator,
    has_crd_catalog,
    load_crd_catalog,
    remember_crd_catalog,
)

__all__ = ["DEFAULT_UPSTREAM", "REPO_ROOT", "Options", "PreviewResult", "preview"]

EXIT_OK, EXIT_PROBLEMS, EXIT_NOT_RUN = 0, 1, 2
T = TypeVar("T")


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
    order: OrderReport | None = None  # the deploy-order check (offline/order/)
    policy: PolicyReport | None = None
    accelerators: accel.Selection = accel.STOCK  # those the run used
    error: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase

    @property
    def validation_problems(self) -> list[ValidationEntry]:
        return [e for e in self.objects + self.chart_results if e.result.status != "ok"]

    @property
    def order_problems(self) -> list[OrderViolation]:
        return self.order.violations if self.order is not None else []


def preview(
    options: Options, stream: TextIO = sys.stdout, accelerators: accel.Selection | None = None
) -> PreviewResult:
    """The preview `options` ask for; `accelerators` (tests): these instead of `accel.select(options.accelerate)`."""
    with relaxed_gc():  # rare collections throughout: see offline/gc_tuning.py
        return _preview(options, stream, accelerators)


def _preview(options: Options, stream: TextIO, accelerators: accel.Selection | None) -> PreviewResult:
    opts = options.resolved()
    assert opts.out is not None and opts.policy_pack is not None
    clear_outputs(opts.out)
    try:
        config = load_stack_config(opts.program, opts.stack, opts.secrets)
    except StackConfigError as exc:
        return _not_run(stream, f"error: {exc}")
    if not opts.upstream.is_dir():
        return _not_run(stream, f"error: no upstream folder {opts.upstream} (vendored CRDs and charts; see --upstream)")

    accelerators = accel.select(opts.accelerate) if accelerators is None else accelerators
    # The CRDs (the most YAML the preview reads) are read in a fork, on the other core, while the program runs.
    crds_dir = opts.upstream / "crds"
    crds = None if has_crd_catalog(crds_dir) else Background(lambda: load_crd_catalog(crds_dir))
    try:
        clock = _Clock()
        run = run_program(opts.program, config, accelerators)
        render_seconds = clock.lap()
        if crds is not None and run.error is None:
            remember_crd_catalog(crds_dir, crds.result())
        with survivors_frozen():  # the registrations live to the end: collections need not walk them
            return _check_and_report(opts, stream, config, run, accelerators, clock, render_seconds)
    finally:
        if crds is not None:
            crds.cancel()


def _check_and_report(
    opts: Options,
    stream: TextIO,
    config: StackConfig,
    run: ProgramRun,
    accelerators: accel.Selection,
    clock: _Clock,
    render_seconds: float,
) -> PreviewResult:
    assert opts.out is not None and opts.policy_pack is not None
    if run.error is not None:
        if isinstance(run.error, pulumi.RunError):
            return _not_run(stream, f"error: {run.error}", config, run)
        detail = "".join(traceback.format_exception(run.error))
        return _not_run(stream, f"error: the program failed:\n{detail}", config, run)

    result = PreviewResult(EXIT_OK, config, run, accelerators=accelerators)
    result.timings["render"] = render_seconds
    try:
        validator = Validator(kubernetes_version(config), opts.upstream)
    except UnsupportedKubernetesVersion as exc:
        return _not_run(
            stream, f"error: {config.project}:kubernetesVersion: cannot validate offline: {exc}", config, run
        )
    # The policy pack runs in a fork, on the other core, while this process validates and writes, then
    # runs the resource policies on its share of the resources (the fork has the stack policies).
    tags = _stack_tags(config)
    regs = run.registrations
    policy_run = Background(
        lambda: _timed(run_policies, opts.policy_pack, opts.policy_config, regs, tags, _in_fork_share, accelerators)
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
            write_outputs(opts.out, result)
            result.timings["write"] = clock.lap()
            here = analyze_resources(
                opts.policy_pack, opts.policy_config, regs, tags, lambda index: not _in_fork_share(index), accelerators
            )
            result.timings["policy_here"] = clock.lap()
        report, result.timings["policy"] = policy_run.result()
    except (PolicyConfigError, PolicyPackLoadError) as exc:
        clear_outputs(opts.out)  # no report of a preview that did not finish
        what = (
            f"cannot load the policy pack {opts.policy_pack}"
            if isinstance(exc, PolicyPackLoadError)
            else f"invalid policy config {opts.policy_config}"
        )
        return _not_run(stream, f"error: {what}: {exc}", config, run)
    result.policy = report.with_violations(here)
    dump_json(opts.out / "policy-report.json", result.policy.to_json())
    result.timings["total"] = clock.total()
    if result.validation_problems or result.order_problems or result.policy.mandatory:
        result.exit_code = EXIT_PROBLEMS
    print_summary(stream, opts, result)
    return result


def _in_fork_share(index: int) -> bool:
    """The resources the policy fork analyzes, by position: three in eight, every kind among them. It
    also runs the stack policies, so on large stacks both processes finish about together (bench/NOTES.md
    has how the share was chosen)."""
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
