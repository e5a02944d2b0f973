"""The platform namespaces' NetworkPolicies, as rendered, against every path the platform uses.

For each stack: every path below is allowed by the rendered policies, and every other path that starts
or ends in a platform namespace is denied. The policies are evaluated as Kubernetes does
(networking.k8s.io/v1: a pod selected by no policy of a type is open for it; selected, a connection
needs a matching rule on both ends; rules add up), over the rendered Namespaces' labels and pods'
labels. Pods Gatehouse renders (cloudflared, the Jobs) are read from the manifests; pods the charts
render (the preview keeps only their values) carry the labels written out here from each pinned
chart's templates, independently of components/network_policies.py:

- envoyproxy/gateway v1.9.0: internal/infrastructure/kubernetes/proxy/resource.go `EnvoyAppLabel` (proxies,
  listeners on the Gateway port + 10000), ratelimit/resource.go `rateLimitLabels` (gRPC 8081),
  charts/gateway-helm/templates/envoy-gateway-deployment.yaml (`control-plane: envoy-gateway`, xDS 18000/18001);
- cert-manager v1.21.1 deploy/charts/cert-manager/templates/*deployment.yaml (webhook `securePort` 10250);
- oauth2-proxy/manifests oauth2-proxy-10.7.0, valkey-io/valkey-helm valkey-0.11.0, dexidp/helm-charts dex-0.24.0,
  grafana-community grafana-12.11.1, codecentric keycloakx-7.1.11, cloudnative-pg/charts cloudnative-pg-v0.29.0,
  external-secrets helm-chart-2.9.0: `<chart>.selectorLabels` (name, instance) in templates/_helpers.tpl;
- goauthentik/helm authentik-2026.8.0 templates/_common.tpl (component server / worker);
- argoproj/argo-helm argo-cd-10.1.1 templates/_common.tpl (`argocd-<component>`);
- cloudnative-pg v1.30.0 pkg/utils/labels_annotations.go (`cnpg.io/cluster`, `cnpg.io/podRole`);
- tektoncd/operator v0.81.1 charts/tekton-operator/templates/_helpers.tpl (operator and webhook, webhook 8443),
  cmd/kubernetes/operator/kodata/webhook/webhook.yaml (the proxy webhook, 8443), and what its components.yaml
  pins, installed in `tekton-pipelines`: tektoncd/pipeline v1.15.0 config/controller.yaml, webhook.yaml (8443),
  events.yaml, resolvers/resolvers-deployment.yaml; tektoncd/triggers v0.37.0 config/controller.yaml,
  webhook.yaml (8443), interceptors/core-interceptors-deployment.yaml (8443); tektoncd/dashboard v0.71.0
  config/300-deployment.yaml (9097): each pod template's `app` label.

An ipBlock is taken to select addresses outside the pod network only, as the API documents it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import REPO
from helpers import preview_objects, run_preview

from offline.preview import PreviewResult

NAME = "app.kubernetes.io/name"
INSTANCE = "app.kubernetes.io/instance"
COMPONENT = "app.kubernetes.io/component"
ANY = None  # any port


@dataclass(frozen=True)
class Endpoint:
    name: str
    namespace: str | None = None  # None: outside the pod network
    labels: Mapping[str, str] | None = None
    ip: str | None = None

    @property
    def is_pod(self) -> bool:
        return self.namespace is not None


def pod(name: str, namespace: str, labels: Mapping[str, str]) -> Endpoint:
    return Endpoint(f"{namespace}/{name}", namespace, dict(labels))


def chart(name: str, namespace: str, chart_name: str, release: str, **more: str) -> Endpoint:
    labels = {NAME: chart_name, INSTANCE: release, "helm.sh/chart": chart_name}
    if "component" in more:
        labels[COMPONENT] = more["component"]
    return pod(name, namespace, labels)


INTERNET = Endpoint("internet", ip="93.184.216.34")
CLIENT = Endpoint("client", ip="198.51.100.7")
API_SERVER = Endpoint("kube-apiserver", ip="10.0.0.1")  # private: the API server's own address, not "internet"
CLOUDFLARE_DNS = Endpoint("dns-1.1.1.1", ip="1.1.1.1")
GOOGLE_DNS = Endpoint("dns-8.8.8.8", ip="8.8.8.8")
METADATA = Endpoint("cloud-metadata", ip="169.254.169.254")
EXTERNAL = [INTERNET, CLIENT, API_SERVER, CLOUDFLARE_DNS, GOOGLE_DNS, METADATA]
PUBLIC = [INTERNET, CLIENT, CLOUDFLARE_DNS, GOOGLE_DNS]  # "the internet": no private or link-local address

KUBE_DNS = pod("kube-dns", "kube-system", {"k8s-app": "kube-dns"})
STRANGER = pod("stranger", "default", {"app": "stranger"})  # a pod in a namespace Gatehouse does not fence


def proxy(gateway: str) -> Endpoint:
    """A Gateway's own proxies (envoyproxy/gateway v1.9.0 internal/gatewayapi/translator.go buildIR: one
    infrastructure per Gateway, labelled with GatewayOwnerLabels)."""
    return pod(
        f"envoy-{gateway}",
        "envoy-gateway-system",
        {
            NAME: "envoy",
            COMPONENT: "proxy",
            "app.kubernetes.io/managed-by": "envoy-gateway",
            "gateway.envoyproxy.io/owning-gateway-name": gateway,
            "gateway.envoyproxy.io/owning-gateway-namespace": "envoy-gateway-system",
        },
    )


PROXY = proxy("public")
CONTROLLER = pod(
    "envoy-gateway",
    "envoy-gateway-system",
    {"control-plane": "envoy-gateway", NAME: "gateway-helm", INSTANCE: "envoy-gateway"},
)
RATE_LIMIT = pod(
    "envoy-ratelimit",
    "envoy-gateway-system",
    {NAME: "envoy-ratelimit", COMPONENT: "ratelimit", "app.kubernetes.io/managed-by": "envoy-gateway"},
)
RATE_LIMIT_REDIS = chart("ratelimit-redis", "envoy-gateway-system", "valkey", "ratelimit-redis")
CM = chart("cert-manager", "cert-manager", "cert-manager", "cert-manager", component="controller")
CM_WEBHOOK = chart("cert-manager-webhook", "cert-manager", "webhook", "cert-manager", component="webhook")
CM_CAINJECTOR = chart("cert-manager-cainjector", "cert-manager", "cainjector", "cert-manager", component="cainjector")
OAUTH2_PROXY = chart("oauth2-proxy", "oauth2-proxy", "oauth2-proxy", "oauth2-proxy")
SESSIONS = chart("oauth2-proxy-redis", "oauth2-proxy", "valkey", "oauth2-proxy-redis")
GRAFANA = chart("grafana", "monitoring", "grafana", "grafana")
DEX = chart("dex", "identity", "dex", "dex")
AUTHENTIK = chart("authentik-server", "identity", "authentik", "authentik", component="server")
AUTHENTIK_WORKER = chart("authentik-worker", "identity", "authentik", "authentik", component="worker")
KEYCLOAK = chart("keycloak", "keycloak", "keycloakx", "keycloak")
CNPG = chart("cloudnative-pg", "cnpg-system", "cloudnative-pg", "cloudnative-pg")
ESO = chart("external-secrets", "external-secrets", "external-secrets", "external-secrets")
ESO_WEBHOOK = chart("external-secrets-webhook", "external-secrets", "external-secrets-webhook", "external-secrets")
ESO_CERT = chart(
    "external-secrets-cert-controller", "external-secrets", "external-secrets-cert-controller", "external-secrets"
)


TEKTON_OPERATOR = chart(
    "tekton-operator", "tekton-operator", "tekton-operator", "tekton-operator", component="operator"
)
TEKTON_OPERATOR_WEBHOOK = chart(
    "tekton-operator-webhook", "tekton-operator", "tekton-operator", "tekton-operator", component="webhook"
)


def tekton(app: str, **more: str) -> Endpoint:
    return pod(app, "tekton-pipelines", {"app": app, **more})


PIPELINES_CONTROLLER = tekton("tekton-pipelines-controller", **{NAME: "controller"})
PIPELINES_WEBHOOK = tekton("tekton-pipelines-webhook", **{NAME: "webhook"})
EVENTS_CONTROLLER = tekton("tekton-events-controller", **{NAME: "events"})
RESOLVERS = tekton("tekton-pipelines-resolvers", **{NAME: "resolvers"})
TRIGGERS_CONTROLLER = tekton("tekton-triggers-controller", **{NAME: "controller"})
TRIGGERS_WEBHOOK = tekton("tekton-triggers-webhook", **{NAME: "webhook"})
CORE_INTERCEPTORS = tekton("tekton-triggers-core-interceptors", **{NAME: "core-interceptors"})
TEKTON_DASHBOARD = tekton("tekton-dashboard", **{NAME: "dashboard"})
PROXY_WEBHOOK = pod("tekton-operator-proxy-webhook", "tekton-pipelines", {"name": "tekton-operator-proxy-webhook"})
TEKTON_WEBHOOKS = [PIPELINES_WEBHOOK, TRIGGERS_WEBHOOK, PROXY_WEBHOOK]
# a pod of the operator's cron pruner: no label of the operator's (tektoncd/operator v0.81.1
# pkg/reconciler/common/prune.go), those Kubernetes' Job controller gives every Job's pods
TEKTON_PRUNER = pod(
    "tekton-pruner",
    "tekton-pipelines",
    {
        "batch.kubernetes.io/job-name": "tekton-resource-pruner-x7k2-29512345",
        "job-name": "tekton-resource-pruner-x7k2-29512345",
    },
)
TEKTON = [
    TEKTON_OPERATOR,
    TEKTON_OPERATOR_WEBHOOK,
    PIPELINES_CONTROLLER,
    EVENTS_CONTROLLER,
    RESOLVERS,
    TRIGGERS_CONTROLLER,
    CORE_INTERCEPTORS,
    TEKTON_DASHBOARD,
    TEKTON_PRUNER,
    *TEKTON_WEBHOOKS,
]


def database(cluster: str, namespace: str) -> Endpoint:
    return pod(cluster, namespace, {"cnpg.io/cluster": cluster, "cnpg.io/podRole": "instance", "role": "primary"})


DEX_DB, AUTHENTIK_DB, KEYCLOAK_DB = (
    database("dex-db", "identity"),
    database("authentik-db", "identity"),
    database("keycloak-db", "keycloak"),
)


def argocd(component: str) -> Endpoint:
    return pod(f"argocd-{component}", "argocd", {NAME: f"argocd-{component}", INSTANCE: "argocd"})


ARGOCD_SERVER, ARGOCD_REPO, ARGOCD_CONTROLLER, ARGOCD_APPSET, ARGOCD_REDIS = (
    argocd(c) for c in ("server", "repo-server", "application-controller", "applicationset-controller", "redis")
)

PLATFORM_NAMESPACES = {
    "envoy-gateway-system",
    "cert-manager",
    "oauth2-proxy",
    "monitoring",
    "identity",
    "keycloak",
    "cnpg-system",
    "argocd",
    "external-secrets",
    "tekton-operator",
    "tekton-pipelines",
}


# -- NetworkPolicy semantics -------------------------------------------------------------------------


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not ok:
            return False
    return True


class Cluster:
    def __init__(self, result: PreviewResult):
        self.policies = [
            p for p in preview_objects(result, "NetworkPolicy") if p["metadata"]["namespace"] != "_cluster"
        ]
        self.namespaces: dict[str, dict[str, str]] = {
            "kube-system": {"kubernetes.io/metadata.name": "kube-system"},
            "default": {"kubernetes.io/metadata.name": "default"},
        }
        for ns in preview_objects(result, "Namespace"):
            name = ns["metadata"]["name"]
            self.namespaces[name] = {**(ns["metadata"].get("labels") or {}), "kubernetes.io/metadata.name": name}

    def _peer_matches(self, peer: Mapping[str, Any], policy_ns: str, other: Endpoint) -> bool:
        if "ipBlock" in peer:
            if other.is_pod or other.ip is None:
                return False
            block = peer["ipBlock"]
            address = ipaddress.ip_address(other.ip)
            if address not in ipaddress.ip_network(block["cidr"]):
                return False
            return not any(address in ipaddress.ip_network(e) for e in block.get("except") or [])
        if not other.is_pod:
            return False
        assert other.namespace is not None and other.labels is not None
        if "namespaceSelector" in peer:
            if not selects(peer["namespaceSelector"], self.namespaces[other.namespace]):
                return False
        elif other.namespace != policy_ns:
            return False
        return selects(peer.get("podSelector"), other.labels)

    @staticmethod
    def _port_matches(ports: list[Mapping[str, Any]] | None, port: int, protocol: str) -> bool:
        if not ports:
            return True
        for p in ports:
            if p.get("protocol", "TCP") != protocol:
                continue
            if "port" not in p or p["port"] == port or (p.get("endPort") and p["port"] <= port <= p["endPort"]):
                return True
        return False

    def _side(self, subject: Endpoint, other: Endpoint, port: int, protocol: str, kind: str) -> bool:
        """Whether `subject`'s policies of `kind` (Ingress: from `other`; Egress: to `other`) allow it."""
        if not subject.is_pod:
            return True
        assert subject.labels is not None
        selecting = [
            p
            for p in self.policies
            if p["metadata"]["namespace"] == subject.namespace
            and kind in p["spec"].get("policyTypes", ["Ingress"])
            and selects(p["spec"].get("podSelector"), subject.labels)
        ]
        if not selecting:
            return True
        field, peers_key = ("ingress", "from") if kind == "Ingress" else ("egress", "to")
        for policy in selecting:
            for rule in policy["spec"].get(field) or []:
                peers = rule.get(peers_key)
                peer_ok = not peers or any(
                    self._peer_matches(peer, policy["metadata"]["namespace"], other) for peer in peers
                )
                if peer_ok and self._port_matches(rule.get("ports"), port, protocol):
                    return True
        return False

    def allowed(self, source: Endpoint, target: Endpoint, port: int, protocol: str = "TCP") -> bool:
        return self._side(source, target, port, protocol, "Egress") and self._side(
            target, source, port, protocol, "Ingress"
        )


# -- the stack's pods and its paths ------------------------------------------------------------------


@dataclass
class Stack:
    name: str
    cluster: Cluster
    pods: list[Endpoint]
    organizations: list[str]
    tunnels: dict[str, int]  # org namespace -> the webhook port cloudflared delivers to
    tenants: list[str]
    argocd: bool
    grafana: bool
    internal_proxies: list[Endpoint]  # each internal gateway's (its EnvoyProxy's Service a ClusterIP)
    upstream_ports: list[int]  # the ports of APIs' Backends outside the cluster (gateway/upstreams.py)


def rendered_pods(result: PreviewResult) -> list[Endpoint]:
    found = []
    for kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        for obj in preview_objects(result, kind):
            template = obj["spec"]["template"]
            labels = template["metadata"].get("labels") or {}
            found.append(pod(obj["metadata"]["name"], obj["metadata"]["namespace"], labels))
    return found


def stack_of(name: str, result: PreviewResult) -> Stack:
    cluster = Cluster(result)
    namespaces = cluster.namespaces
    organizations = sorted(
        n for n, labels in namespaces.items() if "gatehouse.dev/organization" in labels and n.startswith("org-")
    )
    tenants = sorted(n for n, labels in namespaces.items() if "gatehouse.dev/tenant" in labels)
    pods = rendered_pods(result)
    tunnels = {
        p.namespace: 8080  # config/tenancy.py: the webhook Service `el-github-listener`, port 8080
        for p in pods
        if p.namespace in organizations and p.labels and p.labels.get(NAME) == "cloudflared"
    }
    pods += [
        PROXY,
        CONTROLLER,
        RATE_LIMIT,
        RATE_LIMIT_REDIS,
        CM,
        CM_WEBHOOK,
        CM_CAINJECTOR,
        OAUTH2_PROXY,
        SESSIONS,
        DEX,
        AUTHENTIK,
        AUTHENTIK_WORKER,
        KEYCLOAK,
        DEX_DB,
        AUTHENTIK_DB,
        KEYCLOAK_DB,
        CNPG,
        ESO,
        ESO_WEBHOOK,
        ESO_CERT,
        *TEKTON,
        KUBE_DNS,
        STRANGER,
    ]
    internal = [
        proxy(p["metadata"]["name"].removesuffix("-proxy"))
        for p in preview_objects(result, "EnvoyProxy")
        if p["spec"]["provider"]["kubernetes"]["envoyService"]["type"] == "ClusterIP"
    ]
    pods += internal
    has_argocd, has_grafana = "argocd" in namespaces, "monitoring" in namespaces
    if has_argocd:
        pods += [ARGOCD_SERVER, ARGOCD_REPO, ARGOCD_CONTROLLER, ARGOCD_APPSET, ARGOCD_REDIS]
    if has_grafana:
        pods.append(GRAFANA)
    # the organization's webhook listener (a Tekton EventListener: not Gatehouse's), a tenant's backend
    pods += [pod("listener", o, {"eventlistener": "github-listener"}) for o in organizations]
    pods += [pod("backend", t, {"app": "backend"}) for t in tenants]
    upstream_ports = sorted(
        {e["fqdn"]["port"] for b in preview_objects(result, "Backend") for e in b["spec"]["endpoints"]}
    )
    return Stack(
        name, cluster, pods, organizations, tunnels, tenants, has_argocd, has_grafana, internal, upstream_ports
    )


Path = tuple[str, str, int | None, str]  # (from, to, port or ANY, protocol)


def paths(stack: Stack) -> set[Path]:
    """Every allowed path that starts or ends in a platform namespace, by endpoint name."""
    found: set[Path] = set()

    def allow(sources: Iterable[Endpoint], targets: Iterable[Endpoint], *ports: int | None, protocol: str = "TCP"):
        for s in sources:
            for t in targets:
                for port in ports:
                    found.add((s.name, t.name, port, protocol))

    def api(*sources: Endpoint) -> None:
        """The API server is any address on 443 and 6443 (components/network_policies.py says why)."""
        allow(sources, EXTERNAL, 443, 6443)

    by_name = {p.name: p for p in stack.pods}
    fenced = [p for p in stack.pods if p.namespace in PLATFORM_NAMESPACES or p.namespace in stack.organizations]
    # everyone fenced asks the cluster's DNS
    allow(fenced, [KUBE_DNS], 53)
    allow(fenced, [KUBE_DNS], 53, protocol="UDP")
    # the edge
    allow(EXTERNAL, [PROXY], 10080, 10443)
    allow([PROXY], [CONTROLLER], 18000)
    allow([PROXY], [RATE_LIMIT], 8081)
    allow([RATE_LIMIT], [CONTROLLER], 18001)
    allow([RATE_LIMIT], [RATE_LIMIT_REDIS], 6379)
    allow([PROXY], [OAUTH2_PROXY], 4180)
    allow([PROXY], [DEX], 5556, 5554)
    allow([PROXY], [KEYCLOAK], 8080, 8443)
    allow([PROXY], [AUTHENTIK], 9000)
    backends = [by_name[f"{t}/backend"] for t in stack.tenants]
    allow([PROXY], backends, ANY)
    # an internal gateway: tenants' pods call it; it serves APIs (xDS, rate limits, Keycloak's keys, backends)
    allow(backends, stack.internal_proxies, 10080, 10443)
    allow(stack.internal_proxies, [CONTROLLER], 18000)
    allow(stack.internal_proxies, [RATE_LIMIT], 8081)
    allow(stack.internal_proxies, [KEYCLOAK], 8080, 8443)
    allow(stack.internal_proxies, backends, ANY)
    # APIs' upstreams outside the cluster, from whichever gateway serves them
    allow([PROXY, *stack.internal_proxies], PUBLIC, *stack.upstream_ports)
    if stack.grafana:
        allow([PROXY], [GRAFANA], 3000)
    if stack.argocd:
        allow([PROXY], [ARGOCD_SERVER], 8080)
    api(CONTROLLER)
    allow(EXTERNAL, [CONTROLLER], 9443)  # the API server's webhook calls come from an address no selector names
    # single sign-on
    allow([OAUTH2_PROXY], [SESSIONS], 6379)
    allow([OAUTH2_PROXY], [DEX], 5556)
    # certificates
    api(CM, CM_CAINJECTOR, CM_WEBHOOK, by_name["cert-manager/cert-manager-startupapicheck"])
    allow([CM], PUBLIC, 443)
    allow([CM], [CLOUDFLARE_DNS, GOOGLE_DNS], 53)
    allow([CM], [CLOUDFLARE_DNS, GOOGLE_DNS], 53, protocol="UDP")
    allow(EXTERNAL, [CM_WEBHOOK], 10250)
    # identity
    allow([DEX], [DEX_DB], 5432)
    allow([AUTHENTIK, AUTHENTIK_WORKER], [AUTHENTIK_DB], 5432)
    allow([KEYCLOAK], [KEYCLOAK_DB], 5432)
    allow([DEX], [PROXY], 10443)  # Authentik's issuer through the gateway
    allow([DEX], PUBLIC, 443)  # GitHub, Google
    allow([KEYCLOAK], PUBLIC, 443)  # Google
    allow([KEYCLOAK], [KEYCLOAK], 7800, 57800)
    realm_jobs = [p for p in stack.pods if p.labels and p.labels.get(NAME) == "keycloak-realm"]
    assert realm_jobs, "the keycloak-config-cli Job is rendered"
    allow(realm_jobs, [KEYCLOAK], 8080)
    # CloudNativePG
    databases = [DEX_DB, AUTHENTIK_DB, KEYCLOAK_DB]
    api(CNPG, *databases)
    allow(EXTERNAL, [CNPG], 9443)
    allow([CNPG], databases, 8000)
    for db in databases:
        allow([db], [db], 5432, 8000)
    # External Secrets
    api(ESO, ESO_WEBHOOK, ESO_CERT)
    allow(EXTERNAL, [ESO_WEBHOOK], 10250)
    # Argo CD
    if stack.argocd:
        api(ARGOCD_SERVER, ARGOCD_CONTROLLER, ARGOCD_APPSET)
        allow([ARGOCD_SERVER, ARGOCD_CONTROLLER, ARGOCD_APPSET], [ARGOCD_REPO], 8081)
        allow([ARGOCD_SERVER, ARGOCD_CONTROLLER, ARGOCD_REPO], [ARGOCD_REDIS], 6379)
        allow([ARGOCD_SERVER], [PROXY], 10443)
        allow([ARGOCD_SERVER, ARGOCD_APPSET], PUBLIC, 443)
        allow([ARGOCD_REPO], PUBLIC, 443, 22)
    # Tekton: the operator, and what it installs; the API server calls the webhooks
    api(*TEKTON)
    allow(EXTERNAL, [TEKTON_OPERATOR_WEBHOOK, *TEKTON_WEBHOOKS], 8443)
    allow([PIPELINES_CONTROLLER, RESOLVERS], PUBLIC, 443)  # image registries; remote Tasks and Pipelines
    allow([PROXY], [TEKTON_DASHBOARD], 9097)  # the Dashboard's route
    # organizations
    for org in stack.organizations:
        listener = by_name[f"{org}/listener"]
        api(listener)
        org_pods = [p for p in stack.pods if p.namespace == org]
        allow(org_pods, [CORE_INTERCEPTORS], 8443)  # the GitHub and CEL interceptors
        if org in stack.tunnels:
            tunnel = next(
                p for p in stack.pods if p.namespace == org and p.labels and p.labels.get(NAME) == "cloudflared"
            )
            api(tunnel)  # cloudflared is among the namespace's pods the listener's rule names (every pod)
            allow([tunnel], PUBLIC, 7844)
            allow([tunnel], PUBLIC, 7844, protocol="UDP")
            allow([tunnel], PUBLIC, 853)  # edge discovery's DNS over TLS
            allow([tunnel], [listener, tunnel], stack.tunnels[org])
    return found


def candidate_ports(expected: set[Path]) -> list[tuple[int, str]]:
    ports = {(p, proto) for _, _, p, proto in expected if p is not None}
    return sorted(ports | {(80, "TCP"), (443, "TCP"), (12345, "TCP"), (443, "UDP"), (12345, "UDP")})


STACKS = ("staging", "prod", "dev")


@pytest.fixture(scope="module")
def stacks(staging_preview: PreviewResult, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    found = {"staging": stack_of("staging", staging_preview)}
    for name in ("prod", "dev"):
        result, printed = run_preview(
            REPO, tmp_path_factory.mktemp(name), stack=name, policy_config=REPO / "policy" / f"{name}.json"
        )
        assert result.exit_code == 0, printed
        found[name] = stack_of(name, result)
    return found


@pytest.mark.parametrize("name", STACKS)
def test_every_platform_namespace_is_fenced(stacks: dict[str, Stack], name: str) -> None:
    stack = stacks[name]
    fenced = {n for n in PLATFORM_NAMESPACES if n in stack.cluster.namespaces} | set(stack.organizations)
    for namespace in fenced:
        deny = [
            p
            for p in stack.cluster.policies
            if p["metadata"]["namespace"] == namespace and p["metadata"]["name"] == "default-deny"
        ]
        assert len(deny) == 1, namespace
        assert deny[0]["spec"]["podSelector"] == {} and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        assert deny[0]["metadata"]["labels"]["gatehouse.dev/managed-by"] == "gatehouse"


@pytest.mark.parametrize("name", STACKS)
def test_each_named_path_is_allowed_and_no_other(stacks: dict[str, Stack], name: str) -> None:
    stack = stacks[name]
    expected = paths(stack)
    endpoints = {e.name: e for e in [*stack.pods, *EXTERNAL]}
    missing = []
    for source, target, port, protocol in sorted(expected, key=str):
        probe = 12345 if port is ANY else port
        if not stack.cluster.allowed(endpoints[source], endpoints[target], probe, protocol):
            missing.append((source, target, port, protocol))
    assert not missing, f"named paths the policies deny: {missing}"

    def platform(e: Endpoint) -> bool:
        return e.namespace in PLATFORM_NAMESPACES or e.namespace in stack.organizations

    unexpected = []
    everything = [*stack.pods, *EXTERNAL]
    for source in everything:
        for target in everything:
            if not (platform(source) or platform(target)) or (not source.is_pod and not target.is_pod):
                continue
            for port, protocol in candidate_ports(expected):
                if not stack.cluster.allowed(source, target, port, protocol):
                    continue
                if (source.name, target.name, port, protocol) in expected:
                    continue
                if (source.name, target.name, ANY, protocol) in expected:
                    continue
                unexpected.append((source.name, target.name, port, protocol))
    assert not unexpected, f"paths allowed but not named: {unexpected[:20]} ({len(unexpected)})"


def test_a_path_not_named_is_denied(stacks: dict[str, Stack]) -> None:
    """Spot checks of what the fences are for, beside the exhaustive test above."""
    cluster = stacks["staging"].cluster
    tenant = next(p for p in stacks["staging"].pods if p.name.endswith("/backend"))
    assert not cluster.allowed(tenant, DEX_DB, 5432)  # a tenant at a platform database
    assert not cluster.allowed(tenant, SESSIONS, 6379)  # a tenant at oauth2-proxy's sessions
    assert not cluster.allowed(tenant, KEYCLOAK, 8080)  # past the gateway
    assert not cluster.allowed(STRANGER, GRAFANA, 3000)  # Grafana trusts the proxies' headers only
    assert not cluster.allowed(OAUTH2_PROXY, INTERNET, 443)  # nothing oauth2-proxy needs out there
    assert not cluster.allowed(DEX, METADATA, 80)  # never the cloud's metadata
    assert not cluster.allowed(PROXY, KEYCLOAK_DB, 5432)
    assert cluster.allowed(PROXY, tenant, 8080)
    # the pruner deletes old runs through the API server (any address on 443 and 6443), and reaches nothing else
    assert cluster.allowed(TEKTON_PRUNER, API_SERVER, 443) and not cluster.allowed(TEKTON_PRUNER, INTERNET, 80)
    assert not cluster.allowed(TEKTON_PRUNER, tenant, 8080) and not cluster.allowed(TEKTON_PRUNER, KEYCLOAK, 8080)
    # the proxies reach the internet only where an API's upstream is, never a private or metadata address
    assert stacks["staging"].upstream_ports == [443] and cluster.allowed(PROXY, INTERNET, 443)
    assert not cluster.allowed(PROXY, INTERNET, 80) and not cluster.allowed(PROXY, METADATA, 443)
    assert not stacks["prod"].upstream_ports and not stacks["prod"].cluster.allowed(PROXY, INTERNET, 443)


def test_the_internal_gateway_takes_tenants_calls_only(stacks: dict[str, Stack]) -> None:
    """Staging's internal gateway: its proxies are selected by the Gateway they serve (envoyproxy/gateway
    v1.9.0 internal/gatewayapi/translator.go buildIR, GatewayOwnerLabels `gateway.envoyproxy.io/
    owning-gateway-name`), so the load balancer's clients reach the public proxies only, tenants' pods the
    internal ones, and the internal proxies reach no sign-in service."""
    staging = stacks["staging"]
    cluster, (internal,) = staging.cluster, staging.internal_proxies
    tenant = next(p for p in staging.pods if p.name.endswith("/backend"))
    assert cluster.allowed(tenant, internal, 10443) and cluster.allowed(tenant, internal, 10080)
    assert not cluster.allowed(CLIENT, internal, 10443)  # the internet
    assert not cluster.allowed(STRANGER, internal, 10443)  # a namespace that is no tenant's
    assert not cluster.allowed(tenant, PROXY, 10443)  # tenants call public hosts the way the internet does
    assert not cluster.allowed(internal, OAUTH2_PROXY, 4180) and not cluster.allowed(internal, DEX, 5556)
    assert cluster.allowed(internal, tenant, 8080) and cluster.allowed(internal, KEYCLOAK, 8443)
    for name in ("prod", "dev"):
        assert stacks[name].internal_proxies == []
