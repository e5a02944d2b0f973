"""A tenant's Argo CD AppProject: its repository in, its namespaces out, nothing cluster-wide."""

from __future__ import annotations

from typing import Any

from .. import config
from .profiles import DEPLOYER

IN_CLUSTER = "https://kubernetes.default.svc"

# Kinds a tenant may never deploy through GitOps: they are the guardrails Gatehouse owns.
GUARDRAIL_KINDS = [
    {"group": "", "kind": "ResourceQuota"},
    {"group": "", "kind": "LimitRange"},
    {"group": "networking.k8s.io", "kind": "NetworkPolicy"},
    {"group": "rbac.authorization.k8s.io", "kind": "Role"},
    {"group": "rbac.authorization.k8s.io", "kind": "RoleBinding"},
]
# Routes and their policies come only from Gatehouse config (apps, apis), which adds SSO, JWT or API-key
# protection: a tenant's own HTTPRoute could publish an unprotected host or take over another's path.
GATEWAY_KINDS = [
    {"group": "gateway.networking.k8s.io", "kind": "*"},
    {"group": "gateway.envoyproxy.io", "kind": "*"},
]


def destinations(tenant: config.Tenant) -> list[str]:
    """`<tenant>` and `<tenant>-*`; config validation keeps other tenants out of the glob."""
    return [tenant.name, f"{tenant.name}-*"]


def app_project_spec(tenant: config.Tenant) -> dict[str, Any]:
    role = "developers"
    return {
        "description": f"Tenant {tenant.name} of organization {tenant.organization} ({tenant.repo})",
        "sourceRepos": [tenant.repo_url, f"{tenant.repo_url}.git"],
        "destinations": [{"server": IN_CLUSTER, "namespace": ns} for ns in destinations(tenant)],
        # sync as the tenant's own ServiceAccount, so its Role (not Argo CD's cluster-wide one) bounds GitOps;
        # `<namespace>:<name>`, as the deployer lives in the main namespace only
        "destinationServiceAccounts": [
            {"server": IN_CLUSTER, "namespace": ns, "defaultServiceAccount": f"{tenant.name}:{DEPLOYER}"}
            for ns in destinations(tenant)
        ],
        # cluster-scoped kinds are allow-listed: empty means none
        "clusterResourceWhitelist": [],
        "namespaceResourceBlacklist": [*GUARDRAIL_KINDS, *GATEWAY_KINDS],
        "roles": [
            {
                "name": role,
                "description": f"Members of {', '.join(tenant.oidc_groups)}",
                "policies": [
                    f"p, proj:{tenant.name}:{role}, applications, *, {tenant.name}/*, allow",
                    f"p, proj:{tenant.name}:{role}, logs, get, {tenant.name}/*, allow",
                ],
                "groups": tenant.oidc_groups,
            }
        ],
    }
