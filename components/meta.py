"""Labels, object metadata and the builders of kinds every plane makes: namespaces and custom resources.

One helper each, so every object carries the same ownership labels, every namespace the same Pod Security
labels. The label names the policy pack selects on come from the contract the pack imports too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from policy import gatehouse_contract as contract

LABEL_DOMAIN = contract.LABEL_DOMAIN
MANAGED_BY = "gatehouse"

# Labels other objects select on (NetworkPolicies, the Gateway's allowedRoutes, secret stores, policies).
TENANT_LABEL = contract.TENANT_LABEL
ORGANIZATION_LABEL = contract.ORGANIZATION_LABEL
PROFILE_LABEL = contract.PROFILE_LABEL
GATEWAY_ACCESS_LABEL = f"{LABEL_DOMAIN}/gateway-access"
MANAGED_BY_LABEL = contract.MANAGED_BY_LABEL
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"  # set by the API server on every namespace
POD_SECURITY_LABEL_PREFIX = "pod-security.kubernetes.io"
PSA_ENFORCE_LABEL = contract.PSA_ENFORCE_LABEL

# Platform namespaces other planes refer to.
ARGOCD_NAMESPACE = "argocd"
ENVOY_GATEWAY_NAMESPACE = "envoy-gateway-system"
# The cluster's DNS domain (every chart's default `kubernetesClusterDomain`): in-cluster Service names and
# the control-plane certificates' SANs end with it.
CLUSTER_DOMAIN = "cluster.local"


def service_host(service: str, namespace: str) -> str:
    """The in-cluster DNS name of a Service."""
    return f"{service}.{namespace}.svc.{CLUSTER_DOMAIN}"


# The public Gateway (on the load balancer) every route attaches to unless its API names another
# (`gatehouse:gateways`), and each Gateway's TLS listener.
GATEWAY_NAME = contract.PUBLIC_GATEWAY
GATEWAY_NAMESPACE = ENVOY_GATEWAY_NAMESPACE
HTTPS_LISTENER = "https"
HTTP_LISTENER = contract.HTTP_LISTENER

# Labels Envoy Gateway puts on its proxy pods (internal/infrastructure/kubernetes/proxy/resource.go).
ENVOY_PROXY_POD_LABELS = {"app.kubernetes.io/name": "envoy", "app.kubernetes.io/component": "proxy"}
# ... and the Gateway they serve (internal/gatewayapi/translator.go buildIR: GatewayOwnerLabels, one set of
# proxies per Gateway unless mergeGateways, which Gatehouse never sets).
OWNING_GATEWAY_LABEL = "gateway.envoyproxy.io/owning-gateway-name"


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
DATA_TYPES = contract.DATA_TYPES
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


def custom_resource(
    name: str,
    api_version: str,
    kind: str,
    metadata: k8s.meta.v1.ObjectMetaArgs,
    spec: dict[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """An object of a CRD's kind: the one place custom resources are declared (the spec a plain dict)."""
    return k8s.apiextensions.CustomResource(
        name, api_version=api_version, kind=kind, metadata=metadata, spec=spec, opts=opts
    )


def namespace(
    name: str,
    component: str,
    production: bool,
    opts: pulumi.ResourceOptions,
    *,
    pod_security: str = "restricted",
    warn_restricted: bool = False,
    gateway_access: bool = False,
    extra_labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> k8s.core.v1.Namespace:
    """A namespace Gatehouse owns, `name` in Pulumi too, kept like all data (`stateful`).

    It enforces the Pod Security level `pod_security` at the latest policy version; `warn_restricted`
    also warns and audits at `restricted`, so a namespace allowed `baseline` sees what it relies on.
    `gateway_access` lets its HTTPRoutes attach to the shared Gateway.
    """
    own = {
        **(extra_labels or {}),
        PSA_ENFORCE_LABEL: pod_security,
        f"{POD_SECURITY_LABEL_PREFIX}/enforce-version": "latest",
    }
    if warn_restricted:
        own[f"{POD_SECURITY_LABEL_PREFIX}/warn"] = "restricted"
        own[f"{POD_SECURITY_LABEL_PREFIX}/audit"] = "restricted"
    if gateway_access:
        own[GATEWAY_ACCESS_LABEL] = "true"
    return k8s.core.v1.Namespace(
        name,
        metadata=object_meta(name, component, extra_labels=own, annotations=annotations),
        opts=stateful(opts, production),
    )


def platform_namespace(
    name: str,
    component: str,
    production: bool,
    opts: pulumi.ResourceOptions,
    gateway_access: bool = False,
) -> k8s.core.v1.Namespace:
    """A namespace for a platform piece: Pod Security `restricted` (the charts are given what it needs)."""
    return namespace(name, component, production, opts, gateway_access=gateway_access)
