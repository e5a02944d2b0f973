"""One function run in a forked copy of this process, while this one goes on with other work.

The offline preview checks policies on one core while it validates and writes on the other. A fork
sees every registration as it is (copy-on-write): nothing is serialised on the way in, only the
result on the way out. Where fork is unavailable, or GATEHOUSE_PREVIEW_SERIAL is set, the function
simply runs when its result is first asked for.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class BackgroundError(Exception):
    """An exception from the background function that could not travel back as itself."""


class Background(Generic[T]):
    def __init__(self, fn: Callable[[], T]) -> None:
        self._fn = fn
        self._pid = 0
        self._read = -1
        if hasattr(os, "fork") and not os.environ.get("GATEHOUSE_PREVIEW_SERIAL"):
            self._start()

    def _start(self) -> None:
        sys.stdout.flush()  # what is buffered now must not be written twice, once by each process
        sys.stderr.flush()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: run, send the outcome, leave without the parent's exit handlers
            os.close(read)
            try:
                payload = _outcome(self._fn)
                with os.fdopen(write, "wb") as pipe:
                    pipe.write(payload)
            finally:
                os._exit(0)
        os.close(write)
        self._pid, self._read = pid, read

    @contextlib.contextmanager
    def cancelled_on_error(self) -> Iterator[None]:
        """If the work beside it fails, stop the background process rather than leave it behind."""
        try:
            yield
        except BaseException:
            self.cancel()
            raise

    def cancel(self) -> None:
        """Stop the background process if its result was not taken (nothing is left behind)."""
        if self._pid:
            os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            os.close(self._read)
            self._pid = 0

    def result(self) -> T:
        """The function's return value (waiting for it), or its exception raised here."""
        if not self._pid:
            return self._fn()
        with os.fdopen(self._read, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(self._pid, 0)
        self._pid = 0
        if not payload:
            raise BackgroundError(f"the background process ended without a result (wait status {status})")
        ok, value = pickle.loads(payload)
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]


def _outcome(fn: Callable[[], object]) -> bytes:
    try:
        return pickle.dumps((True, fn()))
    except BaseException as exc:  # noqa: BLE001 - every failure is handed back to the caller
        try:
            payload = pickle.dumps((False, exc))
            pickle.loads(payload)  # an exception class the parent cannot rebuild must not travel as itself
            return payload
        except Exception:
            text = "".join(traceback.format_exception(exc))
            return pickle.dumps((False, BackgroundError(text)))
