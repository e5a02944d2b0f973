"""Generated stacks: N tenants with organizations, apps and APIs in proportion to the real stacks."""

from __future__ import annotations

from typing import Any

from offline.scratch import stack_config

PROFILES = ("standard", "elevated")
SIZES = ("small", "medium", "large")


def generated_config(tenants: int) -> dict[str, Any]:
    """Prod's settings (the strictest policy config applies), one organization per 5 tenants, an app
    and an API per 10 tenants."""
    config = stack_config("prod")
    orgs = [
        {"name": f"org{i:04d}", "displayName": f"Organization {i}", "adminUsers": [f"admin@org{i}.example.com"]}
        for i in range(max(1, tenants // 5))
    ]
    entries = [
        {
            "name": f"t{i:04d}",
            "organization": orgs[i % len(orgs)]["name"],
            "repo": f"{orgs[i % len(orgs)]['name']}/service-{i:04d}",
            "profile": PROFILES[i % 2],
            "size": SIZES[i % 3],
            **({"namespaces": ["jobs"]} if i % 4 == 0 else {}),
        }
        for i in range(tenants)
    ]
    apps = [config["gatehouse:apps"][0]] + [
        {"name": f"app{i:04d}", "namespace": f"t{i * 10:04d}", "service": {"name": "web", "port": 8080}}
        for i in range(max(1, tenants // 10))
    ]
    apis = [
        {
            "name": f"api{i:04d}",
            "namespace": f"t{i * 10 + 1:04d}",
            "service": {"name": "api", "port": 8080},
            **(
                {"auth": "jwt", "m2mClients": [{"name": f"partner{i:04d}", "scopes": ["write"], "tier": "standard"}]}
                if i % 2 == 0
                else {
                    "auth": "apiKey",
                    "scopes": ["read"],
                    "apiKeyTiers": [
                        {"name": "free", "requestsPerMinute": 60, "clients": [f"free-{i:04d}"]},
                        {"name": "pro", "requestsPerMinute": 1200, "clients": [f"pro-{i:04d}"]},
                    ],
                }
            ),
        }
        for i in range(max(1, tenants // 10))
    ]
    config.update(
        {
            "gatehouse:organizations": orgs,
            "gatehouse:tenants": entries,
            "gatehouse:apps": apps,
            "gatehouse:apis": apis,
        }
    )
    return config
