"""Resources checked while the program still runs, as the engine analyzes each one when it arrives.

The program registers resources on one core; the other has little to do until it ends. So once
BATCH registrations have arrived since the last batch, a fork takes them (it sees them copy-on-write:
nothing is serialised on the way in), validates the Kubernetes objects among them, writes their
manifests, runs the resource policies on them, and sends back what it found and the resources as
`AnalyzeStack` will want them (one serialised protobuf message). One fork at a time: a batch waits
until the last one has finished. After render, one more fork takes what is left and runs the stack
policies over every resource, while the preview writes its reports beside it.

Where fork is unavailable (or GATEHOUSE_PREVIEW_SERIAL is set) nothing runs during render and that
last step does all of it, in-process: the same findings either way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pulumi.runtime import proto

from . import manifests as mf
from .background import Background, forking
from .outputs import write_manifests
from .policy_runner import PolicyReport, PolicySession, Violation
from .records import Registration
from .validate import Result, Validator

BATCH = 2_000  # registrations per fork: each costs the program ~0.1 s (fork, copy-on-write)


@dataclass(frozen=True)
class CheckSetup:
    validator: Validator
    manifests_dir: Path
    policy_pack: Path
    policy_config: Path | None
    stack_tags: dict[str, str]


@dataclass
class BatchFindings:
    validation: dict[str, Result]  # by URN, for the Kubernetes objects of the batch
    violations: list[Violation]  # of resource policies
    stack_resources: bytes  # an AnalyzeStackRequest holding the batch's resources, serialised


@dataclass
class Findings:
    validation: dict[str, Result]  # every Kubernetes object's, by URN
    policy: PolicyReport
    seconds: float  # of the last step, after render


def check_batch(
    setup: CheckSetup, batch: list[Registration], known: list[Registration]
) -> tuple[BatchFindings, PolicySession]:
    """Validate, write and analyze `batch`; `known` holds every registration so far (providers)."""
    asyncio.events._set_running_loop(None)  # a fork made inside the program's loop is not in it
    manifests = [mf.manifest_of(r) for r in batch if mf.is_kubernetes_object(r)]
    validation = {m.urn: setup.validator.validate_object(m.obj) for m in manifests}
    write_manifests(setup.manifests_dir, manifests)
    session = PolicySession(setup.policy_pack, setup.policy_config, setup.stack_tags)
    violations, resources = session.analyze(batch, {r.urn: r for r in known})
    stack = proto.AnalyzeStackRequest(resources=resources).SerializeToString()
    return BatchFindings(validation, violations, stack), session


def check_rest(
    setup: CheckSetup, rest: list[Registration], known: list[Registration], earlier: list[BatchFindings]
) -> Findings:
    """The last batch, then the stack policies over the resources of every batch."""
    start = time.perf_counter()
    last, session = check_batch(setup, rest, known)
    found = [*earlier, last]
    # serialised messages of one type concatenate into one: their repeated fields join up
    stack = proto.AnalyzeStackRequest.FromString(b"".join(f.stack_resources for f in found))
    violations = [v for f in found for v in f.violations] + session.analyze_stack(list(stack.resources))
    return Findings(last.validation, session.report(violations), time.perf_counter() - start)


class RenderTimeChecks:
    """Schedules the batches; `registered` is the program run's `on_registered` hook."""

    def __init__(self, setup: CheckSetup, ready: Callable[[], bool] = lambda: True) -> None:
        self._setup = setup
        self._ready = ready  # whether batches may start (the CRD catalog is in)
        self._arrived: list[Registration] = []
        self._checked = 0  # registrations handed to batches, in order of arrival
        self._running: Background[BatchFindings] | None = None
        self._found: list[BatchFindings] = []
        self._error: BaseException | None = None
        self.batches = 0

    def registered(self, arrived: list[Registration]) -> None:
        """After each registration, on the program's thread: takes a finished batch, starts one when due.
        Never raises: a batch's failure is kept for `finish`, as the program must run on."""
        self._arrived = arrived
        if not forking() or self._error is not None or len(arrived) - self._checked < BATCH:
            return
        if self._running is not None:
            if not self._running.ready():
                return
            self._take_running()
        if self._error is None and self._ready():
            batch, known = arrived[self._checked :], list(arrived)
            self._checked = len(arrived)
            self.batches += 1
            self._running = Background(lambda: check_batch(self._setup, batch, known)[0])

    def _take_running(self) -> None:
        assert self._running is not None
        try:
            self._found.append(self._running.result())
        except BaseException as exc:  # noqa: BLE001 - raised again by finish()
            self._error = exc
        self._running = None

    def finish(self, registrations: list[Registration]) -> tuple[dict[str, Result], Background[Findings]]:
        """After render: validation found by the batches so far, and the last step, started.
        Raises what a batch raised (an invalid policy config, a policy that failed)."""
        if self._running is not None:
            self._take_running()
        if self._error is not None:
            raise self._error
        arrived = self._arrived if len(self._arrived) == len(registrations) else registrations
        rest = arrived[self._checked :]
        earlier = list(self._found)
        validation = {urn: result for found in earlier for urn, result in found.validation.items()}
        return validation, Background(lambda: check_rest(self._setup, rest, registrations, earlier))

    def cancel(self) -> None:
        """Stop a batch still running (a failed run leaves no process behind)."""
        if self._running is not None:
            self._running.cancel()
            self._running = None
