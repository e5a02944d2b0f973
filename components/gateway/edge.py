"""The edge: Envoy Gateway, and per configured gateway its proxies, Gateway and edge hygiene.

The Envoy Gateway CRDs chart is the one owner of the Gateway API CRDs (and Envoy Gateway's). Every
custom resource here and in the other planes depends on it, so CRDs exist before anything uses them;
nothing waits for the controller itself, which installs alongside (cert-manager included).

Each gateway of `gatehouse:gateways` (config/gateways.py) gets an EnvoyProxy, a Gateway naming it, the
HTTP-to-HTTPS redirect and the edge ClientTrafficPolicy. Envoy Gateway v1.9.0 runs one set of proxies
per Gateway, a Deployment and a Service of its own, unless `mergeGateways` is set (never here):
internal/gatewayapi/translator.go `buildIR` keys the infrastructure by Gateway (`IRKey`: namespace/name)
and labels it with GatewayOwnerLabels; a Gateway's `infrastructure.parametersRef` picks its EnvoyProxy
(internal/gatewayapi/contexts.go `attachEnvoyProxy`). So an internal gateway's hosts are served by its own
proxies only: the public load balancer reaches no route of it. Its Service is a ClusterIP
(internal/infrastructure/kubernetes/proxy/resource_provider.go `Service`, resource/resource.go
`ExpectedServiceSpec`: no load balancer, no external IPs, externalTrafficPolicy only on LoadBalancer and
NodePort), named `envoy-<gateway>` (`envoyService.name`). The public gateway keeps the names it always had.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .. import config, meta
from ..charts import ONE_SHOT, helm_chart, valkey, valkey_address
from ..headers import REDIRECT_HEADER, SPOOFABLE
from ..versions import IMAGES
from .control_plane_tls import control_plane_secrets
from .routes import GATEWAY_API_GROUP, GATEWAY_API_VERSION, http_route, https_redirect_spec
from .settings import GatewaySettings

COMPONENT = "gateway"
GATEWAY_CLASS = "gatehouse"
RATELIMIT_REDIS = "ratelimit-redis"
ENVOY_GATEWAY_API_VERSION = "gateway.envoyproxy.io/v1alpha1"
LETSENCRYPT_ISSUER = "letsencrypt"


def envoy_proxy_name(gateway: str) -> str:
    """The gateway's EnvoyProxy (`public-proxy`)."""
    return f"{gateway}-proxy"


def envoy_service_name(gateway: str) -> str:
    """The gateway's proxies' Service (`envoy-public`), named rather than generated, so that in-cluster DNS
    can point at it (cluster.resolveDomainToGateway) and operators find it by name."""
    return f"envoy-{gateway}"


def tls_secret_name(gateway: str) -> str:
    """The Secret cert-manager issues the gateway's wildcard certificate into, from the Gateway's
    annotation: one per Gateway, since the Certificate is named after it and owned by one Gateway
    (cert-manager v1.21.1 pkg/controller/certificate-shim/sync.go `buildCertificates`: a Certificate
    another Gateway controls is left alone)."""
    return "wildcard-tls" if gateway == meta.GATEWAY_NAME else f"{gateway}-wildcard-tls"


def redirect_route_name(gateway: str) -> str:
    """The gateway's HTTP-to-HTTPS redirect route (`https-redirect`)."""
    return "https-redirect" if gateway == meta.GATEWAY_NAME else f"{gateway}-https-redirect"


def edge_policy_name(gateway: str) -> str:
    """The gateway's edge ClientTrafficPolicy (`public-edge`)."""
    return f"{gateway}-edge"


def gateway_crds_chart(production: bool, opts: pulumi.ResourceOptions) -> k8s.helm.v4.Chart:
    """The Gateway API CRDs (experimental channel, Envoy Gateway's default) and Envoy Gateway's own.

    CRDs are cluster-scoped: the release only names Envoy Gateway's namespace and does not wait for it,
    so the CRDs, which most of the stack waits for, are created first thing in `pulumi up`.
    """
    return helm_chart(
        "gateway-crds",
        "gateway-crds",
        "gateway-crds",
        meta.ENVOY_GATEWAY_NAMESPACE,
        {"crds": {"gatewayAPI": {"enabled": True, "channel": "experimental"}, "envoyGateway": {"enabled": True}}},
        opts,
        production,
    )


def envoy_gateway_chart(
    namespace: k8s.core.v1.Namespace, crds: k8s.helm.v4.Chart, production: bool, opts: pulumi.ResourceOptions
) -> k8s.helm.v4.Chart:
    """The controller; it installs no CRDs (the CRDs chart owns them), so nothing of it is protected but the
    control-plane keys (`production`)."""
    # Global rate limiting (API-key tiers) needs Redis; a small Valkey serves only the rate limiter.
    valkey("ratelimit-redis", RATELIMIT_REDIS, namespace.metadata.name, opts)
    # helm.v4.Chart drops the certgen hook Job: the controller and proxies would wait for these forever.
    # The chart need not wait for them: kubelet holds a pod until its Secret volumes exist, and these
    # are made in seconds beside it, so the controller starts as soon as they do.
    control_plane_secrets(namespace, production, opts)
    return helm_chart(
        "envoy-gateway",
        "envoy-gateway",
        "envoy-gateway",
        namespace.metadata.name,
        {
            "global": {
                "images": {"envoyGateway": {"image": IMAGES["envoy-gateway"].ref, "pullPolicy": "IfNotPresent"}}
            },
            "crds": {"enabled": False},  # the CRDs chart owns them
            "config": {
                "envoyGateway": {
                    # the identity filter on single-sign-on routes (identity_filter.py) is Lua; an API's
                    # upstream outside the cluster is a Backend (upstreams.py)
                    "extensionApis": {"enableLua": True, "enableBackend": True},
                    "rateLimit": {
                        "backend": {
                            "type": "Redis",
                            "redis": {"url": valkey_address(RATELIMIT_REDIS, meta.ENVOY_GATEWAY_NAMESPACE)},
                        }
                    },
                }
            },
            # the controller's defaults set resources; the certgen Job's do not
            "certgen": {"job": {"resources": ONE_SHOT}},
            # the SANs of the controller certificate end with it
            "kubernetesClusterDomain": meta.CLUSTER_DOMAIN,
            # its webhook is a hook too (never installed here); proxies need no zone labels without
            # zone-aware routing, so the controller does not serve it either
            "topologyInjector": {"enabled": False},
        },
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[crds])),
    )


def envoy_proxy_spec(edge: config.Edge, gateway: config.Gateway | None = None) -> dict[str, Any]:
    """The public gateway's proxies behind the load balancer (`edge.loadBalancer`); an internal gateway's
    behind a ClusterIP Service, reached from inside the cluster only."""
    name = gateway.name if gateway else meta.GATEWAY_NAME
    service: dict[str, Any]
    if gateway is not None and gateway.internal:
        service = {"name": envoy_service_name(name), "type": "ClusterIP"}
    else:
        service = {
            "name": envoy_service_name(name),
            "type": "LoadBalancer",
            "externalTrafficPolicy": "Local",  # keep the client address for rate limits and logs
        }
        if edge.load_balancer.address:
            service["loadBalancerIP"] = edge.load_balancer.address
        if edge.load_balancer.annotations:
            service["annotations"] = dict(edge.load_balancer.annotations)
        if edge.load_balancer.source_ranges:
            service["loadBalancerSourceRanges"] = list(edge.load_balancer.source_ranges)
    return {
        "provider": {
            "type": "Kubernetes",
            "kubernetes": {"envoyDeployment": {"replicas": 2}, "envoyService": service},
        }
    }


def gateway_spec(domain: str, gateway: str = meta.GATEWAY_NAME) -> dict[str, Any]:
    """`domain`: the gateway's (config.Gateway.domain), whose one level below its HTTPS listener serves."""
    return {
        "gatewayClassName": GATEWAY_CLASS,
        "infrastructure": {
            "parametersRef": {"group": "gateway.envoyproxy.io", "kind": "EnvoyProxy", "name": envoy_proxy_name(gateway)}
        },
        "listeners": [
            {
                "name": meta.HTTP_LISTENER,
                "protocol": "HTTP",
                "port": 80,
                "allowedRoutes": {"namespaces": {"from": "Same"}},  # only the HTTPS redirect
            },
            {
                "name": meta.HTTPS_LISTENER,
                "protocol": "HTTPS",
                "port": 443,
                "hostname": f"*.{domain}",
                "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": tls_secret_name(gateway)}]},
                "allowedRoutes": {
                    "namespaces": {
                        "from": "Selector",
                        "selector": {"matchLabels": {meta.GATEWAY_ACCESS_LABEL: "true"}},
                    },
                    "kinds": [{"group": GATEWAY_API_GROUP, "kind": "HTTPRoute"}],
                },
            },
        ],
    }


# The client address as the gateway saw it, in the headers apps and oauth2-proxy (`reverse_proxy`, whose
# `real_client_ip_header` is X-Real-IP by default) read as the client's: set, never kept from the client.
FORWARDED_FOR_HEADERS = ("x-forwarded-for", "x-real-ip")
PEER_ADDRESS = "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"


def behind_cloudflare(edge: config.Edge, gateway: config.Gateway | None = None) -> bool:
    """Whether Cloudflare's proxy stands in front of the gateway: the public one's, when `proxied`; never an
    internal one's, whose clients are pods connecting straight to it (a CF-Connecting-IP they send is theirs)."""
    return bool(edge.cloudflare and edge.cloudflare.proxied) and not (gateway and gateway.internal)


def client_address(edge: config.Edge, gateway: config.Gateway | None = None) -> str:
    """The client's address as an Envoy command operator: Cloudflare's CF-Connecting-IP behind its proxy
    (Cloudflare sets it and the edge requires it, `failClosed`), else the connection's peer."""
    return "%REQ(cf-connecting-ip)%" if behind_cloudflare(edge, gateway) else PEER_ADDRESS


# How every request's path is normalised before routing and every filter (authorization's path matches
# included), pinned rather than left to defaults. envoyproxy/gateway v1.9.0:
# - internal/xds/translator/listener.go sets the HTTP connection manager's `normalize_path` to true on
#   every listener (no setting turns it off): RFC 3986 normalisation, dot segments (`/x/../admin`) removed
#   and percent-encoded unreserved characters (`/%61dmin`) decoded; it does not change case and keeps `;`.
# - api/v1alpha1/pathsettings_types.go: `escapedSlashesAction` UnescapeAndRedirect (the default,
#   internal/gatewayapi/listener.go) answers a path with `%2F`/`%5C` (any case) with a redirect to the
#   unescaped, normalised path, so the request authorization sees never holds an escaped slash; a client
#   that follows it is judged on the plain path. `disableMergeSlashes: false` keeps `//admin` merged to
#   `/admin` (internal/gatewayapi/clienttrafficpolicy.go translatePathSettings; listener.go MergeSlashes).
# What survives (case, `;` parameters) the jwt APIs' authorization rules cover (apis.py).
PATH_SETTINGS = {"escapedSlashesAction": "UnescapeAndRedirect", "disableMergeSlashes": False}


def client_traffic_spec(edge: config.Edge, gateway: config.Gateway | None = None) -> dict[str, Any]:
    """Early headers: identity headers removed, the forwarded-for headers set from what Envoy saw.

    envoyproxy/gateway v1.9.0 api/v1alpha1/clienttrafficpolicy_types.go: `earlyRequestHeaders` apply "before
    envoy performs routing, tracing and built-in header manipulation" (internal/xds/translator/listener.go
    `buildEarlyHeaderMutation`: the HCM's early header mutation), so an X-Forwarded-For the client sent is
    overwritten before client-IP detection reads it; `xForwardedFor.disableXForwardedForAppend` ("does not
    remove or sanitize an incoming X-Forwarded-For") keeps Envoy from appending the same address again.
    With `numTrustedHops: 0` the XFF detection takes the rightmost entry: the peer, as set here.
    """
    # Behind Cloudflare's proxy the client address arrives in CF-Connecting-IP.
    ip_detection: dict[str, Any] = (
        {"customHeader": {"name": "CF-Connecting-IP", "failClosed": True}}
        if behind_cloudflare(edge, gateway)
        else {"xForwardedFor": {"numTrustedHops": 0, "disableXForwardedForAppend": True}}
    )
    forwarded = [{"name": name, "value": client_address(edge, gateway)} for name in FORWARDED_FOR_HEADERS]
    target = gateway.name if gateway else meta.GATEWAY_NAME
    return {
        "targetRefs": [{"group": GATEWAY_API_GROUP, "kind": "Gateway", "name": target}],
        "clientIPDetection": ip_detection,
        "path": dict(PATH_SETTINGS),
        "headers": {
            "requestID": "PreserveOrGenerate",
            # earlyRequestHeaders run before every auth filter; route header filters would be too late
            "earlyRequestHeaders": {
                "remove": SPOOFABLE,
                "set": [{"name": REDIRECT_HEADER, "value": "https://%REQ(:authority)%%REQ(:path)%"}, *forwarded],
            },
        },
    }


def edge_objects(
    stack: GatewaySettings, namespace: k8s.core.v1.Namespace, issuer: str, opts: pulumi.ResourceOptions
) -> None:
    """The GatewayClass, and each gateway's objects (gateway_objects); `opts` carries the CRD dependency.
    `issuer`: the ClusterIssuer of the Gateways' certificates."""
    meta.custom_resource(
        "gateway-class",
        GATEWAY_API_VERSION,
        "GatewayClass",
        meta.object_meta(GATEWAY_CLASS, COMPONENT),
        {"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"},
        opts,
    )
    for gateway in stack.gateways:
        gateway_objects(stack, gateway, namespace, issuer, opts)


def gateway_objects(
    stack: GatewaySettings,
    gateway: config.Gateway,
    namespace: k8s.core.v1.Namespace,
    issuer: str,
    opts: pulumi.ResourceOptions,
) -> None:
    """One gateway's EnvoyProxy, Gateway, HTTPS redirect and ClientTrafficPolicy (the public one's under the
    Pulumi and object names it always had)."""
    ns, name = namespace.metadata.name, gateway.name

    def envoy_gateway_object(kind: str, object_name: str, spec: dict[str, Any]) -> None:
        """An Envoy Gateway resource in the gateway's namespace, named alike in Pulumi and in the cluster."""
        meta.custom_resource(
            object_name, ENVOY_GATEWAY_API_VERSION, kind, meta.object_meta(object_name, COMPONENT, ns), spec, opts
        )

    envoy_gateway_object("EnvoyProxy", envoy_proxy_name(name), envoy_proxy_spec(stack.edge, gateway))
    meta.custom_resource(
        f"{name}-gateway",
        GATEWAY_API_VERSION,
        "Gateway",
        meta.object_meta(
            name,
            COMPONENT,
            ns,
            # cert-manager issues the listener's certificate from this annotation (DNS-01: wildcards)
            annotations={"cert-manager.io/cluster-issuer": issuer},
        ),
        gateway_spec(gateway.domain(stack.domain), name),
        opts,
    )
    redirect = redirect_route_name(name)
    http_route(redirect, redirect, COMPONENT, ns, https_redirect_spec(name), opts)
    envoy_gateway_object("ClientTrafficPolicy", edge_policy_name(name), client_traffic_spec(stack.edge, gateway))
