"""The versions of `pulumi` and `pulumi-policy` the offline preview was tested with, and the check that the
installed ones are among them.

The stock path itself reads a few private names of both: the runtime subclasses the SDK's MockMonitor
and uses its event-loop helpers (`pulumi.runtime.sync_await._ensure_event_loop`, `_sync_await`); the
policy runner plays the engine against pulumi-policy's private `_PolicyAnalyzerServicer` and records
the pack with `PolicyPack` swapped out (offline/policy/pack.py). `STOCK_PATH` names the versions each
part ran its tests against (tests/test_old_versions.py runs the lower ends in throwaway virtualenvs):
outside them the preview does not start, and says so in one line. The accelerators declare their own,
narrower ranges (offline/accel/__init__.py); outside those the stock path runs instead.

Only the standard library is imported here, so that the check runs before anything of the SDK is.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import metadata

STOCK_PATH: dict[str, dict[str, str]] = {
    # 3.260.0 is the first SDK whose mock monitor takes transforms (before it, a program with one fails)
    "offline runtime": {"pulumi": ">=3.260.0,<=3.272.0"},
    "policy runner": {"pulumi": ">=3.260.0,<=3.272.0", "pulumi-policy": ">=1.19.0,<=1.21.0"},
}


def installed(distribution: str) -> str | None:
    """The installed version of `distribution`, or None."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def outside(distribution: str, tested: str) -> str | None:
    """Why the installed `distribution` is not one of the `tested` versions (a PEP 440 specifier), or None."""
    version = installed(distribution)
    if version is None:
        return f"{distribution} is not installed"
    from packaging.specifiers import SpecifierSet  # pulumi's own dependency
    from packaging.version import InvalidVersion, Version

    try:
        inside = SpecifierSet(tested).contains(Version(version), prereleases=True)
    except InvalidVersion:
        inside = False
    return None if inside else f"{distribution} {version} is outside the tested range {tested}"


def first_outside(ranges: Mapping[str, str]) -> str | None:
    """Why the first distribution of `ranges` that is not at a tested version is not, or None."""
    for distribution, tested in ranges.items():
        reason = outside(distribution, tested)
        if reason is not None:
            return reason
    return None


def stock_path_problem() -> str | None:
    """One line saying which part of the stock path the installed versions were not tested with, or None."""
    if installed("pulumi") is None:
        return "pulumi is not installed"
    for part, ranges in STOCK_PATH.items():
        reason = first_outside(ranges)
        if reason is not None:
            return f"{reason} of the {part}; install the versions in requirements.txt"
    return None
