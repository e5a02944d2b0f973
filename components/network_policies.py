"""The platform namespaces' fences: deny by default, then allow exactly the paths the platform uses.

Every platform namespace Gatehouse creates (the gateway's, cert-manager's, oauth2-proxy's, the app platform
namespaces such as `monitoring`, the identity plane's, CloudNativePG's, Argo CD's, External Secrets', Tekton's
(`tekton-operator`, `tekton-pipelines`) and each organization's `org-<name>`) gets `default-deny` (ingress and
egress), `allow-dns`, and one policy per workload naming what it may receive and send. The paths are declared
once, in `flows()`, as (from, to, ports); each plane renders the policies of its own namespaces from that
table (`fence()`), so both ends of a path agree. Tenant namespaces keep their own policies
(tenancy/network.py).

Pod selectors are the labels the pinned charts put on their pods (each `Pods` below names its template);
the ones Gatehouse renders itself (cloudflared, the Jobs) use the labels Gatehouse gives them.

The Kubernetes API server is no pod: a NetworkPolicy cannot select it by label, and most CNIs evaluate
egress after the `kubernetes` Service's ClusterIP has been translated to the API server's own address (a
node's or the control plane's, different on every cluster: k3s serves on the node at 6443, managed
clusters on a provider address at 443). So `API_SERVER` is any address on 443 and 6443, for the
workloads that talk to it only; likewise its calls into the admission webhooks come from an address no
selector names, so a webhook's port is open to any address (and only that port). Pinning a CIDR per
cluster would be tighter; the stack config has no field for it yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from . import meta

netv1 = k8s.networking.v1
COMPONENT = "network"
DNS_PORT = 53


@dataclass(frozen=True)
class Pods:
    """The pods of one workload: its namespace, a short name (the policy's), the labels it selects on and
    the label keys its pods carry whatever their value (`present`); neither: every pod of the namespace."""

    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    present: tuple[str, ...] = ()


@dataclass(frozen=True)
class Addresses:
    """Something outside the pod network, as an ipBlock."""

    name: str
    cidr: str = "0.0.0.0/0"
    except_: tuple[str, ...] = ()


@dataclass(frozen=True)
class Namespaces:
    """Every pod of the namespaces carrying `label` (the tenants')."""

    name: str
    label: str


Peer = Pods | Addresses | Namespaces


@dataclass(frozen=True)
class Port:
    port: int | None  # None: any port of the protocol
    protocol: str = "TCP"


@dataclass(frozen=True)
class Flow:
    source: Peer
    target: Peer
    ports: tuple[Port, ...]
    why: str


def tcp(*ports: int) -> tuple[Port, ...]:
    return tuple(Port(p) for p in ports)


ANY_TCP_PORT = (Port(None),)
API_SERVER = Addresses("kube-apiserver")  # any address, on API_SERVER_PORTS only (see the module docstring)
API_SERVER_PORTS = tcp(443, 6443)
ANYWHERE = Addresses("anywhere")
TENANTS = Namespaces("tenants", meta.TENANT_LABEL)
DNS = Pods("kube-system", "kube-dns", {"k8s-app": "kube-dns"})  # CoreDNS's label in every distribution


def internet(private_ranges: Sequence[str]) -> Addresses:
    """Public addresses: never the cluster's, nor link-local cloud metadata."""
    return Addresses("internet", "0.0.0.0/0", tuple(private_ranges))


def chart_pods(namespace: str, name: str, chart_name: str, release: str) -> Pods:
    """`app.kubernetes.io/name` and `/instance`: the selector labels of every chart here (`<chart>.selectorLabels`
    in each chart's templates/_helpers.tpl)."""
    return Pods(namespace, name, {"app.kubernetes.io/name": chart_name, "app.kubernetes.io/instance": release})


def _component(namespace: str, name: str, chart_name: str, release: str, component: str) -> Pods:
    return Pods(
        namespace,
        name,
        {
            "app.kubernetes.io/name": chart_name,
            "app.kubernetes.io/instance": release,
            "app.kubernetes.io/component": component,
        },
    )


# envoy-gateway-system. The proxies: internal/infrastructure/kubernetes/proxy/resource.go (meta.ENVOY_PROXY_POD_LABELS);
# their listeners bind the Gateway's port + 10000 below 1024 (internal/gatewayapi/translator.go
# `wellKnownPortShift`, listener.go), so 80 and 443 are 10080 and 10443 in the pod. The controller: gateway-helm
# v1.9.0 templates/envoy-gateway-deployment.yaml (`control-plane: envoy-gateway` and eg.selectorLabels, chart name
# gateway-helm), xDS 18000, the rate limiter's xDS 18001 (values.yaml `deployment.ports`), its webhook 9443. The
# rate limiter: internal/infrastructure/kubernetes/ratelimit/resource.go `rateLimitLabels`, gRPC 8081.
EDGE = meta.ENVOY_GATEWAY_NAMESPACE
PROXY = Pods(EDGE, "envoy-proxy", meta.ENVOY_PROXY_POD_LABELS)  # every gateway's proxies
PROXY_PORTS = tcp(10080, 10443)


def gateway_proxies(gateway: str) -> Pods:
    """One gateway's proxies: Envoy Gateway v1.9.0 labels each Gateway's own with its name
    (internal/gatewayapi/translator.go buildIR, GatewayOwnerLabels)."""
    return Pods(EDGE, f"envoy-{gateway}", {**meta.ENVOY_PROXY_POD_LABELS, meta.OWNING_GATEWAY_LABEL: gateway})


CONTROLLER = Pods(
    EDGE,
    "envoy-gateway",
    {
        "control-plane": "envoy-gateway",
        "app.kubernetes.io/name": "gateway-helm",
        "app.kubernetes.io/instance": "envoy-gateway",
    },
)
RATE_LIMIT = Pods(
    EDGE,
    "envoy-ratelimit",
    {
        "app.kubernetes.io/name": "envoy-ratelimit",
        "app.kubernetes.io/component": "ratelimit",
        "app.kubernetes.io/managed-by": "envoy-gateway",
    },
)
VALKEY_PORT = 6379  # valkey chart 0.11.0 `service.port`; selector labels valkey.selectorLabels (chart name valkey)
RATE_LIMIT_REDIS = chart_pods(EDGE, "ratelimit-redis", "valkey", "ratelimit-redis")

# cert-manager v1.21.1 deploy/charts/cert-manager/templates/{deployment,webhook-deployment,cainjector-deployment}.yaml:
# names cert-manager, webhook and cainjector, components controller, webhook and cainjector; the webhook
# serves on `webhook.securePort` 10250. The start-up check is Gatehouse's own Job (gateway/cert_manager_check.py).
CERT = "cert-manager"
CM_CONTROLLER = _component(CERT, "cert-manager", "cert-manager", "cert-manager", "controller")
CM_WEBHOOK = _component(CERT, "cert-manager-webhook", "webhook", "cert-manager", "webhook")
CM_CAINJECTOR = _component(CERT, "cert-manager-cainjector", "cainjector", "cert-manager", "cainjector")
CM_CHECK = Pods(CERT, "cert-manager-startupapicheck", {"app.kubernetes.io/name": "cert-manager-startupapicheck"})
CM_WEBHOOK_PORT = 10250
DNS01_NAMESERVERS = ("1.1.1.1", "8.8.8.8")  # cert-manager's `dns01RecursiveNameservers` (gateway/tls.py)

# oauth2-proxy chart 10.7.0 helm/oauth2-proxy/templates/_helpers.tpl selectorLabels; it listens on 4180
# (the chart's `httpScheme` port `http`, containerPort 4180). Its sessions' Valkey is release `oauth2-proxy-redis`.
SSO = "oauth2-proxy"
OAUTH2_PROXY = chart_pods(SSO, "oauth2-proxy", "oauth2-proxy", "oauth2-proxy")
OAUTH2_PROXY_PORT = 4180
SESSIONS = chart_pods(SSO, "oauth2-proxy-redis", "valkey", "oauth2-proxy-redis")

# grafana chart 12.11.1 templates/_helpers.tpl grafana.selectorLabels; Grafana listens on 3000 (gateway/grafana.py).
MONITORING = "monitoring"
GRAFANA = Pods(MONITORING, "grafana", {"app.kubernetes.io/name": "grafana"})
GRAFANA_PORT = 3000

# identity. dex chart 0.24.0 templates/_helpers.tpl dex.selectorLabels; 5556 HTTP, 5554 HTTPS (endpoints.py).
# authentik chart 2026.8.0 templates/_common.tpl authentik.selectorLabels with component `server` / `worker`
# (values `server.name`, `worker.name`); the server's `containerPorts.http` 9000. No Redis since 2025.10.
IDENTITY = "identity"
DEX = chart_pods(IDENTITY, "dex", "dex", "dex")
DEX_PORTS = tcp(5556, 5554)
AUTHENTIK_SERVER = _component(IDENTITY, "authentik-server", "authentik", "authentik", "server")
AUTHENTIK_WORKER = _component(IDENTITY, "authentik-worker", "authentik", "authentik", "worker")
AUTHENTIK_PORT = 9000

# keycloak. keycloakx chart 7.1.11 templates/_helpers.tpl keycloak.selectorLabels (chart name keycloakx) and
# templates/statefulset.yaml: http 8080, https 8443. Two replicas in prod form one cache over JGroups' TCP
# transport on 7800 and its failure detection on 57800 (Keycloak 26 `cache-ispn.xml`: jdbc-ping discovery).
# The realm Job is Gatehouse's (identity/realm_sync.py, `app.kubernetes.io/name: keycloak-realm`).
KEYCLOAK_NS = "keycloak"
KEYCLOAK = chart_pods(KEYCLOAK_NS, "keycloak", "keycloakx", "keycloak")
KEYCLOAK_PORTS = tcp(8080, 8443)
KEYCLOAK_CLUSTER_PORTS = tcp(7800, 57800)
REALM_JOB = Pods(KEYCLOAK_NS, "keycloak-realm", {"app.kubernetes.io/name": "keycloak-realm"})

# CloudNativePG. The operator: cloudnative-pg chart 0.29.0 templates/_helpers.tpl selectorLabels, its webhook
# on `webhook.port` 9443. A database's pods: `cnpg.io/cluster: <cluster>` (cloudnative-pg v1.30.0
# pkg/utils/labels_annotations.go ClusterLabelName), PostgreSQL on 5432 and the instance manager's status
# on 8000 (pkg/management/url StatusPort), which the operator polls.
CNPG = "cnpg-system"
CNPG_OPERATOR = chart_pods(CNPG, "cloudnative-pg", "cloudnative-pg", "cloudnative-pg")
CNPG_WEBHOOK_PORT = 9443
POSTGRES_PORT = 5432
CNPG_STATUS_PORT = 8000

# argocd. argo-helm argo-cd-10.1.1 templates/_common.tpl argo-cd.selectorLabels: `<nameOverride argocd>-<component>`;
# values.yaml `containerPorts`: server 8080, repo-server 8081, redis 6379. Dex, notifications are off.
ARGOCD = meta.ARGOCD_NAMESPACE


def _argocd(component: str) -> Pods:
    return Pods(
        ARGOCD,
        f"argocd-{component}",
        {"app.kubernetes.io/name": f"argocd-{component}", "app.kubernetes.io/instance": "argocd"},
    )


ARGOCD_SERVER = _argocd("server")
ARGOCD_REPO = _argocd("repo-server")
ARGOCD_CONTROLLER = _argocd("application-controller")
ARGOCD_APPSET = _argocd("applicationset-controller")
ARGOCD_REDIS = _argocd("redis")

# external-secrets chart 2.9.0 (helm-chart-2.9.0) templates/_helpers.tpl: external-secrets, -webhook,
# -cert-controller selector labels; the webhook on `webhook.port` 10250.
ESO = "external-secrets"
ESO_CONTROLLER = chart_pods(ESO, "external-secrets", "external-secrets", "external-secrets")
ESO_WEBHOOK = chart_pods(ESO, "external-secrets-webhook", "external-secrets-webhook", "external-secrets")
ESO_CERT = chart_pods(ESO, "external-secrets-cert-controller", "external-secrets-cert-controller", "external-secrets")
ESO_WEBHOOK_PORT = 10250

# cloudflared reaches Cloudflare's edge on 7844, QUIC (UDP) first and HTTP/2 (TCP) as fallback
# (cloudflare/cloudflared supervisor/tunnel.go), found through DNS, falling back to DNS over TLS at
# 1.1.1.1:853 (edgediscovery/allregions/discovery.go).
CLOUDFLARE_EDGE_PORTS = (Port(7844, "TCP"), Port(7844, "UDP"))


def database(namespace: str, cluster: str) -> Pods:
    return Pods(namespace, cluster, {"cnpg.io/cluster": cluster})


DATABASES = (database(IDENTITY, "dex-db"), database(IDENTITY, "authentik-db"), database(KEYCLOAK_NS, "keycloak-db"))


def cloudflared(org_namespace: str) -> Pods:
    return Pods(org_namespace, "cloudflared", {"app.kubernetes.io/name": "cloudflared"})


def webhook_receivers(org_namespace: str) -> Pods:
    """Whatever serves the organization's webhooks in its namespace (a Tekton EventListener, deployed by
    the organization's pipelines, not by Gatehouse): every pod but cloudflared."""
    return Pods(org_namespace, "webhook-receivers")


@dataclass(frozen=True)
class Topology:
    """What decides the paths: the ranges that are never "the internet", the organizations' namespaces,
    those whose cloudflared delivers webhooks (namespace -> the webhook Service's port, which the
    listener's pods serve on too: a Tekton EventListener's Service maps 8080 to its pods' 8080), and the
    internal gateways."""

    private_ranges: tuple[str, ...]
    organizations: tuple[str, ...] = ()
    tunnels: Mapping[str, int] = field(default_factory=dict)
    upstream_ports: tuple[int, ...] = ()  # the ports of APIs' upstreams outside the cluster (gateway/upstreams.py)
    # the internal gateways (config/gateways.py): their proxies take tenants' calls, never the internet's
    internal_gateways: tuple[str, ...] = ()

    @property
    def public_proxies(self) -> Pods:
        """What clients and in-cluster callers of public hosts reach: every proxy while the public gateway is
        the only one (the policies every stack always had), else the public gateway's own."""
        return gateway_proxies(meta.GATEWAY_NAME) if self.internal_gateways else PROXY


# tekton-operator. tektoncd/operator v0.81.1 charts/tekton-operator templates/_helpers.tpl operator and webhook
# selectorLabels (chart name tekton-operator), the webhook on `webhook.httpsWebhookPort` 8443 (values.yaml).
TEKTON_OPERATOR_NS = "tekton-operator"
TEKTON_OPERATOR = _component(TEKTON_OPERATOR_NS, "tekton-operator", "tekton-operator", "tekton-operator", "operator")
TEKTON_OPERATOR_WEBHOOK = _component(
    TEKTON_OPERATOR_NS, "tekton-operator-webhook", "tekton-operator", "tekton-operator", "webhook"
)
TEKTON_OPERATOR_WEBHOOK_PORT = 8443

# tekton-pipelines: what the operator installs from a TektonConfig, in its target namespace (Gatehouse's, fenced
# here; the operator's own NetworkPolicies are off in the TektonConfig, pipelines/tekton.py). Each workload by the
# `app` label of its pod template, at the versions tektoncd/operator v0.81.1 components.yaml pins:
# - tektoncd/pipeline v1.15.0 config/controller.yaml, webhook.yaml (https-webhook 8443), events.yaml and
#   resolvers/resolvers-deployment.yaml (which the operator installs in the target namespace too);
# - tektoncd/triggers v0.37.0 config/controller.yaml, webhook.yaml (8443) and
#   interceptors/core-interceptors-deployment.yaml (Service tekton-triggers-core-interceptors, 8443, which every
#   organization's listener calls);
# - tektoncd/dashboard v0.71.0 config/300-deployment.yaml (9097);
# - the operator's proxy webhook, tektoncd/operator v0.81.1 cmd/kubernetes/operator/kodata/webhook/webhook.yaml
#   (`name: tekton-operator-proxy-webhook`, https-webhook 8443), which mutates runs' pods.
TEKTON_NS = "tekton-pipelines"


def _tekton(app: str) -> Pods:
    return Pods(TEKTON_NS, app, {"app": app})


PIPELINES_CONTROLLER = _tekton("tekton-pipelines-controller")
PIPELINES_WEBHOOK = _tekton("tekton-pipelines-webhook")
EVENTS_CONTROLLER = _tekton("tekton-events-controller")
RESOLVERS = _tekton("tekton-pipelines-resolvers")
TRIGGERS_CONTROLLER = _tekton("tekton-triggers-controller")
TRIGGERS_WEBHOOK = _tekton("tekton-triggers-webhook")
CORE_INTERCEPTORS = _tekton("tekton-triggers-core-interceptors")
TEKTON_DASHBOARD = _tekton("tekton-dashboard")
PROXY_WEBHOOK = Pods(TEKTON_NS, "tekton-operator-proxy-webhook", {"name": "tekton-operator-proxy-webhook"})
# The operator's cron pruner (pipelines/tekton.py): a CronJob in the target namespace whose pod template carries
# no label (tektoncd/operator v0.81.1 pkg/reconciler/common/prune.go createCronJobs); its Jobs' pods carry the
# label every Job's pods get from Kubernetes' Job controller, `batch.kubernetes.io/job-name` (with the Job's
# name as its value, which changes every run: selected by the key). It is the only Job in the namespace.
TEKTON_PRUNER = Pods(TEKTON_NS, "tekton-pruner", present=("batch.kubernetes.io/job-name",))
TEKTON_WEBHOOKS = (PIPELINES_WEBHOOK, TRIGGERS_WEBHOOK, PROXY_WEBHOOK)
TEKTON_WEBHOOK_PORT = 8443
CORE_INTERCEPTORS_PORT = 8443
TEKTON_DASHBOARD_PORT = 9097  # pipelines/dashboard.py PORT, the Service's and the container's


def flows(topology: Topology) -> list[Flow]:
    """Every path the platform needs, beside DNS (every fenced pod may ask kube-system's DNS)."""
    net = internet(topology.private_ranges)
    public = topology.public_proxies
    public_dns = tuple(Addresses(f"dns-{ip}", f"{ip}/32") for ip in DNS01_NAMESERVERS)
    https = tcp(443)
    to_api = [
        (CONTROLLER, "watches Gateway API objects, writes status, creates the proxies"),
        (CM_CONTROLLER, "reconciles certificates"),
        (CM_CAINJECTOR, "injects CA bundles"),
        (CM_WEBHOOK, "reads its serving certificate"),
        (CM_CHECK, "checks the webhook admits objects"),
        (CNPG_OPERATOR, "reconciles Clusters"),
        *((db, "the instance manager reads its Cluster") for db in DATABASES),
        (ESO_CONTROLLER, "reads organizations' Secrets (kubernetes provider), writes ExternalSecrets' Secrets"),
        (ESO_WEBHOOK, "validates stores"),
        (ESO_CERT, "rotates the webhook's certificate"),
        (ARGOCD_SERVER, "serves the API"),
        (ARGOCD_CONTROLLER, "syncs applications"),
        (ARGOCD_APPSET, "generates applications"),
        (TEKTON_OPERATOR, "installs and reconciles Tekton"),
        (TEKTON_OPERATOR_WEBHOOK, "registers its webhooks"),
        (PIPELINES_CONTROLLER, "reconciles runs, creates their pods"),
        (EVENTS_CONTROLLER, "watches runs (no cloud events sink is set)"),
        (RESOLVERS, "resolves remote Tasks and Pipelines"),
        (TRIGGERS_CONTROLLER, "creates the listeners' Deployments and Services"),
        (CORE_INTERCEPTORS, "reads webhook secrets, writes its serving certificate"),
        (TEKTON_DASHBOARD, "reads runs and logs as its own ServiceAccount"),
        (TEKTON_PRUNER, "deletes old runs"),
        *((webhook, "reads its configuration and certificate") for webhook in TEKTON_WEBHOOKS),
    ]
    paths = [Flow(pods, API_SERVER, API_SERVER_PORTS, why) for pods, why in to_api]
    paths += [
        # the edge
        Flow(ANYWHERE, public, PROXY_PORTS, "clients, through the load balancer"),
        *(
            Flow(TENANTS, gateway_proxies(g), PROXY_PORTS, "tenants' calls to the internal gateway")
            for g in topology.internal_gateways
        ),
        Flow(PROXY, CONTROLLER, tcp(18000), "xDS"),
        Flow(PROXY, RATE_LIMIT, tcp(8081), "global rate limits"),
        Flow(RATE_LIMIT, CONTROLLER, tcp(18001), "the rate limiter's xDS"),
        Flow(RATE_LIMIT, RATE_LIMIT_REDIS, tcp(VALKEY_PORT), "counters"),
        Flow(API_SERVER, CONTROLLER, tcp(9443), "the topology injector webhook"),
        # the sign-in hosts and apps are the public gateway's; any gateway's APIs check Keycloak's tokens
        Flow(public, OAUTH2_PROXY, tcp(OAUTH2_PROXY_PORT), "sign-in and ext_authz"),
        Flow(public, DEX, DEX_PORTS, "Dex's routes; its signing keys over TLS"),
        Flow(PROXY, KEYCLOAK, KEYCLOAK_PORTS, "Keycloak's routes; its keys and token endpoint over TLS"),
        Flow(public, AUTHENTIK_SERVER, tcp(AUTHENTIK_PORT), "Authentik's route"),
        Flow(public, GRAFANA, tcp(GRAFANA_PORT), "Grafana's route"),
        Flow(public, ARGOCD_SERVER, tcp(8080), "Argo CD's route"),
        Flow(public, TEKTON_DASHBOARD, tcp(TEKTON_DASHBOARD_PORT), "the Tekton Dashboard's route"),
        Flow(PROXY, TENANTS, ANY_TCP_PORT, "tenants' apps and APIs"),
        # single sign-on
        Flow(OAUTH2_PROXY, SESSIONS, tcp(VALKEY_PORT), "sessions"),
        Flow(OAUTH2_PROXY, DEX, tcp(5556), "redeem, keys, userinfo (in-cluster)"),
        # certificates
        Flow(CM_CONTROLLER, net, https, "ACME and Cloudflare's API"),
        *(
            Flow(CM_CONTROLLER, dns, (Port(DNS_PORT, "UDP"), Port(DNS_PORT, "TCP")), "DNS-01 checks")
            for dns in public_dns
        ),
        Flow(API_SERVER, CM_WEBHOOK, tcp(CM_WEBHOOK_PORT), "admission"),
        # identity
        Flow(DEX, public, tcp(10443), "Authentik's issuer through the gateway (in-cluster)"),
        Flow(DEX, net, https, "GitHub, Google, and Authentik's public host"),
        Flow(KEYCLOAK, net, https, "Google as identity provider"),
        Flow(KEYCLOAK, KEYCLOAK, KEYCLOAK_CLUSTER_PORTS, "the replicas' cache"),
        Flow(REALM_JOB, KEYCLOAK, tcp(8080), "keycloak-config-cli applies the realm"),
        Flow(DEX, database(IDENTITY, "dex-db"), tcp(POSTGRES_PORT), "storage"),
        Flow(AUTHENTIK_SERVER, database(IDENTITY, "authentik-db"), tcp(POSTGRES_PORT), "storage"),
        Flow(AUTHENTIK_WORKER, database(IDENTITY, "authentik-db"), tcp(POSTGRES_PORT), "storage"),
        Flow(KEYCLOAK, database(KEYCLOAK_NS, "keycloak-db"), tcp(POSTGRES_PORT), "storage"),
        Flow(API_SERVER, CNPG_OPERATOR, tcp(CNPG_WEBHOOK_PORT), "admission"),
        *(Flow(CNPG_OPERATOR, db, tcp(CNPG_STATUS_PORT), "instance status") for db in DATABASES),
        *(Flow(db, db, tcp(POSTGRES_PORT, CNPG_STATUS_PORT), "replication, the primary's status") for db in DATABASES),
        # Argo CD
        Flow(ARGOCD_SERVER, ARGOCD_REPO, tcp(8081), "manifests"),
        Flow(ARGOCD_CONTROLLER, ARGOCD_REPO, tcp(8081), "manifests"),
        Flow(ARGOCD_APPSET, ARGOCD_REPO, tcp(8081), "manifests"),
        *(Flow(p, ARGOCD_REDIS, tcp(VALKEY_PORT), "cache") for p in (ARGOCD_SERVER, ARGOCD_CONTROLLER, ARGOCD_REPO)),
        Flow(ARGOCD_SERVER, public, tcp(10443), "Dex's issuer through the gateway (in-cluster)"),
        Flow(ARGOCD_SERVER, net, https, "Dex's issuer on its public host"),
        Flow(ARGOCD_REPO, net, tcp(443, 22), "Git repositories"),
        Flow(ARGOCD_APPSET, net, https, "SCM providers"),
        # External Secrets
        Flow(API_SERVER, ESO_WEBHOOK, tcp(ESO_WEBHOOK_PORT), "admission"),
        # Tekton
        Flow(API_SERVER, TEKTON_OPERATOR_WEBHOOK, tcp(TEKTON_OPERATOR_WEBHOOK_PORT), "admission"),
        *(Flow(API_SERVER, webhook, tcp(TEKTON_WEBHOOK_PORT), "admission") for webhook in TEKTON_WEBHOOKS),
        # the controller reads step images' entrypoints from their registries (tektoncd/pipeline v1.15.0
        # pkg/pod/entrypoint_lookup_impl.go, remote.Get); the resolvers fetch from Git, Artifact Hub, bundles
        Flow(PIPELINES_CONTROLLER, net, https, "image registries"),
        Flow(RESOLVERS, net, https, "remote Tasks and Pipelines over HTTPS"),
    ]
    if topology.upstream_ports:
        paths.append(Flow(PROXY, net, tcp(*topology.upstream_ports), "APIs' upstreams outside the cluster"))
    for org_ns in topology.organizations:
        receivers = webhook_receivers(org_ns)
        paths.append(Flow(receivers, API_SERVER, API_SERVER_PORTS, "the listener creates runs"))
        paths.append(Flow(receivers, CORE_INTERCEPTORS, tcp(CORE_INTERCEPTORS_PORT), "the GitHub and CEL interceptors"))
    for org_ns, port in sorted(topology.tunnels.items()):
        tunnel, receivers = cloudflared(org_ns), webhook_receivers(org_ns)
        paths += [
            Flow(tunnel, net, CLOUDFLARE_EDGE_PORTS, "the tunnel to Cloudflare's edge"),
            Flow(tunnel, net, tcp(853), "edge discovery's fallback: DNS over TLS at 1.1.1.1"),
            Flow(tunnel, receivers, tcp(port), "webhooks to the organization's listener"),
        ]
    return paths


# -- rendering ---------------------------------------------------------------------------------------


def _namespace_selector(name: str) -> k8s.meta.v1.LabelSelectorArgs:
    return k8s.meta.v1.LabelSelectorArgs(match_labels={meta.NAMESPACE_NAME_LABEL: name})


def _pod_selector(pods: Pods) -> k8s.meta.v1.LabelSelectorArgs:
    present = [k8s.meta.v1.LabelSelectorRequirementArgs(key=key, operator="Exists") for key in pods.present]
    return k8s.meta.v1.LabelSelectorArgs(match_labels=dict(pods.labels), match_expressions=present or None)


def _peer(peer: Peer) -> netv1.NetworkPolicyPeerArgs:
    if isinstance(peer, Pods):
        return netv1.NetworkPolicyPeerArgs(
            namespace_selector=_namespace_selector(peer.namespace), pod_selector=_pod_selector(peer)
        )
    if isinstance(peer, Namespaces):
        expression = k8s.meta.v1.LabelSelectorRequirementArgs(key=peer.label, operator="Exists")
        return netv1.NetworkPolicyPeerArgs(
            namespace_selector=k8s.meta.v1.LabelSelectorArgs(match_expressions=[expression])
        )
    return netv1.NetworkPolicyPeerArgs(ip_block=netv1.IPBlockArgs(cidr=peer.cidr, except_=list(peer.except_) or None))


def _ports(ports: Iterable[Port]) -> list[netv1.NetworkPolicyPortArgs]:
    """Without a port number: every port of the protocol."""
    return [netv1.NetworkPolicyPortArgs(protocol=p.protocol, port=p.port) for p in ports]


def policy_specs(namespace: str, paths: Iterable[Flow]) -> dict[str, netv1.NetworkPolicySpecArgs]:
    """Policy name -> spec for `namespace`: default-deny, allow-dns, and one per workload with a path."""
    specs = {
        "default-deny": netv1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(), policy_types=["Ingress", "Egress"]
        ),
        "allow-dns": netv1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(),
            policy_types=["Egress"],
            egress=[
                netv1.NetworkPolicyEgressRuleArgs(
                    to=[_peer(DNS)], ports=_ports([Port(DNS_PORT, "UDP"), Port(DNS_PORT, "TCP")])
                )
            ],
        ),
    }
    # by workload name (unique in a namespace): Pods holds a mapping, so it is no dict key
    workloads: dict[str, Pods] = {}
    ingress: dict[str, list[netv1.NetworkPolicyIngressRuleArgs]] = {}
    egress: dict[str, list[netv1.NetworkPolicyEgressRuleArgs]] = {}
    for flow in paths:
        if isinstance(flow.source, Pods) and flow.source.namespace == namespace:
            workloads[flow.source.name] = flow.source
            rule = netv1.NetworkPolicyEgressRuleArgs(to=[_peer(flow.target)], ports=_ports(flow.ports))
            egress.setdefault(flow.source.name, []).append(rule)
        if isinstance(flow.target, Pods) and flow.target.namespace == namespace:
            workloads[flow.target.name] = flow.target
            ingress_rule = netv1.NetworkPolicyIngressRuleArgs(from_=[_peer(flow.source)], ports=_ports(flow.ports))
            ingress.setdefault(flow.target.name, []).append(ingress_rule)
    for name in sorted(workloads):
        types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if name in rules]
        specs[f"allow-{name}"] = netv1.NetworkPolicySpecArgs(
            pod_selector=_pod_selector(workloads[name]),
            policy_types=types,
            ingress=ingress.get(name),
            egress=egress.get(name),
        )
    return specs


def fence(
    namespace: k8s.core.v1.Namespace, name: str, topology: Topology, opts: pulumi.ResourceOptions
) -> list[netv1.NetworkPolicy]:
    """The policies of platform namespace `name`, each after the namespace (and nothing else)."""
    after = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[namespace]))
    return [
        netv1.NetworkPolicy(
            f"{name}-{policy}",
            metadata=meta.object_meta(policy, COMPONENT, namespace.metadata.name),
            spec=spec,
            opts=after,
        )
        for policy, spec in policy_specs(name, flows(topology)).items()
    ]


def fence_all(
    namespaces: Mapping[str, k8s.core.v1.Namespace], topology: Topology, opts: pulumi.ResourceOptions
) -> None:
    """One plane's namespaces (name -> resource)."""
    for name, resource in sorted(namespaces.items()):
        fence(resource, name, topology, opts)
