"""What the components register, as policy fixtures: type tokens, a tenant's objects (namespaces, RBAC,
NetworkPolicies, quota, LimitRange, AppProject, `tenant_world`), workloads and Argo CD's RBAC ConfigMap.

Fixtures mirror what the real components register (see build/<stack>/manifests). Each test that proves
a policy's failing fixture is marked `@covers(policy)`; tests/policy/test_pack.py fails when a policy of the
pack has none, or has it outside the test module of the guardrails module that defines the policy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from policy_harness import Res, urn_for
from pulumi_policy import Policy

# policy name -> the test modules (by their own name) that prove its failing fixture
COVERED: dict[str, set[str]] = {}


def covers(*policies: Policy) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Marks a test as proving each policy's failing fixture (recorded at import, whatever runs)."""

    def mark(fn: Callable[..., None]) -> Callable[..., None]:
        for policy in policies:
            COVERED.setdefault(policy.name, set()).add(fn.__module__.rpartition(".")[2])
        return fn

    return mark


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
ENVOY_PROXY = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"
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
