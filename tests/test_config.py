"""The stack configuration models: both real stacks load; bad values are named by config path."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
import yaml
from conftest import REPO

from components import config
from components.config.definitions import load_definitions
from components.platform import identity_settings
from offline.stack_config import load_stack_config

SECRETS = {f"gatehouse:{k}": f"secret-{k}" for k in config.SECRET_KEYS}
SECRETS["gatehouse:webhookSecrets"] = "{}"  # a map of organizations' own webhook secrets (none here)


def _load(raw: dict[str, Any], secrets: dict[str, str] | None = None, secret_keys: list[str] | None = None):
    """Hand `raw` (root key -> value) to the program the way the engine does, then load it."""
    values = {f"gatehouse:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
    values.update(SECRETS if secrets is None else secrets)
    keys = list(SECRETS) if secret_keys is None else secret_keys
    pulumi.runtime.set_all_config(values, keys)
    return config.load(pulumi.Config("gatehouse"))


# staging's seed 000 APIs, first among its `apis` once its definition files are expanded (_stack_raw)
SEED_000_APIS = ("tickets-v1", "assets-v1", "catalog-v1")


def _stack_raw(stack: str, expand: bool = True) -> dict[str, Any]:
    """The stack's config as the engine hands it over; its API definition files expanded into `apis` entries
    by the program's own converter (config/definitions.py), seed 000's three first, so a test can change an
    API's entry in place."""
    loaded = load_stack_config(REPO, stack)
    raw = {}
    for key, value in loaded.values.items():
        short = key.split(":", 1)[1]
        if short in config.SECRET_KEYS:
            continue
        raw[short] = value if short in config.SCALAR_KEYS else json.loads(value)
    if expand and "apiDefinitions" in raw:
        entries, problems = load_definitions(raw.pop("apiDefinitions"), REPO)
        assert not problems, problems
        first = {name: i for i, name in enumerate(SEED_000_APIS)}
        expanded = sorted((entry for _, entry in entries), key=lambda e: first.get(e["name"], len(first)))
        raw["apis"] = [*raw.get("apis", []), *expanded]
    return raw


@pytest.fixture()
def staging() -> dict[str, Any]:
    return copy.deepcopy(_stack_raw("staging"))


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_real_stacks_load(stack: str) -> None:
    parsed = _load(_stack_raw(stack))
    assert parsed.environment == stack
    assert len(parsed.organizations) >= 2 and len(parsed.tenants) >= 4
    assert {t.profile for t in parsed.tenants} == {"standard", "elevated"}
    assert any(a.name == "grafana" and a.auth == "sso" for a in parsed.apps)
    (tickets,) = [a for a in parsed.apis if a.scope_name("admin") == "tickets:admin"]  # seed 000's scope names
    assert tickets.scopes == ["read", "write", "admin"]
    assert any(a.auth == "apiKey" and a.api_key_tiers for a in parsed.apis)
    assert parsed.site.is_production is (stack == "prod")


def test_defaults_fill_in(staging: dict[str, Any]) -> None:
    parsed = _load(staging)
    assert parsed.identity.hosts.dex == "dex"
    # RFC 1918, link-local (cloud metadata) and RFC 6598 shared space (often the pod range)
    assert parsed.network.private_ranges == [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
        "100.64.0.0/10",
    ]
    tenant = next(t for t in parsed.tenants if t.name == "payments")
    assert tenant.namespace_names == ["payments", "payments-batch"]
    assert tenant.oidc_groups == ["acme-corp:payments"]


def test_org_id_derives_from_the_slug_only(staging: dict[str, Any]) -> None:
    first = _load(staging).organizations[0]
    staging["organizations"][0]["displayName"] = "ACME Renamed"
    assert _load(staging).organizations[0].org_id == first.org_id


Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    """A mutation setting `a.b[2].c` to value (or deleting it when value is DELETE)."""

    def apply(raw: dict[str, Any]) -> None:
        parts = path.replace("]", "").replace("[", ".").split(".")
        target: Any = raw
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target.setdefault(part, {})
        last: Any = int(parts[-1]) if parts[-1].isdigit() else parts[-1]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value

    return apply


DELETE = object()


def _all(*mutations: Mutation) -> Mutation:
    def apply(raw: dict[str, Any]) -> None:
        for mutate in mutations:
            mutate(raw)

    return apply


def _add_api(name: str, **fields: Any) -> Mutation:
    """A mutation adding an API in the storefront namespace (an apiKey API unless fields say otherwise)."""
    api = {
        "name": name,
        "namespace": "storefront",
        "service": {"name": "svc", "port": 8080},
        "auth": "apiKey",
        "scopes": ["read"],
        "apiKeyTiers": [{"name": "free", "requestsPerMinute": 60, "clients": ["acme"]}],
        **fields,
    }
    return lambda raw: raw["apis"].append(api)


INVALID: list[tuple[str, Mutation, str, str]] = [
    (
        "tenant name not a label",
        _set("tenants[2].name", "Store_Front"),
        "gatehouse:tenants[2].name",
        "must be a DNS label",
    ),
    ("tenant name too long", _set("tenants[0].name", "a" * 64), "gatehouse:tenants[0].name", "must be a DNS label"),
    ("tenant name reserved", _set("tenants[1].name", "kube-system"), "gatehouse:tenants[1].name", "reserved namespace"),
    ("tenant name default", _set("tenants[1].name", "default"), "gatehouse:tenants[1].name", "reserved namespace"),
    ("tenant name argocd", _set("tenants[3].name", "argocd"), "gatehouse:tenants[3].name", "reserved namespace"),
    ("tenant name org prefix", _set("tenants[3].name", "org-acme"), "gatehouse:tenants[3].name", "reserved namespace"),
    (
        "tenant glob reaches cert-manager",
        _set("tenants[4].name", "cert"),
        "gatehouse:tenants[4].name",
        "tenant 'cert' (namespaces 'cert', 'cert-*') would reach the reserved namespace 'cert-manager'",
    ),
    (
        "tenant glob reaches tekton-pipelines",
        _set("tenants[4].name", "tekton"),
        "gatehouse:tenants[4].name",
        "the reserved namespaces 'tekton-chains', 'tekton-operator', 'tekton-pipelines', 'tekton-pipelines-resolvers'",
    ),
    (
        "tenant glob reaches envoy-gateway-system",
        _set("tenants[4].name", "envoy-gateway"),
        "gatehouse:tenants[4].name",
        "reserved namespace 'envoy-gateway-system'",
    ),
    ("tenant kube", _set("tenants[4].name", "kube"), "gatehouse:tenants[4].name", "the reserved namespace 'kube-*'"),
    ("tenant org", _set("tenants[4].name", "org"), "gatehouse:tenants[4].name", "the reserved namespace 'org-*'"),
    (
        "tenant openshift",
        _set("tenants[4].name", "openshift"),
        "gatehouse:tenants[4].name",
        "the reserved namespace 'openshift-*'",
    ),
    (
        "extra namespace reserved",
        _all(_set("tenants[4].name", "kube"), _set("tenants[4].namespaces", ["system"])),
        "gatehouse:tenants[4].namespaces[0]",
        "namespace 'kube-system' would be the reserved namespaces 'kube-system', 'kube-*'",
    ),
    (
        "tenant name with a trailing newline",
        _set("tenants[4].name", "archon\n"),
        "gatehouse:tenants[4].name",
        "must be a DNS label",
    ),
    (
        "extra namespace with a trailing newline",
        _set("tenants[1].namespaces", ["batch\n"]),
        "gatehouse:tenants[1].namespaces[0]",
        "must be a DNS label",
    ),
    (
        "unknown organization",
        _set("tenants[0].organization", "umbrella"),
        "gatehouse:tenants[0].organization",
        "unknown organization 'umbrella'",
    ),
    (
        "unknown profile",
        _set("tenants[0].profile", "admin"),
        "gatehouse:tenants[0].profile",
        "must be 'standard' or 'elevated'",
    ),
    (
        "unknown size",
        _set("tenants[0].size", "huge"),
        "gatehouse:tenants[0].size",
        "must be 'small', 'medium' or 'large'",
    ),
    (
        "duplicate tenant",
        _set("tenants[1].name", "helpdesk"),
        "gatehouse:tenants[1].name",
        "duplicate tenant 'helpdesk'",
    ),
    (
        "namespace collision",
        _set("tenants[0].name", "payments-batch"),
        "gatehouse:tenants[1].namespaces[0]",
        "duplicate namespace 'payments-batch'",
    ),
    (
        "under another tenant's glob",
        _set("tenants[3].name", "payments-api"),
        "gatehouse:tenants[3].name",
        "falls under tenant 'payments'",
    ),
    (
        "app in an unknown namespace",
        _set("apps[1].namespace", "shop"),
        "gatehouse:apps[1].namespace",
        "neither a tenant namespace",
    ),
    (
        "api namespace of a removed tenant",
        _set("apis[2].namespace", "archon-web"),
        "gatehouse:apis[2].namespace",
        "neither a tenant namespace",
    ),
    (
        "extra namespace too long",
        _set("tenants[0].namespaces", ["x" * 60]),
        "gatehouse:tenants[0].namespaces[0]",
        "longer than 63",
    ),
    ("bad repo", _set("tenants[0].repo", "Acme/Helpdesk"), "gatehouse:tenants[0].repo", "'<github-org>/<repository>'"),
    (
        "repo without org",
        _set("tenants[0].repo", "helpdesk"),
        "gatehouse:tenants[0].repo",
        "'<github-org>/<repository>'",
    ),
    ("tenant field typo", _set("tenants[0].sise", "small"), "gatehouse:tenants[0].sise", "unknown field"),
    ("tenant missing repo", _set("tenants[0].repo", DELETE), "gatehouse:tenants[0].repo", "is required"),
    (
        "display name pattern",
        _set("organizations[0].displayName", "ACME <script>"),
        "gatehouse:organizations[0].displayName",
        "only letters, digits",
    ),
    (
        "display name of only spaces",
        _set("organizations[0].displayName", "   "),
        "gatehouse:organizations[0].displayName",
        "not only spaces",
    ),
    (
        "display name of a newline",
        _set("organizations[0].displayName", "\n"),
        "gatehouse:organizations[0].displayName",
        "not only spaces",
    ),
    (
        "admin e-mail",
        _set("organizations[1].adminUsers[0]", "not-an-email"),
        "gatehouse:organizations[1].adminUsers[0]",
        "e-mail",
    ),
    (
        "admin e-mail with a trailing newline",
        _set("organizations[1].adminUsers[0]", "it@globex.example.com\n"),
        "gatehouse:organizations[1].adminUsers[0]",
        "e-mail",
    ),
    (
        "repo org ending in a hyphen",
        _set("tenants[0].repo", "acme-/helpdesk"),
        "gatehouse:tenants[0].repo",
        "GitHub organization must start and end",
    ),
    (
        "repo with a trailing newline",
        _set("tenants[0].repo", "acme-corp/helpdesk\n"),
        "gatehouse:tenants[0].repo",
        "'<github-org>/<repository>'",
    ),
    ("no admins", _set("organizations[0].adminUsers", []), "gatehouse:organizations[0].adminUsers", "at least 1 entry"),
    (
        "duplicate organization",
        _set("organizations[1].name", "acme"),
        "gatehouse:organizations[1].name",
        "duplicate organization 'acme'",
    ),
    ("org name too long", _set("organizations[2].name", "o" * 60), "gatehouse:organizations[2].name", "at most 59"),
    (
        "cors origin with a path",
        _set("apis[0].corsOrigins", ["https://app.example.com/spa"]),
        "gatehouse:apis[0].corsOrigins[0]",
        "https origin",
    ),
    (
        "cors origin over http",
        _set("apis[0].corsOrigins", ["http://app.example.com"]),
        "gatehouse:apis[0].corsOrigins[0]",
        "https origin",
    ),
    (
        "cors origins on an apiKey API",
        _set("apis[2].corsOrigins", ["https://app.example.com"]),
        "gatehouse:apis[2].corsOrigins",
        "only jwt APIs have CORS origins",
    ),
    (
        "tenant group without a team",
        _set("tenants[0].groups", ["acme-corp"]),
        "gatehouse:tenants[0].groups[0]",
        "'<org>:<team>'",
    ),
    (
        "tenant group with spaces",
        _set("tenants[0].groups", ["acme corp:help desk"]),
        "gatehouse:tenants[0].groups[0]",
        "'<org>:<team>'",
    ),
    (
        "unknown plan",
        _set("organizations[0].plan", "gold"),
        "gatehouse:organizations[0].plan",
        "must be 'free', 'pro' or 'enterprise'",
    ),
    ("no organizations", _set("organizations", []), "gatehouse:organizations", "at least 1 entry"),
    (
        "app host clashes with api",
        _set("apps[1].host", "tickets"),
        "gatehouse:apis[0].host",
        "duplicate host 'tickets'",
    ),
    ("app host clashes with identity", _set("apps[0].host", "dex"), "gatehouse:apps[0].host", "duplicate host 'dex'"),
    (
        "org host clashes with app",
        _set("apps[1].name", "acme"),
        "gatehouse:organizations[0].name",
        "duplicate host 'acme'",
    ),
    ("duplicate app", _set("apps[1].name", "grafana"), "gatehouse:apps[1].name", "duplicate app 'grafana'"),
    ("app port", _set("apps[0].service.port", 70000), "gatehouse:apps[0].service.port", "less than or equal to 65535"),
    ("app auth", _set("apps[0].auth", "none"), "gatehouse:apps[0].auth", "must be 'sso' or 'public'"),
    ("api auth", _set("apis[0].auth", "basic"), "gatehouse:apis[0].auth", "must be 'jwt', 'apiKey' or 'public'"),
    ("api key without tiers", _set("apis[2].apiKeyTiers", []), "gatehouse:apis[2].apiKeyTiers", "at least one tier"),
    (
        "m2m scope not offered",
        _set("apis[1].scopes", ["read"]),
        "gatehouse:apis[1].m2mClients[0].scopes[0]",
        "scope 'write' is not one of the API's scopes",
    ),
    (
        "m2m admin, even where the API has it",
        _all(
            _set("apis[1].scopes", ["read", "write", "admin"]), _set("apis[1].m2mClients[0].scopes", ["write", "admin"])
        ),
        "gatehouse:apis[1].m2mClients[0].scopes[1]",
        "machine clients never get 'admin'",
    ),
    (
        "m2m scope unknown",
        _set("apis[1].m2mClients[0].scopes", ["delete"]),
        "gatehouse:apis[1].m2mClients[0].scopes[0]",
        "must be 'read' or 'write'",
    ),
    (
        "duplicate m2m client in one API",
        _set("apis[1].m2mClients", [{"name": "partner-logistics", "scopes": ["write"], "tier": "standard"}] * 2),
        "gatehouse:apis[1].m2mClients[1].name",
        "duplicate m2m client 'partner-logistics' (first at gatehouse:apis[1].m2mClients[0].name)",
    ),
    (
        "m2m client named like the portal client",
        _set("apis[1].m2mClients[0].name", "portal"),
        "gatehouse:apis[1].m2mClients[0].name",
        "'portal' is taken in the Keycloak realm",
    ),
    (
        "m2m client named like the Google secret's key",
        _set("apis[1].m2mClients[0].name", "google-client-secret"),
        "gatehouse:apis[1].m2mClients[0].name",
        "'google-client-secret' is taken in the Keycloak realm",
    ),
    (
        "duplicate key tier",
        _set("apis[2].apiKeyTiers[1].name", "free"),
        "gatehouse:apis[2].apiKeyTiers[1].name",
        "duplicate API key tier 'free' (first at gatehouse:apis[2].apiKeyTiers[0].name)",
    ),
    (
        "two APIs' key Secrets meet on one name",
        _all(
            _set("apis[2].apiKeyTiers[1].name", "x-apikeys-y"),
            _add_api("catalog-v1-apikeys-x", apiKeyTiers=[{"name": "y", "requestsPerMinute": 1, "clients": ["a"]}]),
        ),
        "gatehouse:apis[6].apiKeyTiers[0].name",
        "API key Secret 'envoy-gateway-system/catalog-v1-apikeys-x-apikeys-y' clashes with the one made for "
        "gatehouse:apis[2].apiKeyTiers[1].name",
    ),
    (
        "two APIs' key Secret resources meet on one name",
        _all(
            _set("apis[2].apiKeyTiers[1].name", "x-keys-y"),
            _add_api("catalog-v1-keys-x", apiKeyTiers=[{"name": "y", "requestsPerMinute": 1, "clients": ["a"]}]),
        ),
        "gatehouse:apis[6].apiKeyTiers[0].name",
        "Secret resource name 'api-catalog-v1-keys-x-keys-y' clashes",
    ),
    (
        "two APIs' keys meet on one resource name",
        _all(
            _set("apis[2].apiKeyTiers[1].clients", ["x-key-y"]),
            _add_api("catalog-v1-key-x", apiKeyTiers=[{"name": "z", "requestsPerMinute": 1, "clients": ["y"]}]),
        ),
        "gatehouse:apis[6].apiKeyTiers[0].clients[0]",
        "RandomPassword resource name 'api-catalog-v1-key-x-key-y' clashes with the one made for "
        "gatehouse:apis[2].apiKeyTiers[1].clients[0]",
    ),
    (
        "app and API share an HTTPRoute",
        _add_api("shop", host="shop-api"),
        "gatehouse:apis[6].name",
        "HTTPRoute 'storefront/shop' clashes with the one made for gatehouse:apps[1].name",
    ),
    (
        "duplicate key client",
        _set("apis[2].apiKeyTiers[1].clients", ["free-initech"]),
        "gatehouse:apis[2].apiKeyTiers[1].clients[0]",
        "duplicate API key client",
    ),
    (
        "zero rate",
        _set("apis[2].apiKeyTiers[0].requestsPerMinute", 0),
        "gatehouse:apis[2].apiKeyTiers[0].requestsPerMinute",
        "greater than or equal to 1",
    ),
    ("admin path", _set("apis[0].adminPaths", ["admin"]), "gatehouse:apis[0].adminPaths[0]", "absolute URL path"),
    ("domain", _set("domain", "Staging.Example"), "gatehouse:domain", "lowercase DNS domain"),
    (
        "domain with a trailing newline",
        _set("domain", "staging.platform.example.com\n"),
        "gatehouse:domain",
        "lowercase DNS domain",
    ),
    (
        "kubernetes version with a trailing newline",
        _set("kubernetesVersion", "1.33\n"),
        "gatehouse:kubernetesVersion",
        "Kubernetes minor version",
    ),
    (
        "kubernetes version in non-ASCII digits",
        _set("kubernetesVersion", "1.\u0663\u0663"),
        "gatehouse:kubernetesVersion",
        "Kubernetes minor version",
    ),
    (
        "zone id with a trailing newline",
        _set("edge.cloudflare.zoneId", "0f1e2d3c4b5a69788796a5b4c3d2e1f0\n"),
        "gatehouse:edge.cloudflare.zoneId",
        "32 lowercase hex",
    ),
    (
        "host label with a trailing newline",
        _set("identity.hosts.keycloak", "sso\n"),
        "gatehouse:identity.hosts.keycloak",
        "must be a DNS label",
    ),
    (
        "admin path with a newline",
        _set("apis[0].adminPaths", ["/admin\n"]),
        "gatehouse:apis[0].adminPaths[0]",
        "absolute URL path",
    ),
    ("environment", _set("environment", "qa"), "gatehouse:environment", "must be 'dev', 'staging' or 'prod'"),
    ("kubernetes version", _set("kubernetesVersion", "1.20"), "gatehouse:kubernetesVersion", "1.30 or newer"),
    ("zone id", _set("edge.cloudflare.zoneId", "zone"), "gatehouse:edge.cloudflare.zoneId", "32 lowercase hex"),
    (
        "load balancer address",
        _set("edge.loadBalancer.address", "300.1.1.1"),
        "gatehouse:edge.loadBalancer.address",
        "IPv4",
    ),
    (
        "source range",
        _set("edge.loadBalancer.sourceRanges", ["10.0.0.1/8"]),
        "gatehouse:edge.loadBalancer.sourceRanges[0]",
        "CIDR",
    ),
    ("acme email", _set("edge.acme.email", "ops"), "gatehouse:edge.acme.email", "e-mail"),
    ("acme server", _set("edge.acme.server", "https://acme.example.com"), "gatehouse:edge.acme.server", "must be"),
    (
        "private range",
        _set("network", {"privateRanges": ["10.0.0.0/33"]}),
        "gatehouse:network.privateRanges[0]",
        "CIDR",
    ),
    (
        "private range of everything",
        _set("network", {"privateRanges": ["10.0.0.0/8", "0.0.0.0/0"]}),
        "gatehouse:network.privateRanges[1]",
        "IPv4 CIDR block inside 0.0.0.0/0 (and not 0.0.0.0/0 itself)",
    ),
    (
        "private range IPv6",
        _set("network", {"privateRanges": ["fd00::/8"]}),
        "gatehouse:network.privateRanges[0]",
        "IPv4 CIDR block inside 0.0.0.0/0",
    ),
    (
        "private range with a netmask",
        _set("network", {"privateRanges": ["10.0.0.0/255.0.0.0"]}),
        "gatehouse:network.privateRanges[0]",
        "with a prefix length",
    ),
    (
        "private range without a prefix length",
        _set("network", {"privateRanges": ["169.254.169.254"]}),
        "gatehouse:network.privateRanges[0]",
        "with a prefix length",
    ),
    ("missing edge", _set("edge", DELETE), "gatehouse:edge", "is required"),
    (
        "github org",
        _set("identity.connectors.github.orgs", []),
        "gatehouse:identity.connectors.github.orgs",
        "at least 1 entry",
    ),
    ("host label", _set("identity.hosts.keycloak", "SSO"), "gatehouse:identity.hosts.keycloak", "must be a DNS label"),
    (
        "an organization-scoped API key API",
        _set("apis[2].organizationScoped", True),
        "gatehouse:apis[2].organizationScoped",
        "only jwt APIs are organization-scoped",
    ),
    (
        "no platform org",
        _set("identity.connectors.github.platformOrg", DELETE),
        "gatehouse:identity.connectors.github.platformOrg",
        "is required",
    ),
    (
        "platform org Dex does not admit",
        _set("identity.connectors.github.platformOrg", "other-org"),
        "gatehouse:identity.connectors.github.platformOrg",
        "'other-org' is not one of orgs (example-org)",
    ),
    (
        "a GitHub org named like Authentik's groups",
        _set("identity.connectors.github.orgs", [{"name": "example-org"}, {"name": "authentik"}]),
        "gatehouse:identity.connectors.github.orgs[1].name",
        "GitHub org 'authentik' would emit the groups Dex gives Authentik's",
    ),
    (
        "a tenant repository in a GitHub org named like Authentik's groups",
        _set("tenants[1].repo", "authentik/payments"),
        "gatehouse:tenants[1].repo",
        "GitHub org 'authentik' would emit the groups Dex gives Authentik's",
    ),
    (
        "a tenant's org as the platform org",
        _set(
            "identity.connectors.github", {"clientId": "x", "platformOrg": "acme-corp", "orgs": [{"name": "acme-corp"}]}
        ),
        "gatehouse:identity.connectors.github.platformOrg",
        "'acme-corp' owns the repositories of tenants 'helpdesk', 'payments': it must be the platform's own",
    ),
    # who may enter an app (issue 18)
    (
        "staff group not a platform group",
        _set("apps[0].staffGroups", ["platform-admins", "acme-admins"]),
        "gatehouse:apps[0].staffGroups[1]",
        "'acme-admins' is not a platform group",
    ),
    (
        "unknown organization on an app",
        _set("apps[2].organizations", ["umbrella"]),
        "gatehouse:apps[2].organizations[0]",
        "unknown organization 'umbrella'",
    ),
    (
        "organization field on a staff app",
        _set("apps[0].orgRoles", ["ORG_ADMIN"]),
        "gatehouse:apps[0].orgRoles",
        "a field of the other audience (this app's: staff, the default)",
    ),
    (
        "staff field on an organization app",
        _set("apps[2].staffGroups", ["platform-admins"]),
        "gatehouse:apps[2].staffGroups",
        "a field of the 'staff' audience (audience: organization)",
    ),
    ("nobody could enter", _set("apps[2].orgRoles", []), "gatehouse:apps[2].orgRoles", "empty: nobody could enter"),
    ("unknown organization role", _set("apps[2].orgRoles", ["OWNER"]), "gatehouse:apps[2].orgRoles[0]", "ORG_ADMIN"),
    (
        "public app with an audience",
        _set("apps[2].auth", "public"),
        "gatehouse:apps[2].audience",
        "a public app admits everyone: it has no audience",
    ),
    (
        "organization app outside a tenant",
        _set("apps[0].audience", "organization"),
        "gatehouse:apps[0].audience",
        "an organization app there names its organizations",
    ),
    (
        "app client named like a partner",
        _set("apis[1].m2mClients[0].name", "app-shop"),
        "gatehouse:apps[1].name",
        "its Keycloak client 'app-shop' is also a partner's name",
    ),
    # values that would weaken the platform (issue 19)
    (
        "no private ranges",
        _set("network", {"privateRanges": []}),
        "gatehouse:network.privateRanges",
        "must not be empty: tenants' egress would reach every private address",
    ),
    (
        "the master realm",
        _set("identity.realm", "master"),
        "gatehouse:identity.realm",
        "must not be 'master', Keycloak's administration realm",
    ),
    (
        "a public mail provider as the hosted domain",
        _set("identity.connectors.google.hostedDomains", ["example.com", "gmail.com"]),
        "gatehouse:identity.connectors.google.hostedDomains[1]",
        "'gmail.com' is a public e-mail provider",
    ),
    (
        "organization named after a platform namespace",
        _set("organizations[1].name", "monitoring"),
        "gatehouse:organizations[1].name",
        "organization 'monitoring' would take the name of the reserved namespace 'monitoring'",
    ),
    (
        "organization named under a Kubernetes prefix",
        _set("organizations[0].name", "kube-acme"),
        "gatehouse:organizations[0].name",
        "the reserved namespace 'kube-*'",
    ),
]


@pytest.mark.parametrize(("case", "mutate", "path", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_config_names_the_path(
    staging: dict[str, Any], case: str, mutate: Mutation, path: str, message: str
) -> None:
    mutate(staging)
    with pytest.raises(config.ConfigError) as caught:
        _load(staging)
    problems = [(p, m) for p, m in caught.value.problems if p == path]
    assert problems, f"{path} not reported; got {caught.value.problems}"
    assert any(message in m for _, m in problems), problems
    assert f"{path}: " in str(caught.value)


def test_every_problem_is_reported_at_once(staging: dict[str, Any]) -> None:
    """Field errors in every section, and each entry's own rules (a tenant's namespaces, an API's tiers)."""
    staging["tenants"][0]["name"] = "Bad"
    staging["tenants"][1]["name"] = "kube-system"
    staging["organizations"][0]["adminUsers"] = ["nope"]
    staging["apis"][2]["apiKeyTiers"] = []
    staging["domain"] = "nodots"
    with pytest.raises(config.ConfigError) as caught:
        _load(staging)
    paths = {p for p, _ in caught.value.problems}
    assert paths >= {
        "gatehouse:tenants[0].name",
        "gatehouse:tenants[1].name",
        "gatehouse:organizations[0].adminUsers[0]",
        "gatehouse:apis[2].apiKeyTiers",
        "gatehouse:domain",
    }
    assert str(caught.value).startswith(f"invalid stack configuration ({len(caught.value.problems)} problems):")


def test_rules_across_entries_wait_for_every_field(staging: dict[str, Any]) -> None:
    """Deliberate: the rules across entries (a tenant's organization, unique names and hosts, the gateway's
    joined names) run on the typed config, so only once every field is valid. The entry with a bad field
    may be the one a reference meant, so judging without it could report a reference that is fine."""
    staging["tenants"][1]["organization"] = "nobody"
    staging["organizations"][0]["adminUsers"] = ["nope"]
    with pytest.raises(config.ConfigError) as caught:
        _load(staging)
    assert [p for p, _ in caught.value.problems] == ["gatehouse:organizations[0].adminUsers[0]"]
    staging["organizations"][0]["adminUsers"] = ["ops@acme.example.com"]
    with pytest.raises(config.ConfigError) as caught:
        _load(staging)
    assert [p for p, _ in caught.value.problems] == ["gatehouse:tenants[1].organization"]


def test_config_error_prints_without_traceback() -> None:
    assert issubclass(config.ConfigError, pulumi.RunError)


def test_unknown_key_and_bad_json_are_reported(staging: dict[str, Any]) -> None:
    values = {f"gatehouse:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in staging.items()}
    values["gatehouse:tenant"] = "[]"
    values["gatehouse:apps"] = "[{not json"
    pulumi.runtime.set_all_config({**values, **SECRETS}, list(SECRETS))
    with pytest.raises(config.ConfigError) as caught:
        config.load(pulumi.Config("gatehouse"))
    reported = dict(caught.value.problems)
    assert reported["gatehouse:tenant"] == "unknown configuration key"
    assert "not valid structured config" in reported["gatehouse:apps"]


def test_secrets_must_be_set_and_secret(staging: dict[str, Any]) -> None:
    with pytest.raises(config.ConfigError) as caught:
        _load(
            staging,
            secrets={"gatehouse:githubClientSecret": "x", "gatehouse:googleClientSecret": "y"},
            secret_keys=["gatehouse:googleClientSecret"],
        )
    reported = dict(caught.value.problems)
    assert reported["gatehouse:cloudflareApiToken"].startswith("is required: pulumi config set --secret")
    assert reported["gatehouse:githubClientSecret"].startswith("must be a secret")
    assert "gatehouse:googleClientSecret" not in reported


def test_which_secrets_are_required_waits_for_a_valid_config(staging: dict[str, Any]) -> None:
    """Deliberate: the secrets a config needs are read from the typed config, so a config with field errors
    is told only which secrets are set in clear text; the missing ones follow once it is valid."""
    staging["domain"] = "nodots"
    secrets = {"gatehouse:githubClientSecret": "x"}
    with pytest.raises(config.ConfigError) as caught:
        _load(staging, secrets=secrets, secret_keys=[])
    assert sorted(dict(caught.value.problems)) == ["gatehouse:domain", "gatehouse:githubClientSecret"]
    staging["domain"] = "staging.platform.example.com"
    with pytest.raises(config.ConfigError) as caught:
        _load(staging, secrets=secrets, secret_keys=[])
    reported = dict(caught.value.problems)
    assert reported["gatehouse:cloudflareApiToken"].startswith("is required")
    assert reported["gatehouse:googleClientSecret"].startswith("is required")
    assert reported["gatehouse:githubClientSecret"].startswith("must be a secret")


def test_connector_secrets_only_needed_when_configured(staging: dict[str, Any]) -> None:
    staging["identity"]["connectors"] = {}
    parsed = _load(staging, secrets={"gatehouse:cloudflareApiToken": "t"}, secret_keys=["gatehouse:cloudflareApiToken"])
    assert parsed.identity.connectors.github is None


# Where common cluster software installs itself: a tenant there would own what an operator adds later.
COMMON_PLATFORM_NAMESPACES = [
    "monitoring",
    "logging",
    "ingress-nginx",
    "istio-system",
    "cert-manager",
    "external-secrets",
    "argocd",
    "tekton-pipelines",
    "flux-system",
    "velero",
    "gatekeeper-system",
    "kyverno",
    "linkerd",
    "vault",
]


@pytest.mark.parametrize("name", COMMON_PLATFORM_NAMESPACES)
def test_common_platform_namespaces_are_no_tenant_s_or_organization_s(staging: dict[str, Any], name: str) -> None:
    staging["tenants"][4]["name"] = name
    staging["organizations"][1]["name"] = name
    with pytest.raises(config.ConfigError) as caught:
        _load(staging)
    reported = dict(caught.value.problems)
    for path in ("gatehouse:tenants[4].name", "gatehouse:organizations[1].name"):
        assert "the reserved namespace" in reported[path] and f"'{name}'" in reported[path], reported


@pytest.mark.parametrize(
    ("name", "reached"), [("istio", "istio-system"), ("flux", "flux-system"), ("gatekeeper", "gatekeeper-system")]
)
def test_a_tenant_s_glob_may_not_reach_a_common_platform_namespace(
    staging: dict[str, Any], name: str, reached: str
) -> None:
    staging["tenants"][4]["name"] = name
    with pytest.raises(config.ConfigError) as caught:
        _load(staging)
    assert f"'{reached}'" in dict(caught.value.problems)["gatehouse:tenants[4].name"]


@pytest.mark.parametrize("domain", sorted(config.PUBLIC_EMAIL_DOMAINS))
def test_no_public_mail_provider_is_a_hosted_domain(staging: dict[str, Any], domain: str) -> None:
    """As Google's `hd`, a provider anyone can sign up with would admit every one of its accounts as staff."""
    staging["identity"]["connectors"]["google"]["hostedDomains"] = [domain]
    with pytest.raises(config.ConfigError) as caught:
        _load(staging)
    assert [p for p, _ in caught.value.problems] == ["gatehouse:identity.connectors.google.hostedDomains[0]"]


def test_a_workspace_domain_and_another_realm_are_accepted(staging: dict[str, Any]) -> None:
    staging["identity"]["connectors"]["google"]["hostedDomains"] = ["example.com", "gmail.example.com"]
    staging["identity"]["realm"] = "customers"
    parsed = _load(staging)
    assert parsed.identity.realm == "customers"
    assert parsed.identity.connectors.google is not None


@pytest.mark.parametrize("name", ["certs", "kubeflow", "orgs", "organic", "envoy-gw", "tekton2"])
def test_names_near_reserved_ones_are_tenants(staging: dict[str, Any], name: str) -> None:
    staging["tenants"][4]["name"] = name
    assert _load(staging).tenants[4].namespace_names == [name]


def test_a_partner_named_under_two_apis_is_one_client(staging: dict[str, Any]) -> None:
    from components.identity.realm import m2m_clients

    staging["apis"][0]["m2mClients"] = [{"name": "partner-logistics", "scopes": ["read"], "tier": "standard"}]
    assert m2m_clients(identity_settings(_load(staging))) == {"partner-logistics": ["assets:write", "tickets:read"]}


def test_the_same_key_client_under_two_apis(staging: dict[str, Any]) -> None:
    # keys are named `api-<api>-key-<client>`: one client name under two APIs makes two keys
    _add_api("prices", apiKeyTiers=[{"name": "free", "requestsPerMinute": 1, "clients": ["free-initech"]}])(staging)
    parsed = _load(staging)
    assert [t.clients for t in parsed.apis[6].api_key_tiers] == [["free-initech"]]


def test_private_ranges_may_be_set(staging: dict[str, Any]) -> None:
    staging["network"] = {"privateRanges": ["10.0.0.0/8", "100.64.0.0/10", "203.0.113.0/24"]}
    assert _load(staging).network.private_ranges == ["10.0.0.0/8", "100.64.0.0/10", "203.0.113.0/24"]


def test_the_realm_s_own_clients_are_reserved(staging: dict[str, Any]) -> None:
    from components.identity.realm import GOOGLE_SECRET_KEY, app_clients, m2m_clients, realm

    parsed = identity_settings(_load(staging))
    own = {c["clientId"] for c in realm(parsed)["clients"]} - set(m2m_clients(parsed)) - set(app_clients(parsed))
    assert own == {"organizations", "portal"}
    assert own | {GOOGLE_SECRET_KEY} <= config.RESERVED_CLIENT_IDS


def test_every_stack_names_its_cluster(staging: dict[str, Any]) -> None:
    """Without a context the Kubernetes provider would use whichever context is current: `pulumi up -s prod`
    could reach the staging cluster."""
    del staging["cluster"]
    with pytest.raises(config.ConfigError) as caught:
        _load(staging)
    assert dict(caught.value.problems) == {"gatehouse:cluster": "is required"}
    staging["cluster"] = {"context": ""}
    with pytest.raises(config.ConfigError) as caught:
        _load(staging)
    assert dict(caught.value.problems) == {"gatehouse:cluster.context": "must not be empty"}


def test_a_kubeconfig_is_optional_but_only_as_a_secret(staging: dict[str, Any]) -> None:
    secrets = {"gatehouse:cloudflareApiToken": "t", "gatehouse:githubClientSecret": "g"}
    secrets["gatehouse:googleClientSecret"] = "o"
    assert _load(staging, secrets=secrets, secret_keys=list(secrets)).cluster.context == "gatehouse-staging"
    with pytest.raises(config.ConfigError) as caught:
        _load(staging, secrets={**secrets, "gatehouse:kubeconfig": "apiVersion: v1"}, secret_keys=list(secrets))
    assert dict(caught.value.problems) == {
        "gatehouse:kubeconfig": "must be a secret: pulumi config set --secret gatehouse:kubeconfig"
    }


def test_without_cloudflare_there_is_no_acme_and_no_token_to_set(staging: dict[str, Any]) -> None:
    """Let's Encrypt certificates are issued through DNS-01 at Cloudflare; Cloudflare's records point at the
    reserved address. A stack without Cloudflare needs neither, nor its token."""
    del staging["edge"]["cloudflare"]
    with pytest.raises(config.ConfigError) as caught:
        _load(staging)
    assert dict(caught.value.problems) == {
        "gatehouse:edge.acme": "needs edge.cloudflare: certificates are issued through DNS-01 there"
    }
    del staging["edge"]["acme"]
    secrets = {"gatehouse:githubClientSecret": "g", "gatehouse:googleClientSecret": "o"}
    parsed = _load(staging, secrets=secrets, secret_keys=list(secrets))
    assert parsed.edge.cloudflare is None and parsed.uses_private_ca


def test_cloudflare_records_need_the_reserved_address(staging: dict[str, Any]) -> None:
    del staging["edge"]["loadBalancer"]["address"]
    with pytest.raises(config.ConfigError) as caught:
        _load(staging)
    assert dict(caught.value.problems) == {
        "gatehouse:edge.loadBalancer.address": "is required with edge.cloudflare: DNS points at it"
    }


def test_no_stack_must_set_config_it_does_not_use() -> None:
    """pulumi v3.259.0 pkg/workspace/config.go: every project config key (`config:` in Pulumi.yaml) without a
    default or value is required in every stack ("Stack 'dev' is missing configuration values ..."), and a
    secret one may have no default (it would be stored unencrypted, which validateStackConfigValue refuses).
    Which secrets a stack needs follows from its config, so they are documented as the template's config."""
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    assert not project.get("config")
    documented = {key for key, decl in project["template"]["config"].items() if decl["secret"]}
    # optional, documented in the README: the kubeconfig, and organizations' own webhook secrets (a map set by
    # `--path`, whose placeholder would not be one)
    assert documented == set(config.SECRET_KEYS) - {"kubeconfig", "webhookSecrets"}
    for stack in ("dev", "staging", "prod"):
        loaded = load_stack_config(REPO, stack)
        assert {f"gatehouse:{key}" for key in documented} <= set(loaded.secret_keys)  # offline placeholders


def test_the_organization_roles_config_accepts_are_the_realm_s() -> None:
    """`orgRoles` is validated against a Literal, which must name exactly the realm's roles."""
    from typing import get_args

    from components.config.apps import OrgRole
    from components.endpoints import ORG_ROLES

    assert get_args(OrgRole) == ORG_ROLES
