"""Running a real Pulumi program under the SDK's own mock runtime, recording every registration.

The program runs as the language host would run it, against the recording monitor (offline/monitor.py)
and the providers' stand-ins (offline/mocks.py). The accelerators a run selects (offline/accel/) replace
SDK functions for as long as it lasts and answer for the monitor; the stock path uses neither.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import runpy
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from . import accel
from .gc_tuning import relaxed_gc, young_survivors_frozen
from .mocks import OfflineMocks
from .monitor import RecordingMonitor
from .records import Registration, Secret, normalize_numbers
from .stack_config import StackConfig


@dataclass
class ProgramRun:
    registrations: list[Registration]
    component_outputs: dict[str, dict[str, Any]]
    exports: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None


STALL_CHECKS = 10  # looks at what is still in flight, 50 ms apart, before giving up on it


async def _cancel_when_stalled(keep: set[asyncio.Task[Any]]) -> None:
    """After the program failed: let what is in flight finish, and once nothing has finished for
    STALL_CHECKS looks in a row, cancel what is left (it waits on something that will never come)."""
    me = asyncio.current_task()
    previous: set[asyncio.Task[Any]] = set()
    unchanged = 0
    while unchanged < STALL_CHECKS:
        await asyncio.sleep(0.05)
        pending = {t for t in asyncio.all_tasks() if not t.done()} - keep - {me}
        if not pending:
            return
        unchanged = unchanged + 1 if pending == previous else 0
        previous = pending
    for task in previous:
        task.cancel()


class _LoopClosingPool(concurrent.futures.ThreadPoolExecutor):
    """A thread pool, as asyncio's default executor is, that remembers the event loop each of its threads
    has after a call (the SDK opens one in each, `_ensure_event_loop`, and never closes it)."""

    def __init__(self) -> None:
        super().__init__()
        self.loops: set[asyncio.AbstractEventLoop] = set()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        return super().submit(self._noting_the_loop, fn, *args, **kwargs)

    def _noting_the_loop(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        finally:
            with contextlib.suppress(RuntimeError):  # no loop in this thread
                self.loops.add(asyncio.get_event_loop_policy().get_event_loop())


@contextlib.contextmanager
def pooled_calls(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """The monitor calls of a stock run on a thread pool, as asyncio runs them; after the run the pool's
    threads end and the event loops the SDK opened in them are closed (left to the collector, they fail
    to close, and say so, wherever it finds them). Then `loop` gets a fresh pool, as asyncio makes one."""
    pool = _LoopClosingPool()
    loop.set_default_executor(pool)
    try:
        yield
    finally:
        pool.shutdown(wait=True)
        for opened in pool.loops:
            if not opened.is_closed():
                opened.close()
        loop.set_default_executor(concurrent.futures.ThreadPoolExecutor())


@contextlib.contextmanager
def _program_context(program_dir: Path, accelerators: accel.Selection) -> Iterator[None]:
    """Like the language host: the program's folder is the working directory and on sys.path. The SDK
    functions the selected accelerators replace are swapped meanwhile."""
    saved_path, saved_cwd = list(sys.path), os.getcwd()
    sys.path.insert(0, str(program_dir))
    os.chdir(program_dir)
    try:
        with accel.sdk_swapped(accelerators):
            yield
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path


async def _collect_exports(exports: dict[str, Any]) -> dict[str, Any]:
    collected: dict[str, Any] = {}
    for key, value in exports.items():
        output = pulumi.Output.from_input(value)
        resolved = normalize_numbers(await output.future())
        collected[key] = Secret(resolved) if await output.is_secret() else resolved
    return collected


def run_program(program_dir: Path, config: StackConfig, accelerators: accel.Selection | None = None) -> ProgramRun:
    """Run `<program_dir>/__main__.py` to completion under mocks; never raises for program errors.
    `accelerators`: those to use (default: `accel.select()`; `accel.STOCK` runs the SDK as shipped)."""
    accelerators = accel.select() if accelerators is None else accelerators
    shortcuts = accelerators.load("monitor-shortcuts")
    pulumi.runtime.set_all_config(config.values, config.secret_keys)
    pulumi.runtime.reset_options(project=config.project, stack=config.stack, preview=False)
    mocks = OfflineMocks()
    monitor = (RecordingMonitor if shortcuts is None else shortcuts.ShortcutMonitor)(
        mocks, config.project, config.stack
    )
    pulumi.runtime.set_mocks(mocks, project=config.project, stack=config.stack, preview=False, monitor=monitor)
    main = program_dir.resolve() / "__main__.py"
    exports: dict[str, Any] = {}

    failures: list[BaseException] = []
    watchdogs: list[asyncio.Task[None]] = []  # at most one, started when the program fails
    executor = contextlib.ExitStack()  # what runs the monitor calls, on the loop the program runs on

    def program() -> Any:
        calls = pooled_calls if shortcuts is None else shortcuts.calls_inline
        executor.enter_context(calls(asyncio.get_event_loop()))
        try:
            runpy.run_path(str(main), run_name="__main__")
        except BaseException as exc:
            # The SDK waits for every registration in flight before it reports the error, and one waiting
            # on an output the failed program never resolved (a `pulumi.deferred_output()`) waits forever.
            failures.append(exc)
            running = asyncio.current_task()  # the SDK's own, which reports the error
            watchdogs.append(asyncio.ensure_future(_cancel_when_stalled({running} if running else set())))
            raise
        root = pulumi.runtime.get_root_resource()
        outputs = dict(getattr(root, "outputs", {}) or {})
        return asyncio.ensure_future(_collect_exports(outputs))

    def capture(values: dict[str, Any]) -> None:
        exports.update(values)

    error: BaseException | None = None
    with _program_context(program_dir.resolve(), accelerators), relaxed_gc(), young_survivors_frozen():
        try:
            pulumi.runtime.test(lambda: pulumi.Output.from_input(program()).apply(capture))()
        except Exception as exc:  # the program's own failure is a finding, not a crash
            error = failures[0] if failures else exc
        except asyncio.CancelledError:  # the registrations cancelled after the program failed
            if not failures:
                raise
            error = failures[0]
        finally:
            # the event loop outlives this run: a watchdog left waiting would cancel the next run's work
            for watchdog in watchdogs:
                watchdog.cancel()
            executor.close()
    registrations = sorted(monitor.registrations, key=lambda r: r.urn)
    return ProgramRun(registrations, dict(monitor.component_outputs), exports, error)
