"""The messages the engine sends a policy pack's analyzer, built from the offline registrations, and the
diagnostics it answers turned into `Violation`s.

Secrets reach the servicer wire-encoded, exactly as the engine sends them; the servicer unwraps them
before policies see the values.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import proto
from pulumi.runtime.rpc import UNKNOWN

from ..records import SECRET_SIG, SIG_KEY, Registration, Secret
from .report import Violation

_PROTO_LEVELS: dict[proto.EnforcementLevel.ValueType, str] = {
    proto.ADVISORY: "advisory",
    proto.MANDATORY: "mandatory",
    proto.REMEDIATE: "remediate",
    proto.DISABLED: "disabled",
}
_LEVEL_TO_PROTO = {name: number for number, name in _PROTO_LEVELS.items()}


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    """Registration values as the engine sends them: secrets in their envelope, unknowns as the
    sentinel, keys as strings; built field by field, in one walk."""
    message = struct_pb2.Struct()
    _fill_struct(message, values)
    return message


def _fill_struct(message: struct_pb2.Struct, values: dict[Any, Any]) -> None:
    fields = message.fields
    for key, value in values.items():
        _fill_value(fields[str(key)], value)


def _fill_value(message: struct_pb2.Value, value: Any) -> None:
    if value is None:
        message.null_value = struct_pb2.NULL_VALUE
    elif isinstance(value, bool):  # before int: a bool is one
        message.bool_value = value
    elif isinstance(value, int | float):
        message.number_value = value
    elif isinstance(value, str):
        message.string_value = value
    elif isinstance(value, dict):
        message.struct_value.SetInParent()  # an empty map is still a map
        _fill_struct(message.struct_value, value)
    elif isinstance(value, list | tuple):
        items = message.list_value
        items.SetInParent()
        for item in value:
            _fill_value(items.values.add(), item)
    elif isinstance(value, Secret):
        _fill_struct(message.struct_value, {SIG_KEY: SECRET_SIG})
        _fill_value(message.struct_value.fields["value"], value.value)
    elif isinstance(value, Unknown):
        message.string_value = UNKNOWN
    else:
        raise ValueError(f"unexpected value of type {type(value).__name__} in a resource's properties")


def _urn_parts(urn: str) -> tuple[str, str]:
    """(type, name) of a URN `urn:pulumi:<stack>::<project>::<qualified type>::<name>`."""
    parts = urn.split("::", 3)
    if len(parts) < 4:
        return "", ""
    return parts[2].rsplit("$", 1)[-1], parts[3]


def _provider_urn(reference: str) -> str:
    """`<provider urn>::<provider id>` -> the URN (a bare URN is returned as is)."""
    if reference.count("::") >= 4:
        return reference.rsplit("::", 1)[0]
    return reference


def resource_options(reg: Registration) -> proto.AnalyzerResourceOptions:
    return proto.AnalyzerResourceOptions(
        protect=reg.protect,
        ignoreChanges=list(reg.ignore_changes),
        # Registration keeps a plain bool: report it as defined only when set, so policies see None or True.
        deleteBeforeReplace=reg.delete_before_replace,
        deleteBeforeReplaceDefined=reg.delete_before_replace,
        additionalSecretOutputs=list(reg.additional_secret_outputs),
        parent=reg.parent,
    )


def provider_of(reference: str, by_urn: dict[str, Registration]) -> proto.AnalyzerProviderResource | None:
    if not reference:
        return None
    urn = _provider_urn(reference)
    type_, name = _urn_parts(urn)
    provider_reg = by_urn.get(urn)
    # Like the engine, the provider's properties are its inputs when the provider was registered.
    properties = struct(provider_reg.inputs) if provider_reg is not None else struct_pb2.Struct()
    return proto.AnalyzerProviderResource(type=type_, properties=properties, urn=urn, name=name)


def _resource(
    reg: Registration, properties: struct_pb2.Struct, provider: proto.AnalyzerProviderResource | None
) -> dict[str, Any]:
    """What the engine tells an analyzer of a resource in `Analyze` and `AnalyzeStack` alike."""
    return {
        "type": reg.type,
        "properties": properties,
        "urn": reg.urn,
        "name": reg.name,
        "options": resource_options(reg),
        "provider": provider,
    }


def analyze_request(
    reg: Registration, inputs: struct_pb2.Struct, provider: proto.AnalyzerProviderResource | None
) -> proto.AnalyzeRequest:
    return proto.AnalyzeRequest(**_resource(reg, inputs, provider))


def stack_resource(
    reg: Registration, outputs: struct_pb2.Struct, provider: proto.AnalyzerProviderResource | None
) -> proto.AnalyzerResource:
    return proto.AnalyzerResource(
        **_resource(reg, outputs, provider),
        parent=reg.parent,
        dependencies=list(reg.dependencies),
        propertyDependencies={
            key: proto.AnalyzerPropertyDependencies(urns=list(urns)) for key, urns in reg.property_dependencies.items()
        },
    )


def configure(servicer: Any, config: dict[str, dict[str, Any]]) -> None:
    request = proto.ConfigureAnalyzerRequest()
    for name, cfg in config.items():
        policy_config = proto.PolicyConfig(enforcementLevel=_LEVEL_TO_PROTO[cfg["enforcementLevel"]])
        _fill_struct(policy_config.properties, cfg["properties"])
        request.policyConfig[name].CopyFrom(policy_config)
    servicer.Configure(request, None)


def _strip_description(message: str, description: str) -> str:
    """The servicer reports `description + "\\n" + detail`; keep the detail, else the description."""
    prefix = description + "\n"
    if message.startswith(prefix):
        return message[len(prefix) :]
    return message


def violations(response: Any, resource_urn: str | None) -> list[Violation]:
    """Diagnostics -> Violations. Resource-policy findings belong to the analyzed resource (the engine
    files them under that URN whatever the policy passed); stack-policy findings keep the URN they named."""
    return [
        Violation(
            policy=d.policyName,
            enforcement=_PROTO_LEVELS.get(d.enforcementLevel, str(d.enforcementLevel)),
            urn=resource_urn if resource_urn is not None else d.urn,
            message=_strip_description(d.message, d.description),
        )
        for d in response.diagnostics
    ]
