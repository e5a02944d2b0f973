"""Quotas: every tenant namespace has a ResourceQuota within the largest tier and a LimitRange with defaults.

Anchors: Kyverno add-ns-quota, NSA/CISA hardening guide (ResourceQuota and LimitRange per namespace),
the Kubernetes multi-tenancy guide (object-count quotas), Capsule resourceQuotas / limitRanges.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gatehouse_contract import NAMESPACE_TYPE, QUOTA_CEILINGS
from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._util import (
    LIMIT_RANGE_TYPE,
    RESOURCE_QUOTA_TYPE,
    Report,
    args_tenant,
    config_value,
    describe,
    for_types,
    is_patch,
    mapping,
    object_name,
    object_namespace,
    per_object,
    quantity,
    sequence,
    string_list,
    tenant_namespaces,
)

# The largest size tier's quota; no tenant quota may exceed it.
CEILINGS: dict[str, str] = dict(QUOTA_CEILINGS)
REQUIRED_KEYS = [
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
    "pods",
    "services.loadbalancers",
    "services.nodeports",
]
LIMIT_FIELDS = ("default", "defaultRequest", "max")


def _quota_and_limits(args: StackValidationArgs, report: Report) -> None:
    namespaces = tenant_namespaces(args.resources)
    with_quota = {object_namespace(r.props) for r in args.resources if r.resource_type == RESOURCE_QUOTA_TYPE}
    with_limits = {object_namespace(r.props) for r in args.resources if r.resource_type == LIMIT_RANGE_TYPE}
    for r in args.resources:
        name = object_name(r.props)
        if r.resource_type != NAMESPACE_TYPE or name not in namespaces:
            continue
        if name not in with_quota:
            report(f"Tenant namespace '{name}' has no ResourceQuota", r.urn)
        if name not in with_limits:
            report(f"Tenant namespace '{name}' has no LimitRange", r.urn)


tenant_namespace_quota_and_limits = StackValidationPolicy(
    name="tenant-namespace-quota-and-limits",
    description="Every tenant namespace has a ResourceQuota and a LimitRange.",
    validate=_quota_and_limits,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NSA/CISA Kubernetes Hardening Guidance", version="1.1"),
)


def _show(value: Any) -> str:
    """A config or quota value as written ("16Gi"), without the float noise of the wire (16.0 -> 16)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@for_types(RESOURCE_QUOTA_TYPE)
def _within_ceiling(args: ResourceValidationArgs, report: Report) -> None:
    if args_tenant(args) is None:
        return
    what = describe(args.resource_type, args.props, args.name)
    hard: Mapping[str, Any] = mapping(mapping(args.props.get("spec")).get("hard"))
    for key in config_value(args, "requiredKeys", REQUIRED_KEYS):
        if key not in hard and not is_patch(args.resource_type):  # a patch keeps the keys it does not name
            report(f"{what} does not limit {key}")
    ceilings: Mapping[str, Any] = config_value(args, "ceilings", CEILINGS)
    for key, ceiling in sorted(ceilings.items()):
        if key not in hard:
            continue
        value, limit = quantity(hard[key]), quantity(ceiling)
        if value is None:
            report(f"{what} sets {key}={_show(hard[key])}, which is not a quantity")
        elif limit is not None and value > limit:
            report(f"{what} sets {key}={_show(hard[key])}, above the ceiling {_show(ceiling)}")


tenant_quota_within_ceiling = StackValidationPolicy(
    name="tenant-quota-within-ceiling",
    description="A tenant ResourceQuota limits CPU, memory and pods, allows no LoadBalancer or NodePort "
    "Service, and stays within the largest size tier.",
    validate=per_object(_within_ceiling),
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="Kyverno", reference="add-ns-quota; Capsule resourceQuotas"),
    config_schema=PolicyConfigSchema(
        properties={
            "ceilings": {
                "type": "object",
                "additionalProperties": {"type": ["string", "number"]},
                "default": CEILINGS,
                "description": "Quota key -> the largest value any tenant may get.",
            },
            "requiredKeys": string_list(REQUIRED_KEYS),
        }
    ),
)


@for_types(LIMIT_RANGE_TYPE)
def _limit_defaults(args: ResourceValidationArgs, report: Report) -> None:
    if args_tenant(args) is None:
        return
    limits = mapping(args.props.get("spec")).get("limits")
    if limits is None and is_patch(args.resource_type):
        return  # the patch leaves the limits alone (a patch that sets them replaces the whole list)
    items = [mapping(i) for i in sequence(limits)]
    containers = [i for i in items if i.get("type") == "Container"]
    if not containers:
        report(f"{describe(args.resource_type, args.props, args.name)} has no Container limit")
        return
    for item in containers:
        missing = [f for f in LIMIT_FIELDS if not mapping(item.get(f))]
        if missing:
            report(f"{describe(args.resource_type, args.props, args.name)} Container limit has no {', '.join(missing)}")


tenant_limitrange_defaults = StackValidationPolicy(
    name="tenant-limitrange-defaults",
    description="A tenant LimitRange gives every container a default limit, a default request and a maximum.",
    validate=per_object(_limit_defaults),
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="NSA/CISA Kubernetes Hardening Guidance", version="1.1"),
)

POLICIES = [tenant_namespace_quota_and_limits, tenant_quota_within_ceiling, tenant_limitrange_defaults]
