"""The accelerators (offline/accel/) change how long the preview takes, never what it writes; they are on
only at the versions their equivalence tests ran against; every failure to start exits 2 with one line."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, UPSTREAM
from helpers import assert_same_tree
from packaging.specifiers import SpecifierSet

from offline import __main__ as cli
from offline import accel, versions
from offline.accel import REGISTRY
from offline.preview import Options, preview
from offline.runtime import run_program
from offline.stack_config import StackConfig

NAMES = [a.name for a in REGISTRY]
PINS = dict(line.split("==", 1) for line in (REPO / "requirements.txt").read_text().splitlines() if "==" in line)


def offline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "offline", *args], cwd=REPO, capture_output=True, text=True)


# --- the registry and the version guard -----------------------------------------------------------------------


def test_the_registry_names_each_accelerator_once_with_its_module_and_tested_versions() -> None:
    assert len(set(NAMES)) == len(NAMES) == 5
    for a in REGISTRY:
        assert a.module.startswith("offline.accel.") and (REPO / (a.module.replace(".", "/") + ".py")).is_file()
        assert a.replaces and a.tested and set(a.tested) <= {"pulumi", "pulumi-policy"}
        for distribution, tested in a.tested.items():
            assert SpecifierSet(tested).contains(PINS[distribution]), (a.name, distribution)  # what CI installs


def test_the_stock_path_was_tested_with_the_pinned_versions_too() -> None:
    for ranges in versions.STOCK_PATH.values():
        for distribution, tested in ranges.items():
            assert SpecifierSet(tested).contains(PINS[distribution])
    assert versions.stock_path_problem() is None


def test_at_the_pinned_versions_every_accelerator_is_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(accel.NO_ACCEL, raising=False)
    monkeypatch.delenv(accel.IGNORE_RANGE, raising=False)
    assert (
        versions.installed("pulumi") == PINS["pulumi"] and versions.installed("pulumi-policy") == PINS["pulumi-policy"]
    )
    assert accel.select().on == frozenset(NAMES)


def installed_as(monkeypatch: pytest.MonkeyPatch, found: dict[str, str | None]) -> None:
    monkeypatch.setattr(versions, "installed", lambda distribution: found.get(distribution))
    monkeypatch.delenv(accel.NO_ACCEL, raising=False)
    monkeypatch.delenv(accel.IGNORE_RANGE, raising=False)


def test_outside_its_tested_versions_an_accelerator_is_off_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    installed_as(monkeypatch, {"pulumi": "3.259.0", "pulumi-policy": PINS["pulumi-policy"]})
    selection = accel.select()
    pulumi_only = {a.name for a in REGISTRY if set(a.tested) == {"pulumi"}}
    assert pulumi_only and not pulumi_only & selection.on
    assert selection.off["sdk-wire"] == f"pulumi 3.259.0 is outside the tested range {accel.PULUMI_TESTED}"
    assert "policy-proxy" in selection.on  # it touches pulumi-policy alone
    assert "monitor-shortcuts, policy-servicer off: pulumi 3.259.0 is outside" in selection.describe()
    installed_as(monkeypatch, {"pulumi": PINS["pulumi"], "pulumi-policy": "1.19.0"})
    assert accel.select().on == pulumi_only


def test_no_accel_and_the_environment_decide_before_the_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    assert accel.select(requested=False).on == frozenset()
    assert accel.select(environ={accel.NO_ACCEL: "1", accel.IGNORE_RANGE: "1"}).on == frozenset()
    installed_as(monkeypatch, {"pulumi": "3.200.0", "pulumi-policy": "1.0.0"})
    assert accel.select(environ={accel.IGNORE_RANGE: "1"}).on == frozenset(NAMES)
    assert accel.select(environ={accel.NO_ACCEL: "0"}).on == frozenset()  # out of range: "0" is not a request
    assert "--no-accel" in accel.select(requested=False).describe()


def test_every_accelerator_has_equivalence_tests() -> None:
    """The scheduled canary runs them (`pytest -m "accel(name='...')"`): none may be without."""
    listed = subprocess.run(
        [sys.executable, "-m", "offline.accel.canary", "--list"], cwd=REPO, capture_output=True, text=True
    )
    counts = dict(line.split(": ") for line in listed.stdout.splitlines())
    assert set(counts) == set(NAMES) and listed.returncode == 0, listed.stdout + listed.stderr
    assert all(int(count.split()[0]) >= 3 for count in counts.values()), counts


def test_a_run_swaps_sdk_functions_for_its_accelerators_only_and_puts_them_back(tmp_path: Path) -> None:
    from pulumi.runtime import rpc

    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    probe = "import pulumi\nfrom pulumi.runtime import rpc\n"
    (tmp_path / "__main__.py").write_text(probe + "pulumi.export('serializer', rpc.serialize_property.__module__)\n")
    config = StackConfig("probe", "dev", {})
    before = rpc.serialize_property
    assert run_program(tmp_path, config, accel.ALL).exports == {"serializer": "offline.accel.sdk_wire"}
    assert run_program(tmp_path, config, accel.STOCK).exports == {"serializer": "pulumi.runtime.rpc"}
    helpers_only = accel.Selection(frozenset({"sdk-helpers"}))
    assert run_program(tmp_path, config, helpers_only).exports == {"serializer": "pulumi.runtime.rpc"}
    assert rpc.serialize_property is before


# --- the same output ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["staging", "prod", "dev"])
def test_no_accel_writes_byte_for_byte_what_the_accelerated_run_writes(stack: str, tmp_path: Path) -> None:
    accelerated = offline("--stack", stack, "--out", str(tmp_path / "accelerated"))
    stock = offline("--stack", stack, "--out", str(tmp_path / "stock"), "--no-accel")
    assert accelerated.returncode == stock.returncode == 0, accelerated.stdout + stock.stdout
    assert f"Accelerators: {', '.join(NAMES)}\n" in accelerated.stdout
    assert "Accelerators: none, the SDK and pulumi-policy as shipped (--no-accel)\n" in stock.stdout
    assert_same_tree(tmp_path / "accelerated", tmp_path / "stock")


@pytest.fixture(scope="module")
def stock_dev(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stock") / "dev"
    result = preview(Options(stack="dev", out=out, upstream=UPSTREAM), io.StringIO(), accel.STOCK)
    assert result.exit_code == 0
    return out


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.accel(name=n)) for n in NAMES])
def test_each_accelerator_alone_writes_what_the_stock_run_writes(name: str, stock_dev: Path, tmp_path: Path) -> None:
    stream = io.StringIO()
    result = preview(Options(stack="dev", out=tmp_path, upstream=UPSTREAM), stream, accel.Selection(frozenset({name})))
    assert result.exit_code == 0 and f"Accelerators: {name}\n" in stream.getvalue()
    assert_same_tree(tmp_path, stock_dev)


# --- failures to start --------------------------------------------------------------------------------------


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = (proc.stdout + proc.stderr).splitlines()
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    return lines[0]


def test_bad_arguments_exit_2_with_one_line() -> None:
    assert one_line(offline("--bogus")) == (
        "gatehouse offline preview: unrecognized arguments: --bogus (see python -m offline --help)"
    )
    assert "--secret expects KEY=VALUE" in one_line(offline("--secret", "novalue"))


def test_a_missing_stack_file_or_upstream_folder_exits_2_with_one_line(tmp_path: Path) -> None:
    assert one_line(offline("--stack", "nosuch", "--out", str(tmp_path))).endswith("Pulumi.nosuch.yaml: no such file")
    missing = one_line(offline("--stack", "dev", "--out", str(tmp_path), "--upstream", str(tmp_path / "nowhere")))
    assert missing.startswith(f"error: no upstream folder {tmp_path / 'nowhere'}")


def test_versions_the_stock_path_was_not_tested_with_exit_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(versions, "installed", {"pulumi": PINS["pulumi"], "pulumi-policy": "1.18.0"}.get)
    assert cli.main(["--stack", "dev"]) == 2
    printed = capsys.readouterr()
    assert printed.out == "" and printed.err == (
        "gatehouse offline preview: pulumi-policy 1.18.0 is outside the tested range >=1.19.0,<=1.21.0 "
        "of the policy runner; install the versions in requirements.txt\n"
    )
    monkeypatch.setattr(versions, "installed", {"pulumi-policy": PINS["pulumi-policy"]}.get)
    assert cli.main(["--stack", "dev"]) == 2
    assert capsys.readouterr().err == "gatehouse offline preview: pulumi is not installed\n"


def test_an_sdk_that_does_not_import_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "offline.preview", None)  # importing it raises ImportError
    assert cli.main(["--stack", "dev"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gatehouse offline preview: the SDK does not import (") and err.count("\n") == 1
