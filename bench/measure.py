"""One measurement, in a fresh process so peak memory is its own: `python -m bench.measure ...`.

`gatehouse N`: the whole offline preview of a generated stack with N tenants.
`floor R`: the bare SDK, as shipped, registering R trivial resources under the same mocks, timed the
same way as Gatehouse's render phase.
`floor-swapped R`: the same with the SDK helpers the offline runtime swaps for cheaper ones
(offline/sdk_swaps.py): the floor no program can go below under Gatehouse's runtime.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from offline.preview import Options, preview
from offline.records import Registration
from offline.runtime import run_program
from offline.stack_config import StackConfig

REPO = Path(__file__).resolve().parents[1]
# Provider SDK modules the programs import, loaded before either clock starts: both measure registering
# resources, not a one-off import (pulumi_cloudflare alone takes seconds).
WARM_IMPORTS = (
    "pulumi_cloudflare",
    "pulumi_random",
    "pulumi_tls",
    # pulumi_kubernetes loads each API group version on first use; these are the ones the program
    # uses, with the older versions its kinds name as aliases (a test holds the list complete); core.v1
    # is also the floor's
    *(
        f"pulumi_kubernetes.{group}"
        for group in (
            "apiextensions",
            "apps.v1",
            "apps.v1beta1",
            "apps.v1beta2",
            "batch.v1",
            "batch.v1beta1",
            "batch.v2alpha1",
            "core.v1",
            "helm.v3",
            "helm.v4",
            "meta.v1",
            "networking.v1",
            "networking.v1alpha1",
            "networking.v1beta1",
            "rbac.v1",
            "rbac.v1alpha1",
            "rbac.v1beta1",
            "yaml",
            "yaml.v2",
        )
    ),
)
FLOOR_PROGRAM = """
import pulumi_kubernetes as k8s
for i in range({count}):
    k8s.core.v1.ConfigMap(f"cm{{i}}", metadata={{"name": f"cm{{i}}", "namespace": "bench"}}, data={{"i": str(i)}})
"""


def peak_memory_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def longest_chain(registrations: list[Registration]) -> int:
    """Resources on the longest path of `dependsOn` edges: what `pulumi up` must do one after another."""
    deps = {r.urn: [d for d in r.dependencies] for r in registrations}
    depth: dict[str, int] = {}

    def visit(urn: str) -> int:
        if urn not in depth:
            depth[urn] = 0  # cycle guard; the engine would reject a cycle anyway
            depth[urn] = 1 + max((visit(d) for d in deps.get(urn, []) if d in deps), default=0)
        return depth[urn]

    sys.setrecursionlimit(10_000)
    return max((visit(urn) for urn in deps), default=0)


# Gatehouse's own modules, which its program imports (and with them pydantic): loaded before its
# clock starts too, as the floor's one module is (a test holds the lists complete).
PROGRAM_MODULES = ("components.config", "components.platform")


def warm_imports(program_modules: bool = False) -> None:
    for name in WARM_IMPORTS + (PROGRAM_MODULES if program_modules else ()):
        importlib.import_module(name)


def output_root() -> str | None:
    """Where the preview writes: memory (tmpfs) when the machine has it, else the temp directory.

    On the shared machines this is measured on, creating build/'s 19,000 small files on disk costs
    from 3 to 20 s at 1,000 tenants depending on the disk's state, in the kernel, not in Gatehouse;
    in memory it is steady, so runs compare. A laptop's disk is nearer the memory figure.
    """
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def measure_gatehouse(tenants: int) -> dict[str, Any]:
    from bench.generate import generated_config
    from offline.scratch import program_with_stack

    warm_imports(program_modules=True)
    with tempfile.TemporaryDirectory(dir=output_root()) as tmp:
        program = program_with_stack(Path(tmp), "bench", generated_config(tenants))
        start = time.perf_counter()
        result = preview(
            Options(stack="bench", program=program, policy_config=REPO / "policy" / "prod.json", out=Path(tmp) / "out"),
            stream=open("/dev/null", "w"),  # noqa: SIM115 - the summary is not part of the measurement
        )
        wall = time.perf_counter() - start
    assert result.run is not None
    registrations = len(result.run.registrations)
    return {
        "tenants": tenants,
        "exit_code": result.exit_code,
        "resources": registrations,
        "objects": len(result.manifests),
        "seconds": {**{k: round(v, 3) for k, v in result.timings.items()}, "total": round(wall, 3)},
        "render_ms_per_resource": round(1000 * result.timings["render"] / registrations, 3),
        "total_ms_per_resource": round(1000 * wall / registrations, 3),
        "peak_memory_mb": round(peak_memory_mb(), 1),
        # the forked policy run's own peak, pages it shares with the preview included
        "policy_process_peak_memory_mb": round(peak_memory_mb(resource.RUSAGE_CHILDREN), 1),
        "longest_dependency_chain": longest_chain(result.run.registrations),
    }


def measure_floor(count: int, swap_sdk_helpers: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        program = Path(tmp)
        (program / "Pulumi.yaml").write_text("name: floor\nruntime: python\n")
        (program / "__main__.py").write_text(FLOOR_PROGRAM.format(count=count))
        warm_imports()
        start = time.perf_counter()
        run = run_program(program, StackConfig("floor", "bench", {}), swap_sdk_helpers)
        seconds = time.perf_counter() - start
    assert run.error is None, run.error
    return {
        "resources": len(run.registrations),
        "seconds": round(seconds, 3),
        "ms_per_resource": round(1000 * seconds / len(run.registrations), 3),
    }


if __name__ == "__main__":
    kind, number = sys.argv[1], int(sys.argv[2])
    if kind == "gatehouse":
        out = measure_gatehouse(number)
    elif kind in ("floor", "floor-swapped"):
        out = measure_floor(number, swap_sdk_helpers=kind == "floor-swapped")
    else:
        raise SystemExit(f"unknown measurement {kind!r}: gatehouse, floor or floor-swapped")
    print(json.dumps(out))
