"""The `sdk-helpers` accelerator: SDK helpers swapped while a program runs offline, for ones with the
same answers and less work per resource.

Each swap is tested against the SDK's own helper (tests/test_runtime_speed.py). None changes what a
program registers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import pulumi
from pulumi import _types
from pulumi.output import Unknown
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime import rpc, settings
from pulumi.runtime.proto import source_pb2

from ..records import SCALAR_TYPES

R = TypeVar("R")

# Pure functions of a type annotation (or a resource class) that the SDK works out again for every
# property of every resource.
TYPE_HELPERS = (
    (_types, "unwrap_type"),
    (_types, "unwrap_optional_type"),
    (_types, "resource_types"),
    (_types, "resource_pulumi_to_py_names"),  # a new dict per call, read only
    (_types, "input_type_py_to_pulumi_names"),
    (rpc, "_get_list_element_type"),
)


def contains_unknowns(val: Any) -> bool:
    """The SDK's `rpc.contains_unknowns`, same answer, without its garbage.

    The SDK's version defines a recursive closure on every call (a reference cycle: function, cell,
    annotation objects) and runs for every Output: cyclic garbage that only the collector frees, most of
    what it works through during render. This one walks the same values (dict
    values, list items, each object once) without recursion, and stops at the first unknown.
    """
    if type(val) in SCALAR_TYPES:
        return False  # most Outputs hold a string: no set, no list
    seen: set[int] = set()
    pending = [val]
    while pending:
        item = pending.pop()
        if type(item) in SCALAR_TYPES:
            continue
        if isinstance(item, Unknown):  # what known_types.is_unknown asks
            return True
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            pending.extend(item[key] for key in item)
        elif isinstance(item, list):
            pending.extend(item)
    return False


def quiet_debug(sdk_debug: Callable[..., None]) -> Callable[..., None]:
    """`pulumi.log.debug` that builds no message for the engine when no one would read it.

    Under mocks the engine is the SDK's MockEngine, which hands debug messages to the root logger; the
    SDK logs several per resource (each a LogRequest, some a task awaiting the resource's URN), and the
    preview leaves the root logger above DEBUG. When it is not, messages are logged as before."""
    root = logging.getLogger()

    def debug(msg: str, resource: Any = None, stream_id: int | None = None, ephemeral: bool | None = None) -> None:
        if root.isEnabledFor(logging.DEBUG):
            sdk_debug(msg, resource, stream_id, ephemeral)

    return debug


def urn_left_to_the_monitor(sdk_create_urn: Callable[..., Any]) -> Callable[..., Any]:
    """`create_urn` as the SDK's runtime calls it while a program runs here.

    register_resource and read_resource work out each resource's URN client-side (an Output.all and an
    apply per resource) but use it only when there is no monitor, to fake the engine's answer;
    the monitor answers with the URN. The runtime's other calls are for engines without alias specs,
    which the monitor is not (see alias_urn_left_out). So with a monitor the URN is left to it, and the
    call gets an Output of "" that nothing reads."""

    def create_urn(name: Any, type_: Any, parent: Any = None, project: Any = None, stack: Any = None) -> Any:
        if settings.get_monitor() is None:
            return sdk_create_urn(name, type_, parent, project, stack)
        return pulumi.Output.from_input("")

    return create_urn


def alias_urn_left_out(alias: Any, name: str, type_: str, parent: Any) -> Any:
    """Stands in for the SDK's `collapse_alias_to_urn` in `Resource.__init__`.

    There the SDK works out every alias's URN client-side, an Output chain per alias (pulumi_kubernetes
    gives most kinds several type aliases). The result,
    `Resource._aliases`, is read only for an engine without alias specs; the monitor here supports
    them, as today's engine does, so the aliases reach it as specs built from the resource's options,
    exactly as before (tests/test_runtime_speed.py holds both facts)."""
    return alias


def memoised_by_identity(fn: Callable[[Any], R]) -> Callable[[Any], R]:
    """`fn` remembered per argument object. Keyed by identity, not equality: typing's `Union[A, B]`
    equals `Union[B, A]`, and the SDK's unwrapping reads the members in order. The cache holds each
    argument, so no id is reused while it lives; annotations live as long as their classes anyway."""
    cache: dict[int, tuple[Any, R]] = {}

    def remembered(value: Any) -> R:
        entry = cache.get(id(value))
        if entry is not None and entry[0] is value:
            return entry[1]
        result = fn(value)  # an exception (an unexpected type) propagates and is not remembered
        cache[id(value)] = (value, result)
        return result

    remembered.__wrapped__ = fn  # type: ignore[attr-defined]
    return remembered


def swaps() -> list[tuple[Any, str, Any]]:
    """(module, name, replacement) for each SDK helper replaced. The SDK records each resource's Python
    stack for the engine's UI (`traceback.extract_stack` reads source lines); mocks drop it, so it is
    not captured. `rpc.contains_unknowns` leaves no garbage, alias URNs and mock URNs no one reads are
    not worked out, the type helpers answer from memory after their first call per annotation, and
    debug messages no logger takes are not built."""
    return [
        (sdk_resource, "_get_stack_trace", source_pb2.StackTrace),
        (rpc, "contains_unknowns", contains_unknowns),
        (pulumi.output, "contains_unknowns", contains_unknowns),  # calls rpc's
        (pulumi.log, "debug", quiet_debug(pulumi.log.debug)),
        (pulumi.resource, "collapse_alias_to_urn", alias_urn_left_out),
        (sdk_resource, "create_urn", urn_left_to_the_monitor(sdk_resource.create_urn)),
        *((module, name, memoised_by_identity(getattr(module, name))) for module, name in TYPE_HELPERS),
    ]
