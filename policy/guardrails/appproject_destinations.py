"""Where a tenant's AppProject deploys: only to the in-cluster server and only to the tenant's own namespaces,
none of which is another tenant's or the platform's.

Anchors: Argo CD v3.4.4 docs/user-guide/projects.md (a project restricts "where apps may be deployed to
(destination clusters and namespaces)"; the `default` project allows every destination).
"""

from __future__ import annotations

import bisect
import fnmatch
import re

import gatehouse_contract as contract
from gatehouse_contract import NAMESPACE_TYPE
from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._util import (
    APP_PROJECT_TYPE,
    CHART_TYPES,
    Report,
    base_type,
    belongs_to_tenant_namespace,
    config_value,
    describe,
    for_types,
    mapping,
    object_name,
    object_spec,
    require_tenant,
    resource_objects,
    resource_tenant,
    sequence,
    string_list,
)

IN_CLUSTER_SERVERS = [contract.IN_CLUSTER_SERVER]
IN_CLUSTER_NAMES = ["in-cluster"]
RESERVED_NAMESPACES = list(contract.RESERVED_NAMESPACES)
WILDCARD_CHARS = re.compile(r"[*?\[\]]")


def namespace_allowed(namespace: str, tenant: str) -> bool:
    """`<tenant>`, `<tenant>-<suffix>`, or the glob `<tenant>-*`; a negation (`!x`) only narrows."""
    if namespace.startswith("!"):
        return True
    if namespace == f"{tenant}-*":
        return True
    return not WILDCARD_CHARS.search(namespace) and belongs_to_tenant_namespace(namespace, tenant)


@for_types(APP_PROJECT_TYPE)
def _destinations(args: ResourceValidationArgs, report: Report) -> None:
    tenant = require_tenant(args, report)
    if not tenant:
        return
    what = describe(args.resource_type, args.props, args.name)
    servers = config_value(args, "allowedServers", IN_CLUSTER_SERVERS)
    names = config_value(args, "allowedClusterNames", IN_CLUSTER_NAMES)
    for index, destination in enumerate(sequence(object_spec(args.props).get("destinations")), start=1):
        destination = mapping(destination)
        server, name = destination.get("server"), destination.get("name")
        if not ((server and server in servers) or (name and name in names and not server)):
            report(f"{what} destination {index} targets cluster '{server or name}', not the in-cluster server")
        namespace = str(destination.get("namespace") or "")
        if not namespace_allowed(namespace, tenant):
            report(f"{what} destination {index} targets namespace '{namespace}' outside tenant '{tenant}'")


appproject_destinations = ResourceValidationPolicy(
    name="appproject-destinations",
    description="A tenant AppProject deploys only to the in-cluster server and only to the tenant's own "
    "namespaces (`<tenant>`, `<tenant>-*`), never '*'.",
    validate=_destinations,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="Argo CD", reference="projects.md: destinations"),
    config_schema=PolicyConfigSchema(
        properties={
            "allowedServers": string_list(IN_CLUSTER_SERVERS),
            "allowedClusterNames": string_list(IN_CLUSTER_NAMES),
        }
    ),
)


def _exclusive_destinations(args: StackValidationArgs, report: Report) -> None:
    # namespace -> its tenant (None: the platform's): declared Namespaces, then chart targets, then reserved ones
    owners: dict[str, str | None] = {}
    for r in args.resources:
        if r.resource_type == NAMESPACE_TYPE and object_name(r.props):
            owners[object_name(r.props)] = resource_tenant(r)
    for r in args.resources:
        if r.resource_type in CHART_TYPES and r.props.get("namespace"):
            owners.setdefault(str(r.props["namespace"]), resource_tenant(r))
    for name in config_value(args, "platformNamespaces", RESERVED_NAMESPACES):
        owners.setdefault(str(name), None)
    names = sorted(owners)
    for r in sorted(args.resources, key=lambda r: r.urn):
        if base_type(r.resource_type) != APP_PROJECT_TYPE:
            continue
        # a project no tenant owns (neither under a Tenant nor labelled) must not reach any tenant's namespace
        # either: the namespaces say whose they are, the project's silence does not make them the platform's
        tenant = resource_tenant(r)
        for props in resource_objects(r):
            what = describe(r.resource_type, props, r.name)
            for index, destination in enumerate(sequence(object_spec(props).get("destinations")), start=1):
                pattern = str(mapping(destination).get("namespace") or "")
                if not pattern or pattern.startswith("!"):
                    continue
                for namespace in _starting_with(names, _literal_prefix(pattern)):
                    owner = owners[namespace]
                    if tenant is None and owner is None:
                        continue  # a platform project reaching a platform namespace
                    # Argo CD matches destination namespaces as globs, `*` across '-' too
                    if owner != tenant and fnmatch.fnmatchcase(namespace, pattern):
                        whose = f"tenant '{owner}'" if owner else "the platform"
                        report(
                            f"{what} destination {index} ('{pattern}') reaches namespace '{namespace}' of {whose}",
                            r.urn,
                        )


def _literal_prefix(pattern: str) -> str:
    """What every match of a glob starts with: `pay-*` -> `pay-`, `*` -> ``."""
    return re.split(r"[*?\[]", pattern, maxsplit=1)[0]


def _starting_with(names: list[str], prefix: str) -> list[str]:
    """The sorted names that start with `prefix`: a glob is tried only where it could match (linear, not
    quadratic, in the number of tenants)."""
    start = bisect.bisect_left(names, prefix)
    end = start
    while end < len(names) and names[end].startswith(prefix):
        end += 1
    return names[start:end]


appproject_destinations_exclusive = StackValidationPolicy(
    name="appproject-destinations-exclusive",
    description="No tenant AppProject's destinations (`<tenant>`, `<tenant>-*`) match a namespace of another "
    "tenant or of the platform (tenant `pay` must not reach `pay-roll`), and no other AppProject's match a "
    "tenant's namespace.",
    validate=_exclusive_destinations,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="Argo CD", reference="projects.md: destinations"),
    config_schema=PolicyConfigSchema(properties={"platformNamespaces": string_list(RESERVED_NAMESPACES)}),
)


POLICIES = [appproject_destinations, appproject_destinations_exclusive]
