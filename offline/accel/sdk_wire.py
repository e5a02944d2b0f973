"""The `sdk-wire` accelerator: the SDK's property (de)serialisers with fast paths for plain values, swapped
in while a program runs.

Every property of every resource goes through `rpc.serialize_property` on its way to the monitor, and
back through `rpc.deserialize_property` and `rpc.translate_output_properties` when its outputs resolve
from its inputs. The SDK asks a dozen questions of every value, each string and number included
(is it a sequence, an unknown, a resource, an asset, an archive, awaitable, an output, an input type, a
mapping, a protobuf value, legal?), and serialising awaits a coroutine per value.

Each function here answers the common cases itself, in the SDK's order and with its rules (exact
`str`/`int`/`float`/`bool`/`None`, exact `dict` and `list`, input types, protobuf Structs) and hands
everything else to the SDK's own function, whose recursion comes back here (it calls the module's
global, which is swapped). Type metadata the SDK works out per value is worked out once per type.
tests/test_sdk_wire.py compares each with the SDK's on generated values and typed specs.
"""

from __future__ import annotations

import inspect
import typing
from collections import abc
from enum import Enum
from typing import Any, get_args, get_origin

from google.protobuf import struct_pb2
from pulumi import _types
from pulumi.output import Unknown
from pulumi.runtime import rpc, settings

from ..records import SCALAR_TYPES
from .sdk_swaps import memoised_by_identity

SDK_SERIALIZE_PROPERTY = rpc.serialize_property
SDK_DESERIALIZE_PROPERTY = rpc.deserialize_property
SDK_DESERIALIZE_PROPERTIES = rpc.deserialize_properties
SDK_TRANSLATE_OUTPUT_PROPERTIES = rpc.translate_output_properties

_DICT_ORIGINS = (dict, typing.Dict, abc.Mapping, typing.Mapping)  # noqa: UP006 - the SDK's own list
_SIG = rpc._special_sig_key
_Struct, _ListValue = struct_pb2.Struct, struct_pb2.ListValue


def _str_keyed_dict_values(typ: Any) -> tuple[bool, Any]:
    """(is `typ` a dict type?, its value type when keyed by `str`, else None)."""
    if typ is dict or get_origin(typ) in _DICT_ORIGINS:
        args = get_args(typ)
        return True, (args[1] if len(args) == 2 and args[0] is str else None)
    return False, None


# --- serialising: Python inputs -> what the SDK puts on the wire -------------------------------------


class _DictPlan(typing.NamedTuple):
    """How the SDK's serialize_property treats a dict's keys and values under one type."""

    names: dict[str, str] | None  # an input type's Python name -> Pulumi name
    caller_keys: bool  # else keys stay as they are: the caller's `input_transformer` renames them
    types: dict[str, Any] | None  # an input type's Pulumi name -> property type
    value_type: Any  # a `dict[str, T]`'s T


@memoised_by_identity
def _dict_plan(typ: Any) -> _DictPlan:
    """`typ` is already unwrapped and not a union."""
    if typ is None:
        return _DictPlan(None, True, None, None)
    if _types.is_input_type(typ):
        return _DictPlan(_types.input_type_py_to_pulumi_names(typ), False, _types.input_type_types(typ), None)
    is_dict, value_type = _str_keyed_dict_values(typ)
    return _DictPlan(None, is_dict and value_type is None, None, value_type)


_is_discriminated_union = memoised_by_identity(_types.is_discriminated_union)
_is_input_class = memoised_by_identity(_types.is_input_type)


async def serialize_property(
    value: Any,
    deps: list[Any] | None,
    property_key: str | None,
    resource_obj: Any = None,
    input_transformer: Any = None,
    typ: Any = None,
    keep_output_values: bool = False,
    exclude_resource_refs_from_deps: bool = False,
    return_protobuf_value: bool = False,
) -> Any:
    cls = type(value)
    if cls in SCALAR_TYPES and not return_protobuf_value:
        return value  # the SDK's checks all fail for these, down to "a legal protobuf value"
    fast = not return_protobuf_value and not settings.excessive_debug_output
    if fast and (cls is list or cls is tuple):
        typ = _types.unwrap_type(typ) if typ else typ
        element_type = rpc._get_list_element_type(None if typ is Any else typ)
        items = []
        for item in value:
            if type(item) not in SCALAR_TYPES:
                item = await serialize_property(
                    item, deps, property_key, resource_obj, input_transformer, element_type,
                    keep_output_values, exclude_resource_refs_from_deps,
                )  # fmt: skip
            items.append(item)
        return items
    if fast and cls is dict:
        return await _serialize_dict(
            value, deps, resource_obj, input_transformer, typ, keep_output_values, exclude_resource_refs_from_deps
        )
    if fast and _is_input_class(cls):
        types = _types.input_type_types(cls)
        result = {}
        for key, item in _types.input_type_to_dict(value).items():
            if type(item) not in SCALAR_TYPES:
                item = await serialize_property(
                    item, deps, property_key, resource_obj, input_transformer, types.get(key),
                    keep_output_values, exclude_resource_refs_from_deps,
                )  # fmt: skip
            result[key] = item
        return result
    return await SDK_SERIALIZE_PROPERTY(
        value, deps, property_key, resource_obj, input_transformer, typ,
        keep_output_values, exclude_resource_refs_from_deps, return_protobuf_value,
    )  # fmt: skip


async def _serialize_dict(
    value: dict[Any, Any],
    deps: list[Any] | None,
    resource_obj: Any,
    input_transformer: Any,
    typ: Any,
    keep_output_values: bool,
    exclude_resource_refs_from_deps: bool,
) -> dict[Any, Any]:
    typ = _types.unwrap_type(typ) if typ else typ
    if typ is Any:
        typ = None
    if typ is not None and _is_discriminated_union(typ):
        member = _types.reduce_discriminated_union(typ, value, _types._py_name_for)
        typ = member if member is not None else typ
    plan = _dict_plan(typ)
    result = {}
    for key in value:
        if plan.names is not None:
            wire_key = plan.names.get(key) or key
        elif plan.caller_keys and input_transformer is not None:
            wire_key = input_transformer(key)
        else:
            wire_key = key
        item_type = plan.types.get(wire_key) if plan.types is not None else plan.value_type
        item = value[key]
        if type(item) not in SCALAR_TYPES:
            item = await serialize_property(
                item, deps, key, resource_obj, input_transformer, item_type,
                keep_output_values, exclude_resource_refs_from_deps,
            )  # fmt: skip
        result[wire_key] = item
    return result


# --- deserialising: the wire's Struct -> Python ------------------------------------------------------


def _unknown(keep_unknowns: bool | None) -> Any:
    return Unknown() if settings.is_dry_run() or keep_unknowns else None


def _from_value(value: struct_pb2.Value, keep_unknowns: bool | None, keep_internal: bool | None) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        text = value.string_value
        return _unknown(keep_unknowns) if text == rpc.UNKNOWN else text
    if kind == "number_value":
        return value.number_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "null_value":
        return None
    if kind == "struct_value":
        return deserialize_property(value.struct_value, keep_unknowns, keep_internal)
    if kind == "list_value":
        return deserialize_property(value.list_value, keep_unknowns, keep_internal)
    raise ValueError("Value not set")  # as protobuf's Struct accessors say


def deserialize_properties(
    props_struct: Any, keep_unknowns: bool | None = None, keep_internal: bool | None = True
) -> Any:
    if type(props_struct) is not _Struct or _SIG in props_struct.fields:
        return SDK_DESERIALIZE_PROPERTIES(props_struct, keep_unknowns, keep_internal)  # assets, secrets, refs
    output = {}
    for key, item in props_struct.fields.items():
        if keep_internal is False and key.startswith("__") and key != "__provider":
            continue
        decoded = _from_value(item, keep_unknowns, keep_internal)
        if decoded is not None:  # the SDK treats a value that decodes to None as absent
            output[key] = decoded
    return output


def deserialize_property(value: Any, keep_unknowns: bool | None = None, keep_internal: bool | None = True) -> Any:
    cls = type(value)
    if cls is str:
        return _unknown(keep_unknowns) if value == rpc.UNKNOWN else value
    if value is None or cls is float or cls is bool:
        return value
    if cls is _ListValue:
        items = [_from_value(item, keep_unknowns, keep_internal) for item in value.values]
        if any(rpc.is_rpc_secret(item) for item in items):
            return rpc.wrap_rpc_secret([rpc.unwrap_rpc_secret(item) for item in items])
        return items
    if cls is _Struct:
        props = deserialize_properties(value, keep_unknowns, keep_internal)
        if isinstance(props, dict) and any(rpc.is_rpc_secret(item) for item in props.values()):
            return rpc.wrap_rpc_secret({k: rpc.unwrap_rpc_secret(item) for k, item in props.items()})
        return props
    return SDK_DESERIALIZE_PROPERTY(value, keep_unknowns, keep_internal)


# --- translating: deserialised outputs -> typed Python values ----------------------------------------


@memoised_by_identity
def _leaf_rule(typ: Any) -> tuple[str, Any]:
    """What translate_output_properties does to a str/int/float/bool/None under `typ`:
    ("enum", the enum class), ("int", None) (floats become ints) or ("same", None)."""
    typ = _types.unwrap_optional_type(typ) if typ else typ
    if typ is Any or not typ:
        return "same", None
    if inspect.isclass(typ) and issubclass(typ, Enum):
        return "enum", typ
    return ("int", None) if typ is int else ("same", None)


def _leaf(output: Any, typ: Any) -> Any:
    if typ is None:
        return output
    rule, enum_class = _leaf_rule(typ)
    if rule == "enum" and output is not None:
        return enum_class(output)
    if rule == "int" and type(output) is float:
        return int(output)
    return output


@memoised_by_identity
def _output_dict_plan(typ: Any) -> tuple[str, Any]:
    """How translate_output_properties treats a dict given `typ` (unwrapped, not a union): ("output",
    property types), ("values", value type), ("keys", None) (translate keys, no types) or
    ("mismatch", None) (the SDK answers None or raises)."""
    if typ is None:
        return "keys", None
    if _types.is_output_type(typ):
        return "output", _types.output_type_types(typ)
    is_dict, value_type = _str_keyed_dict_values(typ)
    if not is_dict:
        return "mismatch", None
    return ("values", value_type) if value_type is not None else ("keys", None)


def translate_output_properties(
    output: Any,
    output_transformer: Any,
    typ: Any = None,
    transform_using_type_metadata: bool = False,
    path: Any = None,
    return_none_on_dict_type_mismatch: bool = False,
) -> Any:
    cls = type(output)
    if cls in SCALAR_TYPES:
        return _leaf(output, typ)
    args = (output_transformer, transform_using_type_metadata, return_none_on_dict_type_mismatch)
    if cls is dict and not rpc.is_rpc_secret(output):
        unwrapped = _types.unwrap_optional_type(typ) if typ else typ
        unwrapped = None if unwrapped is Any else unwrapped
        if unwrapped is not None and _is_discriminated_union(unwrapped):
            unwrapped = _types.reduce_discriminated_union(unwrapped, output, lambda _, name: name)
        kind, types = _output_dict_plan(unwrapped)
        if kind == "mismatch":
            return SDK_TRANSLATE_OUTPUT_PROPERTIES(output, output_transformer, typ, transform_using_type_metadata,
                                                   path, return_none_on_dict_type_mismatch)  # fmt: skip
        if kind == "output":
            translated = {k: _translate_item(v, types.get(k), k, path, args) for k, v in output.items()}
            return _types.output_type_from_dict(typing.cast(type, unwrapped), translated)
        if kind == "values":
            key_of = (lambda k: k) if transform_using_type_metadata else output_transformer
            return {key_of(k): _translate_item(v, types, k, path, args) for k, v in output.items()}
        return {output_transformer(k): _translate_item(v, None, k, path, args) for k, v in output.items()}
    if cls is list:
        unwrapped = _types.unwrap_optional_type(typ) if typ else typ
        element_type = rpc._get_list_element_type(None if unwrapped is Any else unwrapped)
        return [_translate_item(v, element_type, str(i), path, args) for i, v in enumerate(output)]
    return SDK_TRANSLATE_OUTPUT_PROPERTIES(output, output_transformer, typ, transform_using_type_metadata, path,
                                           return_none_on_dict_type_mismatch)  # fmt: skip


def _translate_item(item: Any, typ: Any, key: str, path: Any, args: tuple[Any, bool, bool]) -> Any:
    if type(item) in SCALAR_TYPES:
        return _leaf(item, typ)  # no path needed: only a dict of the wrong type reports one
    transformer, by_metadata, none_on_mismatch = args
    item_path = rpc._Path(key, parent=path)
    return translate_output_properties(item, transformer, typ, by_metadata, item_path, none_on_mismatch)


def swaps() -> list[tuple[Any, str, Any]]:
    """(module, name, replacement) for each SDK function replaced."""
    return [
        (rpc, "serialize_property", serialize_property),
        (rpc, "deserialize_property", deserialize_property),
        (rpc, "deserialize_properties", deserialize_properties),
        (rpc, "translate_output_properties", translate_output_properties),
    ]
