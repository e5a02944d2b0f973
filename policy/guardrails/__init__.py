"""Every policy of the pack, grouped by concern (one module per concern)."""

from pulumi_policy import Policy

from . import (
    appproject_destinations,
    appproject_kinds,
    appproject_roles,
    appproject_sources,
    argocd,
    authentication,
    edge,
    gateways,
    helm,
    hostnames,
    namespaces,
    network,
    pipeline_runs,
    pod_security,
    protection,
    quotas,
    rbac,
    secrets,
    services,
    tokens,
    upstreams,
    workloads,
)

MODULES = [
    rbac,
    namespaces,
    network,
    quotas,
    services,
    appproject_destinations,
    appproject_kinds,
    appproject_sources,
    appproject_roles,
    argocd,
    workloads,
    pod_security,
    tokens,
    pipeline_runs,
    gateways,
    hostnames,
    authentication,
    edge,
    upstreams,
    secrets,
    protection,
    helm,
]

POLICIES: list[Policy] = [policy for module in MODULES for policy in module.POLICIES]

__all__ = ["MODULES", "POLICIES"]
