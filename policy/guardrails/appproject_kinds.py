"""What kinds a tenant's AppProject deploys: no cluster-scoped kind, none of the guardrail kinds Gatehouse owns.

Anchors: Argo CD v3.4.4 docs/user-guide/projects.md (a project restricts "what kinds of objects may or may not
be deployed"; "namespaced-scoped resources are restricted via a deny list, whereas cluster-scoped resources are
restricted via allow list") and docs/operator-manual/project.yaml (namespaceResourceBlacklist), Kyverno
appproject-clusterresourceblacklist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gatehouse_contract as contract
from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import (
    APP_PROJECT_TYPE,
    Report,
    args_tenant,
    config_value,
    describe,
    for_types,
    is_patch,
    mapping,
    object_spec,
    sequence,
)

GUARDRAIL_KINDS = [{"group": group, "kind": kind} for group, kind in contract.GUARDRAIL_KINDS]


@for_types(APP_PROJECT_TYPE)
def _no_cluster_resources(args: ResourceValidationArgs, report: Report) -> None:
    if args_tenant(args) is None:
        return
    allowed = [mapping(e) for e in sequence(object_spec(args.props).get("clusterResourceWhitelist"))]
    if allowed:
        kinds = ", ".join(f"{e.get('group') or 'core'}/{e.get('kind')}" for e in allowed)
        report(f"{describe(args.resource_type, args.props, args.name)} allows cluster-scoped kinds: {kinds}")


appproject_no_cluster_resources = ResourceValidationPolicy(
    name="appproject-no-cluster-resources",
    description="A tenant AppProject allows no cluster-scoped kinds (clusterResourceWhitelist empty).",
    validate=_no_cluster_resources,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="Argo CD", reference="projects.md: clusterResourceWhitelist"),
)


def _blacklisted(entries: list[Mapping[str, Any]], group: str, kind: str) -> bool:
    return any((e.get("group") or "") in (group, "*") and e.get("kind") in (kind, "*") for e in entries)


@for_types(APP_PROJECT_TYPE)
def _guardrail_blacklist(args: ResourceValidationArgs, report: Report) -> None:
    if args_tenant(args) is None:
        return
    blacklist = object_spec(args.props).get("namespaceResourceBlacklist")
    if blacklist is None and is_patch(args.resource_type):
        return  # the patch leaves the blacklist alone (one that sets it replaces the whole list)
    entries = [mapping(e) for e in sequence(blacklist)]
    missing = [
        f"{k.get('group') or 'core'}/{k.get('kind')}"
        for k in (mapping(k) for k in config_value(args, "guardrailKinds", GUARDRAIL_KINDS))
        if not _blacklisted(entries, str(k.get("group") or ""), str(k.get("kind") or ""))
    ]
    if missing:
        report(
            f"{describe(args.resource_type, args.props, args.name)} lets Argo CD deploy guardrail kinds: "
            f"{', '.join(missing)} (add them to namespaceResourceBlacklist)"
        )


appproject_guardrail_blacklist = ResourceValidationPolicy(
    name="appproject-guardrail-blacklist",
    description="A tenant AppProject blacklists the kinds Gatehouse owns (ResourceQuota, LimitRange, "
    "NetworkPolicy, Role, RoleBinding), so GitOps cannot override the guardrails.",
    validate=_guardrail_blacklist,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="Argo CD", reference="project.yaml: namespaceResourceBlacklist"),
    config_schema=PolicyConfigSchema(
        properties={
            "guardrailKinds": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"group": {"type": "string"}, "kind": {"type": "string"}},
                    "required": ["group", "kind"],
                },
                "default": GUARDRAIL_KINDS,
            }
        }
    ),
)


POLICIES = [appproject_no_cluster_resources, appproject_guardrail_blacklist]
