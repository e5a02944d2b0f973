"""Every policy of the pack, grouped by concern (one module per concern)."""

from pulumi_policy import Policy

from . import argocd, edge, helm, namespaces, network, protection, quotas, rbac, secrets, services, workloads

MODULES = [rbac, namespaces, network, quotas, services, argocd, workloads, edge, secrets, protection, helm]

POLICIES: list[Policy] = [policy for module in MODULES for policy in module.POLICIES]

__all__ = ["MODULES", "POLICIES"]
