"""The edge: TLS on every HTTPS listener, routes with owned hostnames, authentication before every backend,
identity headers stripped from clients, DNS and a certificate for every host.

Anchors: the Gateway API security model (routes own no hostnames by themselves; a route without
hostnames takes every host of its listener), Capsule ingressOptions / gatewayOptions, Kyverno
restrict-ingress-wildcard, unique-ingress-host-and-path and require-ingress-https, Envoy Gateway's
SecurityPolicy and ClientTrafficPolicy (`earlyRequestHeaders` run before every auth filter).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gatehouse_contract import HTTP_LISTENER, PUBLIC_ROUTE_LABEL
from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._util import (
    CLIENT_TRAFFIC_POLICY_TYPE,
    DNS_RECORD_TYPE,
    GATEWAY_TYPE,
    HTTP_ROUTE_TYPE,
    SECURITY_POLICY_TYPE,
    Report,
    base_type,
    config_value,
    describe,
    for_types,
    host_in_domains,
    is_patch,
    labels,
    mapping,
    object_name,
    object_namespace,
    sequence,
    string_list,
    tls_covers,
    truthy,
)

GATEWAY_API = "Gateway API"
GATEWAY_GROUP = "gateway.networking.k8s.io"
AUTH_METHODS = ["extAuth", "jwt", "apiKeyAuth", "oidc", "basicAuth"]
REDIRECT_LISTENERS = [HTTP_LISTENER]
DNS_RECORD_TYPES = (DNS_RECORD_TYPE, "cloudflare:index/record:Record")

DOMAINS_SCHEMA = string_list(
    [], description="DNS zones public hosts must be inside (set per stack; empty means no restriction)."
)


def _spec(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(props.get("spec"))


def _strings(value: Any) -> list[str]:
    return [str(v) for v in sequence(value)]


# --- Gateways --------------------------------------------------------------------------------------------


def _listeners(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [mapping(listener) for listener in sequence(_spec(props).get("listeners"))]


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


# --- routes ----------------------------------------------------------------------------------------------


def _is_redirect_only(props: Mapping[str, Any], listeners: list[str]) -> bool:
    """Attached only to redirect listeners, and every rule redirects (no backend)."""
    spec = _spec(props)
    parents = [mapping(p) for p in sequence(spec.get("parentRefs"))]
    rules = [mapping(r) for r in sequence(spec.get("rules"))]
    return (
        bool(parents)
        and all(p.get("sectionName") in listeners for p in parents)
        and bool(rules)
        and all(
            not sequence(r.get("backendRefs"))
            and any(mapping(f).get("type") == "RequestRedirect" for f in sequence(r.get("filters")))
            for r in rules
        )
    )


@for_types(HTTP_ROUTE_TYPE)
def _hostnames(args: ResourceValidationArgs, report: Report) -> None:
    what = describe(args.resource_type, args.props, args.name)
    hosts = _strings(_spec(args.props).get("hostnames"))
    if not hosts:
        if is_patch(args.resource_type):
            return  # the patch keeps the hostnames it does not name
        if not _is_redirect_only(args.props, config_value(args, "redirectListeners", REDIRECT_LISTENERS)):
            report(f"{what} declares no hostnames, so it takes every host of its listener")
        return
    domains = config_value(args, "domains", [])
    for host in hosts:
        if "*" in host:
            report(f"{what} claims the wildcard hostname '{host}'")
        elif domains and not host_in_domains(host, domains):
            report(f"{what} hostname '{host}' is outside the allowed domains ({', '.join(domains)})")


httproute_hostnames = ResourceValidationPolicy(
    name="httproute-hostnames",
    description="Every HTTPRoute declares its hostnames: no wildcard, all inside the stack's domains (only a "
    "pure HTTP-to-HTTPS redirect on the plain listener may omit them).",
    validate=_hostnames,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="Kyverno", reference="restrict-ingress-wildcard; Capsule ingressOptions"),
    config_schema=PolicyConfigSchema(
        properties={
            "domains": DOMAINS_SCHEMA,
            "redirectListeners": string_list(REDIRECT_LISTENERS),
        }
    ),
)


@dataclass(frozen=True)
class _Gateway:
    namespace: str
    name: str
    protocols: dict[str, str]  # listener name -> protocol
    tls_hosts: dict[str, str | None]  # TLS-terminating listener name -> its hostname


def _gateways(resources: Iterable[PolicyResource]) -> dict[tuple[str, str], _Gateway]:
    found: dict[tuple[str, str], _Gateway] = {}
    for r in resources:
        if r.resource_type != GATEWAY_TYPE:
            continue
        listeners = _listeners(r.props)
        key = (object_namespace(r.props), object_name(r.props))
        found[key] = _Gateway(
            key[0],
            key[1],
            {str(ln.get("name")): str(ln.get("protocol")) for ln in listeners},
            {
                str(ln.get("name")): (str(ln["hostname"]) if ln.get("hostname") else None)
                for ln in listeners
                if ln.get("protocol") == "HTTPS" and _terminates_tls(ln)
            },
        )
    return found


@dataclass(frozen=True)
class _Attachment:
    gateway: _Gateway | None  # None: a Gateway this stack does not manage
    namespace: str
    name: str
    section: str | None


def _attachments(route: Mapping[str, Any], gateways: dict[tuple[str, str], _Gateway]) -> list[_Attachment]:
    found = []
    for ref in (mapping(p) for p in sequence(_spec(route).get("parentRefs"))):
        if (ref.get("kind") or "Gateway") != "Gateway" or (ref.get("group") or GATEWAY_GROUP) != GATEWAY_GROUP:
            continue
        namespace = str(ref.get("namespace") or object_namespace(route))
        name = str(ref.get("name") or "")
        section = ref.get("sectionName")
        found.append(_Attachment(gateways.get((namespace, name)), namespace, name, str(section) if section else None))
    return found


def _on_https(attachment: _Attachment) -> bool:
    gateway = attachment.gateway
    if gateway is None:
        return True  # unknown Gateway: assume the worst
    if attachment.section is not None:
        return gateway.protocols.get(attachment.section) == "HTTPS"
    return "HTTPS" in gateway.protocols.values()


def _routes(resources: Iterable[PolicyResource]) -> list[PolicyResource]:
    return sorted((r for r in resources if r.resource_type == HTTP_ROUTE_TYPE), key=lambda r: r.urn)


def _claims(route: Mapping[str, Any]) -> set[tuple[str, str, str, str]]:
    """(host, path type, path, method) for every match of every rule (no match: PathPrefix /, any method)."""
    hosts = [h.lower() for h in _strings(_spec(route).get("hostnames"))]
    claims: set[tuple[str, str, str, str]] = set()
    for rule in (mapping(r) for r in sequence(_spec(route).get("rules"))):
        matches = [mapping(m) for m in sequence(rule.get("matches"))] or [{}]
        for match in matches:
            path = mapping(match.get("path"))
            for host in hosts:
                claims.add(
                    (
                        host,
                        str(path.get("type") or "PathPrefix"),
                        str(path.get("value") or "/"),
                        str(match.get("method") or "*"),
                    )
                )
    return claims


def _unique(args: StackValidationArgs, report: Report) -> None:
    # (host, path type, path) -> [(method, route)] of the routes seen so far
    seen: dict[tuple[str, str, str], list[tuple[str, PolicyResource]]] = {}
    for route in _routes(args.resources):
        claims = sorted(_claims(route.props))
        reported: set[tuple[str, str, str]] = set()
        for host, kind, path, method in claims:
            key = (host, kind, path)
            owner = next((r for m, r in seen.get(key, []) if method == m or "*" in (method, m)), None)
            if owner is not None and key not in reported:
                reported.add(key)
                report(
                    f"{describe(route.resource_type, route.props, route.name)} claims {host} {kind} {path}, "
                    f"already routed by {describe(owner.resource_type, owner.props, owner.name)}",
                    route.urn,
                )
        for host, kind, path, method in claims:
            seen.setdefault((host, kind, path), []).append((method, route))


httproute_unique_host_path = StackValidationPolicy(
    name="httproute-unique-host-path",
    description="No two HTTPRoutes claim the same hostname and path: a second route could take traffic, and "
    "escape the authentication, of the first.",
    validate=_unique,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="Kyverno", reference="unique-ingress-host-and-path"),
)


# --- authentication and identity headers ------------------------------------------------------------------


def _targets(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    spec = _spec(policy)
    refs = [mapping(t) for t in sequence(spec.get("targetRefs"))]
    if spec.get("targetRef"):
        refs.append(mapping(spec.get("targetRef")))
    return refs


def _selects(policy: Mapping[str, Any], kind: str, target: Mapping[str, Any]) -> bool:
    """Whether a policy (SecurityPolicy / ClientTrafficPolicy) in the same namespace targets this object."""
    if object_namespace(policy) != object_namespace(target):
        return False
    name = object_name(target)
    if any(t.get("kind") == kind and t.get("name") == name for t in _targets(policy)):
        return True
    found = labels(target)
    for selector in (mapping(s) for s in sequence(_spec(policy).get("targetSelectors"))):
        wanted = mapping(selector.get("matchLabels"))
        if selector.get("kind") == kind and wanted and all(found.get(k) == v for k, v in wanted.items()):
            return True
    return False


def _authenticates(policy: Mapping[str, Any], methods: list[str]) -> bool:
    return any(mapping(_spec(policy).get(method)) for method in methods)


def _auth_required(args: StackValidationArgs, report: Report) -> None:
    methods = list(config_value(args, "authMethods", AUTH_METHODS))
    gateways = _gateways(args.resources)
    policies = [r.props for r in args.resources if base_type(r.resource_type) == SECURITY_POLICY_TYPE]
    gateway_objects = {
        (object_namespace(r.props), object_name(r.props)): r.props
        for r in args.resources
        if r.resource_type == GATEWAY_TYPE
    }
    for route in _routes(args.resources):
        if truthy(labels(route.props).get(PUBLIC_ROUTE_LABEL)):
            continue
        https = [a for a in _attachments(route.props, gateways) if _on_https(a)]
        if not https:
            continue
        what = describe(route.resource_type, route.props, route.name)
        # Envoy Gateway: a SecurityPolicy targeting the route replaces the Gateway's for that route (no merge),
        # so then the route's own policies decide; the Gateway's counts only for routes nobody targets.
        own = [p for p in policies if _selects(p, "HTTPRoute", route.props)]
        if own:
            for policy in own:
                if not _authenticates(policy, methods):
                    report(
                        f"{what} is targeted by {describe(SECURITY_POLICY_TYPE, policy, object_name(policy))}, "
                        f"which overrides the Gateway's SecurityPolicy but uses none of {', '.join(methods)}",
                        route.urn,
                    )
            continue
        protected = False
        for attachment in https:
            gateway = gateway_objects.get((attachment.namespace, attachment.name))
            if gateway is not None and any(
                _selects(p, "Gateway", gateway) and _authenticates(p, methods) for p in policies
            ):
                protected = True
        if not protected:
            report(
                f"{what} is served over HTTPS without a SecurityPolicy using {', '.join(methods)}, and is not "
                f'labelled {PUBLIC_ROUTE_LABEL}: "true"',
                route.urn,
            )


httproute_auth_required = StackValidationPolicy(
    name="httproute-auth-required",
    description="Every HTTPRoute on an HTTPS listener is protected by a SecurityPolicy with extAuth (SSO), jwt, "
    "apiKeyAuth, oidc or basicAuth: every policy targeting the route has one (it overrides the Gateway's), or none "
    'targets it and the Gateway\'s has one; unless it is deliberately labelled gatehouse.dev/public-route: "true".',
    validate=_auth_required,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="Envoy Gateway", reference="SecurityPolicy"),
    config_schema=PolicyConfigSchema(properties={"authMethods": string_list(AUTH_METHODS)}),
)


def forwarded_headers(policy: Mapping[str, Any]) -> list[str]:
    """Headers a SecurityPolicy sets on requests to the backend: the identity a backend will trust."""
    spec = _spec(policy)
    ext = mapping(spec.get("extAuth"))
    headers = [*_strings(ext.get("headersToBackend")), *_strings(mapping(ext.get("http")).get("headersToBackend"))]
    for provider in (mapping(p) for p in sequence(mapping(spec.get("jwt")).get("providers"))):
        headers += [str(mapping(c).get("header")) for c in sequence(provider.get("claimToHeaders"))]
    for method, field in (("apiKeyAuth", "forwardClientIDHeader"), ("basicAuth", "forwardUsernameHeader")):
        value = mapping(spec.get(method)).get(field)
        if value:
            headers.append(str(value))
    return sorted({h.lower() for h in headers if h and h != "None"})


def _stripped(policy: Mapping[str, Any]) -> set[str]:
    early = mapping(mapping(_spec(policy).get("headers")).get("earlyRequestHeaders"))
    return {h.lower() for h in _strings(early.get("remove"))}


def _headers_stripped(args: StackValidationArgs, report: Report) -> None:
    traffic = [r.props for r in args.resources if r.resource_type == CLIENT_TRAFFIC_POLICY_TYPE]
    gateways = [r.props for r in args.resources if r.resource_type == GATEWAY_TYPE]
    if gateways:
        edges = {
            describe(GATEWAY_TYPE, g, object_name(g)): set().union(
                *(_stripped(t) for t in traffic if _selects(t, "Gateway", g))
            )
            for g in gateways
        }
    else:  # Gateways managed elsewhere: whatever any ClientTrafficPolicy strips for a Gateway
        edges = {
            "the Gateway": set().union(
                *(_stripped(t) for t in traffic if any(x.get("kind") == "Gateway" for x in _targets(t)))
            )
        }
    for r in sorted(args.resources, key=lambda r: r.urn):
        if base_type(r.resource_type) != SECURITY_POLICY_TYPE:
            continue
        for header in forwarded_headers(r.props):
            for gateway, stripped in sorted(edges.items()):
                if header not in stripped:
                    report(
                        f"{describe(r.resource_type, r.props, r.name)} forwards '{header}' to the backend, but no "
                        f"ClientTrafficPolicy of {gateway} removes it from client requests "
                        "(headers.earlyRequestHeaders.remove)",
                        r.urn,
                    )


edge_strips_identity_headers = StackValidationPolicy(
    name="edge-strips-identity-headers",
    description="Every header an auth filter forwards to backends (extAuth headersToBackend, jwt claimToHeaders, "
    "apiKeyAuth forwardClientIDHeader) is removed from client requests at the edge, before any auth filter.",
    validate=_headers_stripped,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="Envoy Gateway", reference="ClientTrafficPolicy earlyRequestHeaders"),
)


# --- DNS and certificates ------------------------------------------------------------------------------------


def _dns_and_tls(args: StackValidationArgs, report: Report) -> None:
    records = {
        str(r.props.get("name") or "").lower().rstrip(".")
        for r in args.resources
        if r.resource_type in DNS_RECORD_TYPES
    }
    # domains that resolve without a record of the stack's (localtest.me: every name is 127.0.0.1)
    resolved = [d.lower() for d in config_value(args, "resolvedDomains", [])]
    gateways = _gateways(args.resources)
    for route in _routes(args.resources):
        https = [a for a in _attachments(route.props, gateways) if _on_https(a)]
        if not https:
            continue
        what = describe(route.resource_type, route.props, route.name)
        for host in sorted({h.lower() for h in _strings(_spec(route.props).get("hostnames"))}):
            if host not in records and not any(host == d or host.endswith(f".{d}") for d in resolved):
                report(f"{what} hostname '{host}' has no Cloudflare DNS record", route.urn)
            for attachment in https:
                gateway = attachment.gateway
                if gateway is None:
                    continue
                names = [attachment.section] if attachment.section else list(gateway.tls_hosts)
                patterns = [gateway.tls_hosts.get(n) for n in names if n in gateway.tls_hosts]
                if not any(p and tls_covers(host, p) for p in patterns):
                    report(
                        f"{what} hostname '{host}' is not covered by a TLS listener hostname of Gateway "
                        f"'{gateway.namespace}/{gateway.name}'",
                        route.urn,
                    )


route_host_dns_and_tls = StackValidationPolicy(
    name="route-host-dns-and-tls",
    description="Every hostname served over HTTPS has a Cloudflare DNS record (unless its domain resolves by "
    "itself) and is covered by the certificate of a TLS-terminating listener of its Gateway.",
    validate=_dns_and_tls,
    config_schema=PolicyConfigSchema(
        properties={
            "resolvedDomains": string_list(
                [], "Domains whose names resolve without a DNS record of the stack's, such as localtest.me."
            )
        }
    ),
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name=GATEWAY_API, reference="Listener hostname and TLS"),
)


@for_types(SECURITY_POLICY_TYPE)
def _fail_closed(args: ResourceValidationArgs, report: Report) -> None:
    if mapping(_spec(args.props).get("extAuth")).get("failOpen") is True:
        report(
            f"{describe(args.resource_type, args.props, args.name)} sets extAuth.failOpen: true; requests would "
            "pass unauthenticated whenever the auth service is down"
        )


securitypolicy_fail_closed = ResourceValidationPolicy(
    name="securitypolicy-fail-closed",
    description="External authorization fails closed: extAuth.failOpen is never true.",
    validate=_fail_closed,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="Envoy Gateway", reference="SecurityPolicy extAuth.failOpen"),
)


@for_types(*DNS_RECORD_TYPES)
def _dns_zone(args: ResourceValidationArgs, report: Report) -> None:
    domains = config_value(args, "domains", [])
    name = str(args.props.get("name") or "")
    if domains and not host_in_domains(name, domains):
        report(f"DNS record '{args.name}' ({name}) is outside the allowed domains ({', '.join(domains)})")


dns_record_in_allowed_zone = ResourceValidationPolicy(
    name="dns-record-in-allowed-zone",
    description="Every Cloudflare DNS record Gatehouse writes is inside the stack's domains.",
    validate=_dns_zone,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name=GATEWAY_API, reference="cloudflare-tunnel-gateway-controller #476"),
    config_schema=PolicyConfigSchema(properties={"domains": DOMAINS_SCHEMA}),
)

POLICIES = [
    gateway_https_listeners_tls,
    gateway_listener_route_scope,
    httproute_hostnames,
    httproute_unique_host_path,
    httproute_auth_required,
    edge_strips_identity_headers,
    route_host_dns_and_tls,
    securitypolicy_fail_closed,
    dns_record_in_allowed_zone,
]
