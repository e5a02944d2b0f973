"""offline/background.py: a function run in a fork, its result or its exception brought back."""

from __future__ import annotations

import os

import pytest

from offline.background import Background, BackgroundError
from offline.policy import PolicyConfigError


def test_the_result_comes_from_another_process() -> None:
    parent = os.getpid()
    run = Background(os.getpid)
    assert run.result() != parent


def test_the_fork_sees_memory_as_it_was_when_started() -> None:
    data = {"n": 1}
    run = Background(lambda: data["n"])
    data["n"] = 2  # the parent's change after the fork is not the child's
    assert run.result() == 1


def test_an_exception_is_raised_here_whole() -> None:
    def fail() -> None:
        exc = PolicyConfigError(["a: bad", "b: worse"])
        exc.add_note("while testing")
        raise exc

    with pytest.raises(PolicyConfigError) as caught:
        Background(fail).result()
    assert caught.value.errors == ["a: bad", "b: worse"]
    assert caught.value.__notes__ == ["while testing"]


def test_an_exception_that_cannot_travel_arrives_as_its_traceback() -> None:
    class Local(Exception):  # defined in a function: pickle cannot find the class again
        pass

    def fail() -> None:
        raise Local("policy blew up")

    with pytest.raises(BackgroundError, match="policy blew up"):
        Background(fail).result()


def test_a_failure_beside_it_stops_the_background_process() -> None:
    run = Background(lambda: os.kill(os.getpid(), 0) or "done")
    pid = run._pid
    with pytest.raises(RuntimeError), run.cancelled_on_error():
        raise RuntimeError("validation crashed")
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: nothing left behind


def test_serial_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEHOUSE_PREVIEW_SERIAL", "1")
    assert Background(os.getpid).result() == os.getpid()
