"""Route hostnames: every HTTPRoute names its own hosts (no wildcard, inside the stack's domains, no two routes
claiming the same host and path), every host served over HTTPS has a certificate and, unless only internal
Gateways serve it, a DNS record; an internal host has no public one.

Anchors: the Gateway API security model (routes own no hostnames by themselves; a route without hostnames
takes every host of its listener), Capsule ingressOptions / gatewayOptions, Kyverno restrict-ingress-wildcard
and unique-ingress-host-and-path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gatehouse_contract import HTTP_LISTENER
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
    DNS_RECORD_TYPE,
    HTTP_ROUTE_TYPE,
    Report,
    config_value,
    describe,
    for_types,
    host_in_domains,
    is_patch,
    mapping,
    object_spec,
    sequence,
    string_list,
    strings,
    tls_covers,
)
from .gateways import GATEWAY_API, Attachment, http_routes, managed_gateways, on_https, route_attachments

REDIRECT_LISTENERS = [HTTP_LISTENER]
DNS_RECORD_TYPES = (DNS_RECORD_TYPE, "cloudflare:index/record:Record")

DOMAINS_SCHEMA = string_list(
    [], description="DNS zones public hosts must be inside (set per stack; empty means no restriction)."
)


def _is_redirect_only(props: Mapping[str, Any], listeners: list[str]) -> bool:
    """Attached only to redirect listeners, and every rule redirects (no backend)."""
    spec = object_spec(props)
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
    hosts = strings(object_spec(args.props).get("hostnames"))
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


def _claims(route: Mapping[str, Any]) -> set[tuple[str, str, str, str]]:
    """(host, path type, path, method) for every match of every rule (no match: PathPrefix /, any method)."""
    hosts = [h.lower() for h in strings(object_spec(route).get("hostnames"))]
    claims: set[tuple[str, str, str, str]] = set()
    for rule in (mapping(r) for r in sequence(object_spec(route).get("rules"))):
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
    for route in http_routes(args.resources):
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


# --- DNS and certificates ------------------------------------------------------------------------------------


def _dns_names(args: StackValidationArgs) -> set[str]:
    return {
        str(r.props.get("name") or "").lower().rstrip(".")
        for r in args.resources
        if r.resource_type in DNS_RECORD_TYPES
    }


def _internal_only(attachments: list[Attachment]) -> bool:
    """Served by internal Gateways alone (a Gateway the stack does not manage is taken as exposed)."""
    return bool(attachments) and all(a.gateway is not None and a.gateway.internal for a in attachments)


def _dns_and_tls(args: StackValidationArgs, report: Report) -> None:
    records = _dns_names(args)
    # domains that resolve without a record of the stack's (localtest.me: every name is 127.0.0.1)
    resolved = [d.lower() for d in config_value(args, "resolvedDomains", [])]
    gateways = managed_gateways(args.resources)
    for route in http_routes(args.resources):
        https = [a for a in route_attachments(route.props, gateways) if on_https(a)]
        if not https:
            continue
        what = describe(route.resource_type, route.props, route.name)
        # an internal Gateway's hosts resolve inside the cluster only (internal_hosts_unpublished)
        needs_record = not _internal_only(https)
        for host in sorted({h.lower() for h in strings(object_spec(route.props).get("hostnames"))}):
            resolves = any(host == d or host.endswith(f".{d}") for d in resolved)
            if needs_record and host not in records and not resolves:
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
    "itself, or only internal Gateways serve it) and is covered by the certificate of a TLS-terminating listener "
    "of its Gateway.",
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


def _unpublished(args: StackValidationArgs, report: Report) -> None:
    records = _dns_names(args)
    gateways = managed_gateways(args.resources)
    for route in http_routes(args.resources):
        if not _internal_only(route_attachments(route.props, gateways)):
            continue
        what = describe(route.resource_type, route.props, route.name)
        for host in sorted({h.lower() for h in strings(object_spec(route.props).get("hostnames"))} & records):
            report(
                f"{what} hostname '{host}' is served only by internal Gateways but has a public Cloudflare DNS record",
                route.urn,
            )


internal_hosts_unpublished = StackValidationPolicy(
    name="internal-hosts-unpublished",
    description="A hostname only internal Gateways serve (their proxies behind a ClusterIP) has no public "
    "Cloudflare DNS record: the internet learns no internal name, and no record points it at the public "
    "load balancer.",
    validate=_unpublished,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name=GATEWAY_API, reference="Gateway infrastructure; EnvoyProxy envoyService"),
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
    httproute_hostnames,
    httproute_unique_host_path,
    route_host_dns_and_tls,
    internal_hosts_unpublished,
    dns_record_in_allowed_zone,
]
