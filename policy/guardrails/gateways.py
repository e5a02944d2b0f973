"""Gateways: TLS on every HTTPS listener, routes accepted only from chosen namespaces; and how HTTPRoutes attach
to the Gateways, and which Gateways are internal (what the route rules of hostnames.py and authentication.py read).

Anchors: the Gateway API security model (allowedRoutes: a listener accepts routes from its own namespace unless
it says otherwise), Kyverno require-ingress-https.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import (
    ENVOY_PROXY_TYPE,
    GATEWAY_TYPE,
    HTTP_ROUTE_TYPE,
    Report,
    describe,
    for_types,
    mapping,
    object_name,
    object_namespace,
    object_spec,
    sequence,
)

GATEWAY_API = "Gateway API"
GATEWAY_GROUP = "gateway.networking.k8s.io"


def _listeners(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [mapping(listener) for listener in sequence(object_spec(props).get("listeners"))]


def _terminates_tls(listener: Mapping[str, Any]) -> bool:
    tls = mapping(listener.get("tls"))
    return (tls.get("mode") or "Terminate") == "Terminate" and bool(sequence(tls.get("certificateRefs")))


@for_types(GATEWAY_TYPE)
def _https_listeners(args: ResourceValidationArgs, report: Report) -> None:
    what = describe(args.resource_type, args.props, args.name)
    for listener in _listeners(args.props):
        name, protocol, port = listener.get("name"), listener.get("protocol"), listener.get("port")
        if protocol == "HTTPS" and not _terminates_tls(listener):
            report(f"{what} listener '{name}' is HTTPS but does not terminate TLS with a certificateRef")
        elif protocol == "HTTP" and port in (443, 443.0):
            report(f"{what} listener '{name}' serves plain HTTP on port 443")


gateway_https_listeners_tls = ResourceValidationPolicy(
    name="gateway-https-listeners-tls",
    description="Every HTTPS listener of a Gateway terminates TLS with a certificate reference (cert-manager "
    "issues it); nothing serves plain HTTP on 443.",
    validate=_https_listeners,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="Kyverno", reference="require-ingress-https"),
)


@for_types(GATEWAY_TYPE)
def _route_scope(args: ResourceValidationArgs, report: Report) -> None:
    what = describe(args.resource_type, args.props, args.name)
    for listener in _listeners(args.props):
        name = listener.get("name")
        allowed = mapping(listener.get("allowedRoutes"))
        namespaces = mapping(allowed.get("namespaces"))
        source = namespaces.get("from") or "Same"
        if source == "All":
            report(f"{what} listener '{name}' accepts routes from every namespace")
        elif source == "Selector":
            selector = mapping(namespaces.get("selector"))
            if not mapping(selector.get("matchLabels")) and not sequence(selector.get("matchExpressions")):
                report(f"{what} listener '{name}' selects namespaces with an empty selector")
            if not sequence(allowed.get("kinds")):
                report(f"{what} listener '{name}' does not pin the route kinds it accepts")
        elif source != "Same":
            report(f"{what} listener '{name}' accepts routes from '{source}'")


gateway_listener_route_scope = ResourceValidationPolicy(
    name="gateway-listener-route-scope",
    description="Gateway listeners accept routes only from their own namespace or from namespaces selected by "
    "label, with the route kinds pinned; never from every namespace.",
    validate=_route_scope,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name=GATEWAY_API, reference="security model: allowedRoutes"),
)


# --- how routes attach -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gateway:
    """A Gateway of the stack, as far as route rules need it."""

    namespace: str
    name: str
    protocols: dict[str, str]  # listener name -> protocol
    tls_hosts: dict[str, str | None]  # TLS-terminating listener name -> its hostname
    internal: bool = False  # its proxies' Service is a ClusterIP: no client outside the cluster reaches it


# Envoy Gateway v1.9.0 api/v1alpha1/shared_types.go KubernetesServiceSpec `type`: LoadBalancer by default,
# "ClusterIP means a service will only be accessible inside the cluster, via the cluster IP".
INTERNAL_SERVICE_TYPES = ("ClusterIP",)


def _internal(gateway: Mapping[str, Any], proxies: Mapping[tuple[str, str], Mapping[str, Any]]) -> bool:
    """Whether the EnvoyProxy the Gateway names (`infrastructure.parametersRef`, in its namespace: Envoy
    Gateway v1.9.0 internal/gatewayapi/contexts.go attachEnvoyProxy) puts its proxies behind a ClusterIP.
    Any other Gateway, one naming no EnvoyProxy of the stack included, is taken as exposed."""
    ref = mapping(mapping(object_spec(gateway).get("infrastructure")).get("parametersRef"))
    if ref.get("kind") != "EnvoyProxy" or ref.get("group") != "gateway.envoyproxy.io":
        return False
    proxy = proxies.get((object_namespace(gateway), str(ref.get("name") or "")))
    if proxy is None:
        return False
    kubernetes = mapping(mapping(object_spec(proxy).get("provider")).get("kubernetes"))
    return mapping(kubernetes.get("envoyService")).get("type") in INTERNAL_SERVICE_TYPES


def managed_gateways(resources: Iterable[PolicyResource]) -> dict[tuple[str, str], Gateway]:
    """The stack's Gateways by (namespace, name)."""
    resources = list(resources)
    proxies = {
        (object_namespace(r.props), object_name(r.props)): r.props
        for r in resources
        if r.resource_type == ENVOY_PROXY_TYPE
    }
    found: dict[tuple[str, str], Gateway] = {}
    for r in resources:
        if r.resource_type != GATEWAY_TYPE:
            continue
        listeners = _listeners(r.props)
        key = (object_namespace(r.props), object_name(r.props))
        found[key] = Gateway(
            key[0],
            key[1],
            {str(ln.get("name")): str(ln.get("protocol")) for ln in listeners},
            {
                str(ln.get("name")): (str(ln["hostname"]) if ln.get("hostname") else None)
                for ln in listeners
                if ln.get("protocol") == "HTTPS" and _terminates_tls(ln)
            },
            _internal(r.props, proxies),
        )
    return found


@dataclass(frozen=True)
class Attachment:
    """A route's parentRef to a Gateway (to one listener of it when `section` is set)."""

    gateway: Gateway | None  # None: a Gateway this stack does not manage
    namespace: str
    name: str
    section: str | None


def route_attachments(route: Mapping[str, Any], gateways: dict[tuple[str, str], Gateway]) -> list[Attachment]:
    """The Gateways a route attaches to (parentRefs of other kinds skipped)."""
    found = []
    for ref in (mapping(p) for p in sequence(object_spec(route).get("parentRefs"))):
        if (ref.get("kind") or "Gateway") != "Gateway" or (ref.get("group") or GATEWAY_GROUP) != GATEWAY_GROUP:
            continue
        namespace = str(ref.get("namespace") or object_namespace(route))
        name = str(ref.get("name") or "")
        section = ref.get("sectionName")
        found.append(Attachment(gateways.get((namespace, name)), namespace, name, str(section) if section else None))
    return found


def on_https(attachment: Attachment) -> bool:
    """Whether the route is served over HTTPS there; through a Gateway the stack does not manage, assumed so."""
    gateway = attachment.gateway
    if gateway is None:
        return True  # unknown Gateway: assume the worst
    if attachment.section is not None:
        return gateway.protocols.get(attachment.section) == "HTTPS"
    return "HTTPS" in gateway.protocols.values()


def http_routes(resources: Iterable[PolicyResource]) -> list[PolicyResource]:
    """The stack's HTTPRoutes, by URN (reports come in a stable order)."""
    return sorted((r for r in resources if r.resource_type == HTTP_ROUTE_TYPE), key=lambda r: r.urn)


POLICIES = [gateway_https_listeners_tls, gateway_listener_route_scope]
