"""What an offline preview is asked to do: the command line's options (no SDK import here, so that the
command line can check the installed versions before anything of the SDK is imported)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_UPSTREAM = REPO_ROOT.parent / "shared" / "upstream"


@dataclass
class Options:
    stack: str
    program: Path = REPO_ROOT
    policy_pack: Path | None = None  # default <program>/policy
    policy_config: Path | None = None  # default <policy_pack>/<stack>.json, if it exists
    out: Path | None = None  # default <program>/build/<stack>
    upstream: Path = DEFAULT_UPSTREAM
    secrets: dict[str, str] = field(default_factory=dict)  # key -> value, replacing placeholders
    accelerate: bool = True  # use the accelerators at tested versions (offline/accel/); False: --no-accel

    def resolved(self) -> Options:
        pack = self.policy_pack or self.program / "policy"
        default_config = pack / f"{self.stack}.json"
        return Options(
            stack=self.stack,
            program=self.program,
            policy_pack=pack,
            policy_config=self.policy_config or (default_config if default_config.exists() else None),
            out=self.out or self.program / "build" / self.stack,
            upstream=self.upstream,
            secrets=self.secrets,
            accelerate=self.accelerate,
        )
