"""Every policy: a compliant fixture passes and a minimal failing fixture gives exactly its violation.

Fixtures mirror what the real components register (see build/<stack>/manifests). Each test that proves
a policy's failing fixture is marked `@covers(policy)`; `test_every_policy_has_a_failing_fixture` fails
when a policy of the pack has none.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from conftest import UPSTREAM
from guardrails import (
    POLICIES,
    _kinds,
    argocd,
    edge,
    helm,
    namespaces,
    network,
    protection,
    quotas,
    rbac,
    secrets,
    services,
    workloads,
)
from guardrails._util import base_type
from policy_harness import Res, check, resource_args, stack_violations, urn_for, violations
from pulumi_policy import Policy, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

COVERED: set[str] = set()


def covers(*policies: Policy) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Marks a test as proving each policy's failing fixture (recorded at import, whatever runs)."""

    def mark(fn: Callable[..., None]) -> Callable[..., None]:
        COVERED.update(p.name for p in policies)
        return fn

    return mark


# --- fixtures: what the components register -------------------------------------------------------

NAMESPACE = "kubernetes:core/v1:Namespace"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
SERVICE = "kubernetes:core/v1:Service"
QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMITS = "kubernetes:core/v1:LimitRange"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
APP_PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CRONJOB = "kubernetes:batch/v1:CronJob"
POD = "kubernetes:core/v1:Pod"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
SECURITY_POLICY = "kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy"
CLIENT_TRAFFIC = "kubernetes:gateway.envoyproxy.io/v1alpha1:ClientTrafficPolicy"
DNS = "cloudflare:index/dnsRecord:DnsRecord"
SECRET = "kubernetes:core/v1:Secret"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
CHART = "kubernetes:helm.sh/v4:Chart"
CHART_V3 = "kubernetes:helm.sh/v3:Chart"
RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
CNPG = "kubernetes:postgresql.cnpg.io/v1:Cluster"
PASSWORD = "random:index/randomPassword:RandomPassword"
TENANT_TYPE = "gatehouse:tenancy:Tenant"
TENANT_URN = urn_for(TENANT_TYPE, "payments")
GATEWAY_URN = urn_for("gatehouse:gateway:AuthGateway", "gateway")
DOMAIN = "staging.platform.example.com"
IN_CLUSTER = "https://kubernetes.default.svc"


def meta(name: str, namespace: str | None = None, **labels: str) -> dict[str, Any]:
    found: dict[str, Any] = {"name": name, "labels": {"gatehouse.dev/managed-by": "gatehouse", **labels}}
    if namespace:
        found["namespace"] = namespace
    return found


def tenant_meta(name: str, namespace: str | None = "payments", tenant: str = "payments", **labels: str):
    return meta(name, namespace, **{"gatehouse.dev/tenant": tenant, **labels})


TENANT_NS: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Namespace",
    "metadata": {
        "name": "payments",
        "labels": {
            "gatehouse.dev/tenant": "payments",
            "gatehouse.dev/organization": "acme",
            "gatehouse.dev/permission-profile": "standard",
            "gatehouse.dev/managed-by": "gatehouse",
            "gatehouse.dev/repo-owner": "acme-corp",
            "gatehouse.dev/repo-name": "payments-service",
            "pod-security.kubernetes.io/enforce": "restricted",
        },
        "annotations": {"gatehouse.dev/repo": "https://github.com/acme-corp/payments-service"},
    },
}


def tenant_ns(name: str = "payments", /, **changes: Any) -> dict[str, Any]:
    props = copy.deepcopy(TENANT_NS)
    props["metadata"]["name"] = name
    for key, value in changes.items():
        if value is None:
            props["metadata"]["labels"].pop(key, None)
        else:
            props["metadata"]["labels"][key] = value
    return props


def role(profile: str = "standard", rules: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "metadata": tenant_meta("tenant", **{"gatehouse.dev/permission-profile": profile}),
        "rules": rules
        if rules is not None
        else [
            {"apiGroups": [""], "resources": ["pods", "services", "resourcequotas"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "create", "update", "delete"]},
            {"apiGroups": ["tekton.dev"], "resources": ["pipelineruns"], "verbs": ["create"]},
        ],
    }


def binding(subjects: list[dict[str, Any]], role_ref: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    return {
        "metadata": kw.get("metadata") or tenant_meta("tenant-developers"),
        "roleRef": role_ref or {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tenant"},
        "subjects": subjects,
    }


GROUP = {"kind": "Group", "name": "acme:payments", "apiGroup": "rbac.authorization.k8s.io"}
DEPLOYER = {"kind": "ServiceAccount", "name": "deployer", "namespace": "payments"}


def default_deny(namespace: str = "payments") -> dict[str, Any]:
    return {
        "metadata": tenant_meta("default-deny", namespace),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def allow_dns(namespace: str = "payments") -> dict[str, Any]:
    return {
        "metadata": tenant_meta("allow-dns", namespace),
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                }
            ],
        },
    }


def gateway_ingress(namespace: str = "payments") -> dict[str, Any]:
    return {
        "metadata": tenant_meta("allow-gateway-ingress", namespace),
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway-system"}
                            },
                            "podSelector": {"matchLabels": {"app.kubernetes.io/component": "proxy"}},
                        }
                    ]
                }
            ],
        },
    }


def quota(namespace: str = "payments", **hard: Any) -> dict[str, Any]:
    values = {
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
    }
    for key, value in hard.items():
        key = key.replace("__", ".")
        if value is None:
            values.pop(key)
        else:
            values[key] = value
    return {"metadata": tenant_meta("tenant-quota", namespace), "spec": {"hard": values}}


def limit_range(namespace: str = "payments", **item: Any) -> dict[str, Any]:
    limit = {
        "type": "Container",
        "default": {"cpu": "500m", "memory": "512Mi"},
        "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
        "max": {"cpu": "1", "memory": "2Gi"},
    }
    for key, value in item.items():
        if value is None:
            limit.pop(key)
        else:
            limit[key] = value
    return {"metadata": tenant_meta("tenant-limits", namespace), "spec": {"limits": [limit]}}


def app_project(**spec_changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "description": "Tenant payments of organization acme (acme-corp/payments-service)",
        "sourceRepos": [
            "https://github.com/acme-corp/payments-service",
            "https://github.com/acme-corp/payments-service.git",
        ],
        "destinations": [
            {"server": IN_CLUSTER, "namespace": "payments"},
            {"server": IN_CLUSTER, "namespace": "payments-*"},
        ],
        "clusterResourceWhitelist": [],
        "namespaceResourceBlacklist": [
            {"group": "", "kind": "ResourceQuota"},
            {"group": "", "kind": "LimitRange"},
            {"group": "networking.k8s.io", "kind": "NetworkPolicy"},
            {"group": "rbac.authorization.k8s.io", "kind": "Role"},
            {"group": "rbac.authorization.k8s.io", "kind": "RoleBinding"},
        ],
        "roles": [
            {
                "name": "developers",
                "policies": [
                    "p, proj:payments:developers, applications, *, payments/*, allow",
                    "p, proj:payments:developers, logs, get, payments/*, allow",
                ],
                "groups": ["acme:payments"],
            }
        ],
    }
    spec.update(spec_changes)
    return {"metadata": tenant_meta("payments", "argocd"), "spec": spec}


def tenant_world(tenant: str = "payments", extra: tuple[str, ...] = ("batch",)) -> list[Res]:
    """A Tenant component with what tenant.py registers for it (the parts stack policies look at)."""
    component = Res(TENANT_TYPE, tenant)
    found = [component]
    for ns in (tenant, *(f"{tenant}-{s}" for s in extra)):
        found += [
            Res(NAMESPACE, ns, tenant_ns(ns, **{"gatehouse.dev/tenant": tenant}), component),
            Res(QUOTA, f"{ns}-quota", quota(ns), component),
            Res(LIMITS, f"{ns}-limits", limit_range(ns), component),
            Res(NETPOL, f"{ns}-default-deny", default_deny(ns), component),
            Res(NETPOL, f"{ns}-allow-dns", allow_dns(ns), component),
            Res(NETPOL, f"{ns}-allow-gateway-ingress", gateway_ingress(ns), component),
        ]
    project = app_project(
        destinations=[
            {"server": IN_CLUSTER, "namespace": tenant},
            {"server": IN_CLUSTER, "namespace": f"{tenant}-*"},
        ]
    )
    project["metadata"] = tenant_meta(tenant, "argocd", tenant)
    found.append(Res(APP_PROJECT, f"{tenant}-project", project, component))
    return found


def without(resources: list[Res], name: str) -> list[Res]:
    assert any(r.name == name for r in resources), name
    return [r for r in resources if r.name != name]


def named(resources: list[Res], name: str, type_: str | None = None) -> Res:
    return next(r for r in resources if r.name == name and type_ in (None, r.type))


def container(**changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "name": "app",
        "image": "ghcr.io/acme-corp/payments:1.4.2",
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
        },
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "ports": [{"containerPort": 8080}],
    }
    for key, value in changes.items():
        if value is None:
            found.pop(key)
        else:
            found[key] = value
    return found


def deployment(containers: list[dict[str, Any]] | None = None, **pod: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": containers if containers is not None else [container()],
    }
    spec.update(pod)
    return {
        "metadata": meta("payments-api", "payments"),
        "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "api"}}, "spec": spec}},
    }


def gateway() -> dict[str, Any]:
    return {
        "metadata": meta("public", "envoy-gateway-system"),
        "spec": {
            "gatewayClassName": "gatehouse",
            "listeners": [
                {"name": "http", "protocol": "HTTP", "port": 80, "allowedRoutes": {"namespaces": {"from": "Same"}}},
                {
                    "name": "https",
                    "protocol": "HTTPS",
                    "port": 443,
                    "hostname": f"*.{DOMAIN}",
                    "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "wildcard-tls"}]},
                    "allowedRoutes": {
                        "namespaces": {
                            "from": "Selector",
                            "selector": {"matchLabels": {"gatehouse.dev/gateway-access": "true"}},
                        },
                        "kinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}],
                    },
                },
            ],
        },
    }


PARENT_REF = {
    "group": "gateway.networking.k8s.io",
    "kind": "Gateway",
    "name": "public",
    "namespace": "envoy-gateway-system",
    "sectionName": "https",
}


def route(
    name: str = "shop", namespace: str = "storefront", hosts: list[str] | None = None, public: bool = False
) -> dict[str, Any]:
    labels = {"gatehouse.dev/public-route": "true"} if public else {}
    return {
        "metadata": meta(name, namespace, **labels),
        "spec": {
            "parentRefs": [PARENT_REF],
            "hostnames": hosts if hosts is not None else [f"{name}.{DOMAIN}"],
            "rules": [{"backendRefs": [{"name": f"{name}-web", "port": 8080}]}],
        },
    }


def redirect_route() -> dict[str, Any]:
    return {
        "metadata": meta("https-redirect", "envoy-gateway-system"),
        "spec": {
            "parentRefs": [{"name": "public", "sectionName": "http"}],
            "rules": [
                {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}
            ],
        },
    }


SSO_HEADERS = ["x-auth-request-user", "x-auth-request-email"]


def sso_policy(route_name: str = "shop", namespace: str = "storefront", **ext: Any) -> dict[str, Any]:
    ext_auth: dict[str, Any] = {
        "failOpen": False,
        "http": {
            "backendRefs": [{"name": "oauth2-proxy", "namespace": "oauth2-proxy", "port": 80}],
            "path": "/_extauth",
            "headersToBackend": SSO_HEADERS,
        },
    }
    ext_auth.update(ext)
    return {
        "metadata": meta(f"{route_name}-sso", namespace),
        "spec": {
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": route_name}],
            "extAuth": ext_auth,
        },
    }


def jwt_policy(route_name: str = "tickets", namespace: str = "helpdesk") -> dict[str, Any]:
    return {
        "metadata": meta(f"{route_name}-jwt", namespace),
        "spec": {
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": route_name}],
            "jwt": {
                "providers": [
                    {
                        "name": "keycloak",
                        "remoteJWKS": {"uri": "http://keycloak/certs"},
                        "claimToHeaders": [{"claim": "sub", "header": "x-user-id"}],
                    }
                ]
            },
        },
    }


def client_traffic(remove: list[str]) -> dict[str, Any]:
    return {
        "metadata": meta("public-edge", "envoy-gateway-system"),
        "spec": {
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public"}],
            "headers": {"earlyRequestHeaders": {"remove": remove}},
        },
    }


def dns(host: str) -> dict[str, Any]:
    return {"name": host, "type": "A", "content": "203.0.113.10", "zoneId": "0f1e", "ttl": 300}


def edge_world() -> list[Res]:
    component = Res("gatehouse:gateway:AuthGateway", "gateway")
    return [
        component,
        Res(GATEWAY, "public-gateway", gateway(), component),
        Res(ROUTE, "https-redirect", redirect_route(), component),
        Res(CLIENT_TRAFFIC, "public-edge", client_traffic([*SSO_HEADERS, "x-user-id", "x-forwarded-uri"]), component),
        Res(ROUTE, "app-shop", route(), component),
        Res(SECURITY_POLICY, "storefront-shop-sso", sso_policy(), component),
        Res(ROUTE, "api-tickets", route("tickets", "helpdesk"), component),
        Res(SECURITY_POLICY, "api-tickets-jwt", jwt_policy(), component),
        Res(ROUTE, "oauth2-proxy-route", route("sso", "oauth2-proxy", public=True)),
        Res(DNS, "dns-shop", dns(f"shop.{DOMAIN}"), component),
        Res(DNS, "dns-tickets", dns(f"tickets.{DOMAIN}"), component),
        Res(DNS, "dns-sso", dns(f"sso.{DOMAIN}"), component),
    ]


# --- the pack as a whole --------------------------------------------------------------------------


def test_pack_has_unique_named_described_policies() -> None:
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names)) >= 25
    for policy in POLICIES:
        assert isinstance(policy, ResourceValidationPolicy | StackValidationPolicy)
        assert policy.description and policy.description.endswith("."), policy.name
        assert policy.severity is not None, policy.name
        assert policy.framework is not None and policy.framework.name, policy.name


def test_every_policy_has_a_failing_fixture() -> None:
    assert {p.name for p in POLICIES} - COVERED == set()
    assert COVERED - {p.name for p in POLICIES} == set()


def test_compliant_tenant_objects_pass_every_resource_policy() -> None:
    fixtures = [
        (NAMESPACE, tenant_ns(), "payments"),
        (ROLE, role(), "payments-role"),
        (ROLE_BINDING, binding([GROUP]), "payments-developers"),
        (ROLE_BINDING, binding([DEPLOYER], metadata=tenant_meta("tenant-deployer", "payments-batch")), "deployer"),
        (SERVICE_ACCOUNT, {"metadata": tenant_meta("deployer"), "automountServiceAccountToken": False}, "sa"),
        (QUOTA, quota(), "payments-quota"),
        (LIMITS, limit_range(), "payments-limits"),
        (NETPOL, default_deny(), "payments-default-deny"),
        (NETPOL, allow_dns(), "payments-allow-dns"),
        (NETPOL, gateway_ingress(), "payments-allow-gateway-ingress"),
        (APP_PROJECT, app_project(), "payments-project"),
        (DEPLOYMENT, deployment(), "api"),
        (GATEWAY, gateway(), "public-gateway"),
        (ROUTE, route(), "app-shop"),
        (ROUTE, redirect_route(), "https-redirect"),
        (SECURITY_POLICY, sso_policy(), "shop-sso"),
        (DNS, dns(f"shop.{DOMAIN}"), "dns-shop"),
        (CHART, {"chart": "cert-manager", "version": "v1.21.1", "namespace": "cert-manager"}, "cert-manager"),
        (CONFIG_MAP + "Patch", rbac_cm(), "argocd-argocd-rbac-cm"),
    ]
    config = {"domains": [DOMAIN]}
    for type_, props, name in fixtures:
        protect = type_ != CHART  # a chart is never protected: its children would inherit it
        args = resource_args(type_, props, name=name, protect=protect, parent=TENANT_URN, config=config)
        for policy in POLICIES:
            if isinstance(policy, ResourceValidationPolicy):
                assert violations(policy, args) == [], (policy.name, name)


def test_compliant_stacks_pass_every_stack_policy() -> None:
    world = tenant_world() + tenant_world("archon", extra=()) + edge_world()
    for policy in POLICIES:
        if isinstance(policy, StackValidationPolicy):
            assert stack_violations(policy, world) == [], policy.name


# Vendored CRDs of what Gatehouse no longer installs (the Keycloak operator gave way to the keycloakx chart).
NOT_INSTALLED_GROUPS = {"k8s.keycloak.org"}


def test_kind_scopes_match_the_upstream_crds() -> None:
    """guardrails/_kinds.py knows every CRD the platform installs, with the scope its CRD declares."""
    found = {}
    for path in sorted((UPSTREAM / "crds").glob("*/*.yaml")):
        if path.parent.name in NOT_INSTALLED_GROUPS:
            continue
        for doc in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                spec = doc["spec"]
                found[f"{spec['group']}/{spec['names']['kind']}"] = spec["scope"]
    assert len(found) >= 20
    for key, scope in sorted(found.items()):
        table = _kinds.NAMESPACED_KINDS if scope == "Namespaced" else _kinds.CLUSTER_SCOPED_KINDS
        assert key in table, (key, scope)
    assert _kinds.NAMESPACED_KINDS.isdisjoint(_kinds.CLUSTER_SCOPED_KINDS)
    assert _kinds.scope_of(CONFIG_MAP) == "Namespaced"
    assert _kinds.scope_of("kubernetes:cert-manager.io/v1:ClusterIssuer") == "Cluster"
    assert _kinds.scope_of("kubernetes:example.com/v1:Widget") is None
    assert _kinds.scope_of(CHART) is None


def test_unknown_values_raise_like_under_the_engine() -> None:
    """A value unknown during preview stops the policy (the analyzer reports "can't run during preview")."""
    props = binding([GROUP], role_ref={"kind": "ClusterRole", "name": UNKNOWN_STRING_VALUE})
    with pytest.raises(UnknownValueError):
        check(rbac.no_cluster_admin_binding, ROLE_BINDING, props)


# --- rbac -----------------------------------------------------------------------------------------


@covers(rbac.no_cluster_admin_binding)
def test_no_cluster_admin_binding() -> None:
    props = binding([GROUP], role_ref={"kind": "ClusterRole", "name": "cluster-admin"}, metadata=meta("ops"))
    assert check(rbac.no_cluster_admin_binding, CLUSTER_ROLE_BINDING, props) == [
        "ClusterRoleBinding 'ops' grants cluster-admin"
    ]
    assert check(rbac.no_cluster_admin_binding, ROLE_BINDING, binding([GROUP])) == []


@covers(rbac.no_builtin_edit_admin_binding)
@pytest.mark.parametrize("name", ["edit", "admin"])
def test_no_builtin_edit_admin_binding(name: str) -> None:
    props = binding([GROUP], role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name})
    assert check(rbac.no_builtin_edit_admin_binding, ROLE_BINDING, props) == [
        f"RoleBinding 'payments/tenant-developers' binds the built-in ClusterRole '{name}'; "
        "bind a Gatehouse profile Role instead"
    ]
    view = binding([GROUP], role_ref={"kind": "ClusterRole", "name": "view"})
    assert check(rbac.no_builtin_edit_admin_binding, ROLE_BINDING, view) == []


@covers(rbac.no_system_group_bindings)
def test_no_system_group_bindings() -> None:
    props = binding([GROUP, {"kind": "Group", "name": "system:masters"}], metadata=meta("break-glass", "ops"))
    assert check(rbac.no_system_group_bindings, ROLE_BINDING, props) == [
        "RoleBinding 'ops/break-glass' binds 'system:masters'"
    ]
    assert check(rbac.no_system_group_bindings, ROLE_BINDING, binding([GROUP, DEPLOYER])) == []


def test_everyone_and_every_service_account_groups_are_system_groups() -> None:
    subjects = [
        {"kind": "Group", "name": "system:authenticated"},
        {"kind": "Group", "name": "system:serviceaccounts"},
        {"kind": "Group", "name": "system:serviceaccounts:storefront"},
        {"kind": "Group", "name": "system:serviceaccounts:payments-batch"},  # the tenant's own namespace
    ]
    what = "RoleBinding 'payments/tenant-developers'"
    assert check(rbac.no_system_group_bindings, ROLE_BINDING, binding(subjects)) == [
        f"{what} binds 'system:authenticated'",
        f"{what} binds 'system:serviceaccounts'",
        f"{what} binds 'system:serviceaccounts:storefront', every ServiceAccount of a namespace outside tenant "
        "'payments'",
    ]
    # a platform binding may name its own namespace's ServiceAccounts as a group
    platform = binding([{"kind": "Group", "name": "system:serviceaccounts:keycloak"}], metadata=meta("ops", "keycloak"))
    assert check(rbac.no_system_group_bindings, ROLE_BINDING, platform) == []


def test_cluster_role_binding_patch_is_a_binding() -> None:
    """Patch types are the same objects to every resource rule: a patch to cluster-admin is caught."""
    props = binding([GROUP], role_ref={"kind": "ClusterRole", "name": "cluster-admin"}, metadata=meta("ops"))
    assert check(rbac.no_cluster_admin_binding, CLUSTER_ROLE_BINDING + "Patch", props) == [
        "ClusterRoleBindingPatch 'ops' grants cluster-admin"
    ]
    listed = {"items": [props, binding([GROUP], metadata=meta("fine"))]}
    assert check(rbac.no_cluster_admin_binding, CLUSTER_ROLE_BINDING + "List", listed) == [
        "ClusterRoleBinding 'ops' grants cluster-admin"
    ]


def test_patch_and_list_type_tokens() -> None:
    assert base_type("kubernetes:core/v1:NamespacePatch") == "kubernetes:core/v1:Namespace"
    assert base_type("kubernetes:core/v1:ConfigMapList") == "kubernetes:core/v1:ConfigMap"
    assert base_type("kubernetes:argoproj.io/v1alpha1:AppProjectPatch") == APP_PROJECT
    assert base_type(CHART) == CHART
    assert base_type("random:index/randomPassword:RandomPassword") == PASSWORD


@covers(rbac.tenant_binding_subjects)
def test_tenant_binding_subjects() -> None:
    props = binding(
        [
            GROUP,
            DEPLOYER,
            {"kind": "ServiceAccount", "name": "deployer", "namespace": "payments-batch"},
            {"kind": "User", "name": "alice@example.com"},
            {"kind": "Group", "name": "system:authenticated"},
            {"kind": "Group", "name": "globex:storefront"},
            {"kind": "ServiceAccount", "name": "deployer", "namespace": "storefront"},
        ]
    )
    what = "RoleBinding 'payments/tenant-developers'"
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, props) == [
        f"{what} binds the User 'alice@example.com'; tenants bind only their groups and ServiceAccounts",
        f"{what} binds the system group 'system:authenticated'",
        f"{what} binds the group 'globex:storefront', which is not a group of tenant 'payments'",
        f"{what} binds the ServiceAccount 'storefront/deployer' from outside tenant 'payments'",
    ]
    # platform bindings (an organization's secret reader) are not tenant business
    org = binding([{"kind": "ServiceAccount", "name": "eso-secrets-reader", "namespace": "org-acme"}])
    org["metadata"] = meta("eso-secrets-reader", "org-acme", **{"gatehouse.dev/organization": "acme"})
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, org) == []


def test_tenant_binding_found_by_parent_and_group_patterns_configurable() -> None:
    props = binding([{"kind": "Group", "name": "payments-devs"}], metadata=meta("tenant-developers", "payments"))
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, props, parent=TENANT_URN) == [
        "RoleBinding 'payments/tenant-developers' binds the group 'payments-devs', which is not a group of tenant "
        "'payments'"
    ]
    config = {"groupPatterns": ["^{tenant}-devs$"]}
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, props, parent=TENANT_URN, config=config) == []


def test_tenant_binding_nested_below_the_tenant_cannot_pass_unchecked() -> None:
    """A resource policy sees only its parent: deeper than one level and unlabelled, the tenant is unknown."""
    nested = urn_for("gatehouse:tenancy:TenantAccess", "payments-access", TENANT_URN)
    props = binding([{"kind": "Group", "name": "globex:storefront"}], metadata=meta("tenant-developers", "payments"))
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, props, parent=nested) == [
        "RoleBinding 'payments/tenant-developers' is inside a Tenant but its tenant cannot be determined (no "
        "gatehouse.dev/tenant label and not a direct child of the Tenant), so its scope cannot be checked"
    ]
    labelled = binding([GROUP], metadata=tenant_meta("tenant-developers"))
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, labelled, parent=nested) == []


def test_the_tenant_parent_wins_over_the_label() -> None:
    """A payments binding labelled as storefront's does not get to bind storefront's group."""
    props = binding(
        [{"kind": "Group", "name": "globex:storefront"}], metadata=tenant_meta("tenant-developers", tenant="storefront")
    )
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, props, parent=TENANT_URN) == [
        "RoleBinding 'payments/tenant-developers' binds the group 'globex:storefront', which is not a group of "
        "tenant 'payments'"
    ]
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, props) == []  # no parent: the label is all there is


@covers(rbac.tenant_role_least_privilege)
def test_tenant_role_least_privilege() -> None:
    props = role(
        rules=[
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]},
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get"]},
            {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]},
        ]
    )
    assert check(rbac.tenant_role_least_privilege, ROLE, props) == [
        "Role 'payments/tenant' rule 1 uses '*' in verbs",
        "Role 'payments/tenant' rule 2 uses '*' in apiGroups",
        "Role 'payments/tenant' rule 2 uses '*' in resources",
        "Role 'payments/tenant' rule 3 grants 'impersonate'",
    ]
    assert check(rbac.tenant_role_least_privilege, ROLE, role()) == []
    platform = {"metadata": meta("cert-manager-controller"), "rules": [{"resources": ["*"], "verbs": ["*"]}]}
    assert check(rbac.tenant_role_least_privilege, CLUSTER_ROLE, platform) == []


@covers(rbac.tenant_role_no_guardrail_writes)
def test_tenant_role_no_guardrail_writes() -> None:
    props = role(
        "elevated",
        rules=[
            {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ["get", "create", "patch"]},
            {"apiGroups": [""], "resources": ["resourcequotas", "limitranges"], "verbs": ["get", "list"]},
            {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]},
        ],
    )
    assert check(rbac.tenant_role_no_guardrail_writes, ROLE, props) == [
        "Role 'payments/tenant' rule 1 lets the tenant create/patch networkpolicies",
        "Role 'payments/tenant' rule 3 lets the tenant create serviceaccounts/token",
    ]


@covers(rbac.standard_profile_no_secret_reads)
def test_standard_profile_no_secret_reads() -> None:
    rules = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "create"]}]
    assert check(rbac.standard_profile_no_secret_reads, ROLE, role("standard", rules)) == [
        "Role 'payments/tenant' (profile 'standard') rule 1 lets the tenant get/list secrets"
    ]
    assert check(rbac.standard_profile_no_secret_reads, ROLE, role("elevated", rules)) == []
    unlabelled = role("standard", rules)
    del unlabelled["metadata"]["labels"]["gatehouse.dev/permission-profile"]
    assert len(check(rbac.standard_profile_no_secret_reads, ROLE, unlabelled)) == 1


@covers(rbac.no_cluster_scoped_tenant_objects)
def test_no_cluster_scoped_tenant_objects() -> None:
    world = tenant_world()
    component = world[0]
    rogue = Res(CLUSTER_ROLE, "payments-clusterwide", {"metadata": meta("payments-clusterwide")}, component)
    labelled = Res(CLUSTER_ROLE_BINDING, "loose", {"metadata": tenant_meta("loose", None)})
    assert stack_violations(rbac.no_cluster_scoped_tenant_objects, [*world, rogue, labelled]) == [
        (
            "ClusterRole 'payments-clusterwide' is cluster-scoped but belongs to tenant 'payments'; only platform "
            "components create cluster-scoped objects",
            rogue.urn,
        ),
        (
            "ClusterRoleBinding 'loose' is cluster-scoped but belongs to tenant 'payments'; only platform "
            "components create cluster-scoped objects",
            labelled.urn,
        ),
    ]


def test_any_namespaceless_object_of_an_unknown_kind_under_a_tenant_is_cluster_scoped() -> None:
    world = tenant_world(extra=())
    component = world[0]
    deep = Res("gatehouse:tenancy:TenantExtras", "payments-extras", parent=component)
    unknown = Res("kubernetes:example.com/v1:Widget", "widget", {"metadata": meta("widget")}, deep)
    issuer = Res("kubernetes:cert-manager.io/v1:ClusterIssuerPatch", "issuer", {"metadata": meta("le")}, component)
    forgot = Res(CONFIG_MAP, "settings", {"metadata": meta("settings")}, component)  # namespaced: lands in default
    placed = Res("kubernetes:example.com/v1:Widget", "placed", {"metadata": meta("placed", "payments")}, component)
    chart = Res(CHART, "payments-chart", {"chart": "x", "version": "1.0.0"}, component)
    resources = [*world, deep, unknown, issuer, forgot, placed, chart]
    assert stack_violations(rbac.no_cluster_scoped_tenant_objects, resources) == [
        (
            "Widget 'widget' has no metadata.namespace and is not a known namespaced kind, so it counts as "
            "cluster-scoped, but it belongs to tenant 'payments'; only platform components create cluster-scoped "
            "objects",
            unknown.urn,
        ),
        (
            "ClusterIssuerPatch 'le' is cluster-scoped but belongs to tenant 'payments'; only platform components "
            "create cluster-scoped objects",
            issuer.urn,
        ),
    ]


@covers(rbac.tenant_serviceaccount_no_automount)
def test_tenant_serviceaccount_no_automount() -> None:
    props = {"metadata": tenant_meta("deployer")}
    assert check(rbac.tenant_serviceaccount_no_automount, SERVICE_ACCOUNT, props) == [
        "ServiceAccount 'payments/deployer' does not set automountServiceAccountToken: false"
    ]
    org = {"metadata": meta("eso-secrets-reader", "org-acme", **{"gatehouse.dev/organization": "acme"})}
    assert len(check(rbac.tenant_serviceaccount_no_automount, SERVICE_ACCOUNT, org)) == 1
    chart_sa = {"metadata": {"name": "cert-manager", "namespace": "cert-manager"}}
    assert check(rbac.tenant_serviceaccount_no_automount, SERVICE_ACCOUNT, chart_sa) == []
    org_urn = urn_for("gatehouse:tenancy:Organization", "acme")
    tunnel_chart = urn_for(CHART, "acme-cloudflared", org_urn)
    cloudflared = {"metadata": {"name": "cloudflared", "namespace": "org-acme"}}
    assert len(check(rbac.tenant_serviceaccount_no_automount, SERVICE_ACCOUNT, cloudflared, parent=org_urn)) == 1
    assert check(rbac.tenant_serviceaccount_no_automount, SERVICE_ACCOUNT, cloudflared, parent=tunnel_chart) == []


# --- namespaces -----------------------------------------------------------------------------------


@covers(namespaces.namespace_explicit_name)
def test_explicit_name() -> None:
    props = tenant_ns()
    del props["metadata"]["name"]
    assert check(namespaces.namespace_explicit_name, NAMESPACE, props, name="payments") == [
        "Namespace 'payments' has no explicit metadata.name; an auto-named namespace can be replaced"
    ]


@covers(namespaces.tenant_namespace_not_reserved)
@pytest.mark.parametrize("name", ["default", "kube-system", "kube-anything", "cert-manager", "monitoring"])
def test_reserved_namespace(name: str) -> None:
    assert check(namespaces.tenant_namespace_not_reserved, NAMESPACE, tenant_ns(name)) == [
        f"Namespace '{name}' is reserved for the platform"
    ]


def test_org_prefix_is_reserved_for_organizations() -> None:
    assert check(namespaces.tenant_namespace_not_reserved, NAMESPACE, tenant_ns("org-acme")) == [
        "Namespace 'org-acme' is reserved for the platform"
    ]
    org = {"metadata": meta("org-acme", **{"gatehouse.dev/organization": "acme"})}
    assert check(namespaces.tenant_namespace_not_reserved, NAMESPACE, org) == []


def test_reserved_list_is_configurable() -> None:
    args = resource_args(NAMESPACE, tenant_ns(), config={"reserved": ["payments"]})
    assert violations(namespaces.tenant_namespace_not_reserved, args) == [
        "Namespace 'payments' is reserved for the platform"
    ]


def test_platform_namespaces_are_not_tenant_business() -> None:
    platform = {"metadata": {"name": "cert-manager", "labels": {}}}
    assert check(namespaces.tenant_namespace_not_reserved, NAMESPACE, platform) == []


def test_an_unlabelled_namespace_under_a_tenant_is_a_tenant_namespace() -> None:
    """The Tenant parent makes it tenant business: no label needed to be held to the tenant rules."""
    props = {"metadata": {"name": "kube-system"}}
    on = {"parent": TENANT_URN, "name": "kube-system"}
    assert check(namespaces.tenant_namespace_not_reserved, NAMESPACE, props, **on) == [
        "Namespace 'kube-system' is reserved for the platform"
    ]
    assert check(namespaces.tenant_namespace_labels, NAMESPACE, props, **on) == [
        "Tenant namespace is missing label(s): gatehouse.dev/tenant, gatehouse.dev/organization, "
        "gatehouse.dev/permission-profile, gatehouse.dev/managed-by, pod-security.kubernetes.io/enforce"
    ]
    assert check(namespaces.namespace_pod_security, NAMESPACE, props, **on) == [
        "Namespace 'kube-system' is managed by Gatehouse but enforces no Pod Security level"
    ]
    assert check(namespaces.tenant_namespace_prefix, NAMESPACE, props, **on) == [
        "Namespace 'kube-system' of tenant 'payments' is neither 'payments' nor 'payments-<suffix>'"
    ]
    assert check(namespaces.namespace_explicit_name, NAMESPACE, {"metadata": {}}, **on) == [
        "Namespace 'kube-system' has no explicit metadata.name; an auto-named namespace can be replaced"
    ]
    # outside any Tenant, the same namespace is the platform's
    for policy in (namespaces.tenant_namespace_not_reserved, namespaces.tenant_namespace_labels):
        assert check(policy, NAMESPACE, props) == [], policy.name


def test_a_tenant_namespace_labelled_for_another_tenant() -> None:
    props = tenant_ns("payments-batch", **{"gatehouse.dev/tenant": "storefront"})
    assert check(namespaces.tenant_namespace_labels, NAMESPACE, props, parent=TENANT_URN) == [
        "Tenant namespace of tenant 'payments' is labelled gatehouse.dev/tenant: 'storefront'"
    ]
    nested = urn_for("gatehouse:tenancy:TenantExtras", "payments-extras", TENANT_URN)
    unlabelled = tenant_ns("payments-batch", **{"gatehouse.dev/tenant": None})
    assert check(namespaces.tenant_namespace_prefix, NAMESPACE, unlabelled, parent=nested) == [
        "Namespace 'payments-batch' is inside a Tenant but its tenant cannot be determined (no gatehouse.dev/tenant "
        "label and not a direct child of the Tenant), so its scope cannot be checked"
    ]


def test_namespace_patches() -> None:
    """A NamespacePatch sets only its labels: privileged is caught, labels it leaves alone are not missing."""
    patch = NAMESPACE + "Patch"
    privileged = {"metadata": {"name": "payments", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}
    assert check(namespaces.namespace_pod_security, patch, privileged) == [
        "Namespace 'payments' enforces Pod Security 'privileged'; allowed: restricted, baseline"
    ]
    partial = {"metadata": {"name": "payments", "labels": {"team": "payments"}}}
    for policy in (namespaces.namespace_pod_security, namespaces.tenant_namespace_labels):
        assert check(policy, patch, partial, parent=TENANT_URN) == [], policy.name
    reserved = {"metadata": {"name": "kube-system", "labels": {"gatehouse.dev/tenant": "payments"}}}
    assert check(namespaces.tenant_namespace_not_reserved, patch, reserved) == [
        "Namespace 'kube-system' is reserved for the platform"
    ]
    # deleting a patch deletes nothing: it needs no protection
    assert check(protection.protected_namespaces, patch, tenant_ns()) == []


@covers(namespaces.tenant_namespace_labels)
def test_missing_tenant_labels() -> None:
    props = tenant_ns(**{"gatehouse.dev/organization": None, "pod-security.kubernetes.io/enforce": None})
    assert check(namespaces.tenant_namespace_labels, NAMESPACE, props) == [
        "Tenant namespace is missing label(s): gatehouse.dev/organization, pod-security.kubernetes.io/enforce"
    ]


def test_pod_security_level_matches_profile() -> None:
    props = tenant_ns(**{"pod-security.kubernetes.io/enforce": "baseline"})
    assert check(namespaces.tenant_namespace_labels, NAMESPACE, props) == [
        "Tenant namespace with profile 'standard' enforces Pod Security 'baseline', expected 'restricted'"
    ]
    elevated = tenant_ns(
        **{"gatehouse.dev/permission-profile": "elevated", "pod-security.kubernetes.io/enforce": "baseline"}
    )
    assert check(namespaces.tenant_namespace_labels, NAMESPACE, elevated) == []


@covers(namespaces.namespace_pod_security)
def test_namespace_pod_security() -> None:
    privileged = {"metadata": {"name": "debug", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}
    assert check(namespaces.namespace_pod_security, NAMESPACE, privileged) == [
        "Namespace 'debug' enforces Pod Security 'privileged'; allowed: restricted, baseline"
    ]
    unset = {"metadata": meta("monitoring")}
    assert check(namespaces.namespace_pod_security, NAMESPACE, unset) == [
        "Namespace 'monitoring' is managed by Gatehouse but enforces no Pod Security level"
    ]
    foreign = {"metadata": {"name": "someone-elses"}}
    assert check(namespaces.namespace_pod_security, NAMESPACE, foreign) == []


@covers(namespaces.tenant_namespace_prefix)
def test_tenant_namespace_prefix() -> None:
    assert check(namespaces.tenant_namespace_prefix, NAMESPACE, tenant_ns("payments-batch")) == []
    assert check(namespaces.tenant_namespace_prefix, NAMESPACE, tenant_ns("storefront-x")) == [
        "Namespace 'storefront-x' of tenant 'payments' is neither 'payments' nor 'payments-<suffix>'"
    ]
    assert check(namespaces.tenant_namespace_prefix, NAMESPACE, tenant_ns("payments_" + "x" * 60)) == [
        f"Namespace 'payments_{'x' * 60}' is not a DNS label of at most 63 characters",
        f"Namespace 'payments_{'x' * 60}' of tenant 'payments' is neither 'payments' nor 'payments-<suffix>'",
    ]


@covers(namespaces.no_default_namespace)
def test_no_default_namespace() -> None:
    assert check(namespaces.no_default_namespace, CONFIG_MAP, {"metadata": meta("settings", "default")}) == [
        "ConfigMap 'default/settings' is in the default namespace"
    ]
    chart = {"chart": "grafana", "version": "12.11.1", "namespace": "default"}
    assert check(namespaces.no_default_namespace, CHART, chart, name="grafana") == [
        "Chart 'grafana' installs into the default namespace"
    ]
    assert check(namespaces.no_default_namespace, CONFIG_MAP, {"metadata": meta("settings", "payments")}) == []


def test_a_namespaced_object_without_a_namespace_lands_in_default() -> None:
    assert check(namespaces.no_default_namespace, CONFIG_MAP, {"metadata": meta("settings")}) == [
        "ConfigMap 'settings' sets no metadata.namespace, so it lands in the provider's default namespace"
    ]
    assert check(namespaces.no_default_namespace, CONFIG_MAP + "Patch", {"metadata": {"name": "settings"}}) == [
        "ConfigMapPatch 'settings' sets no metadata.namespace, so it lands in the provider's default namespace"
    ]
    listed = {"items": [{"metadata": meta("a", "payments")}, {"metadata": meta("b", "default")}]}
    assert check(namespaces.no_default_namespace, CONFIG_MAP + "List", listed) == [
        "ConfigMap 'default/b' is in the default namespace"
    ]
    assert check(namespaces.no_default_namespace, CHART, {"chart": "grafana", "version": "1.0.0"}, name="grafana") == [
        "Chart 'grafana' sets no namespace, so it installs into the provider's default namespace"
    ]
    # cluster-scoped and unknown kinds have no namespace to set; a chart's objects go where the chart puts them
    assert check(namespaces.no_default_namespace, CLUSTER_ROLE, {"metadata": meta("reader")}) == []
    assert check(namespaces.no_default_namespace, "kubernetes:example.com/v1:Widget", {"metadata": meta("w")}) == []
    chart_urn = urn_for(CHART, "grafana", GATEWAY_URN)
    assert check(namespaces.no_default_namespace, CONFIG_MAP, {"metadata": meta("x")}, parent=chart_urn) == []


# --- network --------------------------------------------------------------------------------------


@covers(network.tenant_namespace_network_isolation)
def test_tenant_namespace_network_isolation() -> None:
    world = tenant_world()
    ns = named(world, "payments-batch")
    broken = without(without(world, "payments-batch-default-deny"), "payments-batch-allow-dns")
    assert stack_violations(network.tenant_namespace_network_isolation, broken) == [
        (
            "Tenant namespace 'payments-batch' has no default-deny NetworkPolicy (podSelector {}, policyTypes "
            "Ingress and Egress, no rules)",
            ns.urn,
        ),
        ("Tenant namespace 'payments-batch' has no NetworkPolicy allowing DNS egress (UDP 53)", ns.urn),
    ]


def test_a_deny_with_rules_or_one_direction_is_no_default_deny() -> None:
    for spec in (
        {"podSelector": {}, "policyTypes": ["Ingress"]},
        {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "egress": [{}]},
        {"podSelector": {"matchLabels": {"app": "x"}}, "policyTypes": ["Ingress", "Egress"]},
    ):
        world = tenant_world(extra=())
        named(world, "payments-default-deny").props["spec"] = spec
        assert len(stack_violations(network.tenant_namespace_network_isolation, world)) == 1, spec


@covers(network.networkpolicy_no_empty_namespace_selector)
def test_networkpolicy_no_empty_namespace_selector() -> None:
    props = gateway_ingress()
    props["spec"]["ingress"][0]["from"][0]["namespaceSelector"] = {}
    assert check(network.networkpolicy_no_empty_namespace_selector, NETPOL, props) == [
        "NetworkPolicy 'payments/allow-gateway-ingress' ingress rule 1 selects every namespace (empty "
        "namespaceSelector)"
    ]
    platform = copy.deepcopy(props)
    platform["metadata"] = meta("allow-scrapes", "monitoring")
    assert check(network.networkpolicy_no_empty_namespace_selector, NETPOL, platform) == []


@covers(network.networkpolicy_no_open_ingress)
def test_networkpolicy_no_open_ingress() -> None:
    props = gateway_ingress()
    props["spec"]["ingress"] = [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}, {"ports": [{"port": 8080}]}]
    assert check(network.networkpolicy_no_open_ingress, NETPOL, props) == [
        "NetworkPolicy 'payments/allow-gateway-ingress' ingress rule 1 admits 0.0.0.0/0",
        "NetworkPolicy 'payments/allow-gateway-ingress' ingress rule 2 admits every source (no 'from')",
    ]
    egress = allow_dns()
    egress["spec"]["egress"].append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]})
    assert check(network.networkpolicy_no_open_ingress, NETPOL, egress) == []


# --- quotas ---------------------------------------------------------------------------------------


@covers(quotas.tenant_namespace_quota_and_limits)
def test_tenant_namespace_quota_and_limits() -> None:
    world = tenant_world()
    ns = named(world, "payments", NAMESPACE)
    broken = without(without(world, "payments-quota"), "payments-limits")
    assert stack_violations(quotas.tenant_namespace_quota_and_limits, broken) == [
        ("Tenant namespace 'payments' has no ResourceQuota", ns.urn),
        ("Tenant namespace 'payments' has no LimitRange", ns.urn),
    ]


@covers(quotas.tenant_quota_within_ceiling)
def test_tenant_quota_within_ceiling() -> None:
    props = quota(limits__cpu="32", services__loadbalancers="1", services__nodeports=None, pods=250)
    assert check(quotas.tenant_quota_within_ceiling, QUOTA, props) == [
        "ResourceQuota 'payments/tenant-quota' does not limit services.nodeports",
        "ResourceQuota 'payments/tenant-quota' sets limits.cpu=32, above the ceiling 16",
        "ResourceQuota 'payments/tenant-quota' sets pods=250, above the ceiling 100",
        "ResourceQuota 'payments/tenant-quota' sets services.loadbalancers=1, above the ceiling 0",
    ]
    large = quota(requests__cpu="8", requests__memory="16Gi", limits__cpu="16000m", limits__memory="32Gi")
    assert check(quotas.tenant_quota_within_ceiling, QUOTA, large) == []


def test_quota_ceilings_come_from_config_as_floats() -> None:
    config = {"ceilings": {"pods": 10, "requests.memory": "2Gi"}}
    assert check(quotas.tenant_quota_within_ceiling, QUOTA, quota(), config=config) == [
        "ResourceQuota 'payments/tenant-quota' sets pods=20, above the ceiling 10",
        "ResourceQuota 'payments/tenant-quota' sets requests.memory=4Gi, above the ceiling 2Gi",
    ]


@covers(quotas.tenant_limitrange_defaults)
def test_tenant_limitrange_defaults() -> None:
    assert check(quotas.tenant_limitrange_defaults, LIMITS, limit_range(defaultRequest=None, max=None)) == [
        "LimitRange 'payments/tenant-limits' Container limit has no defaultRequest, max"
    ]
    pods_only = limit_range(type="Pod")
    assert check(quotas.tenant_limitrange_defaults, LIMITS, pods_only) == [
        "LimitRange 'payments/tenant-limits' has no Container limit"
    ]


# --- services -------------------------------------------------------------------------------------


@covers(services.tenant_service_exposure)
def test_tenant_service_exposure() -> None:
    world = tenant_world()
    balancer = Res(SERVICE, "api-lb", {"metadata": meta("api", "payments-batch"), "spec": {"type": "LoadBalancer"}})
    node_port = Res(
        SERVICE,
        "api-np",
        {"metadata": meta("api-np", "payments"), "spec": {"type": "NodePort", "externalIPs": ["198.51.100.7"]}},
    )
    platform = Res(
        SERVICE, "edge", {"metadata": meta("edge", "envoy-gateway-system"), "spec": {"type": "LoadBalancer"}}
    )
    inside = Res(SERVICE, "web", {"metadata": meta("web", "payments"), "spec": {"type": "ClusterIP"}})
    assert stack_violations(services.tenant_service_exposure, [*world, balancer, node_port, platform, inside]) == [
        (
            "Service 'payments-batch/api' of tenant 'payments' is of type LoadBalancer; tenants are reached only "
            "through the gateway",
            balancer.urn,
        ),
        (
            "Service 'payments/api-np' of tenant 'payments' is of type NodePort; tenants are reached only through "
            "the gateway",
            node_port.urn,
        ),
        ("Service 'payments/api-np' of tenant 'payments' sets externalIPs", node_port.urn),
    ]


def test_a_service_patch_cannot_expose_a_tenant() -> None:
    world = tenant_world(extra=())
    patch = Res(
        SERVICE + "Patch",
        "web-lb",
        {"metadata": {"name": "web", "namespace": "payments"}, "spec": {"type": "LoadBalancer"}},
    )
    assert stack_violations(services.tenant_service_exposure, [*world, patch]) == [
        (
            "ServicePatch 'payments/web' of tenant 'payments' is of type LoadBalancer; tenants are reached only "
            "through the gateway",
            patch.urn,
        )
    ]


# --- argocd ---------------------------------------------------------------------------------------


@covers(argocd.appproject_destinations)
def test_appproject_destinations() -> None:
    props = app_project(
        destinations=[
            {"server": IN_CLUSTER, "namespace": "payments-batch"},
            {"server": "https://prod.example.com:6443", "namespace": "payments"},
            {"server": IN_CLUSTER, "namespace": "*"},
            {"server": IN_CLUSTER, "namespace": "storefront"},
            {"name": "in-cluster", "namespace": "payments-*"},
        ]
    )
    what = "AppProject 'argocd/payments'"
    assert check(argocd.appproject_destinations, APP_PROJECT, props) == [
        f"{what} destination 2 targets cluster 'https://prod.example.com:6443', not the in-cluster server",
        f"{what} destination 3 targets namespace '*' outside tenant 'payments'",
        f"{what} destination 4 targets namespace 'storefront' outside tenant 'payments'",
    ]


@covers(argocd.appproject_no_cluster_resources)
def test_appproject_no_cluster_resources() -> None:
    props = app_project(clusterResourceWhitelist=[{"group": "*", "kind": "*"}, {"group": "", "kind": "Namespace"}])
    assert check(argocd.appproject_no_cluster_resources, APP_PROJECT, props) == [
        "AppProject 'argocd/payments' allows cluster-scoped kinds: */*, core/Namespace"
    ]


@covers(argocd.appproject_guardrail_blacklist)
def test_appproject_guardrail_blacklist() -> None:
    props = app_project(namespaceResourceBlacklist=[{"group": "", "kind": "ResourceQuota"}])
    assert check(argocd.appproject_guardrail_blacklist, APP_PROJECT, props) == [
        "AppProject 'argocd/payments' lets Argo CD deploy guardrail kinds: core/LimitRange, "
        "networking.k8s.io/NetworkPolicy, rbac.authorization.k8s.io/Role, rbac.authorization.k8s.io/RoleBinding "
        "(add them to namespaceResourceBlacklist)"
    ]
    everything = app_project(namespaceResourceBlacklist=[{"group": "*", "kind": "*"}])
    assert check(argocd.appproject_guardrail_blacklist, APP_PROJECT, everything) == []


@covers(argocd.appproject_scoped_roles)
def test_appproject_scoped_roles() -> None:
    props = app_project(
        roles=[
            {
                "name": "developers",
                "policies": [
                    "p, proj:payments:developers, applications, *, payments/*, allow",
                    "p, proj:payments:developers, applications, *, storefront/*, allow",
                    "p, proj:storefront:developers, applications, get, payments/*, allow",
                ],
                "groups": ["acme:payments", "platform-admins"],
            }
        ],
        sourceNamespaces=["payments", "argocd"],
        destinationServiceAccounts=[
            {"server": IN_CLUSTER, "namespace": "payments", "defaultServiceAccount": "deployer"},
            {"server": IN_CLUSTER, "namespace": "*", "defaultServiceAccount": "deployer"},
        ],
    )
    what = "AppProject 'argocd/payments'"
    assert check(argocd.appproject_scoped_roles, APP_PROJECT, props) == [
        f"{what} role 'developers' has a policy outside its project: "
        "'p, proj:payments:developers, applications, *, storefront/*, allow'",
        f"{what} role 'developers' has a policy outside its project: "
        "'p, proj:storefront:developers, applications, get, payments/*, allow'",
        f"{what} role 'developers' grants the group 'platform-admins', which is not a group of 'payments'",
        f"{what} accepts Applications from namespace 'argocd' outside tenant 'payments'",
        f"{what} syncs as a ServiceAccount for namespace '*' outside tenant 'payments'",
    ]


@covers(argocd.appproject_source_repos)
def test_appproject_source_repos() -> None:
    world = tenant_world()
    project = named(world, "payments-project")
    project.props["spec"]["sourceRepos"] = [
        "https://github.com/acme-corp/payments-service.git",
        "https://github.com/acme-corp/*",
        "https://github.com/globex/storefront",
    ]
    expected = "tenant 'payments' deploys only from acme-corp/payments-service"
    assert stack_violations(argocd.appproject_source_repos, world) == [
        (
            f"AppProject 'argocd/payments' allows source repository 'https://github.com/acme-corp/*'; {expected}",
            project.urn,
        ),
        (
            f"AppProject 'argocd/payments' allows source repository 'https://github.com/globex/storefront'; {expected}",
            project.urn,
        ),
    ]


def test_appproject_repository_comes_only_from_the_tenant_namespace() -> None:
    """The project cannot vouch for itself: its labels and description must agree with the namespace's labels."""
    world = tenant_world(extra=())
    project = named(world, "payments-project")
    project.props["metadata"]["labels"].update(
        {"gatehouse.dev/repo-owner": "evil-corp", "gatehouse.dev/repo-name": "payload"}
    )
    project.props["spec"]["description"] = "Tenant payments of organization acme (evil-corp/payload)"
    project.props["spec"]["sourceRepos"] = ["https://github.com/evil-corp/payload"]
    what = "AppProject 'argocd/payments'"
    assert stack_violations(argocd.appproject_source_repos, world) == [
        (
            f"{what}: its labels name the repository 'evil-corp/payload', but tenant 'payments' deploys from "
            "acme-corp/payments-service (its namespace's labels)",
            project.urn,
        ),
        (
            f"{what}: its description names the repository 'evil-corp/payload', but tenant 'payments' deploys from "
            "acme-corp/payments-service (its namespace's labels)",
            project.urn,
        ),
        (
            f"{what} allows source repository 'https://github.com/evil-corp/payload'; tenant 'payments' deploys "
            "only from acme-corp/payments-service",
            project.urn,
        ),
    ]


def test_appproject_repository_unknown_without_the_namespace_labels() -> None:
    world = tenant_world(extra=())
    for label in ("gatehouse.dev/repo-owner", "gatehouse.dev/repo-name"):
        del named(world, "payments", NAMESPACE).props["metadata"]["labels"][label]
    project = named(world, "payments-project")
    expected = [
        (
            "AppProject 'argocd/payments': cannot tell the repository of tenant 'payments' (its namespace "
            "'payments' carries no gatehouse.dev/repo-owner and gatehouse.dev/repo-name labels)",
            project.urn,
        )
    ]
    assert stack_violations(argocd.appproject_source_repos, world) == expected
    # the project's own description no longer tells (it used to be trusted)
    no_namespace = [r for r in world if r.type != NAMESPACE]
    assert stack_violations(argocd.appproject_source_repos, no_namespace) == expected


def two_tenants(first: str, second: str) -> list[Res]:
    world = tenant_world(first, extra=()) + tenant_world(second, extra=())
    for tenant in (first, second):  # each tenant's project reaches only its own glob
        named(world, f"{tenant}-project").props["spec"]["destinations"] = [
            {"server": IN_CLUSTER, "namespace": tenant},
            {"server": IN_CLUSTER, "namespace": f"{tenant}-*"},
        ]
    return world


@covers(argocd.appproject_destinations_exclusive)
def test_appproject_destinations_exclusive() -> None:
    world = two_tenants("pay", "pay-roll")
    pay = named(world, "pay-project")
    assert stack_violations(argocd.appproject_destinations_exclusive, world) == [
        ("AppProject 'argocd/pay' destination 2 ('pay-*') reaches namespace 'pay-roll' of tenant 'pay-roll'", pay.urn)
    ]
    assert stack_violations(argocd.appproject_destinations_exclusive, two_tenants("payments", "storefront")) == []


@pytest.mark.parametrize("pattern", ["pa?-roll", "p[a]y-*", "*roll"])
def test_appproject_destination_globs_with_any_wildcard_are_checked(pattern: str) -> None:
    world = two_tenants("pay", "pay-roll")
    pay = named(world, "pay-project")
    pay.props["spec"]["destinations"] = [{"server": IN_CLUSTER, "namespace": pattern}]
    assert stack_violations(argocd.appproject_destinations_exclusive, world) == [
        (
            f"AppProject 'argocd/pay' destination 1 ('{pattern}') reaches namespace 'pay-roll' of tenant 'pay-roll'",
            pay.urn,
        )
    ]


def test_appproject_destinations_must_not_reach_platform_namespaces() -> None:
    world = tenant_world("cert", extra=())
    chart = Res(CHART, "ratelimit-redis", {"chart": "valkey", "version": "0.11.0", "namespace": "cert-redis"})
    project = named(world, "cert-project")
    assert stack_violations(argocd.appproject_destinations_exclusive, [*world, chart]) == [
        (
            "AppProject 'argocd/cert' destination 2 ('cert-*') reaches namespace 'cert-manager' of the platform",
            project.urn,
        ),
        (
            "AppProject 'argocd/cert' destination 2 ('cert-*') reaches namespace 'cert-redis' of the platform",
            project.urn,
        ),
    ]


RBAC_CSV = (
    "g, authentik:platform-admins, role:admin\n"
    "g, example-org:platform-admins, role:admin\n"
    "g, authentik:platform-operators, role:readonly\n"
)


def rbac_cm(csv: str = RBAC_CSV, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "argocd-rbac-cm", "namespace": "argocd"},
        "data": {"policy.csv": csv, "policy.default": "", "scopes": "[groups]", **data},
    }


@covers(argocd.argocd_rbac_admin_group)
def test_argocd_rbac_admin_group() -> None:
    patch = CONFIG_MAP + "Patch"  # what components/identity/argocd.py registers
    assert check(argocd.argocd_rbac_admin_group, patch, rbac_cm()) == []
    csv = RBAC_CSV + "g, acme:payments, role:admin\n"
    assert check(argocd.argocd_rbac_admin_group, patch, rbac_cm(csv)) == [
        "ConfigMapPatch 'argocd/argocd-rbac-cm' grants role:admin to 'acme:payments', which is not the platform "
        "admin group"
    ]


def test_argocd_rbac_admin_group_in_the_argo_cd_charts_values() -> None:
    """What Gatehouse installs: argo-helm argo-cd-10.1.1 renders `configs.rbac` into argocd-rbac-cm
    (templates/argocd-configs/argocd-rbac-cm.yaml)."""
    values = {"configs": {"rbac": {"policy.csv": RBAC_CSV, "policy.default": "role:admin"}}}
    chart = {"chart": "argo-cd", "version": "10.1.1", "values": values}
    assert check(argocd.argocd_rbac_admin_group, CHART, chart, name="argocd") == [
        "Chart 'argocd' sets policy.default to 'role:admin': every signed-in user gets role:admin"
    ]
    values["configs"]["rbac"]["policy.default"] = ""
    assert check(argocd.argocd_rbac_admin_group, CHART, chart, name="argocd") == []
    other = {
        "chart": "grafana",
        "version": "12.11.1",
        "values": values | {"configs": {"rbac": {"policy.default": "role:admin"}}},
    }
    assert check(argocd.argocd_rbac_admin_group, CHART, other) == []


def test_argocd_admin_through_roles_overlays_default_and_wildcards() -> None:
    what = "ConfigMap 'argocd/argocd-rbac-cm'"
    csv = RBAC_CSV + "g, role:deployer, role:admin\ng, globex:storefront, role:deployer\n"
    overlay = "# ops\np, acme:ops, *, *, */*, allow\np, acme:ops, applications, get, */*, allow\n"
    props = rbac_cm(csv, **{"policy.overlay.csv": overlay, "policy.default": "role:deployer"})
    assert check(argocd.argocd_rbac_admin_group, CONFIG_MAP, props) == [
        f"{what} grants role:admin (through 'role:deployer') to 'globex:storefront', which is not the platform "
        "admin group",
        f"{what} lets 'acme:ops' do everything ('p, acme:ops, *, *, */*, allow'); only the platform admin group may",
        f"{what} sets policy.default to 'role:deployer': every signed-in user gets role:admin",
    ]
    config = {"adminGroupPatterns": ["^authentik:platform-admins$"]}
    assert check(argocd.argocd_rbac_admin_group, CONFIG_MAP, rbac_cm(), config=config) == [
        f"{what} grants role:admin to 'example-org:platform-admins', which is not the platform admin group"
    ]
    other = rbac_cm(RBAC_CSV + "g, acme:payments, role:admin\n")
    other["metadata"]["name"] = "payments-settings"
    assert check(argocd.argocd_rbac_admin_group, CONFIG_MAP, other) == []


@covers(argocd.no_default_project)
def test_no_default_project() -> None:
    application = {"metadata": meta("shop", "argocd"), "spec": {"project": "default", "source": {}}}
    assert check(argocd.no_default_project, APPLICATION, application) == [
        "Application 'argocd/shop' uses the Argo CD project 'default', which allows everything"
    ]
    application["spec"]["project"] = "payments"
    assert check(argocd.no_default_project, APPLICATION, application) == []
    default = {"metadata": meta("default", "argocd"), "spec": {"sourceRepos": ["*"], "destinations": []}}
    assert check(argocd.no_default_project, APP_PROJECT, default) == [
        "AppProject 'argocd/default' is not locked down: sourceRepos must be empty"
    ]


# --- workloads ------------------------------------------------------------------------------------


@covers(workloads.workload_no_host_access)
def test_workload_no_host_access() -> None:
    bad = container(ports=[{"containerPort": 8080, "hostPort": 8080}])
    bad["securityContext"]["privileged"] = True
    props = deployment(
        [bad], hostNetwork=True, hostPID=True, volumes=[{"name": "docker", "hostPath": {"path": "/var/run"}}]
    )
    what = "Deployment 'payments/payments-api'"
    assert check(workloads.workload_no_host_access, DEPLOYMENT, props) == [
        f"{what} uses hostNetwork",
        f"{what} uses hostPID",
        f"{what} mounts the host path '/var/run' (volume 'docker')",
        f"{what} container 'app' is privileged",
        f"{what} container 'app' binds host port 8080",
    ]


@covers(workloads.workload_restricted_security_context)
def test_workload_restricted_security_context() -> None:
    root = container(name="root", securityContext={"runAsUser": 0, "capabilities": {"add": ["NET_ADMIN"]}})
    props = deployment([container(), root])
    what = "Deployment 'payments/payments-api' container 'root'"
    assert check(workloads.workload_restricted_security_context, DEPLOYMENT, props) == [
        f"{what} runs as UID 0",
        f"{what} does not set allowPrivilegeEscalation: false",
        f"{what} does not drop ALL capabilities",
        f"{what} adds capabilities: NET_ADMIN",
        f"{what} does not set readOnlyRootFilesystem: true",
    ]
    writable = container(name="init")
    writable["securityContext"]["readOnlyRootFilesystem"] = False
    assert check(workloads.workload_restricted_security_context, DEPLOYMENT, deployment(initContainers=[writable])) == [
        "Deployment 'payments/payments-api' container 'init' does not set readOnlyRootFilesystem: true"
    ]
    no_seccomp = deployment(securityContext={"runAsNonRoot": True})
    assert check(workloads.workload_restricted_security_context, DEPLOYMENT, no_seccomp) == [
        "Deployment 'payments/payments-api' container 'app' has no RuntimeDefault seccomp profile"
    ]
    as_root = deployment(securityContext={"seccompProfile": {"type": "RuntimeDefault"}})
    as_root["spec"]["template"]["spec"]["containers"][0]["securityContext"].pop("runAsNonRoot")
    assert check(workloads.workload_restricted_security_context, DEPLOYMENT, as_root) == [
        "Deployment 'payments/payments-api' container 'app' may run as root (runAsNonRoot is not true)"
    ]


def test_workload_patches_are_held_to_what_they_set() -> None:
    """A DeploymentPatch may not make a pod privileged or root; fields it leaves out are not missing."""
    patch = DEPLOYMENT + "Patch"
    image_only = {
        "metadata": {"name": "payments-api", "namespace": "payments"},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "ghcr.io/acme-corp/payments:1.4.3"}]}}},
    }
    for policy in POLICIES:
        if isinstance(policy, ResourceValidationPolicy):
            assert check(policy, patch, image_only) == [], policy.name
    bad = copy.deepcopy(image_only)
    bad["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {
        "privileged": True,
        "allowPrivilegeEscalation": True,
        "runAsUser": 0,
        "readOnlyRootFilesystem": False,
    }
    what = "DeploymentPatch 'payments/payments-api' container 'app'"
    assert check(workloads.workload_no_host_access, patch, bad) == [f"{what} is privileged"]
    assert check(workloads.workload_restricted_security_context, patch, bad) == [
        f"{what} runs as UID 0",
        f"{what} does not set allowPrivilegeEscalation: false",
        f"{what} does not set readOnlyRootFilesystem: true",
    ]


@covers(workloads.workload_resources)
def test_workload_resources() -> None:
    init = container(name="migrate", resources={"requests": {"cpu": "50m"}})
    props = deployment([container(resources=None)], initContainers=[init])
    assert check(workloads.workload_resources, DEPLOYMENT, props) == [
        "Deployment 'payments/payments-api' container 'app' has no requests.cpu, requests.memory, limits.memory",
        "Deployment 'payments/payments-api' container 'migrate' has no requests.memory, limits.memory",
    ]


def test_cronjob_and_pod_specs_are_found() -> None:
    pod_spec = deployment([container(resources=None)])["spec"]["template"]["spec"]
    cron = {
        "metadata": meta("nightly", "payments"),
        "spec": {"jobTemplate": {"spec": {"template": {"spec": pod_spec}}}},
    }
    assert len(check(workloads.workload_resources, CRONJOB, cron)) == 1
    pod = {"metadata": meta("debug", "payments"), "spec": pod_spec}
    assert len(check(workloads.workload_resources, POD, pod)) == 1


@covers(workloads.workload_image_pinned)
def test_workload_image_pinned() -> None:
    props = deployment(
        [
            container(name="a", image="nginx"),
            container(name="b", image="ghcr.io/acme/app:latest"),
            container(name="c", image="ghcr.io/acme/app@sha256:" + "a" * 64),
            container(name="d", image="localhost:5000/app:1.0"),
        ]
    )
    assert check(workloads.workload_image_pinned, DEPLOYMENT, props) == [
        "Deployment 'payments/payments-api' container 'a' image 'nginx' has no tag",
        "Deployment 'payments/payments-api' container 'b' image 'ghcr.io/acme/app:latest' uses the :latest tag",
    ]


@covers(workloads.workload_image_registry)
def test_workload_image_registry() -> None:
    props = deployment([container(name="a", image="evil.example.com/miner:1.0"), container(name="b", image="nginx:1")])
    assert check(workloads.workload_image_registry, DEPLOYMENT, props) == [
        "Deployment 'payments/payments-api' container 'a' image 'evil.example.com/miner:1.0' is not from an allowed "
        "registry"
    ]
    narrow = {"allowedRegistries": ["ghcr.io/acme-corp"]}
    assert check(workloads.workload_image_registry, DEPLOYMENT, deployment(), config=narrow) == []
    assert len(check(workloads.workload_image_registry, DEPLOYMENT, props, config=narrow)) == 2


@covers(workloads.chart_workload_hygiene)
def test_chart_workload_hygiene() -> None:
    chart_urn = urn_for(CHART, "cert-manager", GATEWAY_URN)
    props = deployment([container(resources=None)])
    direct = workloads.workload_resources
    assert check(direct, DEPLOYMENT, props, parent=chart_urn) == []  # chart children: audited, not enforced
    assert check(workloads.chart_workload_hygiene, DEPLOYMENT, props, parent=chart_urn) == [
        "Deployment 'payments/payments-api' container 'app' has no requests.cpu, requests.memory, limits.memory "
        "(rendered by Chart)"
    ]
    assert check(workloads.chart_workload_hygiene, DEPLOYMENT, props) == []  # direct workloads: the rules above
    # a writable root filesystem is not reported for charts (grafana's and authentik's defaults)
    writable = container()
    del writable["securityContext"]["readOnlyRootFilesystem"]
    assert check(workloads.chart_workload_hygiene, DEPLOYMENT, deployment([writable]), parent=chart_urn) == []
    as_root = container(securityContext={"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}})
    as_root_pod = deployment([as_root], securityContext={"seccompProfile": {"type": "RuntimeDefault"}})
    assert check(workloads.chart_workload_hygiene, DEPLOYMENT, as_root_pod, parent=chart_urn) == [
        "Deployment 'payments/payments-api' container 'app' may run as root (runAsNonRoot is not true) "
        "(rendered by Chart)"
    ]


# --- edge -----------------------------------------------------------------------------------------


@covers(edge.gateway_https_listeners_tls)
def test_gateway_https_listeners_tls() -> None:
    props = gateway()
    del props["spec"]["listeners"][1]["tls"]
    props["spec"]["listeners"].append({"name": "plain", "protocol": "HTTP", "port": 443})
    assert check(edge.gateway_https_listeners_tls, GATEWAY, props) == [
        "Gateway 'envoy-gateway-system/public' listener 'https' is HTTPS but does not terminate TLS with a "
        "certificateRef",
        "Gateway 'envoy-gateway-system/public' listener 'plain' serves plain HTTP on port 443",
    ]


@covers(edge.gateway_listener_route_scope)
def test_gateway_listener_route_scope() -> None:
    props = gateway()
    props["spec"]["listeners"][0]["allowedRoutes"] = {"namespaces": {"from": "All"}}
    props["spec"]["listeners"][1]["allowedRoutes"] = {"namespaces": {"from": "Selector", "selector": {}}}
    assert check(edge.gateway_listener_route_scope, GATEWAY, props) == [
        "Gateway 'envoy-gateway-system/public' listener 'http' accepts routes from every namespace",
        "Gateway 'envoy-gateway-system/public' listener 'https' selects namespaces with an empty selector",
        "Gateway 'envoy-gateway-system/public' listener 'https' does not pin the route kinds it accepts",
    ]


@covers(edge.httproute_hostnames)
def test_httproute_hostnames() -> None:
    config = {"domains": [DOMAIN]}
    props = route(hosts=[f"*.{DOMAIN}", "shop.evil.example.org", f"shop.{DOMAIN}"])
    assert check(edge.httproute_hostnames, ROUTE, props, config=config) == [
        f"HTTPRoute 'storefront/shop' claims the wildcard hostname '*.{DOMAIN}'",
        f"HTTPRoute 'storefront/shop' hostname 'shop.evil.example.org' is outside the allowed domains ({DOMAIN})",
    ]
    assert check(edge.httproute_hostnames, ROUTE, route(hosts=[]), config=config) == [
        "HTTPRoute 'storefront/shop' declares no hostnames, so it takes every host of its listener"
    ]
    assert check(edge.httproute_hostnames, ROUTE, redirect_route(), config=config) == []
    sneaky = redirect_route()
    sneaky["spec"]["rules"].append({"backendRefs": [{"name": "x", "port": 80}]})
    assert len(check(edge.httproute_hostnames, ROUTE, sneaky, config=config)) == 1


@covers(edge.httproute_unique_host_path)
def test_httproute_unique_host_path() -> None:
    world = edge_world()
    shadow = Res(ROUTE, "shadow", route("shop", "payments"))
    admin = Res(ROUTE, "tickets-admin", route("tickets", "payments"))
    admin.props["spec"]["rules"][0]["matches"] = [{"path": {"type": "PathPrefix", "value": "/admin"}}]
    assert stack_violations(edge.httproute_unique_host_path, [*world, shadow, admin]) == [
        (
            f"HTTPRoute 'payments/shop' claims shop.{DOMAIN} PathPrefix /, already routed by HTTPRoute "
            "'storefront/shop'",
            shadow.urn,
        )
    ]


@covers(edge.httproute_auth_required)
def test_httproute_auth_required() -> None:
    world = edge_world()
    unprotected = without(world, "storefront-shop-sso")
    shop = named(world, "app-shop")
    assert stack_violations(edge.httproute_auth_required, unprotected) == [
        (
            "HTTPRoute 'storefront/shop' is served over HTTPS without a SecurityPolicy using extAuth, jwt, "
            'apiKeyAuth, oidc, basicAuth, and is not labelled gatehouse.dev/public-route: "true"',
            shop.urn,
        )
    ]
    # a policy in another namespace protects nothing; one without an auth method is reported by name
    elsewhere = Res(SECURITY_POLICY, "elsewhere", sso_policy(namespace="payments"))
    assert len(stack_violations(edge.httproute_auth_required, [*unprotected, elsewhere])) == 1
    assert stack_violations(edge.httproute_auth_required, [*unprotected, cors_policy()]) == [
        (
            "HTTPRoute 'storefront/shop' is targeted by SecurityPolicy 'storefront/shop-cors', which overrides the "
            "Gateway's SecurityPolicy but uses none of extAuth, jwt, apiKeyAuth, oidc, basicAuth",
            shop.urn,
        )
    ]


def cors_policy() -> Res:
    props = {
        "metadata": meta("shop-cors", "storefront"),
        "spec": {
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "shop"}],
            "cors": {"allowOrigins": [f"https://www.{DOMAIN}"], "allowMethods": ["GET"]},
        },
    }
    return Res(SECURITY_POLICY, "storefront-shop-cors", props)


def gateway_sso() -> Res:
    props = sso_policy(namespace="envoy-gateway-system")
    props["metadata"]["name"] = "public-sso"
    props["spec"]["targetRefs"] = [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public"}]
    return Res(SECURITY_POLICY, "public-sso", props)


def test_a_route_policy_overrides_the_gateway_policy() -> None:
    """Envoy Gateway applies a route's own SecurityPolicy instead of the Gateway's: CORS alone leaves it open."""
    world = [*without(edge_world(), "storefront-shop-sso"), gateway_sso()]
    assert stack_violations(edge.httproute_auth_required, world) == []  # nothing targets shop: the Gateway's holds
    shop = named(world, "app-shop")
    assert stack_violations(edge.httproute_auth_required, [*world, cors_policy()]) == [
        (
            "HTTPRoute 'storefront/shop' is targeted by SecurityPolicy 'storefront/shop-cors', which overrides the "
            "Gateway's SecurityPolicy but uses none of extAuth, jwt, apiKeyAuth, oidc, basicAuth",
            shop.urn,
        )
    ]
    # the API policies carry cors next to jwt: still authenticated
    tickets_jwt = named(world, "api-tickets-jwt")
    tickets_jwt.props["spec"]["cors"] = {"allowOrigins": [f"https://app.{DOMAIN}"]}
    assert stack_violations(edge.httproute_auth_required, world) == []
    # oidc and basicAuth authenticate too
    oidc = {"provider": {"issuer": "https://idp.example.com"}, "clientID": "shop"}
    for method, settings in (("oidc", oidc), ("basicAuth", {"users": {"name": "shop-htpasswd"}})):
        own = cors_policy()
        own.props["spec"][method] = settings
        assert stack_violations(edge.httproute_auth_required, [*world, own]) == [], method


def test_auth_by_label_selector_or_gateway_policy() -> None:
    unprotected = without(edge_world(), "storefront-shop-sso")
    by_selector = sso_policy()
    by_selector["spec"].pop("targetRefs")
    by_selector["spec"]["targetSelectors"] = [
        {"kind": "HTTPRoute", "matchLabels": {"gatehouse.dev/managed-by": "gatehouse"}}
    ]
    assert (
        stack_violations(edge.httproute_auth_required, [*unprotected, Res(SECURITY_POLICY, "sel", by_selector)]) == []
    )
    on_gateway = sso_policy(namespace="envoy-gateway-system")
    on_gateway["spec"]["targetRefs"] = [{"kind": "Gateway", "name": "public"}]
    assert stack_violations(edge.httproute_auth_required, [*unprotected, Res(SECURITY_POLICY, "gw", on_gateway)]) == []


@covers(edge.edge_strips_identity_headers)
def test_edge_strips_identity_headers() -> None:
    world = edge_world()
    named(world, "public-edge").props["spec"]["headers"]["earlyRequestHeaders"]["remove"] = ["x-auth-request-user"]
    sso, jwt = named(world, "storefront-shop-sso"), named(world, "api-tickets-jwt")
    gap = "but no ClientTrafficPolicy of Gateway 'envoy-gateway-system/public' removes it from client requests"
    assert stack_violations(edge.edge_strips_identity_headers, world) == [
        (
            f"SecurityPolicy 'helpdesk/tickets-jwt' forwards 'x-user-id' to the backend, {gap} "
            "(headers.earlyRequestHeaders.remove)",
            jwt.urn,
        ),
        (
            f"SecurityPolicy 'storefront/shop-sso' forwards 'x-auth-request-email' to the backend, {gap} "
            "(headers.earlyRequestHeaders.remove)",
            sso.urn,
        ),
    ]
    api_key = Res(
        SECURITY_POLICY,
        "catalog-apikey",
        {
            "metadata": meta("catalog-apikey", "storefront"),
            "spec": {"apiKeyAuth": {"forwardClientIDHeader": "X-Api-Client"}},
        },
    )
    assert edge.forwarded_headers(api_key.props) == ["x-api-client"]
    assert len(stack_violations(edge.edge_strips_identity_headers, [*edge_world(), api_key])) == 1


@covers(edge.route_host_dns_and_tls)
def test_route_host_dns_and_tls() -> None:
    world = without(edge_world(), "dns-tickets")
    deep = Res(ROUTE, "deep", route("deep", "storefront", hosts=[f"a.b.{DOMAIN}"]))
    deep_dns = Res(DNS, "dns-deep", dns(f"a.b.{DOMAIN}"))
    tickets = named(world, "api-tickets")
    assert stack_violations(edge.route_host_dns_and_tls, [*world, deep, deep_dns]) == [
        (f"HTTPRoute 'helpdesk/tickets' hostname 'tickets.{DOMAIN}' has no Cloudflare DNS record", tickets.urn),
        (
            f"HTTPRoute 'storefront/deep' hostname 'a.b.{DOMAIN}' is not covered by a TLS listener hostname of "
            "Gateway 'envoy-gateway-system/public'",
            deep.urn,
        ),
    ]


@covers(edge.securitypolicy_fail_closed)
def test_securitypolicy_fail_closed() -> None:
    assert check(edge.securitypolicy_fail_closed, SECURITY_POLICY, sso_policy(failOpen=True)) == [
        "SecurityPolicy 'storefront/shop-sso' sets extAuth.failOpen: true; requests would pass unauthenticated "
        "whenever the auth service is down"
    ]


@covers(edge.dns_record_in_allowed_zone)
def test_dns_record_in_allowed_zone() -> None:
    config = {"domains": [DOMAIN]}
    assert check(edge.dns_record_in_allowed_zone, DNS, dns("shop.example.org"), name="dns-shop", config=config) == [
        f"DNS record 'dns-shop' (shop.example.org) is outside the allowed domains ({DOMAIN})"
    ]
    assert check(edge.dns_record_in_allowed_zone, DNS, dns(f"shop.{DOMAIN}"), config=config) == []
    assert check(edge.dns_record_in_allowed_zone, DNS, dns("shop.example.org")) == []  # no domains configured


# --- secrets --------------------------------------------------------------------------------------


@covers(secrets.generated_credentials_only_in_secrets)
def test_generated_credentials_only_in_secrets() -> None:
    password = Res(PASSWORD, "grafana-admin", {"length": 32})
    secret = Res(
        SECRET,
        "grafana-admin",
        {"metadata": meta("grafana-admin", "monitoring")},
        property_dependencies={"stringData": [password]},
    )
    leak = Res(
        CONFIG_MAP,
        "grafana-env",
        {"metadata": meta("grafana-env", "monitoring")},
        property_dependencies={"data": [password]},
    )
    chart = Res(CHART, "grafana", {"chart": "grafana", "version": "1"}, property_dependencies={"values": [password]})
    assert stack_violations(secrets.generated_credentials_only_in_secrets, [password, secret, leak, chart]) == [
        (
            "ConfigMap 'monitoring/grafana-env' takes 'data' from the generated credential RandomPassword "
            "'grafana-admin'; generated credentials reach Kubernetes only in a Secret",
            leak.urn,
        ),
        (
            "Chart 'grafana' takes 'values' from the generated credential RandomPassword 'grafana-admin'; generated "
            "credentials reach Kubernetes only in a Secret",
            chart.urn,
        ),
    ]


@covers(secrets.no_credentials_in_configmaps)
def test_no_credentials_in_configmaps() -> None:
    props = {
        "metadata": meta("app-config", "payments"),
        "data": {"LOG_LEVEL": "info", "DB_PASSWORD": "hunter2", "api-token": "x"},
    }
    assert check(secrets.no_credentials_in_configmaps, CONFIG_MAP, props) == [
        "ConfigMap 'payments/app-config' holds 'DB_PASSWORD' in data; credentials belong in a Secret",
        "ConfigMap 'payments/app-config' holds 'api-token' in data; credentials belong in a Secret",
    ]


def test_configmap_patches_and_lists_hold_no_credentials() -> None:
    patch = {"metadata": {"name": "app-config", "namespace": "payments"}, "data": {"DB_PASSWORD": "hunter2"}}
    assert check(secrets.no_credentials_in_configmaps, CONFIG_MAP + "Patch", patch) == [
        "ConfigMapPatch 'payments/app-config' holds 'DB_PASSWORD' in data; credentials belong in a Secret"
    ]
    assert check(secrets.no_credentials_in_configmaps, CONFIG_MAP + "List", {"items": [patch]}) == [
        "ConfigMap 'payments/app-config' holds 'DB_PASSWORD' in data; credentials belong in a Secret"
    ]


@covers(secrets.no_literal_credentials_in_chart_values)
def test_no_literal_credentials_in_chart_values() -> None:
    values = {
        "admin": {"existingSecret": "grafana-admin", "passwordKey": "admin-password", "password": "hunter2"},
        "auth": {"enabled": True, "usersExistingSecret": "redis-users"},
        "oauth": {"clientSecret": "s3cr3t", "tokenUrl": "https://idp/token"},
        "extraEnv": [
            {"name": "X", "apiKey": "k-123"},
            {"name": "DB_PASSWORD", "value": "hunter2"},
            {"name": "DB_TOKEN", "valueFrom": {"secretKeyRef": {"name": "db", "key": "token"}}},
        ],
        "grafana.ini": {"auth.proxy": {"enable_login_token": False}},
        "empty": {"password": ""},
    }
    messages = check(
        secrets.no_literal_credentials_in_chart_values, CHART, {"chart": "grafana", "values": values}, name="grafana"
    )
    assert messages == [
        "Chart 'grafana' sets values.admin.password to a literal; pass credentials through an existing Secret "
        "(existingSecret and the like), never in chart values",
        "Chart 'grafana' sets values.extraEnv[0].apiKey to a literal; pass credentials through an existing Secret "
        "(existingSecret and the like), never in chart values",
        "Chart 'grafana' sets values.extraEnv[1].value to a literal; pass credentials through an existing Secret "
        "(existingSecret and the like), never in chart values",
        "Chart 'grafana' sets values.oauth.clientSecret to a literal; pass credentials through an existing Secret "
        "(existingSecret and the like), never in chart values",
    ]
    assert not any("hunter2" in m or "s3cr3t" in m for m in messages)  # the report never repeats the value


def test_chart_values_walk_skips_preview_unknowns() -> None:
    values = {"cloudflare": {"tunnelId": UNKNOWN_STRING_VALUE, "secretName": "creds"}, "password": UNKNOWN_STRING_VALUE}
    assert check(secrets.no_literal_credentials_in_chart_values, CHART, {"chart": "x", "values": values}) == []


# --- protection -----------------------------------------------------------------------------------


@covers(protection.protected_namespaces)
def test_protected_namespaces() -> None:
    assert check(protection.protected_namespaces, NAMESPACE, tenant_ns(), name="payments") == [
        "Namespace 'payments' is not protected; a replace or delete would remove everything in it"
    ]
    platform = {"metadata": meta("cert-manager", **{"pod-security.kubernetes.io/enforce": "restricted"})}
    assert len(check(protection.protected_namespaces, NAMESPACE, platform, name="cert-manager")) == 1
    assert check(protection.protected_namespaces, NAMESPACE, platform, protect=True) == []


@covers(protection.protected_databases)
def test_protected_databases() -> None:
    props = {"metadata": meta("keycloak-db", "keycloak"), "spec": {"instances": 3}}
    assert check(protection.protected_databases, CNPG, props) == [
        "Cluster 'keycloak/keycloak-db' is not protected; deleting it deletes its data"
    ]
    assert check(protection.protected_databases, CNPG, props, protect=True) == []


@covers(protection.protected_crds)
def test_protected_crds() -> None:
    crd_type = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
    crd = {"metadata": {"name": "widgets.example.com"}, "spec": {"group": "example.com"}}
    assert check(protection.protected_crds, crd_type, crd, name="widgets") == [
        "CustomResourceDefinition 'widgets' is not protected; deleting it deletes every custom resource of its kind"
    ]
    assert check(protection.protected_crds, crd_type, crd, protect=True) == []
    # one a chart renders (what `pulumi preview` sees): protected through the chart's transform
    rendered = check(protection.protected_crds, crd_type, crd, name="widgets", parent=urn_for(CHART, "eg"))
    assert rendered == [
        "CustomResourceDefinition 'widgets' is not protected; deleting it deletes every custom resource of its "
        "kind (give the chart that renders it a transform that protects it)"
    ]
    chart = {"chart": "oci://docker.io/envoyproxy/gateway-crds-helm", "version": "v1.9.0"}
    assert check(protection.protected_crds, CHART, chart, name="gateway-crds") == []
    assert check(protection.protected_crds, CHART, chart, name="gateway-crds", protect=True) == [
        "Chart 'gateway-crds' is protected: every object it renders inherits that, so an upgrade that replaces or "
        "deletes one of them fails; protect its CRDs through a transform instead"
    ]


# --- helm -----------------------------------------------------------------------------------------


@covers(helm.no_helm_release)
def test_no_helm_release() -> None:
    assert check(helm.no_helm_release, RELEASE, {"chart": "nginx", "version": "1.0.0"}, name="legacy") == [
        "'legacy' is a helm.v3.Release: its objects bypass policy; use helm.v4.Chart"
    ]
    assert check(helm.no_helm_release, CHART, {"chart": "x"}) == []


@covers(helm.no_helm_v3_chart)
def test_no_helm_v3_chart() -> None:
    assert check(helm.no_helm_v3_chart, CHART_V3, {"chart": "nginx", "version": "1.0.0"}, name="old") == [
        "'old' is a helm.v3.Chart: use helm.v4.Chart (CRDs ordered, transforms and policies apply)"
    ]


@covers(helm.helm_chart_version_pinned)
@pytest.mark.parametrize("version", ["^1.2.0", "~1.2", ">=1.0.0", "1.x", "*", "latest"])
def test_helm_chart_version_pinned(version: str) -> None:
    assert check(helm.helm_chart_version_pinned, CHART, {"chart": "valkey", "version": version}, name="redis") == [
        f"Chart 'redis' (valkey) version '{version}' is a range, not a pinned version"
    ]


def test_helm_chart_without_version() -> None:
    assert check(helm.helm_chart_version_pinned, CHART, {"chart": "valkey"}, name="redis") == [
        "Chart 'redis' (valkey) has no version: every install could get a different chart"
    ]
    for version in ("0.11.0", "v1.21.1", "2026.8.0"):
        assert check(helm.helm_chart_version_pinned, CHART, {"chart": "valkey", "version": version}) == []
