"""The preview's summary on stdout: what would be created, what the checks found, how long each part took
and which accelerators ran."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, TextIO

from .options import Options
from .order import OrderReport
from .policy import Violation

if TYPE_CHECKING:
    from .preview import PreviewResult

ADVICE_EXAMPLES = 3  # resource names shown per advisory policy in the summary


def print_summary(stream: TextIO, opts: Options, result: PreviewResult) -> None:
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
    print(f"Accelerators: {result.accelerators.describe()}", file=stream)
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
