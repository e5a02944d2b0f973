"""The engine's resource monitor for an offline run: the SDK's MockMonitor, recording every registration.

`pulumi.runtime.set_mocks` replaces the engine's resource monitor. The stock MockMonitor drops what a
review needs (parent, dependencies, protect, retain-on-delete) and ignores `additionalSecretOutputs`,
so generated secrets would flow on in clear text; RecordingMonitor keeps all of it and applies
`additionalSecretOutputs` as the engine does. It answers as the SDK's MockMonitor does (outputs
serialised by the SDK); the `monitor-shortcuts` accelerator answers the same for less
(offline/accel/monitor.py).
"""

from __future__ import annotations

import threading
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import mocks as sdk_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from .records import (
    SECRET_SIG,
    SIG_KEY,
    Registration,
    Secret,
    contains_secret,
    from_wire,
    normalize_numbers,
    reveal,
    to_wire,
)

STACK_TYPE = "pulumi:pulumi:Stack"


class RecordingMonitor(sdk_mocks.MockMonitor):
    """MockMonitor that keeps the whole registration, as the engine would receive it."""

    def __init__(self, mocks: pulumi.runtime.Mocks, project: str, stack: str):
        super().__init__(mocks)
        self.project, self.stack = project, stack  # not the SDK's settings: the SDK may call from another thread
        self.registrations: list[Registration] = []
        self.component_outputs: dict[str, dict[str, Any]] = {}
        self._urns: set[str] = set()
        self._lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The engine's URN (pkg/resource/urn.go NewURN): the parent's whole qualified type, except the
        root stack's, prefixes the type. The stock mock keeps only the parent's last type and the stack's."""
        qualified = parent.split("::")[2] if parent else ""
        if qualified and qualified != STACK_TYPE:
            type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([self.stack, self.project, type_, name])

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        with self._lock:
            if urn in self._urns:  # the engine refuses the second registration, and so the whole run
                raise pulumi.RunError(f"Duplicate resource URN '{urn}'; try giving it a unique name")
            self._urns.add(urn)
        _ensure_event_loop()  # deserialising resource references needs a loop on this thread
        secrets: list[Secret] = []
        inputs = decode(request.object, secrets)
        outputs: dict[str, Any] = {}
        revealed: dict[str, Any] = {}
        unchanged = False  # outputs are the inputs, as for most objects: kept once, not twice
        id_ = ""
        if request.type != STACK_TYPE:
            margs = pulumi.runtime.MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=reveal(inputs) if secrets else inputs,  # mocks copy before they change
                provider=request.provider,
                resource_id=request.importId,
                custom=request.custom or False,
            )
            new_id, plain_outputs = self.mocks.new_resource(margs)
            id_ = new_id or ""
            secret_names = list(request.additionalSecretOutputs)
            unchanged = not secret_names and plain_outputs == margs.inputs
            outputs = inputs if unchanged else _secret_outputs(inputs, plain_outputs, secret_names)
            revealed = margs.inputs if unchanged else reveal(outputs)
        registration = Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=bool(request.custom),
            remote=bool(request.remote),
            provider=request.provider,
            inputs=inputs,
            outputs=outputs,
            dependencies=sorted(set(request.dependencies)),
            property_dependencies={k: sorted(v.urns) for k, v in request.propertyDependencies.items()},
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            delete_before_replace=bool(request.deleteBeforeReplace),
            ignore_changes=list(request.ignoreChanges),
            additional_secret_outputs=sorted(request.additionalSecretOutputs),
            transforms=len(request.transforms),
        )
        with self._lock:
            self.registrations.append(registration)
            if request.type != STACK_TYPE:
                self.resources[urn] = sdk_mocks.MockMonitor.ResourceRegistration(urn, id_, revealed)
        if request.type == STACK_TYPE:
            return resource_pb2.RegisterResourceResponse(urn=urn)
        return self.response(urn, id_, outputs, unchanged)

    def response(self, urn: str, id_: str, outputs: dict[str, Any], unchanged: bool) -> Any:
        """The answer to a resource's registration, as the SDK's MockMonitor gives it: the outputs
        serialised by the SDK. `unchanged`: the outputs are the resource's inputs."""
        return resource_pb2.RegisterResourceResponse(
            urn=urn, id=id_, object=_sync_await(rpc.serialize_properties(to_wire(outputs), {}))
        )

    def RegisterResourceOutputs(self, request: Any) -> Any:
        _ensure_event_loop()
        outputs = decode(request.outputs)
        with self._lock:
            self.component_outputs[request.urn] = outputs
        return super().RegisterResourceOutputs(request)


def decode(struct: struct_pb2.Struct, secrets: list[Secret] | None = None) -> Any:
    """A wire object as the offline records hold it, in one pass: secrets as `Secret` wrappers on their
    own leaf (the SDK's deserialize_properties lifts a nested secret to the whole top-level property,
    so a chart's `values` with one secret annotation would be all secret, where the engine keeps it
    where it is), integral numbers as ints (protobuf carries doubles), unset (null) keys left out.
    Reads the protobuf fields directly, which costs less than the Struct's own mapping methods. Each
    secret made is added to `secrets`, when given (so no second walk need look for one)."""
    found = [] if secrets is None else secrets
    fields = struct.fields
    if SIG_KEY in fields:
        if fields[SIG_KEY].string_value == SECRET_SIG:
            secret = Secret(decode_value(fields["value"], found) if "value" in fields else None)
            found.append(secret)
            return secret
        decoded = normalize_numbers(from_wire(rpc.deserialize_properties(struct)))  # assets, resource references
        if contains_secret(decoded):
            found.append(Secret(decoded))  # a marker: a secret is somewhere inside
        return decoded
    return {k: d for k, v in fields.items() if (d := decode_value(v, found)) is not None}


def decode_value(value: struct_pb2.Value, secrets: list[Secret]) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        text = value.string_value
        return rpc.deserialize_property(text) if text == rpc.UNKNOWN else text
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() else number
    if kind == "struct_value":
        return decode(value.struct_value, secrets)
    if kind == "list_value":
        return [decode_value(item, secrets) for item in value.list_value.values]
    if kind == "bool_value":
        return value.bool_value
    return None  # null_value, or unset


def _secret_outputs(inputs: dict[str, Any], plain: dict[str, Any], secret_names: list[str]) -> dict[str, Any]:
    """Outputs keep the inputs' secretness, plus the engine's `additionalSecretOutputs`."""
    outputs: dict[str, Any] = {}
    for key, value in normalize_numbers(plain).items():
        if key in secret_names or (key in inputs and isinstance(inputs[key], Secret)):
            outputs[key] = value if isinstance(value, Secret) else Secret(value)
        else:
            outputs[key] = inputs[key] if key in inputs and reveal(inputs[key]) == value else value
    return outputs
