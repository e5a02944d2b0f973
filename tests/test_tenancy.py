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

from components.tenancy.profiles import FORBIDDEN_VERBS, GUARDRAIL_RESOURCES, PROFILES
from components.tenancy.sizes import SIZES
from offline.manifests import is_kubernetes_object, manifest_of
from offline.records import Registration, Secret
from offline.runtime import ProgramRun, run_program
from offline.stack_config import load_stack_config

PLATFORM_NAMESPACES = {"kube-system", "default", "argocd", "cert-manager", "envoy-gateway-system", "monitoring"}


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
    assert len(kinds["NetworkPolicy"]) == 5 * len(own)
    assert [o["metadata"]["namespace"] for o in kinds["ServiceAccount"]] == [tenant["name"]]
    assert kinds["ServiceAccount"][0]["automountServiceAccountToken"] is False


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_profiles_never_escalate_or_touch_guardrails(profile: str) -> None:
    for rule in PROFILES[profile]:
        assert not FORBIDDEN_VERBS & set(rule.verbs), rule
        assert "*" not in rule.resources and "*" not in rule.api_groups, rule
        writes = set(rule.verbs) - {"get", "list", "watch"}
        assert not (writes and GUARDRAIL_RESOURCES & set(rule.resources)), rule
    secrets = [r for r in PROFILES[profile] if "secrets" in r.resources]
    if profile == "standard":
        assert secrets == []
    else:
        assert any("get" in r.verbs for r in secrets)


@pytest.mark.parametrize("tenant", _tenants(), ids=lambda t: t["name"])
def test_role_and_bindings_follow_the_profile(staging: ProgramRun, tenant: dict[str, Any]) -> None:
    kinds = _by_kind(_objects(staging, _component(staging, "gatehouse:tenancy:Tenant", tenant["name"])))
    for role in kinds["Role"]:
        rules = {(tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r["verbs"])) for r in role["rules"]}
        expected = {(r.api_groups, r.resources, r.verbs) for r in PROFILES[tenant["profile"]]}
        assert rules == expected
    for binding in kinds["RoleBinding"]:
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tenant"}
        for subject in binding["subjects"]:
            if subject["kind"] == "ServiceAccount":
                assert subject == {"kind": "ServiceAccount", "name": "deployer", "namespace": tenant["name"]}
            else:
                assert subject["kind"] == "Group"
                assert subject["name"] == f"{tenant['organization']}:{tenant['name']}"


@pytest.mark.parametrize("tenant", _tenants(), ids=lambda t: t["name"])
def test_quota_and_limits_follow_the_size(staging: ProgramRun, tenant: dict[str, Any]) -> None:
    kinds = _by_kind(_objects(staging, _component(staging, "gatehouse:tenancy:Tenant", tenant["name"])))
    size = SIZES[tenant["size"]]
    for quota in kinds["ResourceQuota"]:
        hard = quota["spec"]["hard"]
        assert hard == size.quota()
        assert hard["services.loadbalancers"] == "0" and hard["services.nodeports"] == "0"
    for limits in kinds["LimitRange"]:
        (item,) = limits["spec"]["limits"]
        assert item["max"] == {"cpu": size.container_max_cpu, "memory": size.container_max_memory}
        assert set(item) >= {"default", "defaultRequest", "max"}


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
    assert internet == {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}
    own = policies[("payments-batch", "allow-tenant-traffic")]["ingress"][0]["from"][0]
    assert own == {"namespaceSelector": {"matchLabels": {"gatehouse.dev/tenant": "payments"}}}
    for spec in policies.values():  # never an empty namespaceSelector (it means every namespace)
        for rule in spec.get("ingress", []) + spec.get("egress", []):
            for peer in rule.get("from", []) + rule.get("to", []):
                assert peer.get("namespaceSelector", {"x": 1}) != {}


def test_app_projects_cannot_reach_another_tenant(staging: ProgramRun) -> None:
    tenants = _tenants()
    organizations = {f"org-{o['name']}" for o in stack_config("staging")["gatehouse:organizations"]}
    for tenant in tenants:
        project = next(
            o
            for o in _objects(staging, _component(staging, "gatehouse:tenancy:Tenant", tenant["name"]))
            if o["kind"] == "AppProject"
        )
        spec = project["spec"]
        assert project["metadata"] == {**project["metadata"], "name": tenant["name"], "namespace": "argocd"}
        assert spec["clusterResourceWhitelist"] == []
        url = f"https://github.com/{tenant['repo']}"
        assert spec["sourceRepos"] == [url, f"{url}.git"]
        assert {d["server"] for d in spec["destinations"]} == {"https://kubernetes.default.svc"}
        patterns = [d["namespace"] for d in spec["destinations"]]
        assert patterns == [tenant["name"], f"{tenant['name']}-*"]
        foreign = (
            set().union(*(_namespaces(t) for t in tenants if t is not tenant)) | organizations | PLATFORM_NAMESPACES
        )
        for namespace in foreign:
            assert not any(fnmatch.fnmatchcase(namespace, p) for p in patterns), (tenant["name"], namespace)
        assert all(
            fnmatch.fnmatchcase(ns, patterns[0]) or fnmatch.fnmatchcase(ns, patterns[1]) for ns in _namespaces(tenant)
        )
        blacklisted = {(k["group"], k["kind"]) for k in spec["namespaceResourceBlacklist"]}
        assert {("", "ResourceQuota"), ("", "LimitRange"), ("networking.k8s.io", "NetworkPolicy")} <= blacklisted
        (role,) = spec["roles"]
        assert all(
            p.startswith(f"p, proj:{tenant['name']}:") and f", {tenant['name']}/*," in p for p in role["policies"]
        )


def test_removing_a_tenant_removes_only_its_objects(staging: ProgramRun, tmp_path: Path) -> None:
    config = stack_config("staging")
    config["gatehouse:tenants"] = [t for t in config["gatehouse:tenants"] if t["name"] != "payments"]
    smaller = _run(program_with_stack(tmp_path, "staging", config), "staging")
    gone = {r.urn for r in staging.registrations} - {r.urn for r in smaller.registrations}
    tenant = _component(staging, "gatehouse:tenancy:Tenant", "payments")
    assert gone == {tenant.urn} | {r.urn for r in _children(staging, tenant)}
    assert {r.urn for r in smaller.registrations} < {r.urn for r in staging.registrations}


def test_a_new_tenant_is_one_config_entry(staging: ProgramRun, tmp_path: Path) -> None:
    config = stack_config("staging")
    config["gatehouse:tenants"].append(
        {"name": "newco", "organization": "initech", "repo": "initech/newco", "profile": "elevated", "size": "small"}
    )
    bigger = _run(program_with_stack(tmp_path, "staging", config), "staging")
    added = {r.urn for r in bigger.registrations} - {r.urn for r in staging.registrations}
    tenant = _component(bigger, "gatehouse:tenancy:Tenant", "newco")
    assert added == {tenant.urn} | {r.urn for r in _children(bigger, tenant)}
    kinds = _by_kind(_objects(bigger, tenant))
    assert {k: len(v) for k, v in kinds.items()} == {
        "Namespace": 1,
        "ResourceQuota": 1,
        "LimitRange": 1,
        "NetworkPolicy": 5,
        "ServiceAccount": 1,
        "Role": 1,
        "RoleBinding": 2,
        "AppProject": 1,
    }


def test_organization_gets_store_tunnel_and_webhook_secret(staging: ProgramRun) -> None:
    org = _component(staging, "gatehouse:tenancy:Organization", "acme")
    children = _children(staging, org)
    objects = _by_kind(_objects(staging, org))
    (store,) = objects["ClusterSecretStore"]
    assert store["metadata"]["name"] == "org-acme-store"
    assert store["spec"]["conditions"] == [
        {"namespaceSelector": {"matchLabels": {"gatehouse.dev/organization": "acme"}}}
    ]
    provider = store["spec"]["provider"]["kubernetes"]
    assert provider["remoteNamespace"] == "org-acme"
    assert provider["auth"] == {"serviceAccount": {"name": "eso-secrets-reader", "namespace": "org-acme"}}
    (role,) = objects["Role"]
    assert role["rules"][0]["resourceNames"] == ["org-secrets"]
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
    chart = next(r for r in children if r.type == "kubernetes:helm.sh/v4:Chart")
    assert chart.inputs["values"]["cloudflare"]["secretName"] == "cloudflared-credentials-acme"
    assert chart.inputs["namespace"] == "org-acme"
