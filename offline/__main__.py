"""`python -m offline --stack staging`: the offline preview (see README, "Offline preview").

Every failure to start (bad arguments, pulumi or pulumi-policy at versions the preview was not tested
with, an SDK that does not import) exits 2 with one line on stderr, no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

from .options import DEFAULT_UPSTREAM, REPO_ROOT, Options
from .versions import stock_path_problem

EXIT_NOT_RUN = 2
PROG = "gatehouse offline preview"


class StartupError(Exception):
    """The preview cannot start; the message is the one line that says why."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse prints usage first: one line is the rule here
        raise StartupError(f"{message} (see python -m offline --help)")


def parse_args(argv: list[str]) -> Options:
    parser = _Parser(
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
    parser.add_argument(
        "--no-accel",
        action="store_true",
        help="run the Pulumi SDK and pulumi-policy as shipped, without the accelerators (same output, slower; "
        "GATEHOUSE_NO_ACCEL=1 does the same)",
    )
    args = parser.parse_args(argv)
    secrets = {}
    for item in args.secret:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--secret expects KEY=VALUE, got {item!r}")
        secrets[key] = value
    return Options(
        stack=args.stack,
        program=args.program.resolve(),
        policy_pack=args.policy_pack.resolve() if args.policy_pack else None,
        policy_config=args.policy_config.resolve() if args.policy_config else None,
        out=args.out.resolve() if args.out else None,
        upstream=args.upstream.resolve(),
        secrets=secrets,
        accelerate=not args.no_accel,
    )


def main(argv: list[str]) -> int:
    try:
        options = parse_args(argv)
        problem = stock_path_problem()  # before anything of the SDK is imported
        if problem is not None:
            raise StartupError(problem)
        try:
            from .preview import preview
        except (ImportError, AttributeError) as exc:  # an SDK without a name the stock path uses
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StartupError(
                f"the SDK does not import ({first_line}); install the versions in requirements.txt"
            ) from None
    except StartupError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_NOT_RUN
    return preview(options).exit_code


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: the SDK leaves per-thread event loops whose finalisers print noise.
    os._exit(code)
