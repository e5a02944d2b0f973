"""`python -m offline --stack staging`: the offline preview (see README, "Offline preview")."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .preview import DEFAULT_UPSTREAM, REPO_ROOT, Options, preview


def parse_args(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m offline",
        description="Run the Gatehouse program under Pulumi's mock runtime, validate every object "
        "against upstream schemas and run the policy pack in-process. No cloud is contacted.",
    )
    parser.add_argument("--stack", default="staging", help="stack name (reads Pulumi.<stack>.yaml)")
    parser.add_argument("--program", type=Path, default=REPO_ROOT, help="program directory")
    parser.add_argument("--policy-pack", type=Path, help="policy pack directory (default: <program>/policy)")
    parser.add_argument("--policy-config", type=Path, help="policy config (default: <policy-pack>/<stack>.json)")
    parser.add_argument("--out", type=Path, help="output directory (default: <program>/build/<stack>)")
    parser.add_argument("--upstream", type=Path, default=DEFAULT_UPSTREAM, help="vendored CRDs and chart values")
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="value for a secret config key instead of the offline placeholder (repeatable)",
    )
    args = parser.parse_args(argv)
    secrets = {}
    for item in args.secret:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--secret expects KEY=VALUE, got {item!r}")
        secrets[key] = value
    program = args.program.resolve()
    return Options(
        stack=args.stack,
        program=program,
        policy_pack=args.policy_pack.resolve() if args.policy_pack else None,
        policy_config=args.policy_config.resolve() if args.policy_config else None,
        out=args.out.resolve() if args.out else None,
        upstream=args.upstream.resolve(),
        secrets=secrets,
    )


def main(argv: list[str]) -> int:
    return preview(parse_args(argv)).exit_code


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: the SDK leaves per-thread event loops whose finalisers print noise.
    os._exit(code)
