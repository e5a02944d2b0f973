"""Calling one policy the way the analyzer does, on fixture resources (pulumi-policy's own test style).

What the analyzer would do and a bare call would not, done here too:
- props go through the wire: a protobuf Struct, so every number arrives as a float, then
  `unknown_checking_proxy`, so reading a preview-unknown value raises `UnknownValueError`;
- the policy's config is its schema defaults overlaid by the test's config, also through the wire;
- URNs carry the parent chain (`<parent type>$<type>`), and `opts.parent` / `PolicyResource.parent` are set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

STACK = "test"
PROJECT = "gatehouse"


def wire(value: dict[str, Any]) -> dict[str, Any]:
    """What a policy receives for `value` after the engine's gRPC hop (ints become floats)."""
    message = struct_pb2.Struct()
    message.update(value)
    return json_format.MessageToDict(message)


def urn_for(type_: str, name: str, parent_urn: str | None = None) -> str:
    chain = type_
    if parent_urn:
        chain = parent_urn.split("::")[2] + "$" + type_
    return f"urn:pulumi:{STACK}::{PROJECT}::{chain}::{name}"


def engine_config(policy: Policy, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Schema defaults, then `overrides`, as the engine hands config to a policy."""
    config: dict[str, Any] = {}
    schema = policy.config_schema
    if schema is not None:
        for key, prop in (schema.properties or {}).items():
            if isinstance(prop, dict) and "default" in prop:
                config[key] = prop["default"]
    config.update(overrides or {})
    return wire(config)


def _options(protect: bool, parent: str | None) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=parent,
    )


def resource_args(
    type_: str,
    props: dict[str, Any],
    name: str = "fixture",
    protect: bool = False,
    config: dict[str, Any] | None = None,
    parent: str | None = None,
    urn: str | None = None,
) -> ResourceValidationArgs:
    """Analyzer arguments for one resource; `parent` is the parent's URN (its type chain goes into the URN)."""
    return ResourceValidationArgs(
        type_,
        unknown_checking_proxy(wire(props)),
        urn or urn_for(type_, name, parent),
        name,
        _options(protect, parent),
        None,
        config,
    )


# The namespaces a one-object check runs among when its policy is a stack policy that knows tenancy from
# namespaces (guardrails' `per_object`): name -> (tenant, organization, profile).
HOME_NAMESPACES: dict[str, tuple[str | None, str | None, str | None]] = {
    "payments": ("payments", "acme", "standard"),
    "payments-batch": ("payments", "acme", "standard"),
    "payments-lab": ("payments", "acme", "elevated"),
    "storefront": ("storefront", "acme", "standard"),
    "org-acme": (None, "acme", None),
}


def _home_world() -> list[Res]:
    found: list[Res] = []
    components: dict[str, Res] = {}
    for name, (tenant, organization, profile) in HOME_NAMESPACES.items():
        labels = {"gatehouse.dev/managed-by": "gatehouse"}
        for key, value in (
            ("gatehouse.dev/tenant", tenant),
            ("gatehouse.dev/organization", organization),
            ("gatehouse.dev/permission-profile", profile),
        ):
            if value:
                labels[key] = value
        parent = None
        if tenant:
            if tenant not in components:
                components[tenant] = Res("gatehouse:tenancy:Tenant", tenant)
                found.append(components[tenant])
            parent = components[tenant]
        found.append(
            Res("kubernetes:core/v1:Namespace", f"home-{name}", {"metadata": {"name": name, "labels": labels}}, parent)
        )
    return found


def _one_object_stack(policy: StackValidationPolicy, args: ResourceValidationArgs) -> list[str]:
    """A stack policy checking one object as a resource policy would: the object (its direct parent linked,
    from its URN) among HOME_NAMESPACES."""
    resources = [to_policy_resource(r) for r in _home_world()]
    by_urn = {r.urn: r for r in resources}
    parent = None
    if args.opts.parent:
        parent_urn = args.opts.parent
        parent = by_urn.get(parent_urn) or PolicyResource(
            parent_urn.split("::")[2].split("$")[-1],
            {},
            parent_urn,
            parent_urn.split("::")[3],
            _options(False, None),
            None,
            None,
            [],
            {},
        )
        if parent.urn not in by_urn:
            resources.append(parent)
    resource = PolicyResource(args.resource_type, args.props, args.urn, args.name, args.opts, None, parent, [], {})
    resources.append(resource)
    config = engine_config(policy, dict(args.get_config() or {}))
    found: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        if urn == resource.urn:
            found.append(message)

    policy.validate(StackValidationArgs(resources, config), report)
    return found


def violations(policy: Policy, args: ResourceValidationArgs) -> list[str]:
    """The messages a resource policy reports for `args` (config: schema defaults + args' config); for a stack
    policy, what it reports about that object when it runs among HOME_NAMESPACES."""
    if isinstance(policy, StackValidationPolicy):
        return _one_object_stack(policy, args)
    assert isinstance(policy, ResourceValidationPolicy), policy.name
    configured = ResourceValidationArgs(
        args.resource_type,
        args.props,
        args.urn,
        args.name,
        args.opts,
        args.provider,
        engine_config(policy, dict(args.get_config() or {})),
    )
    found: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append(message)

    policy.validate(configured, report)
    return found


def check(policy: Policy, type_: str, props: dict[str, Any], **kwargs: Any) -> list[str]:
    """violations(policy, resource_args(type_, props, **kwargs))."""
    return violations(policy, resource_args(type_, props, **kwargs))


@dataclass
class Res:
    """A stack fixture resource: its type, Pulumi name, props (what the engine sends: outputs) and links."""

    type: str
    name: str
    props: dict[str, Any] = field(default_factory=dict)
    parent: Res | None = None
    protect: bool = False
    property_dependencies: dict[str, list[Res]] = field(default_factory=dict)

    @property
    def urn(self) -> str:
        return urn_for(self.type, self.name, self.parent.urn if self.parent else None)


def _unlinked(res: Res) -> PolicyResource:
    return PolicyResource(
        res.type,
        unknown_checking_proxy(wire(res.props)),
        res.urn,
        res.name,
        _options(res.protect, res.parent.urn if res.parent else None),
        None,
        None,
        [],
        {},
    )


def to_policy_resource(res: Res) -> PolicyResource:
    """One fixture resource with its parent chain linked (no dependencies)."""
    built = _unlinked(res)
    built.parent = to_policy_resource(res.parent) if res.parent is not None else None
    return built


def stack_args(resources: Iterable[Res], config: dict[str, Any] | None = None) -> StackValidationArgs:
    """Every fixture (and its parents) as linked PolicyResources, as AnalyzeStack builds them."""
    ordered: list[Res] = []

    def add(res: Res) -> None:
        if any(r is res for r in ordered):
            return
        if res.parent is not None:
            add(res.parent)
        ordered.append(res)
        for deps in res.property_dependencies.values():
            for dep in deps:
                add(dep)

    for res in resources:
        add(res)
    built: dict[int, PolicyResource] = {}
    for res in ordered:
        built[id(res)] = _unlinked(res)
    for res in ordered:
        resource = built[id(res)]
        resource.parent = built[id(res.parent)] if res.parent is not None else None
        resource.property_dependencies = {
            key: [built[id(d)] for d in deps] for key, deps in res.property_dependencies.items()
        }
    return StackValidationArgs([built[id(r)] for r in ordered], config)


def stack_violations(
    policy: Policy, resources: Iterable[Res], config: dict[str, Any] | None = None
) -> list[tuple[str, str | None]]:
    """(message, urn) for every violation a stack policy reports over `resources`."""
    assert isinstance(policy, StackValidationPolicy), policy.name
    args = stack_args(resources, engine_config(policy, config))
    found: list[tuple[str, str | None]] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append((message, urn))

    policy.validate(args, report)
    return found
