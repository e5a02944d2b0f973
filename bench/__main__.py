"""`python -m bench [--sizes 10,100,1000] [--repeat 3] [--modes accelerated,stock]`: the offline preview of
generated stacks, accelerated and stock; writes bench/results.json and prints a table of each size's
median run per mode, then each target of `TARGETS` with its measure and whether it is met."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.measure import MODES, output_root

OUT = Path(__file__).resolve().parent / "results.json"
TARGET_TENANTS = 1000
# At TARGET_TENANTS tenants, median of the runs: (what, mode, how it is read from a run, the most it may be).
TARGETS: dict[str, tuple[str, Callable[[dict[str, Any]], float], float]] = {
    "seconds": ("accelerated", lambda run: run["seconds"]["total"], 35),
    "peak_memory_mb": ("accelerated", lambda run: run["peak_memory_mb"], 1536),
    "charts": ("accelerated", lambda run: run["charts"], 20),
    # 4 until issue 18: Keycloak and Dex now wait for their serving certificates (cert-manager, its API
    # check, the Certificate), a path of 5 beside the database's 4 (bench/NOTES.md)
    "dependency_chain": ("accelerated", lambda run: run["longest_dependency_chain"], 5),
}


def run(tenants: int, mode: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.measure", str(tenants), mode], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"bench.measure {tenants} {mode} failed:\n{proc.stdout}\n{proc.stderr}")
    row: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if row["exit_code"] != 0:  # timing a preview that found problems would measure the wrong thing
        raise SystemExit(f"the generated {tenants}-tenant stack does not preview clean (exit {row['exit_code']})")
    return row


def median(runs: list[dict[str, Any]], key: Callable[[dict[str, Any]], float]) -> dict[str, Any]:
    """The middle run by `key` (machines here are shared and noisy: one run can be far off)."""
    return sorted(runs, key=key)[len(runs) // 2]


def verdicts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target with the measure of the median run it concerns; `met` is None if that run was not made."""
    found = []
    for name, (mode, read, limit) in TARGETS.items():
        row = next((r for r in rows if r["tenants"] == TARGET_TENANTS and r["mode"] == mode), None)
        measured = read(row) if row is not None else None
        met = None if measured is None else measured <= limit
        found.append(
            {
                "target": name,
                "mode": mode,
                "tenants": TARGET_TENANTS,
                "at_most": limit,
                "measured": measured,
                "met": met,
            }
        )
    return found


COLUMNS = (
    "tenants",
    "mode",
    "resources",
    "charts",
    "render s",
    "validation s",
    "order s",
    "write s",
    "policies here s",
    "policy fork s",
    "total s (range)",
    "peak MB",
    "policy process MB",
    "chain",
)


def table(rows: list[dict[str, Any]], found: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---:|" * len(COLUMNS)]
    for r in rows:
        s, spread = r["seconds"], r["all_totals_s"]
        lines.append(
            f"| {r['tenants']} | {r['mode']} | {r['resources']} | {r['charts']} | {s['render']} | {s['validation']} "
            f"| {s['order']} | {s['write']} | {s['policy_here']} | {s['policy']} "
            f"| {s['total']} ({spread[0]}-{spread[-1]}) | {r['peak_memory_mb']} | {r['policy_process_peak_memory_mb']} "
            f"| {r['longest_dependency_chain']} |"
        )
    lines.append("")
    for v in found:
        verdict = {True: "PASS", False: "FAIL", None: "not measured"}[v["met"]]
        what = f"{v['target']} at {v['tenants']} tenants ({v['mode']})"
        lines.append(f"{verdict:>12}  {what}: {v['measured']}, at most {v['at_most']}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--sizes", default="10,100,1000", help="tenant counts, comma separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size and mode; the median run is reported")
    parser.add_argument("--modes", default=",".join(MODES), help="accelerated, stock or both (comma separated)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    if not modes or set(modes) - set(MODES):
        parser.error(f"--modes takes {' and '.join(MODES)}")
    rows = []
    for tenants in (int(s) for s in args.sizes.split(",")):
        for mode in modes:
            runs = [run(tenants, mode) for _ in range(max(1, args.repeat))]
            row = median(runs, lambda r: r["seconds"]["total"])
            row["all_totals_s"] = sorted(r["seconds"]["total"] for r in runs)  # the spread on this machine
            rows.append(row)
            print(f"{tenants} tenants, {mode}: {row['resources']} resources in {row['seconds']['total']} s", flush=True)
    machine = {
        "python": platform.python_version(),
        "cpus": len(os.sched_getaffinity(0)),
        "output_root": output_root() or "temp dir",
    }
    found = verdicts(rows)
    targets = {
        name: {"mode": mode, "tenants": TARGET_TENANTS, "at_most": limit} for name, (mode, _, limit) in TARGETS.items()
    }
    args.out.write_text(
        json.dumps({"machine": machine, "targets": targets, "verdicts": found, "runs": rows}, indent=2) + "\n"
    )
    print(table(rows, found))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
