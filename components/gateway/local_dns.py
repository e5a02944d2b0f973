"""Inside a laptop cluster, the stack's domain resolves to the gateway.

Names such as `dex.localtest.me` resolve to 127.0.0.1 everywhere, a pod included, where 127.0.0.1 is the
pod itself: Dex could not reach Authentik's issuer, nor Argo CD Dex's. k3s's CoreDNS imports every
`*.override` key of the optional ConfigMap `coredns-custom` in kube-system into its main server block
(k3s manifests/coredns.yaml, since k3s-io/k3s#4397), and reloads it. There, a rewrite answers every name
under the domain with the gateway Service's address (CoreDNS v1.12.0 plugin/rewrite/README.md: a `name
regex` rule, with `answer auto` so the answer carries the name that was asked, which resolvers check).
"""

from __future__ import annotations

import re

import pulumi
import pulumi_kubernetes as k8s

from .. import meta
from .edge import ENVOY_SERVICE

COMPONENT = "gateway"
CONFIGMAP = "coredns-custom"  # the name k3s's CoreDNS Deployment mounts
NAMESPACE = "kube-system"


def coredns_override(domain: str) -> str:
    service = meta.service_host(ENVOY_SERVICE, meta.ENVOY_GATEWAY_NAMESPACE)
    return f"rewrite stop {{\n    name regex ^(.+\\.)?{re.escape(domain)}\\.$ {service} answer auto\n}}\n"


def resolve_domain_to_gateway(domain: str, opts: pulumi.ResourceOptions) -> k8s.core.v1.ConfigMap:
    return k8s.core.v1.ConfigMap(
        "coredns-custom",
        metadata=meta.object_meta(CONFIGMAP, COMPONENT, NAMESPACE),
        data={"gatehouse.override": coredns_override(domain)},
        opts=opts,
    )
