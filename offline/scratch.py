"""The real program with another stack file, for tests, benchmarks and experiments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
PROGRAM_FILES = ("__main__.py", "Pulumi.yaml", "components", "policy", "apis")


def stack_config(stack: str, program: Path = REPO) -> dict[str, Any]:
    """The `config:` map of a stack file, to modify."""
    return yaml.safe_load((program / f"Pulumi.{stack}.yaml").read_text())["config"]


def program_with_stack(directory: Path, stack: str, config: dict[str, Any], source: Path = REPO) -> Path:
    """`directory/program`: symlinks to the program's files (so the code is the repo's) and the stack file."""
    program = directory / "program"
    program.mkdir(parents=True, exist_ok=True)
    for name in PROGRAM_FILES:
        if not (program / name).exists():
            (program / name).symlink_to(source / name)
    (program / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    return program
