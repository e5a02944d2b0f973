"""The `monitor-shortcuts` accelerator: the recording monitor's answers, for less work, with what the
SDK does with them unchanged.

* A response leaves out outputs that are the resource's inputs: the SDK takes any input the response
  leaves out as its output (`rpc.resolve_outputs`), so an empty object says "outputs are the inputs"
  without a third copy of them in flight.
* Other outputs are put into the response's Struct directly; only what is not plain data (a resource
  reference) goes through the SDK's serializer, an async call run on a per-thread event loop.
* Monitor calls run on the event loop's own thread: the SDK hands each to a thread pool, and the
  mock monitor answers at once, so a pool only adds thread hand-offs (and GIL contention).

tests/test_runtime_speed.py holds each to the SDK's path.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Iterator
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _sync_await

from ..monitor import RecordingMonitor
from ..records import to_wire


class ShortcutMonitor(RecordingMonitor):
    def response(self, urn: str, id_: str, outputs: dict[str, Any], unchanged: bool) -> Any:
        if unchanged and not pulumi.runtime.is_dry_run():
            return resource_pb2.RegisterResourceResponse(urn=urn, id=id_)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=to_struct(outputs))


def to_struct(outputs: dict[str, Any]) -> struct_pb2.Struct:
    """Outputs in their wire form, as the SDK's `rpc.serialize_properties` gives them."""
    wire = to_wire(outputs)
    struct = struct_pb2.Struct()
    try:
        struct.update(wire)
    except (TypeError, ValueError):  # e.g. a resource reference: let the SDK encode it
        return _sync_await(rpc.serialize_properties(wire, {}))
    return struct


class InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs each call at once on the calling thread (a ThreadPoolExecutor, as asyncio wants one)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the awaiting coroutine, as a pool would
            future.set_exception(exc)
        return future


@contextlib.contextmanager
def calls_inline(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """`loop`'s default executor runs calls inline inside the block; after it, a fresh pool, as asyncio
    makes one (the loop outlives the run, and the next run may be a stock one)."""
    loop.set_default_executor(InlineExecutor())
    try:
        yield
    finally:
        loop.set_default_executor(concurrent.futures.ThreadPoolExecutor())
