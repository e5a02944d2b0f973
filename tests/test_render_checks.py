"""Resources checked in batches while the program runs: the same files and findings as a serial run,
and a failure anywhere stops the preview with nothing written and no process left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, REPO
from helpers import run_preview

from offline import render_checks
from offline.background import Background

SMALL_BATCH = 25  # the staging stack's 246 resources make several batches


@pytest.fixture
def batches_of(monkeypatch: pytest.MonkeyPatch):
    """Batches of `size` registrations, each taken as soon as the next is due (the program waits for
    it), so that how many run does not depend on how fast this machine is."""

    def configure(size: int) -> None:
        monkeypatch.setattr(render_checks, "BATCH", size)
        monkeypatch.setattr(Background, "ready", lambda self: True)

    return configure


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _no_process_left() -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_batches_during_render_write_what_a_serial_run_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batches_of
) -> None:
    batches_of(SMALL_BATCH)
    batched, printed = run_preview(REPO, tmp_path / "batched", stack="staging")
    assert batched.run is not None
    assert batched.timings["batches"] == len(batched.run.registrations) // SMALL_BATCH > 5, printed
    _no_process_left()
    monkeypatch.setenv("GATEHOUSE_PREVIEW_SERIAL", "1")
    serial, _ = run_preview(REPO, tmp_path / "serial", stack="staging")
    assert serial.timings["batches"] == 0
    assert batched.exit_code == serial.exit_code == 0
    assert _files(tmp_path / "batched") == _files(tmp_path / "serial")
    assert [e.to_json() for e in batched.objects] == [e.to_json() for e in serial.objects]


def test_objects_found_in_different_batches_are_still_duplicates(tmp_path: Path, batches_of) -> None:
    batches_of(2)
    maps = [
        f'k8s.core.v1.ConfigMap("cm{i}", metadata={{"name": "same"}}, data={{"n": "{i}"}})' for i in reversed(range(6))
    ]
    program = _program(tmp_path, maps)
    result, printed = run_preview(program, tmp_path / "out")
    assert result.exit_code == 1 and result.timings["batches"] >= 2  # the six maps span batches
    duplicates = [e for e in result.objects if any("duplicate object" in m for m in e.result.errors)]
    assert len(duplicates) == 5, printed
    written = yaml.safe_load((tmp_path / "out" / "manifests" / "_cluster" / "configmap.core.same.yaml").read_text())
    assert written["data"] == {"n": "5"}  # the last in URN order, as a serial run writes it, not the last made
    _no_process_left()


def test_a_bad_policy_config_met_by_a_batch_stops_the_preview(tmp_path: Path, batches_of) -> None:
    batches_of(SMALL_BATCH)
    bad = tmp_path / "policy.json"
    bad.write_text('{"no-such-policy": "mandatory"}')
    result, printed = run_preview(REPO, tmp_path / "out", stack="staging", policy_config=bad)
    assert result.exit_code == 2
    assert printed.startswith(f"error: invalid policy config {bad}: no-such-policy: no policy of that name")
    assert not _files(tmp_path / "out")
    _no_process_left()


def test_a_program_failing_after_batches_leaves_no_manifest_and_no_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batches_of
) -> None:
    batches_of(2)
    started: list[int] = []
    registered = render_checks.RenderTimeChecks.registered

    def counted(self: render_checks.RenderTimeChecks, arrived: list) -> None:
        registered(self, arrived)
        started.append(self.batches)

    monkeypatch.setattr(render_checks.RenderTimeChecks, "registered", counted)
    maps = [f'k8s.core.v1.ConfigMap("cm{i}", metadata={{"name": "cm{i}"}})' for i in range(8)]
    failing = "maps = [" + ", ".join(maps) + "]\nmaps[-1].id.apply(lambda _: 1 / 0)"
    result, printed = run_preview(_program(tmp_path, [failing]), tmp_path / "out")
    assert result.exit_code == 2 and "ZeroDivisionError" in printed
    assert started[-1] >= 2  # batches ran before the program failed
    assert not _files(tmp_path / "out")
    _no_process_left()


def _program(tmp_path: Path, lines: list[str]) -> Path:
    program = tmp_path / "program"
    program.mkdir()
    tiny = FIXTURES / "programs" / "tiny"
    (program / "Pulumi.yaml").write_text((tiny / "Pulumi.yaml").read_text())
    (program / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": {"tiny:team": "team-a"}}))
    source = "\n".join(["import pulumi_kubernetes as k8s", *lines])
    (program / "__main__.py").write_text(source + "\n")
    return program
