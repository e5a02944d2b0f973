"""The `policy-servicer` accelerator: the policy pack's analyzer servicer for an in-process run, with
pulumi-policy's `Analyze` and `AnalyzeStack` replaced (it reads the servicer's private names).

They do what pulumi-policy's do, diagnostics and not-applicable reports included, with differences in
cost only. pulumi-policy derives everything a policy is given from the protobuf request once per
policy (properties converted to a dict and deserialised, options, provider; for a stack, every
resource): over every policy and every resource of a large stack, most of the policy run. Here
properties are derived once per distinct message for the whole run (a resource's inputs for `Analyze`
are mostly its outputs for `AnalyzeStack`; a provider's serve all its resources) and shared by the
policies; what a policy could write to stays its own: properties (its own resource's and its
provider's) reach every policy through proxies of its own (lazy ones with the `policy-proxy`
accelerator, offline/accel/policy_proxy.py), every stack policy gets resource objects of its own (one
provider object per provider among them). Only a resource's options object (protect, parent, ...) is
shared, as policies read it. A resource policy is not called for a type its validation declares it
does nothing for (an `applies_to` attribute, which guardrails' `for_types` sets), and Structs are read
field by field rather than through json_format's generic printer (same values).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from inspect import isawaitable
from typing import Any

import pulumi_policy.policy as _pp
from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, ResourceValidationArgs, StackValidationArgs
from pulumi_policy.policy import (
    PolicyProviderResource,
    PolicyResource,
    ResourceValidationPolicy,
    StackValidationPolicy,
    _NotApplicableError,
)
from pulumi_policy.proxy import UnknownValueError
from pulumi_policy.proxy import unknown_checking_proxy as eager_proxy

from ..policy.pack import StockServicer

Proxy = Callable[[Any], Any]  # properties -> what a policy reads them through


def _values(properties: Any) -> Any:
    """A Struct as policies see it: what the servicer derives, `deserialize_properties(MessageToDict(...))`."""
    return _pp.deserialize_properties(struct_as_dict(properties))


def struct_as_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    """`json_format.MessageToDict` of a Struct (numbers stay floats, nulls stay None), reading the fields
    directly rather than through the generic printer, which costs far more."""
    return {key: _value_as_python(value) for key, value in struct.fields.items()}


def _value_as_python(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        number = value.number_value
        if math.isinf(number) or math.isnan(number):  # as MessageToDict: JSON has no such number
            raise ValueError(f"Fail to serialize {number} for Value.number_value")
        return number
    if kind == "struct_value":
        return struct_as_dict(value.struct_value)
    if kind == "list_value":
        return [_value_as_python(item) for item in value.list_value.values]
    if kind == "bool_value":
        return value.bool_value
    return None  # null_value, or unset


def _provider_parts(request: Any) -> tuple[str, Any, str, str] | None:
    if not request.HasField("provider"):
        return None
    provider = request.provider
    return provider.type, _values(provider.properties), provider.urn, provider.name


def _provider(parts: tuple[str, Any, str, str] | None, proxy: Proxy) -> PolicyProviderResource | None:
    """A policy's own provider resource, from values derived once."""
    if parts is None:
        return None
    type_, values, urn, name = parts
    return PolicyProviderResource(type_, proxy(values), urn, name)


def _provider_once(
    providers: dict[int, PolicyProviderResource | None], parts: tuple[str, Any, str, str] | None, proxy: Proxy
) -> PolicyProviderResource | None:
    """`_provider(parts)`, made once per provider for one policy's resources."""
    if id(parts) not in providers:
        providers[id(parts)] = _provider(parts, proxy)
    return providers[id(parts)]


Link = tuple[int | None, list[int], list[tuple[str, list[int]]]]


def _links(resources: Any) -> list[Link]:
    """Each resource's parent, dependencies and property dependencies as positions in `resources`
    (those not among them left out, as pulumi-policy does), worked out once for every stack policy."""
    position = {r.urn: i for i, r in enumerate(resources)}
    return [
        (
            position.get(r.parent),
            [position[d] for d in r.dependencies if d in position],
            [(key, [position[d] for d in deps.urns if d in position]) for key, deps in r.propertyDependencies.items()],
        )
        for r in resources
    ]


def _declines(policy: Any, resource_type: str) -> bool:
    """Whether calling the policy for `resource_type` certainly does nothing: it is a plain
    ResourceValidationPolicy whose validation functions all carry `applies_to` and all say no."""
    if type(policy).validate is not ResourceValidationPolicy.validate:
        return False
    validations = policy._ResourceValidationPolicy__validate
    if not isinstance(validations, list):
        validations = [validations]
    checks = [getattr(fn, "applies_to", None) for fn in validations]
    return bool(checks) and all(check is not None and not check(resource_type) for check in checks)


class OfflineAnalyzerServicer(StockServicer):
    def __init__(self, *args: Any, proxy: Proxy = eager_proxy, remember_properties: bool = True, **kwargs: Any) -> None:
        """pulumi-policy's arguments; `proxy` wraps the properties each policy reads; `remember_properties`:
        keep what `Analyze` derives for an `AnalyzeStack` to come (see `_values`)."""
        super().__init__(*args, **kwargs)
        self._enabled_by_kind: dict[type, list[tuple[Any, EnforcementLevel]]] = {}
        self._by_type: dict[str, list[tuple[Any, EnforcementLevel]]] = {}
        self._decoded: dict[bytes, Any] = {}  # properties by their wire form: see _values
        self._proxy = proxy
        self.remember_properties = remember_properties
        self._providers: dict[bytes, tuple[str, Any, str, str] | None] = {}

    def _values(self, properties: struct_pb2.Struct) -> Any:
        """`_values(properties)`, derived once for properties `Analyze` and `AnalyzeStack` both get (a
        resource's inputs, and its outputs, which are mostly the same). Policies never write to them."""
        if not self.remember_properties:  # no AnalyzeStack to come in this process
            return _values(properties)
        key = properties.SerializeToString(deterministic=True)  # maps in key order: equal maps, equal bytes
        if key not in self._decoded:
            self._decoded[key] = _values(properties)
        return self._decoded[key]

    def _provider_parts(self, request: Any) -> tuple[str, Any, str, str] | None:
        """`_provider_parts(request)`, derived once per provider message (one for all its resources)."""
        if not request.HasField("provider"):
            return None
        key = request.provider.SerializeToString(deterministic=True)
        if key not in self._providers:
            self._providers[key] = _provider_parts(request)
        return self._providers[key]

    def Configure(self, request: Any, context: Any) -> Any:  # noqa: N802 - the gRPC method name
        self._enabled_by_kind.clear()  # the levels change
        self._by_type.clear()
        return super().Configure(request, context)

    def _for_type(self, resource_type: str) -> list[tuple[Any, EnforcementLevel]]:
        """The enabled resource policies that may do something for `resource_type`: all of them but
        those whose validations all declare (`applies_to`, as guardrails' `for_types` does) that
        they do nothing for it. Worked out once per type and configuration."""
        if resource_type not in self._by_type:
            self._by_type[resource_type] = [
                (policy, level)
                for policy, level in self._enabled(ResourceValidationPolicy)
                if not _declines(policy, resource_type)
            ]
        return self._by_type[resource_type]

    def _enabled(self, kind: type) -> list[tuple[Any, EnforcementLevel]]:
        """Policies of `kind` that run, with the level they report at (remediate reports as mandatory);
        worked out once per configuration, not once per resource."""
        if kind not in self._enabled_by_kind:
            enabled = self._enabled_by_kind[kind] = []
            for policy in self._PolicyAnalyzerServicer__policies:  # type: ignore[attr-defined]
                level = self._get_enforcement_level(policy)
                if level != EnforcementLevel.DISABLED and isinstance(policy, kind):
                    reported = EnforcementLevel.MANDATORY if level == EnforcementLevel.REMEDIATE else level
                    enabled.append((policy, reported))
        return self._enabled_by_kind[kind]

    def Analyze(self, request: Any, context: Any) -> Any:  # noqa: N802 - the gRPC method name
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        shared: tuple[Any, Any, Any] | None = None  # derived when the first policy needs it
        for policy, level in self._for_type(request.type):
            if not policy.has_validation():  # a remediation-only policy
                reason = "Policy does not implement validate"
                response.not_applicable.append(proto.PolicyNotApplicable(policy_name=policy.name, reason=reason))
                continue
            report = self._create_report_violation(response, policy.name, policy.description, level, policy.severity)
            if shared is None:
                shared = (
                    self._values(request.properties),
                    self._get_resource_options(request),
                    self._provider_parts(request),
                )
            values, options, provider = shared
            args = ResourceValidationArgs(
                request.type,
                self._proxy(values),
                request.urn,
                request.name,
                options,
                _provider(provider, self._proxy),
                self._get_policy_config(policy.name),
                self._PolicyAnalyzerServicer__stack_tags,  # type: ignore[attr-defined]
            )
            self._run(policy, args, report, response)
        return response

    def AnalyzeStack(self, request: Any, context: Any) -> Any:  # noqa: N802 - the gRPC method name
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        policies = self._enabled(StackValidationPolicy)
        if not policies:
            return response
        decoded = [
            (
                r.type,
                self._values(r.properties),
                r.urn,
                r.name,
                self._get_resource_options(r),
                self._provider_parts(r),
            )
            for r in request.resources
        ]
        links = _links(request.resources)
        for policy, level in policies:
            report = self._create_report_violation(response, policy.name, policy.description, level, policy.severity)
            providers: dict[int, PolicyProviderResource | None] = {}  # this policy's, one per provider
            resources = [
                PolicyResource(
                    type_,
                    self._proxy(values),
                    urn,
                    name,
                    options,
                    _provider_once(providers, provider, self._proxy),
                    None,
                    [],
                    {},
                )
                for type_, values, urn, name, options, provider in decoded
            ]
            for resource, (parent, dependencies, property_dependencies) in zip(resources, links, strict=True):
                if parent is not None:
                    resource.parent = resources[parent]
                if dependencies:
                    resource.dependencies.extend([resources[i] for i in dependencies])
                for key, indexes in property_dependencies:
                    resource.property_dependencies[key] = [resources[i] for i in indexes]
            args = StackValidationArgs(
                resources,
                self._get_policy_config(policy.name),
                self._PolicyAnalyzerServicer__stack_tags,  # type: ignore[attr-defined]
            )
            self._run(policy, args, report, response)
        return response

    def _run(self, policy: Any, args: Any, report: Any, response: Any) -> None:
        """One policy's validation, with pulumi-policy's handling of unknowns and of not applicable."""
        try:
            result = policy.validate(args, report)
            if isawaitable(result):
                loop = asyncio.new_event_loop()
                loop.run_until_complete(asyncio.Task(result, loop=loop))  # type: ignore[arg-type]
                loop.close()
        except UnknownValueError as e:
            name = self._PolicyAnalyzerServicer__policy_pack_name  # type: ignore[attr-defined]
            version = self._PolicyAnalyzerServicer__policy_pack_version  # type: ignore[attr-defined]
            response.diagnostics.append(
                proto.AnalyzeDiagnostic(
                    policyName=policy.name,
                    policyPackName=name,
                    policyPackVersion=version,
                    message=(
                        f"can't run policy '{policy.name}' from policy pack '{name}@v{version}' during preview: "
                        f"{e.message}"
                    ),
                    urn="",
                    description=policy.description,
                    enforcementLevel=self._map_enforcement_level(EnforcementLevel.ADVISORY),
                )
            )
        except _NotApplicableError as e:
            response.not_applicable.append(proto.PolicyNotApplicable(policy_name=policy.name, reason=e.reason or ""))
