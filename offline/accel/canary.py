"""`python -m offline.accel.canary [TESTS]`: does each accelerator still hold at the installed versions?

For every accelerator of the registry: its module is imported, and its equivalence tests (those marked
`accel(name=...)`) run with every accelerator on whatever the versions (GATEHOUSE_ACCEL_IGNORE_RANGE=1).
A table of the outcomes goes to stdout and, on GitHub Actions, to the job summary; the exit code is 1
when one no longer holds. The scheduled workflow (.github/workflows/accel-canary.yml) runs it against
the newest pulumi and pulumi-policy. `--list` prints how many tests each accelerator has.

A test module that does not import (it imports an accelerator that no longer does) is named beside
each accelerator, and the tests of the other modules still run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

from ..versions import installed
from . import IGNORE_RANGE, NO_ACCEL, REGISTRY, Accelerator

REPO = Path(__file__).resolve().parents[2]
COLLECTION_FAILURE = "collection failure"  # pytest's junit message for a test module that did not import


@dataclass
class Outcome:
    accelerator: Accelerator
    imports: str = ""  # why its module does not import, or ""
    passed: int = 0
    failed: list[str] = field(default_factory=list)  # test ids
    skipped: int = 0
    not_collected: list[str] = field(default_factory=list)  # test modules that did not import

    @property
    def holds(self) -> bool:
        """Its module imports, and its tests that ran passed (a module that did not import is named in the
        details: its tests did not run, and the accelerator it imports is the one to blame)."""
        return not self.imports and not self.failed and self.passed > 0

    def detail(self) -> str:
        parts = [f"module does not import: {self.imports}"] if self.imports else []
        parts.append(f"{self.passed} passed")
        if self.failed:
            parts.append(
                f"{len(self.failed)} failed: " + ", ".join(self.failed[:5]) + (" ..." if len(self.failed) > 5 else "")
            )
        if self.not_collected:
            parts.append("not collected: " + ", ".join(self.not_collected))
        if self.skipped:
            parts.append(f"{self.skipped} skipped")
        return "; ".join(parts)


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != NO_ACCEL}
    env[IGNORE_RANGE] = "1"
    return env


def import_problem(accelerator: Accelerator) -> str:
    """Why the accelerator's module does not import, in a fresh interpreter, or ""."""
    proc = subprocess.run(
        [sys.executable, "-c", f"import {accelerator.module}"],
        cwd=REPO,
        env=_environment(),
        capture_output=True,
        text=True,
    )
    lines = proc.stderr.strip().splitlines()
    return "" if proc.returncode == 0 else (lines[-1] if lines else f"exit {proc.returncode}")


def run_tests(accelerator: Accelerator, tests: Path, junit: Path, collect_only: bool = False) -> Outcome:
    """The accelerator's equivalence tests, run (or only collected) in a fresh pytest."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors"]
    command += [
        "-m",
        accelerator.tests,
        f"--junitxml={junit}",
        *(["--collect-only"] if collect_only else []),
        str(tests),
    ]
    proc = subprocess.run(command, cwd=REPO, env=_environment(), capture_output=True, text=True)
    outcome = Outcome(accelerator)
    if collect_only:  # junit records no test that did not run: count the ids pytest lists
        outcome.passed = sum(1 for line in proc.stdout.splitlines() if "::" in line)
        return outcome
    if not junit.exists():
        outcome.failed.append("pytest wrote no report")
        return outcome
    for case in ElementTree.parse(junit).iter("testcase"):
        test = f"{case.get('classname')}::{case.get('name')}"
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        if problem is not None and problem.get("message") == COLLECTION_FAILURE:
            outcome.not_collected.append(str(case.get("name")))
        elif problem is not None:
            outcome.failed.append(test)
        elif case.find("skipped") is not None:
            outcome.skipped += 1
        else:
            outcome.passed += 1
    return outcome


def check(accelerator: Accelerator, tests: Path, collect_only: bool = False) -> Outcome:
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run_tests(accelerator, tests, Path(tmp) / "junit.xml", collect_only)
    outcome.imports = import_problem(accelerator)
    return outcome


def table(outcomes: list[Outcome]) -> str:
    versions = ", ".join(f"{d} {installed(d) or 'not installed'}" for d in ("pulumi", "pulumi-policy"))
    lines = [
        f"Accelerators against {versions} (every one forced on: {IGNORE_RANGE}=1)",
        "",
        "| accelerator | holds | tested with | what it replaces | tests |",
        "|---|---|---|---|---|",
    ]
    for o in outcomes:
        a = o.accelerator
        tested = ", ".join(f"{d}{spec}" for d, spec in a.tested.items())
        lines.append(f"| {a.name} | {'yes' if o.holds else '**NO**'} | {tested} | {a.replaces} | {o.detail()} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.accel.canary")
    parser.add_argument("tests", nargs="?", type=Path, default=REPO / "tests")
    parser.add_argument("--list", action="store_true", help="only count each accelerator's tests (collected)")
    args = parser.parse_args(argv)
    outcomes = [check(a, args.tests.resolve(), collect_only=args.list) for a in REGISTRY]
    if args.list:
        for o in outcomes:
            print(f"{o.accelerator.name}: {o.passed} tests")
        return 0 if all(o.passed for o in outcomes) else 1
    report = table(outcomes)
    print(report)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write(report + "\n")
    return 0 if all(o.holds for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
