"""A tenant's Argo CD AppProject: its repository in, its namespaces out, nothing cluster-wide."""

from __future__ import annotations

from typing import Any

from policy import gatehouse_contract as contract

from .. import config
from .profiles import DEPLOYER

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
    server = contract.IN_CLUSTER_SERVER
    return {
        "description": f"Tenant {tenant.name} of organization {tenant.organization} ({tenant.repo})",
        "sourceRepos": [tenant.repo_url, f"{tenant.repo_url}.git"],
        "destinations": [{"server": server, "namespace": ns} for ns in destinations(tenant)],
        # sync as the tenant's own ServiceAccount, so its Role (not Argo CD's cluster-wide one) bounds GitOps;
        # `<namespace>:<name>`, as the deployer lives in the main namespace only
        "destinationServiceAccounts": [
            {"server": server, "namespace": ns, "defaultServiceAccount": f"{tenant.name}:{DEPLOYER}"}
            for ns in destinations(tenant)
        ],
        # cluster-scoped kinds are allow-listed: empty means none
        "clusterResourceWhitelist": [],
        # the guardrails Gatehouse owns, and routes
        "namespaceResourceBlacklist": [
            *({"group": group, "kind": kind} for group, kind in contract.GUARDRAIL_KINDS),
            *GATEWAY_KINDS,
        ],
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
