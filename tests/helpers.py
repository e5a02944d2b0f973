"""Running the offline preview in-process from tests."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import yaml
from conftest import REPO, UPSTREAM

from offline.preview import Options, PreviewResult, preview


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


def stack_config(stack: str) -> dict[str, Any]:
    """The `config:` map of a real stack file, to modify in a test."""
    return yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]


def program_with_stack(tmp_path: Path, stack: str, config: dict[str, Any]) -> Path:
    """The real program with another stack file; symlinks, so the code under test is the repo's."""
    program = tmp_path / "program"
    program.mkdir(exist_ok=True)
    for name in ("__main__.py", "Pulumi.yaml", "components", "policy"):
        if not (program / name).exists():
            (program / name).symlink_to(REPO / name)
    (program / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    return program
