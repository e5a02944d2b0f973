"""Running a real Pulumi program under the SDK's own mock runtime, recording every registration.

`pulumi.runtime.set_mocks` replaces the engine's resource monitor. The stock MockMonitor drops what a
review needs (parent, dependencies, protect, retain-on-delete) and ignores `additionalSecretOutputs`,
so generated secrets would flow on in clear text; RecordingMonitor keeps all of it and applies
`additionalSecretOutputs` as the engine does. OfflineMocks stands in for the providers: it echoes
inputs and fills in the outputs programs read (auto-names, generated passwords and keys), derived
deterministically from the resource so that two runs give identical results.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import hashlib
import os
import runpy
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import struct_pb2
from pulumi.runtime import mocks as sdk_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from .gc_tuning import relaxed_gc, young_survivors_frozen
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
from .sdk_swaps import sdk_helpers_swapped
from .stack_config import StackConfig

STACK_TYPE = "pulumi:pulumi:Stack"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _fake_secret(seed: str, length: int = 32) -> str:
    """A stand-in for a generated credential: deterministic, and obviously not a real one."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    raw = hashlib.sha256(seed.encode()).digest() * (length // 32 + 1)
    return "".join(alphabet[b % len(alphabet)] for b in raw[:length])


def _fake_pem(kind: str, seed: str) -> str:
    body = base64.b64encode(hashlib.sha512(seed.encode()).digest() * 4).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {kind}-----", *lines, f"-----END {kind}-----", ""])


class OfflineMocks(pulumi.runtime.Mocks):
    """Provider stand-ins: echo inputs, add the computed outputs programs depend on."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        seed = _digest(args.typ, args.name)
        outputs = dict(args.inputs)
        emulate = _EMULATORS.get(args.typ)
        if emulate is not None:
            outputs.update(emulate(args.inputs, seed))
        if args.typ.startswith("kubernetes:") and args.custom:
            return _kubernetes_object(args.name, outputs, seed)
        return str(uuid.UUID(seed[:32])), outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        if args.token == "kubernetes:yaml:decode":
            return {"result": list(yaml.safe_load_all(args.args.get("text", "")))}, None
        return {}, None


def _kubernetes_object(name: str, outputs: dict[str, Any], seed: str) -> tuple[str, dict[str, Any]]:
    """The provider auto-names objects without metadata.name; its id is `namespace/name`."""
    metadata = dict(outputs.get("metadata") or {})
    if not metadata.get("name"):
        metadata["name"] = f"{name}-{seed[:8]}"
    outputs["metadata"] = metadata
    namespace = metadata.get("namespace")
    return (f"{namespace}/{metadata['name']}" if namespace else metadata["name"]), outputs


def _random_password(inputs: dict[str, Any], seed: str) -> dict[str, Any]:
    value = _fake_secret(seed, int(inputs.get("length", 32)))
    return {"result": value, "bcryptHash": "$2a$10$" + _fake_secret(seed + "bcrypt", 53)}


def _random_id(inputs: dict[str, Any], seed: str) -> dict[str, Any]:
    raw = hashlib.sha256(seed.encode()).digest()[: int(inputs.get("byteLength", 8))]
    return {
        "hex": raw.hex(),
        "b64Std": base64.b64encode(raw).decode(),
        "b64Url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "dec": str(int.from_bytes(raw, "big")),
    }


def _random_bytes(inputs: dict[str, Any], seed: str) -> dict[str, Any]:
    raw = (hashlib.sha512(seed.encode()).digest() * 4)[: int(inputs.get("length", 32))]
    return {"base64": base64.b64encode(raw).decode(), "hex": raw.hex()}


def _private_key(inputs: dict[str, Any], seed: str) -> dict[str, Any]:
    return {
        "privateKeyPem": _fake_pem("PRIVATE KEY", seed),
        "privateKeyPemPkcs8": _fake_pem("PRIVATE KEY", seed + "pkcs8"),
        "privateKeyOpenssh": _fake_pem("OPENSSH PRIVATE KEY", seed),
        "publicKeyPem": _fake_pem("PUBLIC KEY", seed),
        "publicKeyOpenssh": "ssh-ed25519 " + _fake_secret(seed + "ssh", 68),
        "publicKeyFingerprintSha256": "SHA256:" + _fake_secret(seed + "fp", 43),
    }


def _certificate(inputs: dict[str, Any], seed: str) -> dict[str, Any]:
    return {"certPem": _fake_pem("CERTIFICATE", seed)}


_EMULATORS = {
    "random:index/randomPassword:RandomPassword": _random_password,
    "random:index/randomString:RandomString": lambda i, s: {"result": _fake_secret(s, int(i.get("length", 16)))},
    "random:index/randomId:RandomId": _random_id,
    "random:index/randomBytes:RandomBytes": _random_bytes,
    "random:index/randomUuid:RandomUuid": lambda i, s: {"result": str(uuid.UUID(s[:32]))},
    "tls:index/privateKey:PrivateKey": _private_key,
    "tls:index/selfSignedCert:SelfSignedCert": _certificate,
    "tls:index/locallySignedCert:LocallySignedCert": _certificate,
    "tls:index/certRequest:CertRequest": lambda i, s: {"certRequestPem": _fake_pem("CERTIFICATE REQUEST", s)},
}


class RecordingMonitor(sdk_mocks.MockMonitor):
    """MockMonitor that keeps the whole registration, as the engine would receive it."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
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
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        with self._lock:
            if urn in self._urns:  # the engine refuses the second registration, and so the whole run
                raise pulumi.RunError(f"Duplicate resource URN '{urn}'; try giving it a unique name")
            self._urns.add(urn)
        _ensure_event_loop()  # deserialising resource references needs a loop on this thread
        secrets: list[Secret] = []
        inputs = _decode(request.object, secrets)
        outputs: dict[str, Any] = {}
        revealed: dict[str, Any] = {}
        unchanged = False  # outputs are the inputs, as for most objects: the response need not repeat them
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
        if unchanged and not pulumi.runtime.is_dry_run():
            # The SDK takes any input the response leaves out as its output (rpc.resolve_outputs):
            # an empty object says "outputs are the inputs" without a third copy of them in flight.
            return resource_pb2.RegisterResourceResponse(urn=urn, id=id_)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=_to_struct(outputs))

    def RegisterResourceOutputs(self, request: Any) -> Any:
        _ensure_event_loop()
        outputs = _decode(request.outputs)
        with self._lock:
            self.component_outputs[request.urn] = outputs
        return super().RegisterResourceOutputs(request)


def _decode(struct: struct_pb2.Struct, secrets: list[Secret] | None = None) -> Any:
    """A wire object as the offline records hold it, in one pass: secrets as `Secret` wrappers on their
    own leaf (the SDK's deserialize_properties lifts a nested secret to the whole top-level property,
    so a chart's `values` with one secret annotation would be all secret, where the engine keeps it
    where it is), integral numbers as ints (protobuf carries doubles), unset (null) keys left out.
    Reads the protobuf fields directly: the Struct's own mapping methods were twice as slow. Each
    secret made is added to `secrets`, when given (so no second walk need look for one)."""
    found = [] if secrets is None else secrets
    fields = struct.fields
    if SIG_KEY in fields:
        if fields[SIG_KEY].string_value == SECRET_SIG:
            secret = Secret(_decode_value(fields["value"], found) if "value" in fields else None)
            found.append(secret)
            return secret
        decoded = normalize_numbers(from_wire(rpc.deserialize_properties(struct)))  # assets, resource references
        if contains_secret(decoded):
            found.append(Secret(decoded))  # a marker: a secret is somewhere inside
        return decoded
    return {k: d for k, v in fields.items() if (d := _decode_value(v, found)) is not None}


def _decode_value(value: struct_pb2.Value, secrets: list[Secret]) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        text = value.string_value
        return rpc.deserialize_property(text) if text == rpc.UNKNOWN else text
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() else number
    if kind == "struct_value":
        return _decode(value.struct_value, secrets)
    if kind == "list_value":
        return [_decode_value(item, secrets) for item in value.list_value.values]
    if kind == "bool_value":
        return value.bool_value
    return None  # null_value, or unset


def _to_struct(outputs: dict[str, Any]) -> struct_pb2.Struct:
    """Outputs in their wire form. Plain data (nearly always) converts directly; the SDK's async
    serializer, run on a per-thread event loop, was the monitor's largest cost."""
    wire = to_wire(outputs)
    struct = struct_pb2.Struct()
    try:
        struct.update(wire)
    except (TypeError, ValueError):  # e.g. a resource reference: let the SDK encode it
        return _sync_await(rpc.serialize_properties(wire, {}))
    return struct


def _secret_outputs(inputs: dict[str, Any], plain: dict[str, Any], secret_names: list[str]) -> dict[str, Any]:
    """Outputs keep the inputs' secretness, plus the engine's `additionalSecretOutputs`."""
    outputs: dict[str, Any] = {}
    for key, value in normalize_numbers(plain).items():
        if key in secret_names or (key in inputs and isinstance(inputs[key], Secret)):
            outputs[key] = value if isinstance(value, Secret) else Secret(value)
        else:
            outputs[key] = inputs[key] if key in inputs and reveal(inputs[key]) == value else value
    return outputs


class _InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs the SDK's monitor calls on the event loop's own thread: the mock monitor answers at once,
    so a pool only adds thread hand-offs (and GIL contention) to every registration."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the awaiting coroutine, as a pool would
            future.set_exception(exc)
        return future


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


@contextlib.contextmanager
def _program_context(program_dir: Path, swap_sdk_helpers: bool) -> Iterator[None]:
    """Like the language host: the program's folder is the working directory and on sys.path. Some SDK
    helpers are swapped for cheaper ones with the same answers meanwhile (offline/sdk_swaps.py)."""
    saved_path, saved_cwd = list(sys.path), os.getcwd()
    sys.path.insert(0, str(program_dir))
    os.chdir(program_dir)
    try:
        with sdk_helpers_swapped() if swap_sdk_helpers else contextlib.nullcontext():
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


def run_program(program_dir: Path, config: StackConfig, swap_sdk_helpers: bool = True) -> ProgramRun:
    """Run `<program_dir>/__main__.py` to completion under mocks; never raises for program errors.
    `swap_sdk_helpers=False` runs the SDK as shipped (the benchmark's floor), only slower."""
    pulumi.runtime.set_all_config(config.values, config.secret_keys)
    pulumi.runtime.reset_options(project=config.project, stack=config.stack, preview=False)
    mocks = OfflineMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=config.project, stack=config.stack, preview=False, monitor=monitor)
    main = program_dir.resolve() / "__main__.py"
    exports: dict[str, Any] = {}

    failures: list[BaseException] = []
    watchdogs: list[asyncio.Task[None]] = []  # at most one, started when the program fails

    def program() -> Any:
        asyncio.get_event_loop().set_default_executor(_InlineExecutor())
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
    with _program_context(program_dir.resolve(), swap_sdk_helpers), relaxed_gc(), young_survivors_frozen():
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
    registrations = sorted(monitor.registrations, key=lambda r: r.urn)
    return ProgramRun(registrations, dict(monitor.component_outputs), exports, error)
