"""What makes render cheaper must not change what it computes: the SDK helper swapped during a run
answers as the SDK's own does, and the collector is tuned only for as long as a run lasts."""

from __future__ import annotations

import gc
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pulumi.output import Unknown
from pulumi.runtime import rpc

from offline.gc_tuning import RELAXED_THRESHOLDS, relaxed_gc, survivors_frozen, young_survivors_frozen
from offline.runtime import contains_unknowns

SDK_CONTAINS_UNKNOWNS = rpc.contains_unknowns  # the module's own, outside any program run

leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.just(Unknown()))
values = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=4),
    max_leaves=30,
)


@given(values)
def test_contains_unknowns_answers_as_the_sdks(value: Any) -> None:
    assert contains_unknowns(value) is SDK_CONTAINS_UNKNOWNS(value)


def test_contains_unknowns_finds_one_deep_inside_and_survives_cycles() -> None:
    deep: dict[str, Any] = {"a": [1, {"b": [{"c": Unknown()}]}]}
    assert contains_unknowns(deep)
    looped: list[Any] = [1, {"x": "y"}]
    looped.append(looped)
    assert not contains_unknowns(looped) and not SDK_CONTAINS_UNKNOWNS(looped)
    looped.append(Unknown())
    assert contains_unknowns(looped)


def test_contains_unknowns_makes_no_cyclic_garbage() -> None:
    value = {"spec": [{"name": "x"}] * 10}
    gc.collect()
    gc.disable()
    try:
        for _ in range(100):
            SDK_CONTAINS_UNKNOWNS(value)
        sdk_garbage = gc.collect()
        for _ in range(100):
            contains_unknowns(value)
        ours = gc.collect()
    finally:
        gc.enable()
    assert sdk_garbage >= 100 and ours == 0  # the SDK's leaves a function/cell cycle per call


def test_collector_settings_are_restored_after_a_run() -> None:
    before = gc.get_threshold()
    with relaxed_gc(), survivors_frozen():
        assert gc.get_threshold() == RELAXED_THRESHOLDS
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_survivors_of_young_collections_are_frozen_and_thawed_after() -> None:
    callbacks = list(gc.callbacks)
    with young_survivors_frozen():
        kept = [[i] for i in range(1_000)]  # tracked objects that survive
        garbage: list[Any] = []
        garbage.append(garbage)  # a cycle only the collector can free
        del garbage
        assert gc.collect(0) >= 1  # the young cycle is still found
        assert gc.get_freeze_count() >= len(kept)
    assert gc.get_freeze_count() == 0 and gc.callbacks == callbacks
