"""`python -m bench [--sizes 10,100,1000] [--repeat 3]`: writes bench/results.json and prints a table of
each size's median run (of the preview, with the SDK floor measured right after it)."""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.measure import output_root

OUT = Path(__file__).resolve().parent / "results.json"
TARGETS = {"seconds_at_1000": 60, "memory_mb_at_1000": 1536, "floor_ratio": 1.3, "dependency_chain": 5}


def run(kind: str, number: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.measure", kind, str(number)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"bench.measure {kind} {number} failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def paired_run(tenants: int) -> dict[str, Any]:
    """One preview and, right after it, the floors for as many resources: this machine's speed drifts
    (the floor alone has varied twofold within a day), so the ratios compare runs made together.
    `floor`: the SDK as shipped (the issue's "bare Pulumi SDK"); `floor_swapped`: the SDK with the
    helpers Gatehouse's offline runtime swaps, which a trivial program gains from more than Gatehouse."""
    row = run("gatehouse", tenants)
    if row["exit_code"] != 0:  # timing a preview that found problems would measure the wrong thing
        raise SystemExit(f"the generated {tenants}-tenant stack does not preview clean (exit {row['exit_code']})")
    for key, kind in (("floor", "floor"), ("floor_swapped", "floor-swapped")):
        row[key] = run(kind, row["resources"])
        row[f"{key}_ratio"] = round(row["render_ms_per_resource"] / row[key]["ms_per_resource"], 2)
    return row


def median(runs: list[dict[str, Any]], key: Callable[[dict[str, Any]], float]) -> dict[str, Any]:
    """The middle run by `key` (machines here are shared and noisy: one run can be far off)."""
    return sorted(runs, key=key)[len(runs) // 2]


def table(rows: list[dict[str, Any]]) -> str:
    columns = [
        "tenants",
        "resources",
        "render_s",
        "validation_s",
        "write_s",
        "policies_here_s",
        "policy_fork_s",
        "total_s",
        "ms/resource",
        "floor_ms",
        "ratio",
        "swapped_floor_ms",
        "ratio_to_it",
        "peak_MB",
        "policy_peak_MB",
        "chain",
    ]
    lines = ["| " + " | ".join(c.replace("_", " ") for c in columns) + " |", "|" + "---:|" * len(columns)]
    for r in rows:
        s = r["seconds"]
        lines.append(
            f"| {r['tenants']} | {r['resources']} | {s['render']} | {s['validation']} | {s['write']} "
            f"| {s['policy_here']} | {s['policy']} | {s['total']} "
            f"| {r['render_ms_per_resource']} | {r['floor']['ms_per_resource']} | {r['floor_ratio']} "
            f"| {r['floor_swapped']['ms_per_resource']} | {r['floor_swapped_ratio']} "
            f"| {r['peak_memory_mb']} | {r['policy_process_peak_memory_mb']} | {r['longest_dependency_chain']} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--sizes", default="10,100,1000", help="tenant counts, comma separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the median run is reported")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    rows = []
    for tenants in (int(s) for s in args.sizes.split(",")):
        runs = [paired_run(tenants) for _ in range(max(1, args.repeat))]
        row = median(runs, lambda r: r["seconds"]["total"])
        row["all_totals_s"] = sorted(r["seconds"]["total"] for r in runs)  # the spread on this machine
        row["all_floor_ratios"] = sorted(r["floor_ratio"] for r in runs)
        row["all_floor_swapped_ratios"] = sorted(r["floor_swapped_ratio"] for r in runs)
        rows.append(row)
        print(f"{tenants} tenants: {row['resources']} resources in {row['seconds']['total']} s", flush=True)
    machine = {"python": platform.python_version(), "cpus": _cpus(), "output_root": output_root() or "temp dir"}
    results = {"machine": machine, "targets": TARGETS, "runs": rows}
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(rows))
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
