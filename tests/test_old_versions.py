"""The preview with older pulumi and pulumi-policy than requirements.txt pins, each in a throwaway virtualenv
(made with pip from the package index, cached under build/venvs/ by the versions it holds).

At the lowest versions the stock path was tested with (offline/versions.py) every accelerator is off, and
the preview writes byte for byte what it writes at the pinned versions. Below them it does not start,
and says why in one line: pulumi 3.259.0's mock monitor takes no transforms (`pulumi.runtime.mocks`
gained them in 3.260.0, `_resolve_callbacks`), so prod, whose charts' CRDs are protected through a
transform, failed there with "Callback server not initialized".
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from helpers import assert_same_tree

from offline.versions import STOCK_PATH

pytestmark = pytest.mark.slow

VENVS = REPO / "build" / "venvs"
NOT_NEEDED = {"pytest", "hypothesis", "ruff", "mypy", "types-PyYAML", "check-jsonschema", "matplotlib"}


def lowest(distribution: str) -> str:
    """The lowest version of `distribution` the stock path was tested with (each range is `>=low,<=high`)."""
    found = {
        spec.split(",")[0].removeprefix(">=")
        for ranges in STOCK_PATH.values()
        for d, spec in ranges.items()
        if d == distribution
    }
    assert len(found) == 1, found
    return found.pop()


def requirements(pins: dict[str, str]) -> str:
    lines = []
    for line in (REPO / "requirements.txt").read_text().splitlines():
        name = line.split("==", 1)[0]
        if "==" in line and name not in NOT_NEEDED:
            lines.append(f"{name}=={pins.get(name, line.split('==', 1)[1])}")
    return "\n".join(lines) + "\n"


def virtualenv(pins: dict[str, str]) -> Path:
    """A virtualenv with requirements.txt's runtime pins, `pins` instead where given; made once."""
    wanted = requirements(pins)
    key = "-".join(f"{name}-{version}" for name, version in sorted(pins.items()))
    path = VENVS / f"{key}-{hashlib.sha256(wanted.encode()).hexdigest()[:10]}"
    if (path / "complete").exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    (path / "requirements.txt").write_text(wanted)
    install = [str(path / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    done = subprocess.run([*install, "-r", str(path / "requirements.txt")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    (path / "complete").touch()
    return path


def preview(python: Path | str, stack: str, out: Path) -> subprocess.CompletedProcess[str]:
    command = [str(python), "-m", "offline", "--stack", stack, "--out", str(out)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True)


@pytest.fixture(scope="module")
def oldest() -> Path:
    return virtualenv({"pulumi": lowest("pulumi"), "pulumi-policy": lowest("pulumi-policy")})


@pytest.mark.parametrize("stack", ["staging", "prod", "dev"])
def test_the_oldest_tested_versions_run_stock_and_write_what_the_pinned_ones_write(
    oldest: Path, stack: str, tmp_path: Path
) -> None:
    old = preview(oldest / "bin" / "python", stack, tmp_path / "old")
    assert old.returncode == 0, old.stdout + old.stderr
    assert "Accelerators: none, the SDK and pulumi-policy as shipped (" in old.stdout
    assert f"pulumi {lowest('pulumi')} is outside the tested range" in old.stdout
    assert f"pulumi-policy {lowest('pulumi-policy')} is outside the tested range" in old.stdout
    pinned = preview(sys.executable, stack, tmp_path / "pinned")
    assert pinned.returncode == 0, pinned.stdout + pinned.stderr
    assert_same_tree(tmp_path / "old", tmp_path / "pinned")


def test_an_older_pulumi_exits_2_with_one_line(tmp_path: Path) -> None:
    older = virtualenv({"pulumi": "3.259.0"})
    done = preview(older / "bin" / "python", "prod", tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    tested = STOCK_PATH["offline runtime"]["pulumi"]
    assert done.stderr == (
        f"gatehouse offline preview: pulumi 3.259.0 is outside the tested range {tested} of the offline runtime; "
        "install the versions in requirements.txt\n"
    )
