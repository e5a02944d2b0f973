"""The property (de)serialisers swapped in while a program runs (offline/accel/sdk_wire.py) answer exactly as
the SDK's own: same values, same types, same key order, same dependencies, same errors."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional, Union

import pulumi
import pulumi_kubernetes as k8s
import pytest
from google.protobuf import struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.output import Unknown
from pulumi.runtime import rpc

from offline import accel
from offline.accel import sdk_wire, swapped
from offline.runtime import run_program
from offline.stack_config import load_stack_config

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.accel(name="sdk-wire")
meta_in, net_in = k8s.meta.v1, k8s.networking.v1
meta_out, net_out = k8s.meta.v1.outputs, k8s.networking.v1.outputs


class Colour(str, enum.Enum):  # noqa: UP042 - as generated SDKs declare their enums
    RED = "red"


class Size(enum.IntEnum):
    ONE = 1


def outcome(call: Callable[[], Any]) -> Any:
    try:
        return ("returned", shape(call()))
    except Exception as error:  # noqa: BLE001 - the SDK's errors are part of what must match
        return ("raised", type(error).__name__, str(error))


def shape(value: Any) -> Any:
    """`value` with every type and the order of keys made visible: 1 == 1.0 == True in Python."""
    if isinstance(value, Unknown):
        return "<unknown>"
    if isinstance(value, dict):
        return (type(value).__name__, [(k, shape(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [shape(v) for v in value])
    return (type(value).__name__, value)


def with_ours(name: str, call: Callable[[], Any]) -> Any:
    """`call` while the SDK's module global `name` is ours, as during a run (its recursion comes back)."""
    with swapped(rpc, name, getattr(sdk_wire, name)):
        return outcome(call)


# --- serialize_property -------------------------------------------------------------------------------

py_keys = st.sampled_from(["name", "namespace", "match_labels", "matchLabels", "cidr", "except_", "ip_block", "x"])
plain = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=4), st.just(rpc.UNKNOWN)
)
strings = st.text(max_size=4)
label_selectors = st.builds(
    meta_in.LabelSelectorArgs, match_labels=st.none() | st.dictionaries(strings, strings, max_size=2)
)
ip_blocks = st.builds(net_in.IPBlockArgs, cidr=strings, except_=st.none() | st.lists(strings, max_size=2))
peers = st.builds(
    net_in.NetworkPolicyPeerArgs, ip_block=st.none() | ip_blocks, pod_selector=st.none() | label_selectors
)
inputs = st.recursive(
    plain | label_selectors | ip_blocks | peers | st.just(Colour.RED),
    lambda children: (
        st.lists(children, max_size=3)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(py_keys | strings, children, max_size=3)
    ),
    max_leaves=12,
)
input_annotations = st.sampled_from(
    [
        None,
        Any,
        str,
        Optional[pulumi.Input[str]],  # noqa: UP007,UP045 - typing's forms, as generated SDKs annotate
        pulumi.Input[Mapping[str, pulumi.Input[str]]],
        dict[str, int],
        dict,
        dict[int, str],
        Sequence[pulumi.Input[str]],
        list,
        meta_in.LabelSelectorArgs,
        Optional[pulumi.Input[net_in.NetworkPolicyPeerArgs]],  # noqa: UP007,UP045 - typing's forms, as generated SDKs annotate
        Union[meta_in.LabelSelectorArgs, net_in.IPBlockArgs],  # noqa: UP007,UP045 - typing's forms, as generated SDKs annotate
        pulumi.Input[Sequence[pulumi.Input[net_in.NetworkPolicyPeerArgs]]],
    ]
)


def serialized(fn: Any, value: Any, typ: Any, transformer: Any) -> Any:
    deps: list[Any] = []
    loop = asyncio.new_event_loop()  # not asyncio.run: it leaves the thread without a loop, which runs need
    try:
        result = loop.run_until_complete(fn(value, deps, "prop", None, transformer, typ))
    finally:
        loop.close()
    return result, deps


@settings(max_examples=400)
@given(inputs, input_annotations, st.sampled_from([None, str.upper]))
def test_serialize_property_answers_as_the_sdks(value: Any, typ: Any, transformer: Any) -> None:
    sdk = outcome(lambda: serialized(rpc.serialize_property, value, typ, transformer))
    ours = with_ours("serialize_property", lambda: serialized(sdk_wire.serialize_property, value, typ, transformer))
    assert ours == sdk


def test_serialize_property_reports_an_unsupported_value_as_the_sdk_does() -> None:
    value = {"spec": [{"when": object()}]}
    sdk = outcome(lambda: serialized(rpc.serialize_property, value, None, None))
    assert sdk[0] == "raised" and "unexpected input of type object for when" in sdk[2]
    assert with_ours("serialize_property", lambda: serialized(sdk_wire.serialize_property, value, None, None)) == sdk


# --- deserialize_property(ies) ------------------------------------------------------------------------

wire_keys = st.sampled_from(["a", "b", "__internal", "__provider", "metadata"]) | st.text(max_size=3)
wire_plain = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False), st.text(max_size=4), st.just(rpc.UNKNOWN))
wire_values = st.recursive(
    wire_plain,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(wire_keys, children, max_size=3)
        | children.map(lambda v: {rpc._special_sig_key: rpc._special_secret_sig, "value": v})
    ),
    max_leaves=12,
)


@settings(max_examples=300)
@given(st.dictionaries(wire_keys, wire_values, max_size=4), st.sampled_from([None, True]), st.booleans())
def test_deserializing_a_struct_answers_as_the_sdk(
    value: dict[str, Any], keep_unknowns: Any, keep_internal: Any
) -> None:
    wire = struct_pb2.Struct()
    wire.update(value)
    whole = [(name, wire) for name in ("deserialize_property", "deserialize_properties")]
    by_key = [("deserialize_property", wire[key]) for key in value]  # as resolve_outputs reads inputs back
    for name, message in whole + by_key:

        def decode(module: Any, name: str = name, message: Any = message) -> Any:
            return getattr(module, name)(message, keep_unknowns, keep_internal)

        assert with_ours(name, lambda: decode(sdk_wire)) == outcome(lambda: decode(rpc))


def test_an_unset_value_is_refused_as_protobuf_refuses_it() -> None:
    wire = struct_pb2.Struct()
    wire.fields["empty"].SetInParent()  # a Value with no kind
    assert outcome(lambda: sdk_wire.deserialize_properties(wire)) == outcome(lambda: rpc.deserialize_properties(wire))


# --- translate_output_properties ----------------------------------------------------------------------

camel_keys = st.sampled_from(["matchLabels", "matchExpressions", "key", "operator", "values", "cidr", "except", "x"])
outputs = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.sampled_from(["red", "a", ""])),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(camel_keys | strings, children, max_size=3)
        | children.map(rpc.wrap_rpc_secret)
    ),
    max_leaves=12,
)
output_annotations = st.sampled_from(
    [
        None,
        Any,
        int,
        Optional[int],  # noqa: UP007,UP045 - typing's forms, as generated SDKs annotate
        str,
        float,
        Colour,
        Size,
        dict[str, int],
        Mapping[str, str],
        Mapping[str, Any],
        dict,
        dict[int, str],
        list[int],
        list,
        Sequence[meta_out.LabelSelectorRequirement],
        meta_out.LabelSelector,
        Optional[meta_out.ObjectMeta],  # noqa: UP007,UP045 - typing's forms, as generated SDKs annotate
        Union[meta_out.LabelSelector, net_out.IPBlock],  # noqa: UP007,UP045 - typing's forms, as generated SDKs annotate
    ]
)


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


@settings(max_examples=400)
@given(outputs, output_annotations, st.sampled_from([lambda k: k, snake]), st.booleans(), st.booleans())
def test_translate_output_properties_answers_as_the_sdks(
    output: Any, typ: Any, transformer: Any, by_metadata: bool, none_on_mismatch: bool
) -> None:
    path = rpc._Path("spec", resource="web")

    def translate(fn: Any) -> Any:
        return fn(output, transformer, typ, by_metadata, path, none_on_mismatch)

    sdk = outcome(lambda: translate(rpc.translate_output_properties))
    assert with_ours("translate_output_properties", lambda: translate(sdk_wire.translate_output_properties)) == sdk


def test_a_dict_of_the_wrong_type_is_reported_with_its_path_as_the_sdk_does() -> None:
    output = {"selector": [{"matchLabels": {"a": "b"}}]}
    typ = dict[str, list[int]]
    path = rpc._Path("spec", resource="web")
    sdk = outcome(lambda: rpc.translate_output_properties(output, snake, typ, True, path))
    assert sdk[0] == "raised" and "property `spec.selector.0`" in sdk[2]
    ours = with_ours(
        "translate_output_properties", lambda: sdk_wire.translate_output_properties(output, snake, typ, True, path)
    )
    assert ours == sdk


# --- the whole program ------------------------------------------------------------------------------


def registrations(stack: str, accelerators: accel.Selection) -> Iterator[tuple[Any, ...]]:
    run = run_program(REPO, load_stack_config(REPO, stack, {}), accelerators)
    assert run.error is None
    for r in run.registrations:
        yield r.urn, shape(r.inputs), shape(r.outputs), r.dependencies, r.property_dependencies


def test_the_staging_program_registers_the_same_with_the_sdks_own_serialisers() -> None:
    ours = list(registrations("staging", accel.Selection(frozenset({"sdk-wire"}))))
    assert ours == list(registrations("staging", accel.STOCK))
