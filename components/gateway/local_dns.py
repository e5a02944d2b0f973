"""Inside a laptop cluster, the stack's domain resolves to the gateway.

Names such as `dex.localtest.me` resolve to 127.0.0.1 everywhere, a pod included, where 127.0.0.1 is the
pod itself: Dex could not reach Authentik's issuer, nor Argo CD Dex's. k3s's CoreDNS imports every
`*.override` key of the optional ConfigMap `coredns-custom` in kube-system into its main server block
(k3s manifests/coredns.yaml, since k3s-io/k3s#4397), and reloads it. There, a rewrite answers every name
under the domain with the gateway Service's address (CoreDNS v1.12.0 plugin/rewrite/README.md: a `name
regex` rule, with `answer auto` so the answer carries the name that was asked, which resolvers check).
Names under an internal gateway's domain (`*.<gateway>.<domain>`) resolve to that gateway's Service: its
rule comes first, and the first matching `stop` rule is the last applied (plugin/rewrite/README.md: "the
request rewrite follows the line order in the configuration").
"""

from __future__ import annotations

import re

import pulumi
import pulumi_kubernetes as k8s

from .. import config, meta
from .edge import envoy_service_name

COMPONENT = "gateway"
CONFIGMAP = "coredns-custom"  # the name k3s's CoreDNS Deployment mounts
NAMESPACE = "kube-system"


def _rule(domain: str, gateway: str) -> str:
    service = meta.service_host(envoy_service_name(gateway), meta.ENVOY_GATEWAY_NAMESPACE)
    return f"rewrite stop {{\n    name regex ^(.+\\.)?{re.escape(domain)}\\.$ {service} answer auto\n}}\n"


def coredns_override(domain: str, gateways: list[config.Gateway] | None = None) -> str:
    """The rewrite rules: each internal gateway's domain to its Service, then the stack's to the public one."""
    internal = [g for g in gateways or [] if g.internal]
    return "".join(_rule(g.domain(domain), g.name) for g in internal) + _rule(domain, meta.GATEWAY_NAME)


def resolve_domain_to_gateway(
    domain: str, gateways: list[config.Gateway], opts: pulumi.ResourceOptions
) -> k8s.core.v1.ConfigMap:
    return k8s.core.v1.ConfigMap(
        "coredns-custom",
        metadata=meta.object_meta(CONFIGMAP, COMPONENT, NAMESPACE),
        data={"gatehouse.override": coredns_override(domain, gateways)},
        opts=opts,
    )
