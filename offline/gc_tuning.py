"""Garbage collection tuned for one large, short-lived run: a program and its offline preview.

The SDK allocates a great many objects that live to the end of the run. At the default thresholds
(700, 10, 10) the collector runs every 700 allocations and each older collection walks every survivor,
so its cost grows with the stack. Rarer collections find the same young garbage, and survivors that
live to the end (the SDK's resources, the registrations) need not be walked again. None of this changes
what a run computes; bench/NOTES.md has what it bought.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# Collector thresholds while a program or a preview runs (defaults 700, 10, 10).
RELAXED_THRESHOLDS = (20_000, 50, 1_000)


@contextlib.contextmanager
def relaxed_gc() -> Iterator[None]:
    """Rarer collections inside the block; the previous thresholds after it."""
    saved = gc.get_threshold()
    gc.set_threshold(*RELAXED_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


@contextlib.contextmanager
def survivors_frozen() -> Iterator[None]:
    """Everything alive on entry is left out of collections until the block ends (`gc.freeze`). A fork
    made inside inherits that, and its collector no longer writes to the pages it shares with us."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def young_survivors_frozen() -> Iterator[None]:
    """After each young collection, what survived it is frozen too, so older collections have nothing
    to walk; on exit everything is unfrozen. For a program run: what survives a young collection
    mostly lives to its end (its resources), so collections of the middle generation would walk it
    again and again. Cycles that die after surviving one (mostly the SDK's finished tasks) wait for a
    collection after the run: collecting them during it costs time and does not lower peak memory."""

    def freeze_survivors(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 0:
            gc.freeze()

    gc.callbacks.append(freeze_survivors)
    try:
        yield
    finally:
        gc.callbacks.remove(freeze_survivors)
        gc.unfreeze()
