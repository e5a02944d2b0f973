"""One measurement, in a fresh process so peak memory is its own: `python -m bench.measure TENANTS MODE`.

The whole offline preview of a generated stack with TENANTS tenants, `accelerated` (the accelerators at
tested versions, as `python -m offline` runs) or `stock` (`--no-accel`: the SDK and pulumi-policy as
shipped). Prints one JSON line.
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

from offline import manifests as mf
from offline.preview import Options, preview
from offline.records import Registration

REPO = Path(__file__).resolve().parents[1]
MODES = ("accelerated", "stock")
# Provider SDK modules the program imports, loaded before the clock starts: the bench measures a
# preview, not a one-off import (pulumi_cloudflare alone is a slow one).
WARM_IMPORTS = (
    "pulumi_cloudflare",
    "pulumi_random",
    "pulumi_tls",
    # pulumi_kubernetes loads each API group version on first use; these are the ones the program
    # uses, with the older versions its kinds name as aliases (a test holds the list complete)
    *(
        f"pulumi_kubernetes.{group}"
        for group in (
            "admissionregistration.v1",
            "admissionregistration.v1alpha1",
            "admissionregistration.v1beta1",
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
# Gatehouse's own modules, which its program imports (and with them pydantic): loaded before the clock
# starts too (a test holds the lists complete).
PROGRAM_MODULES = ("components.config", "components.platform")


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


def chart_count(registrations: list[Registration]) -> int:
    """Helm chart registrations: what a real `pulumi preview` renders, each one, on every run."""
    return sum(1 for r in registrations if mf.is_helm_chart(r))


def warm_imports() -> None:
    for name in WARM_IMPORTS + PROGRAM_MODULES:
        importlib.import_module(name)


def output_root() -> str | None:
    """Where the preview writes: memory (tmpfs) when the machine has it, else the temp directory, so that
    runs compare: creating build/'s many small files on a shared disk costs what the disk's state says,
    in the kernel, not in Gatehouse (bench/NOTES.md). A laptop's disk is nearer the memory figure."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def measure(tenants: int, mode: str) -> dict[str, Any]:
    from bench.generate import generated_config
    from offline.scratch import program_with_stack

    warm_imports()
    with tempfile.TemporaryDirectory(dir=output_root()) as tmp, open(os.devnull, "w") as quiet:
        program = program_with_stack(Path(tmp), "bench", generated_config(tenants))
        options = Options(
            stack="bench",
            program=program,
            policy_config=REPO / "policy" / "prod.json",
            out=Path(tmp) / "out",
            accelerate=mode == "accelerated",
        )
        start = time.perf_counter()
        result = preview(options, stream=quiet)  # the summary is not part of the measurement
        wall = time.perf_counter() - start
    assert result.run is not None
    registrations = result.run.registrations
    return {
        "tenants": tenants,
        "mode": mode,
        "accelerators": sorted(result.accelerators.on),
        "exit_code": result.exit_code,
        "resources": len(registrations),
        "objects": len(result.manifests),
        "charts": chart_count(registrations),
        "seconds": {**{k: round(v, 3) for k, v in result.timings.items()}, "total": round(wall, 3)},
        "peak_memory_mb": round(peak_memory_mb(), 1),
        # the forked policy run's own peak, pages it shares with the preview included
        "policy_process_peak_memory_mb": round(peak_memory_mb(resource.RUSAGE_CHILDREN), 1),
        "longest_dependency_chain": longest_chain(registrations),
    }


if __name__ == "__main__":
    tenants, mode = int(sys.argv[1]), sys.argv[2]
    if mode not in MODES:
        raise SystemExit(f"unknown mode {mode!r}: {' or '.join(MODES)}")
    print(json.dumps(measure(tenants, mode)), flush=True)
    os._exit(0)  # as `python -m offline`: the stock SDK's per-thread event loops print noise at teardown
