"""Running the offline preview in-process from tests."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from conftest import REPO, UPSTREAM

from components.config.definitions import load_definitions
from offline.preview import Options, PreviewResult, preview
from offline.runtime import ProgramRun, run_program
from offline.scratch import program_with_stack, stack_config
from offline.stack_config import load_stack_config

__all__ = ["assert_same_tree", "program_with_stack", "run_preview", "run_stack", "stack_config"]


def run_stack(program: Path, stack: str) -> ProgramRun:
    """The program under the mocks with the stack's config, which must run without an error."""
    run = run_program(program, load_stack_config(program, stack))
    assert run.error is None, run.error
    return run


def run_preview(
    program: Path,
    out: Path,
    stack: str = "dev",
    policy_config: Path | None = None,
    secrets: dict[str, str] | None = None,
) -> tuple[PreviewResult, str]:
    """Preview `program` with the real policy pack; returns the result and what it printed."""
    stream = io.StringIO()
    options = Options(
        stack=stack,
        program=program,
        policy_pack=REPO / "policy",
        policy_config=policy_config,
        out=out,
        upstream=UPSTREAM,
        secrets=secrets or {},
    )
    return preview(options, stream), stream.getvalue()


def preview_objects(result: PreviewResult, kind: str) -> list[dict[str, Any]]:
    """The rendered objects of one kind (secret values included: tests only)."""
    return [m.obj for m in result.manifests if m.kind == kind]


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_same_tree(ours: Path, theirs: Path) -> None:
    """Byte for byte: every file, and no file more or less. The reports hold no timings (stdout has them)."""
    mine, other = tree(ours), tree(theirs)
    assert sorted(mine) == sorted(other)
    different = [name for name in mine if mine[name] != other[name]]
    assert not different, different[:10]
    assert {"resources.json", "validation-report.json", "policy-report.json"} <= set(mine)


def api_entries(stack: str) -> list[dict[str, Any]]:
    """The stack's APIs as `gatehouse:apis` entries: its own, then its definition files' (apis/*.yaml),
    converted by the program's own converter (components/config/definitions.py)."""
    values = stack_config(stack)
    entries, problems = load_definitions(values.get("gatehouse:apiDefinitions", []), REPO)
    assert not problems, problems
    return [*values.get("gatehouse:apis", []), *(entry for _, entry in entries)]
