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
    pod_security,
    protection,
    quotas,
    rbac,
    secrets,
    services,
    tokens,
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
    gateways,
    hostnames,
    authentication,
    edge,
    secrets,
    protection,
    helm,
]

POLICIES: list[Policy] = [policy for module in MODULES for policy in module.POLICIES]

__all__ = ["MODULES", "POLICIES"]
