"""What makes the preview cheaper must not change what it computes: the SDK helpers swapped during a
run answer as the SDK's own do (the `sdk-helpers` accelerator), the monitor's one-pass decoding gives
what the wire carried, its shortcuts answer as the SDK's path does (`monitor-shortcuts`), the analyzer
reads a Struct as MessageToDict does (`policy-servicer`), and the collector is tuned only for as long as
a run lasts. Each accelerator's tests carry its `accel` mark (offline/accel/__init__.py)."""

from __future__ import annotations

import gc
import logging
import threading
import typing
from pathlib import Path
from typing import Any

import pulumi
import pytest
from google.protobuf import json_format, struct_pb2
from hypothesis import given
from hypothesis import strategies as st
from pulumi.output import Unknown
from pulumi.runtime import rpc, settings
from pulumi.runtime.proto.resource_pb2 import SupportsFeatureRequest
from pulumi.runtime.sync_await import _sync_await

from offline import accel, monitor
from offline.accel import sdk_swaps
from offline.accel.analyzer import struct_as_dict
from offline.accel.monitor import to_struct
from offline.accel.sdk_swaps import contains_unknowns, memoised_by_identity, quiet_debug
from offline.gc_tuning import RELAXED_THRESHOLDS, relaxed_gc, survivors_frozen, young_survivors_frozen
from offline.mocks import OfflineMocks
from offline.records import Secret, contains_secret, normalize_numbers, to_wire
from offline.runtime import run_program
from offline.stack_config import StackConfig, load_stack_config

REPO = Path(__file__).resolve().parents[1]

SDK_CONTAINS_UNKNOWNS = rpc.contains_unknowns  # the module's own, outside any program run
sdk_helpers = pytest.mark.accel(name="sdk-helpers")
monitor_shortcuts = pytest.mark.accel(name="monitor-shortcuts")

leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.just(Unknown()))
values = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=4),
    max_leaves=30,
)


@sdk_helpers
@given(values)
def test_contains_unknowns_answers_as_the_sdks(value: Any) -> None:
    assert contains_unknowns(value) is SDK_CONTAINS_UNKNOWNS(value)


@sdk_helpers
def test_contains_unknowns_finds_one_deep_inside_and_survives_cycles() -> None:
    deep: dict[str, Any] = {"a": [1, {"b": [{"c": Unknown()}]}]}
    assert contains_unknowns(deep)
    looped: list[Any] = [1, {"x": "y"}]
    looped.append(looped)
    assert not contains_unknowns(looped) and not SDK_CONTAINS_UNKNOWNS(looped)
    looped.append(Unknown())
    assert contains_unknowns(looped)


@sdk_helpers
def test_debug_messages_reach_the_sdk_only_when_the_root_logger_takes_them() -> None:
    sent: list[tuple[Any, ...]] = []
    debug = quiet_debug(lambda *args: sent.append(args))
    root = logging.getLogger()
    saved = root.level
    try:
        root.setLevel(logging.WARNING)
        debug("dropped")
        root.setLevel(logging.DEBUG)
        debug("kept", "resource", 7, True)
    finally:
        root.setLevel(saved)
    assert sent == [("kept", "resource", 7, True)]


@sdk_helpers
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


plain_leaves = st.one_of(st.booleans(), st.integers(-(2**40), 2**40), st.floats(-1e6, 1e6), st.text(max_size=5))
recorded = st.recursive(
    plain_leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=3), children, max_size=4)
        | children.map(Secret)
    ),
    max_leaves=30,
)


@given(st.dictionaries(st.text(max_size=3), recorded, max_size=4))
def test_decoding_gives_back_what_was_sent(value: dict[str, Any]) -> None:
    wire = struct_pb2.Struct()
    wire.update(to_wire(value))  # every number travels as a double, secrets in their envelope
    assert typed(monitor.decode(wire)) == typed(normalize_numbers(value))


@given(
    st.dictionaries(
        st.text(max_size=3),
        st.recursive(
            st.one_of(st.none(), plain_leaves),
            lambda children: (
                st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=4)
            ),
            max_leaves=30,
        ),
        max_size=4,
    )
)
@pytest.mark.accel(name="policy-servicer")
def test_the_analyzer_reads_a_struct_as_message_to_dict_does(value: dict[str, Any]) -> None:
    wire = struct_pb2.Struct()
    wire.update(value)
    assert typed(struct_as_dict(wire)) == typed(json_format.MessageToDict(wire))


def typed(value: Any) -> Any:
    """`value` with each leaf paired with its type: 3 and 3.0 are equal in Python, not here."""
    if isinstance(value, Secret):
        return ("secret", typed(value.value))
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return (type(value).__name__, value)


@given(st.dictionaries(st.text(max_size=3), recorded, max_size=4))
def test_decoding_tells_whether_a_secret_was_inside(value: dict[str, Any]) -> None:
    wire = struct_pb2.Struct()
    wire.update(to_wire(value))
    secrets: list[Secret] = []
    monitor.decode(wire, secrets)
    assert bool(secrets) is contains_secret(value)  # the monitor reveals inputs for the mocks only then


def test_decoding_leaves_out_unset_keys_but_keeps_an_unset_secret() -> None:
    wire = struct_pb2.Struct()
    wire.update({"gone": None, "kept": to_wire(Secret(None)), "nested": {"gone": None, "n": 3.0}})
    assert typed(monitor.decode(wire)) == typed({"kept": Secret(None), "nested": {"n": 3}})


ECHO_PROGRAM = """
import pulumi
import pulumi_kubernetes as k8s
deployment = k8s.apps.v1.Deployment("web", metadata={"name": "web", "namespace": "team-a"}, spec={
    "replicas": 2,
    "selector": {"matchLabels": {"app": "web"}},
    "template": {"metadata": {"labels": {"app": "web"}},
                 "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}},
})
pulumi.export("replicas", deployment.spec.replicas)
pulumi.export("port", deployment.spec.template.spec.containers[0].ports[0].container_port)
pulumi.export("labels", deployment.spec.template.metadata.labels)
pulumi.export("namespace", deployment.metadata.namespace)
"""


def echo_run(program: Path, monkeypatch: Any, accelerators: accel.Selection) -> tuple[Any, list[Any]]:
    """ECHO_PROGRAM run with `accelerators`; the run and the monitor's responses."""
    (program / "Pulumi.yaml").write_text("name: echo\nruntime: python\n")
    (program / "__main__.py").write_text(ECHO_PROGRAM)
    responses: list[Any] = []
    register = monitor.RecordingMonitor.RegisterResource

    def recorded_register(self: Any, request: Any) -> Any:
        responses.append(response := register(self, request))
        return response

    monkeypatch.setattr(monitor.RecordingMonitor, "RegisterResource", recorded_register)
    run = run_program(program, StackConfig("echo", "dev", {}), accelerators)
    assert run.error is None
    return run, responses


@monitor_shortcuts
def test_outputs_left_out_of_the_response_resolve_as_the_inputs(tmp_path: Path, monkeypatch: Any) -> None:
    run, responses = echo_run(tmp_path, monkeypatch, accel.Selection(frozenset({"monitor-shortcuts"})))
    assert [len(r.object.fields) for r in responses if r.id] == [0]  # the Deployment's outputs were left out
    stock_run, stock_responses = echo_run(tmp_path, monkeypatch, accel.STOCK)
    assert [len(r.object.fields) > 0 for r in stock_responses if r.id] == [True]  # the SDK's MockMonitor's way
    assert (
        run.exports == stock_run.exports == {"replicas": 2, "port": 80, "labels": {"app": "web"}, "namespace": "team-a"}
    )


@monitor_shortcuts
@given(st.dictionaries(st.text(max_size=3), recorded, max_size=4))
def test_the_response_struct_is_the_sdks(value: dict[str, Any]) -> None:
    """What the shortcut puts in a response is what the SDK's serializer (the stock monitor's) makes."""
    expected = _sync_await(rpc.serialize_properties(to_wire(normalize_numbers(value)), {}))
    assert to_struct(normalize_numbers(value)) == expected


@monitor_shortcuts
def test_monitor_calls_run_inline_only_during_a_run_with_the_shortcuts(tmp_path: Path, monkeypatch: Any) -> None:
    threads: list[str] = []
    register = monitor.RecordingMonitor.RegisterResource

    def noting_thread(self: Any, request: Any) -> Any:
        threads.append(threading.current_thread().name)
        return register(self, request)

    monkeypatch.setattr(monitor.RecordingMonitor, "RegisterResource", noting_thread)
    (tmp_path / "Pulumi.yaml").write_text("name: echo\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(ECHO_PROGRAM)
    for accelerators in (accel.Selection(frozenset({"monitor-shortcuts"})), accel.STOCK):
        threads.clear()
        assert run_program(tmp_path, StackConfig("echo", "dev", {}), accelerators).error is None
        inline = set(threads) == {threading.main_thread().name}
        assert inline is (accelerators is not accel.STOCK), threads


@sdk_helpers
def test_aliases_reach_the_monitor_as_they_would_without_client_side_urns(tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: echo\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(
        ECHO_PROGRAM.replace("spec={", 'opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old-web")]), spec={')
    )
    register = monitor.RecordingMonitor.RegisterResource

    def aliases_sent() -> list[list[str]]:
        sent: list[list[str]] = []

        def recorded_register(self: Any, request: Any) -> Any:
            sent.append(sorted(alias.SerializeToString(deterministic=True).hex() for alias in request.aliases))
            return register(self, request)

        monkeypatch.setattr(monitor.RecordingMonitor, "RegisterResource", recorded_register)
        assert run_program(tmp_path, StackConfig("echo", "dev", {}), accel.ALL).error is None
        return sent

    swapped = aliases_sent()
    monkeypatch.setattr(sdk_swaps, "alias_urn_left_out", pulumi.resource.collapse_alias_to_urn)  # the SDK's own
    assert swapped == aliases_sent()
    assert len(swapped[-1]) >= 2  # the Deployment's own alias and pulumi_kubernetes' older API types


@sdk_helpers
def test_the_monitor_takes_aliases_as_specs() -> None:
    """Why `Resource._aliases` (client-side alias URNs) need not be worked out: see sdk_swaps.alias_urn_left_out."""
    recording = monitor.RecordingMonitor(OfflineMocks(), "echo", "dev")
    assert recording.SupportsFeature(SupportsFeatureRequest(id="aliasSpecs")).hasSupport


@sdk_helpers
def test_remembered_type_helpers_tell_equal_but_reordered_unions_apart() -> None:
    calls: list[Any] = []

    def members(annotation: Any) -> Any:
        calls.append(annotation)
        return typing.get_args(annotation)

    remembered = memoised_by_identity(members)
    a_or_b, b_or_a = int | str, str | int
    assert a_or_b == b_or_a  # typing's equality: a cache keyed by it would answer for the wrong order
    assert remembered(a_or_b) == (int, str) and remembered(b_or_a) == (str, int)
    assert remembered(a_or_b) == (int, str) and len(calls) == 2  # the second call for a_or_b was remembered


@sdk_helpers
def test_a_remembered_type_helper_does_not_remember_a_failure() -> None:
    remembered = memoised_by_identity(rpc._get_list_element_type)
    with pytest.raises(AssertionError, match="Expected 'list'"):
        remembered(dict[str, int])
    with pytest.raises(AssertionError, match="Expected 'list'"):
        remembered(dict[str, int])
    assert remembered(list[int]) is int


def staging_registrations() -> list[tuple[Any, ...]]:
    run = run_program(REPO, load_stack_config(REPO, "staging", {}), accel.Selection(frozenset({"sdk-helpers"})))
    assert run.error is None
    return [(r.urn, r.inputs, r.outputs, r.dependencies, r.property_dependencies) for r in run.registrations]


@sdk_helpers
def test_the_staging_program_registers_the_same_with_the_sdks_own_type_helpers(monkeypatch: Any) -> None:
    swapped = staging_registrations()
    monkeypatch.setattr(sdk_swaps, "TYPE_HELPERS", ())  # nothing remembered: the SDK's helpers answer
    assert swapped == staging_registrations()


@sdk_helpers
def test_the_staging_program_registers_the_same_with_client_side_urns(monkeypatch: Any) -> None:
    swapped = staging_registrations()
    monkeypatch.setattr(sdk_swaps, "urn_left_to_the_monitor", lambda sdk_create_urn: sdk_create_urn)
    assert swapped == staging_registrations()


@sdk_helpers
def test_without_a_monitor_the_urn_is_worked_out_as_the_sdk_does(monkeypatch: Any) -> None:
    calls: list[tuple[Any, ...]] = []
    create_urn = sdk_swaps.urn_left_to_the_monitor(lambda *args: calls.append(args) or "urn")
    monkeypatch.setattr(settings, "get_monitor", lambda: None)
    assert create_urn("web", "k8s:Deployment", None) == "urn" and calls == [("web", "k8s:Deployment", None, None, None)]
    monkeypatch.setattr(settings, "get_monitor", lambda: object())
    assert isinstance(create_urn("web", "k8s:Deployment"), pulumi.Output) and len(calls) == 1
