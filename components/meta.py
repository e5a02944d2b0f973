"""Labels and object metadata: one helper, so every object carries the same ownership labels."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

LABEL_DOMAIN = "gatehouse.dev"
MANAGED_BY = "gatehouse"

# Labels other objects select on (NetworkPolicies, the Gateway's allowedRoutes, secret stores).
TENANT_LABEL = f"{LABEL_DOMAIN}/tenant"
ORGANIZATION_LABEL = f"{LABEL_DOMAIN}/organization"
PROFILE_LABEL = f"{LABEL_DOMAIN}/permission-profile"
GATEWAY_ACCESS_LABEL = f"{LABEL_DOMAIN}/gateway-access"
MANAGED_BY_LABEL = f"{LABEL_DOMAIN}/managed-by"
PSA_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
# On an HTTPRoute deliberately left without SSO, JWT or API-key protection (login pages, public APIs).
PUBLIC_ROUTE_LABEL = f"{LABEL_DOMAIN}/public-route"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"  # set by the API server on every namespace

# Platform namespaces other planes refer to.
ARGOCD_NAMESPACE = "argocd"
ENVOY_GATEWAY_NAMESPACE = "envoy-gateway-system"
# The cluster's DNS domain (every chart's default `kubernetesClusterDomain`): in-cluster Service names and
# the control-plane certificates' SANs end with it.
CLUSTER_DOMAIN = "cluster.local"


def service_host(service: str, namespace: str) -> str:
    """The in-cluster DNS name of a Service."""
    return f"{service}.{namespace}.svc.{CLUSTER_DOMAIN}"


# The one shared Gateway every public route attaches to, and its TLS listener.
GATEWAY_NAME = "public"
GATEWAY_NAMESPACE = ENVOY_GATEWAY_NAMESPACE
HTTPS_LISTENER = "https"
HTTP_LISTENER = "http"

# Labels Envoy Gateway puts on its proxy pods (internal/infrastructure/kubernetes/proxy/resource.go).
ENVOY_PROXY_POD_LABELS = {"app.kubernetes.io/name": "envoy", "app.kubernetes.io/component": "proxy"}


def labels(component: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The standard labels of everything Gatehouse creates, plus `extra`."""
    base = {
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/part-of": "gatehouse",
        MANAGED_BY_LABEL: MANAGED_BY,
        f"{LABEL_DOMAIN}/component": component,
    }
    return {**base, **(extra or {})}


def object_meta(
    name: str,
    component: str,
    namespace: pulumi.Input[str] | None = None,
    extra_labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> k8s.meta.v1.ObjectMetaArgs:
    """Metadata with an explicit name: Kubernetes names come from immutable slugs, never auto-naming."""
    return k8s.meta.v1.ObjectMetaArgs(
        name=name,
        namespace=namespace,
        labels=labels(component, extra_labels),
        annotations=dict(annotations) if annotations else None,
    )


# What holds data or definitions: deleting a CRD deletes every object of its kind, a namespace everything
# in it, a CloudNativePG Cluster its database (pulumi-kubernetes #2882, #2459).
DATA_TYPES = frozenset(
    {
        "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
        "kubernetes:core/v1:Namespace",
        "kubernetes:postgresql.cnpg.io/v1:Cluster",
    }
)
KEPT = pulumi.ResourceOptions(protect=True, retain_on_delete=True)


def stateful(opts: pulumi.ResourceOptions | None, production: bool) -> pulumi.ResourceOptions:
    """Options for things whose loss loses data or definitions (namespaces, databases, CRDs).

    In production they are protected, and kept in the cluster if Pulumi ever deletes them.
    """
    return pulumi.ResourceOptions.merge(opts, KEPT if production else None)


def keep_data(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """A chart's transform in production: the CRDs, namespaces and databases it renders are protected and
    kept; everything else it renders stays replaceable. `protect` on the chart itself would not do: every
    child inherits it (pulumi sdk resource.py, and the engine's inheritFromParent), so an upgrade that
    replaces or deletes any of them would fail."""
    if args.type_ not in DATA_TYPES:
        return None
    return pulumi.ResourceTransformResult(props=args.props, opts=pulumi.ResourceOptions.merge(args.opts, KEPT))


def public_route_labels(public: bool) -> dict[str, str]:
    """Labels marking a route deliberately left without SSO, JWT or API-key protection."""
    return {PUBLIC_ROUTE_LABEL: "true"} if public else {}


def gateway_parent_ref() -> dict[str, str]:
    """HTTPRoute parentRef to the shared Gateway's HTTPS listener."""
    return {
        "group": "gateway.networking.k8s.io",
        "kind": "Gateway",
        "name": GATEWAY_NAME,
        "namespace": GATEWAY_NAMESPACE,
        "sectionName": HTTPS_LISTENER,
    }


def platform_namespace(
    name: str,
    component: str,
    production: bool,
    opts: pulumi.ResourceOptions,
    gateway_access: bool = False,
) -> k8s.core.v1.Namespace:
    """A namespace for a platform piece; `gateway_access` lets its HTTPRoutes attach to the Gateway."""
    # every platform piece runs under `restricted` (the charts are given what it needs)
    extra = {PSA_ENFORCE_LABEL: "restricted", "pod-security.kubernetes.io/enforce-version": "latest"}
    if gateway_access:
        extra[GATEWAY_ACCESS_LABEL] = "true"
    return k8s.core.v1.Namespace(
        name,
        metadata=object_meta(name, component, extra_labels=extra),
        opts=stateful(opts, production),
    )
