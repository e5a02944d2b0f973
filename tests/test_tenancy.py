"""Tenancy: one config entry gives a tenant or organization its whole, isolated home."""

from __future__ import annotations

import fnmatch
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from helpers import program_with_stack, stack_config

from components.config import RESERVED_NAMESPACES
from components.tenancy.profiles import DEPLOYER_PROFILES, FORBIDDEN_VERBS, GUARDRAIL_RESOURCES, PROFILES
from components.tenancy.sizes import SIZES
from offline.manifests import is_kubernetes_object, manifest_of
from offline.records import Registration, Secret
from offline.runtime import ProgramRun, run_program
from offline.stack_config import load_stack_config

IN_CLUSTER = "https://kubernetes.default.svc"
R, W = "get list watch", "create update patch delete"


def _rules(*rules: tuple[str, str, str]) -> list[dict[str, list[str]]]:
    """(apiGroup, "resource ...", "verb ...") -> Role rules as the manifest has them."""
    return [{"apiGroups": [g], "resources": r.split(), "verbs": v.split()} for g, r, v in rules]


# What a tenant's people may do (Role `tenant`), per profile.
PEOPLE_RULES = {
    "standard": _rules(
        (
            "",
            "pods pods/log services endpoints events persistentvolumeclaims resourcequotas limitranges serviceaccounts",
            R,
        ),
        ("apps", "deployments statefulsets replicasets", R),
        ("batch", "jobs cronjobs", R),
        ("networking.k8s.io", "networkpolicies", R),
        ("gateway.networking.k8s.io", "httproutes", R),
        ("tekton.dev", "pipelines tasks pipelineruns taskruns", R),
        ("", "pods", "delete"),
        ("", "configmaps", f"{R} {W}"),
    ),
}
# Secrets never created (a service-account token Secret is made by creating one); runs only by a profile
# that reads Secrets anyway (a run mounts any of them, as any ServiceAccount)
SECRETS = f"{R} update patch delete"
PEOPLE_RULES["elevated"] = PEOPLE_RULES["standard"] + _rules(
    ("tekton.dev", "pipelineruns taskruns", "create"),
    ("", "secrets", SECRETS),
    ("", "services persistentvolumeclaims", W),
    ("apps", "deployments statefulsets", W),
    ("batch", "jobs cronjobs", W),
    ("tekton.dev", "pipelines tasks", W),
)
# What Argo CD may sync as the tenant's `deployer` (Role `tenant-deployer`), per profile.
DEPLOYER_RULES = {
    "standard": _rules(
        ("", "configmaps services persistentvolumeclaims", f"{R} {W}"),
        ("apps", "deployments statefulsets", f"{R} {W}"),
        ("batch", "jobs cronjobs", f"{R} {W}"),
        ("autoscaling", "horizontalpodautoscalers", f"{R} {W}"),
        ("policy", "poddisruptionbudgets", f"{R} {W}"),
        ("external-secrets.io", "externalsecrets", f"{R} {W}"),
        ("tekton.dev", "tasks", f"{R} {W}"),  # a pipeline's Tasks come from the tenant's repository
    ),
}
DEPLOYER_RULES["elevated"] = DEPLOYER_RULES["standard"] + _rules(("", "secrets", SECRETS))

# Per size: the ResourceQuota's hard limits and the LimitRange's per-container max.
QUOTAS = {
    "small": {
        "requests.cpu": "2",
        "requests.memory": "4Gi",
        "limits.cpu": "4",
        "limits.memory": "8Gi",
        "pods": "20",
        "persistentvolumeclaims": "5",
        "requests.storage": "50Gi",
        "services": "10",
        "services.loadbalancers": "0",
        "services.nodeports": "0",
    },
    "medium": {
        "requests.cpu": "4",
        "requests.memory": "8Gi",
        "limits.cpu": "8",
        "limits.memory": "16Gi",
        "pods": "50",
        "persistentvolumeclaims": "10",
        "requests.storage": "200Gi",
        "services": "20",
        "services.loadbalancers": "0",
        "services.nodeports": "0",
    },
    "large": {
        "requests.cpu": "8",
        "requests.memory": "16Gi",
        "limits.cpu": "16",
        "limits.memory": "32Gi",
        "pods": "100",
        "persistentvolumeclaims": "20",
        "requests.storage": "500Gi",
        "services": "40",
        "services.loadbalancers": "0",
        "services.nodeports": "0",
    },
}
CONTAINER_MAX = {
    "small": {"cpu": "1", "memory": "2Gi"},
    "medium": {"cpu": "2", "memory": "4Gi"},
    "large": {"cpu": "4", "memory": "8Gi"},
}


def _run(program: Path, stack: str) -> ProgramRun:
    run = run_program(program, load_stack_config(program, stack))
    assert run.error is None, run.error
    return run


@pytest.fixture(scope="module")
def staging() -> ProgramRun:
    return _run(REPO, "staging")


def _component(run: ProgramRun, type_: str, name: str) -> Registration:
    return next(r for r in run.registrations if r.type == type_ and r.name == name)


def _children(run: ProgramRun, parent: Registration) -> list[Registration]:
    return [r for r in run.registrations if r.parent == parent.urn]


def _objects(run: ProgramRun, parent: Registration) -> list[dict[str, Any]]:
    return [manifest_of(r).obj for r in _children(run, parent) if is_kubernetes_object(r)]


def _all_objects(run: ProgramRun) -> list[dict[str, Any]]:
    return [manifest_of(r).obj for r in run.registrations if is_kubernetes_object(r)]


def _by_kind(objects: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    kinds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for obj in objects:
        kinds[obj["kind"]].append(obj)
    return kinds


def _tenants(stack: str = "staging") -> list[dict[str, Any]]:
    return stack_config(stack)["gatehouse:tenants"]


def _namespaces(tenant: dict[str, Any]) -> set[str]:
    return {tenant["name"], *(f"{tenant['name']}-{s}" for s in tenant.get("namespaces", []))}


@pytest.mark.parametrize("tenant", _tenants(), ids=lambda t: t["name"])
def test_no_pod_of_a_tenant_mounts_a_token_by_default(staging: ProgramRun, tenant: dict[str, Any]) -> None:
    """Kubernetes makes a `default` ServiceAccount in every namespace with token automount unset, so a pod
    that names no ServiceAccount would mount a token; each tenant namespace's `default` is patched (a
    ServiceAccountPatch: server-side apply of the one field) to automount nothing, as the deployer does."""
    tenant_component = _component(staging, "gatehouse:tenancy:Tenant", tenant["name"])
    patches = [r for r in _children(staging, tenant_component) if r.type == "kubernetes:core/v1:ServiceAccountPatch"]
    assert {(manifest_of(r).obj["metadata"]["namespace"], manifest_of(r).obj["metadata"]["name"]) for r in patches} == {
        (ns, "default") for ns in _namespaces(tenant)
    }
    assert all(manifest_of(r).obj["automountServiceAccountToken"] is False for r in patches)


@pytest.mark.parametrize("tenant", _tenants(), ids=lambda t: t["name"])
def test_every_tenant_object_lands_in_its_own_namespaces(staging: ProgramRun, tenant: dict[str, Any]) -> None:
    objects = _objects(staging, _component(staging, "gatehouse:tenancy:Tenant", tenant["name"]))
    own = _namespaces(tenant)
    kinds = _by_kind(objects)
    assert {o["metadata"]["name"] for o in kinds["Namespace"]} == own
    for obj in objects:
        if obj["kind"] == "Namespace":
            continue
        expected = {"argocd"} if obj["kind"] == "AppProject" else own
        assert obj["metadata"]["namespace"] in expected, obj
    for kind in ("ResourceQuota", "LimitRange", "Role"):
        assert {o["metadata"]["namespace"] for o in kinds[kind]} == own, kind
    # staging has an internal gateway: each namespace also may call it (allow-internal-gateways)
    assert len(kinds["NetworkPolicy"]) == 6 * len(own)
    accounts = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in kinds["ServiceAccount"]}
    pipeline = {(tenant["name"], "pipeline-runner")} & accounts  # a tenant with a pipeline (issue 21)
    # the deployer, and each namespace's `default` patched (test_no_pod_of_a_tenant_mounts_a_token_by_default)
    assert accounts - pipeline == {(tenant["name"], "deployer")} | {(ns, "default") for ns in own}
    assert all(o["automountServiceAccountToken"] is False for o in kinds["ServiceAccount"])


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_profiles_never_escalate_or_touch_guardrails(profile: str) -> None:
    for rule in PROFILES[profile] + DEPLOYER_PROFILES[profile]:
        assert not FORBIDDEN_VERBS & set(rule.verbs), rule
        assert "*" not in rule.resources and "*" not in rule.api_groups, rule
        writes = set(rule.verbs) - {"get", "list", "watch"}
        assert not (writes and GUARDRAIL_RESOURCES & set(rule.resources)), rule
    for rules in (PROFILES[profile], DEPLOYER_PROFILES[profile]):
        secrets = [r for r in rules if "secrets" in r.resources]
        if profile == "standard":
            assert secrets == []
        else:
            assert any("get" in r.verbs for r in secrets)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_no_profile_creates_secrets_so_none_mints_a_service_account_token(profile: str) -> None:
    """A Secret of type `kubernetes.io/service-account-token` naming a ServiceAccount gets a token that never
    expires; RBAC cannot see a Secret's type, so no tenant role creates Secrets at all (a Secret's type is
    immutable on update, and a server-side apply that would create one is authorized as `create`)."""
    for rule in PROFILES[profile] + DEPLOYER_PROFILES[profile]:
        if "secrets" in rule.resources and "" in rule.api_groups:
            assert "create" not in rule.verbs, rule


def test_standard_creates_no_tekton_runs() -> None:
    """A TaskRun or PipelineRun is a pod its creator's RBAC never sees (tektoncd/pipeline v1.15.0
    config/300-crds/300-taskrun.yaml v1: `taskSpec`, `serviceAccountName`, `podTemplate`, `workspaces[].secret`;
    300-pipelinerun.yaml v1: `pipelineSpec`, `taskRunTemplate`, `taskRunSpecs`): its creator runs any code as
    any ServiceAccount of the namespace with any Secret mounted. `standard` never reads Secrets, so it never
    creates runs; it still sees them."""

    def allows(profile: str, verb: str, resource: str) -> bool:
        return any(
            "tekton.dev" in r.api_groups and resource in r.resources and verb in r.verbs
            for r in PROFILES[profile] + DEPLOYER_PROFILES[profile]
        )

    for resource in ("taskruns", "pipelineruns"):
        assert not allows("standard", "create", resource), resource
        assert allows("standard", "get", resource) and allows("standard", "list", resource)
        assert allows("elevated", "create", resource)  # it reads Secrets and writes workloads anyway


@pytest.mark.parametrize("tenant", _tenants(), ids=lambda t: t["name"])
def test_role_and_bindings_follow_the_profile(staging: ProgramRun, tenant: dict[str, Any]) -> None:
    kinds = _by_kind(_objects(staging, _component(staging, "gatehouse:tenancy:Tenant", tenant["name"])))
    own, profile = _namespaces(tenant), tenant["profile"]
    roles = {(r["metadata"]["namespace"], r["metadata"]["name"]): r for r in kinds["Role"]}
    assert set(roles) == {(ns, name) for ns in own for name in ("tenant", "tenant-deployer")}
    for (_, name), role in roles.items():
        assert role["rules"] == (PEOPLE_RULES if name == "tenant" else DEPLOYER_RULES)[profile], name
        assert role["metadata"]["labels"]["gatehouse.dev/permission-profile"] == profile
    bindings = {(b["metadata"]["namespace"], b["metadata"]["name"]): b for b in kinds["RoleBinding"]}
    assert set(bindings) == {(ns, name) for ns in own for name in ("tenant-developers", "tenant-deployer")}
    for (_, name), binding in bindings.items():
        if name == "tenant-deployer":  # the ServiceAccount Argo CD syncs as, from the main namespace
            role = "tenant-deployer"
            subjects = [{"kind": "ServiceAccount", "name": "deployer", "namespace": tenant["name"]}]
        else:
            role = "tenant"
            group = f"{tenant['repo'].split('/')[0]}:{tenant['name']}"  # the repo's GitHub org, its team
            subjects = [{"kind": "Group", "name": group, "apiGroup": "rbac.authorization.k8s.io"}]
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role}
        assert binding["subjects"] == subjects


def _allows(rules: list[dict[str, list[str]]], group: str, resource: str, verb: str) -> bool:
    return any(group in r["apiGroups"] and resource in r["resources"] and verb in r["verbs"] for r in rules)


@pytest.mark.parametrize("profile", ["standard", "elevated"])
def test_deployer_can_sync_app_objects_and_nothing_guarded(staging: ProgramRun, profile: str) -> None:
    tenant = next(t for t in _tenants() if t["profile"] == profile)
    kinds = _by_kind(_objects(staging, _component(staging, "gatehouse:tenancy:Tenant", tenant["name"])))
    (role,) = [
        r
        for r in kinds["Role"]
        if r["metadata"]["name"] == "tenant-deployer" and r["metadata"]["namespace"] == tenant["name"]
    ]
    rules = role["rules"]
    # kubectl apply (get, create, patch), replace (update) and prune (delete)
    for group, resource in [("apps", "deployments"), ("", "services"), ("", "configmaps"), ("batch", "jobs")]:
        for verb in ("get", "create", "patch", "update", "delete"):
            assert _allows(rules, group, resource, verb), (group, resource, verb)
    for group, resource in [
        ("", "resourcequotas"),
        ("", "limitranges"),
        ("networking.k8s.io", "networkpolicies"),
        ("rbac.authorization.k8s.io", "roles"),
        ("rbac.authorization.k8s.io", "rolebindings"),
        ("", "serviceaccounts"),
        ("", "serviceaccounts/token"),
        ("gateway.networking.k8s.io", "httproutes"),
        ("gateway.envoyproxy.io", "securitypolicies"),
    ]:
        assert not any(_allows(rules, group, resource, v) for v in ("create", "update", "patch", "delete"))
    assert _allows(rules, "", "secrets", "get") is (profile == "elevated")


@pytest.mark.parametrize("tenant", _tenants(), ids=lambda t: t["name"])
def test_quota_and_limits_follow_the_size_in_every_namespace(staging: ProgramRun, tenant: dict[str, Any]) -> None:
    kinds = _by_kind(_objects(staging, _component(staging, "gatehouse:tenancy:Tenant", tenant["name"])))
    size, own = tenant["size"], _namespaces(tenant)
    # the quota is per namespace: a tenant with extra namespaces gets its size in each
    assert sorted(q["metadata"]["namespace"] for q in kinds["ResourceQuota"]) == sorted(own)
    for quota in kinds["ResourceQuota"]:
        assert quota["spec"]["hard"] == QUOTAS[size]
    assert sorted(lr["metadata"]["namespace"] for lr in kinds["LimitRange"]) == sorted(own)
    for limits in kinds["LimitRange"]:
        assert limits["spec"]["limits"] == [
            {
                "type": "Container",
                "default": {"cpu": "500m", "memory": "512Mi"},
                "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                "max": CONTAINER_MAX[size],
            }
        ]


def test_sizes_grow() -> None:
    small, medium, large = (SIZES[s] for s in ("small", "medium", "large"))
    assert small.pods < medium.pods < large.pods
    assert int(small.limits_cpu) < int(medium.limits_cpu) < int(large.limits_cpu)


def test_network_policies_isolate_the_namespace(staging: ProgramRun) -> None:
    tenant = _component(staging, "gatehouse:tenancy:Tenant", "payments")
    policies = {
        (p["metadata"]["namespace"], p["metadata"]["name"]): p["spec"]
        for p in _objects(staging, tenant)
        if p["kind"] == "NetworkPolicy"
    }
    deny = policies[("payments", "default-deny")]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = policies[("payments", "allow-dns")]["egress"][0]
    assert dns["to"][0]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}
    assert {(p["protocol"], p["port"]) for p in dns["ports"]} == {("UDP", 53), ("TCP", 53)}
    gateway = policies[("payments", "allow-gateway-ingress")]["ingress"][0]["from"][0]
    assert gateway["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "envoy-gateway-system"}
    assert gateway["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "envoy"
    internet = policies[("payments", "allow-internet-egress")]["egress"][0]["to"][0]["ipBlock"]
    private = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"]
    assert internet == {"cidr": "0.0.0.0/0", "except": private}
    own = policies[("payments-batch", "allow-tenant-traffic")]["ingress"][0]["from"][0]
    assert own == {"namespaceSelector": {"matchLabels": {"gatehouse.dev/tenant": "payments"}}}
    for spec in policies.values():  # never an empty namespaceSelector (it means every namespace)
        for rule in spec.get("ingress", []) + spec.get("egress", []):
            for peer in rule.get("from", []) + rule.get("to", []):
                assert peer.get("namespaceSelector", {"x": 1}) != {}


def _app_project(run: ProgramRun, tenant: str) -> dict[str, Any]:
    objects = _objects(run, _component(run, "gatehouse:tenancy:Tenant", tenant))
    return next(o for o in objects if o["kind"] == "AppProject")


def test_app_projects_cannot_reach_another_tenant(staging: ProgramRun) -> None:
    tenants = _tenants()
    organizations = {f"org-{o['name']}" for o in stack_config("staging")["gatehouse:organizations"]}
    rendered = {m["metadata"]["name"] for m in _all_objects(staging) if m["kind"] == "Namespace"}
    everyone = set(RESERVED_NAMESPACES) | organizations | rendered | set().union(*map(_namespaces, tenants))
    for tenant in tenants:
        name, own = tenant["name"], _namespaces(tenant)
        project = _app_project(staging, name)
        spec = project["spec"]
        assert project["metadata"] == {**project["metadata"], "name": name, "namespace": "argocd"}
        assert spec["clusterResourceWhitelist"] == []
        url = f"https://github.com/{tenant['repo']}"
        assert spec["sourceRepos"] == [url, f"{url}.git"]
        assert spec["destinations"] == [
            {"server": IN_CLUSTER, "namespace": name},
            {"server": IN_CLUSTER, "namespace": f"{name}-*"},
        ]
        # Argo CD syncs as the tenant's deployer, which its Role binding allows in each of its namespaces
        assert spec["destinationServiceAccounts"] == [
            {**d, "defaultServiceAccount": f"{name}:deployer"} for d in spec["destinations"]
        ]
        globs = [d["namespace"] for d in spec["destinations"] + spec["destinationServiceAccounts"]]
        for namespace in sorted(everyone - own):
            assert not any(fnmatch.fnmatchcase(namespace, g) for g in globs), (name, namespace)
        assert all(any(fnmatch.fnmatchcase(ns, g) for g in globs) for ns in own)
        (role,) = spec["roles"]
        assert all(p.startswith(f"p, proj:{name}:") and f", {name}/*," in p for p in role["policies"])


def test_app_projects_blacklist_guardrails_and_routes(staging: ProgramRun) -> None:
    for tenant in _tenants():
        assert _app_project(staging, tenant["name"])["spec"]["namespaceResourceBlacklist"] == [
            {"group": "", "kind": "ResourceQuota"},
            {"group": "", "kind": "LimitRange"},
            {"group": "networking.k8s.io", "kind": "NetworkPolicy"},
            {"group": "rbac.authorization.k8s.io", "kind": "Role"},
            {"group": "rbac.authorization.k8s.io", "kind": "RoleBinding"},
            # routes come only from Gatehouse config, where they get SSO, JWT or API-key protection
            {"group": "gateway.networking.k8s.io", "kind": "*"},
            {"group": "gateway.envoyproxy.io", "kind": "*"},
        ]


def test_removing_a_tenant_removes_only_its_objects(staging: ProgramRun, tmp_path: Path) -> None:
    config = stack_config("staging")
    config["gatehouse:tenants"] = [t for t in config["gatehouse:tenants"] if t["name"] != "payments"]
    smaller = _run(program_with_stack(tmp_path, "staging", config), "staging")
    gone = {r.urn for r in staging.registrations} - {r.urn for r in smaller.registrations}
    tenant = _component(staging, "gatehouse:tenancy:Tenant", "payments")
    # and its secret store, with the ServiceAccount it reads as, under its organization
    store = {r.urn for r in staging.registrations if r.name.startswith("acme-eso-reader-payments")}
    store |= {r.urn for r in staging.registrations if r.name == "acme-payments-store"}
    assert len(store) == 4
    assert gone == {tenant.urn} | {r.urn for r in _children(staging, tenant)} | store
    assert {r.urn for r in smaller.registrations} < {r.urn for r in staging.registrations}
    # and every remaining resource is registered exactly as before, but Dex, whose GitHub connector lists
    # each tenant's team (and the chart's checksum of that config)
    before = {r.urn: r for r in staging.registrations}
    changed = {
        r.name
        for r in smaller.registrations
        if (r.inputs, r.dependencies, r.protect)
        != (before[r.urn].inputs, before[r.urn].dependencies, before[r.urn].protect)
    }
    assert changed == {"identity-dex-config", "dex"}


def test_a_new_tenant_is_one_config_entry(staging: ProgramRun, tmp_path: Path) -> None:
    config = stack_config("staging")
    config["gatehouse:tenants"].append(
        {"name": "newco", "organization": "initech", "repo": "initech/newco", "profile": "elevated", "size": "small"}
    )
    bigger = _run(program_with_stack(tmp_path, "staging", config), "staging")
    added = {r.urn for r in bigger.registrations} - {r.urn for r in staging.registrations}
    tenant = _component(bigger, "gatehouse:tenancy:Tenant", "newco")
    # and its secret store (ClusterSecretStore, ServiceAccount, Role, RoleBinding) in its organization
    store = {r.urn for r in bigger.registrations if r.name in ("initech-eso-reader-newco", "initech-newco-store")}
    assert len(store) == 4
    assert added == {tenant.urn} | {r.urn for r in _children(bigger, tenant)} | store
    kinds = _by_kind(_objects(bigger, tenant))
    assert {k: len(v) for k, v in kinds.items()} == {
        "Namespace": 1,
        "ResourceQuota": 1,
        "LimitRange": 1,
        "NetworkPolicy": 6,
        "ServiceAccount": 2,  # the deployer and the patched `default`
        "Role": 2,
        "RoleBinding": 2,
        "AppProject": 1,
    }


def test_organization_gets_store_tunnel_and_webhook_secret(staging: ProgramRun) -> None:
    org = _component(staging, "gatehouse:tenancy:Organization", "acme")
    children = _children(staging, org)
    objects = _by_kind(_objects(staging, org))
    tenants = {t["name"]: t for t in _tenants() if t["organization"] == "acme"}
    stores = {s["metadata"]["name"]: s for s in objects["ClusterSecretStore"]}
    assert set(stores) == {f"tenant-{name}-store" for name in tenants}
    for name, tenant in tenants.items():
        store = stores[f"tenant-{name}-store"]
        # usable from the tenant's own namespaces only, by their names
        (condition,) = store["spec"]["conditions"]
        assert set(condition) == {"namespaces"} and set(condition["namespaces"]) == _namespaces(tenant)
        provider = store["spec"]["provider"]["kubernetes"]
        assert provider["remoteNamespace"] == "org-acme"
        assert provider["auth"] == {"serviceAccount": {"name": f"eso-reader-{name}", "namespace": "org-acme"}}
    roles = {r["metadata"]["name"]: r for r in objects["Role"]}
    assert {n: r["rules"][0]["resourceNames"] for n, r in roles.items()} == {
        f"eso-reader-{name}": [f"{name}-secrets"] for name in tenants
    }
    secrets = {s["metadata"]["name"]: s for s in objects["Secret"]}
    assert set(secrets) == {"github-webhook-secret", "cloudflared-credentials-acme"}
    secret_regs = [r for r in children if r.type == "kubernetes:core/v1:Secret"]
    assert all(isinstance(r.inputs["stringData"], Secret) for r in secret_regs)

    tunnel = next(r for r in children if r.type.endswith("ZeroTrustTunnelCloudflared"))
    record = next(r for r in children if r.type == "cloudflare:index/dnsRecord:DnsRecord")
    assert tunnel.inputs["name"] == "gatehouse-staging-acme" and tunnel.inputs["configSrc"] == "local"
    assert isinstance(tunnel.inputs["tunnelSecret"], Secret)
    assert record.inputs["name"] == "acme.staging.platform.example.com"
    assert record.inputs["type"] == "CNAME" and record.inputs["proxied"] is True
    assert record.inputs["content"].endswith(".cfargotunnel.com")
    assert tunnel.urn in record.dependencies
    credentials = json.loads(secrets["cloudflared-credentials-acme"]["stringData"]["credentials.json"])
    assert set(credentials) == {"AccountTag", "TunnelID", "TunnelSecret"}
    assert record.inputs["content"] == f"{credentials['TunnelID']}.cfargotunnel.com"
    # cloudflared runs the tunnel beside them (tests/test_tunnel.py)
    assert {d["metadata"]["name"] for d in objects["Deployment"]} == {"cloudflared"}


def test_external_secrets_operator_is_installed_once_before_every_store(staging: ProgramRun) -> None:
    (operator,) = [r for r in staging.registrations if r.type == "gatehouse:tenancy:SecretsOperator"]
    (chart,) = [r for r in _children(staging, operator) if r.type == "kubernetes:helm.sh/v4:Chart"]
    (namespace,) = [o for o in _objects(staging, operator) if o["kind"] == "Namespace"]
    assert namespace["metadata"]["name"] == "external-secrets" and "external-secrets" in RESERVED_NAMESPACES
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert (chart.inputs["name"], chart.inputs["chart"], chart.inputs["version"]) == (
        "external-secrets",
        "external-secrets",
        "2.9.0",
    )
    assert chart.inputs["repositoryOpts"] == {"repo": "https://charts.external-secrets.io"}
    assert chart.inputs["namespace"] == "external-secrets"
    assert chart.inputs["values"]["installCRDs"] is True
    stores = [r for r in staging.registrations if r.type == "kubernetes:external-secrets.io/v1:ClusterSecretStore"]
    assert len(stores) == len(stack_config("staging")["gatehouse:tenants"])  # one per tenant
    for store in stores:
        assert chart.urn in store.dependencies, store.urn


def _gateway_access(run: ProgramRun) -> set[str]:
    return {
        o["metadata"]["name"]
        for o in _all_objects(run)
        if o["kind"] == "Namespace"
        and o["metadata"]["labels"].get("gatehouse.dev/component") == "tenant"
        and o["metadata"]["labels"].get("gatehouse.dev/gateway-access") == "true"
    }


def test_only_namespaces_with_an_app_or_api_may_attach_routes(staging: ProgramRun, tmp_path: Path) -> None:
    # staging: the shop app and catalog API in storefront, the tickets and assets APIs in helpdesk
    assert _gateway_access(staging) == {"helpdesk", "storefront"}
    config = stack_config("staging")
    config.setdefault("gatehouse:apis", []).append(
        {"name": "ledger", "namespace": "payments-batch", "service": {"name": "ledger", "port": 8080}, "auth": "jwt"}
    )
    routed = _run(program_with_stack(tmp_path, "staging", config), "staging")
    assert _gateway_access(routed) == {"helpdesk", "storefront", "payments-batch"}  # not its sibling `payments`
