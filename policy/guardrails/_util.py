"""Shared helpers: type filtering (Python CrossGuard has no typed validate) and tenancy lookups."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from pulumi_policy import ResourceValidationArgs

NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
TENANT_LABEL = "gatehouse.dev/tenant"
ORGANIZATION_LABEL = "gatehouse.dev/organization"
PROFILE_LABEL = "gatehouse.dev/permission-profile"
PSA_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"

# report(message, urn=None); the SDK types urn as required, which misleads type checkers.
Report = Callable[..., None]
Validate = Callable[[ResourceValidationArgs, Report], None]


def for_types(*types: str) -> Callable[[Validate], Validate]:
    """Run the wrapped resource validation only for the given Pulumi type tokens."""

    def decorate(fn: Validate) -> Validate:
        @wraps(fn)
        def validate(args: ResourceValidationArgs, report: Report) -> None:
            if args.resource_type in types:
                fn(args, report)

        return validate

    return decorate


def labels(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return (props.get("metadata") or {}).get("labels") or {}


def is_tenant_namespace(props: Mapping[str, Any]) -> bool:
    return TENANT_LABEL in labels(props)


def is_organization_namespace(props: Mapping[str, Any]) -> bool:
    found = labels(props)
    return ORGANIZATION_LABEL in found and TENANT_LABEL not in found
