"""Authentication before every backend: every served route behind a SecurityPolicy that authenticates, external
authorization failing closed, and the identity headers auth filters forward stripped from client requests.

Anchors: Envoy Gateway v1.9.0 (the mirror's tag): SecurityPolicy (a policy targeting a route replaces the
Gateway's for that route unless it sets `mergeType`; a policy naming a route rule by `sectionName` applies to that
rule only and wins over the route's; a Gateway policy naming a listener wins over the Gateway-wide one:
site/content/en/latest/concepts/gateway_api_extensions/security-policy.md, Precedence), what each auth method
lets through (api/v1alpha1 jwt_types.go `optional`, `failOpen`; ext_auth_types.go `failOpen`;
api_key_auth_types.go `credentialRefs`), and ClientTrafficPolicy (`earlyRequestHeaders` run before every auth
filter; a listener's own policy wins over the Gateway-wide one: client-traffic-policy.md, Precedence; and
clienttrafficpolicy_types.go has no mergeType).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gatehouse_contract import PUBLIC_ROUTE_LABEL
from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._util import (
    CLIENT_TRAFFIC_POLICY_TYPE,
    GATEWAY_TYPE,
    SECURITY_POLICY_TYPE,
    Report,
    base_type,
    config_value,
    describe,
    for_types,
    labels,
    mapping,
    object_name,
    object_namespace,
    object_spec,
    sequence,
    string_list,
    strings,
    truthy,
)
from .gateways import http_routes, managed_gateways, on_https, route_attachments

AUTH_METHODS = ["extAuth", "jwt", "apiKeyAuth", "oidc", "basicAuth"]


def _targets(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    spec = object_spec(policy)
    refs = [mapping(t) for t in sequence(spec.get("targetRefs"))]
    if spec.get("targetRef"):
        refs.append(mapping(spec.get("targetRef")))
    return refs


def _target_sections(policy: Mapping[str, Any], kind: str, target: Mapping[str, Any]) -> list[str | None]:
    """How a policy (SecurityPolicy / ClientTrafficPolicy) in the same namespace targets this object: the
    sectionNames it names (a route rule, a Gateway listener), None for the whole object; [] when it does not."""
    if object_namespace(policy) != object_namespace(target):
        return []
    name = object_name(target)
    found: list[str | None] = [
        str(t["sectionName"]) if t.get("sectionName") else None
        for t in _targets(policy)
        if t.get("kind") == kind and t.get("name") == name
    ]
    labelled = labels(target)
    for selector in (mapping(s) for s in sequence(object_spec(policy).get("targetSelectors"))):
        wanted = mapping(selector.get("matchLabels"))
        if selector.get("kind") == kind and wanted and all(labelled.get(k) == v for k, v in wanted.items()):
            found.append(None)
    return found


def _selects(policy: Mapping[str, Any], kind: str, target: Mapping[str, Any]) -> bool:
    """Whether a policy in the same namespace targets this object (or a section of it)."""
    return bool(_target_sections(policy, kind, target))


def _weakened(policy: Mapping[str, Any], methods: list[str]) -> list[str]:
    """The auth methods a SecurityPolicy sets but does not enforce (Envoy Gateway v1.9.0 api/v1alpha1):
    `extAuth.failOpen` lets requests through when the auth service cannot answer (ext_auth_types.go);
    `jwt.optional` accepts a request without a token and `jwt.failOpen` one with a missing or invalid token
    (jwt_types.go); `apiKeyAuth` without `credentialRefs` checks against no key at all (api_key_auth_types.go)."""
    spec = object_spec(policy)
    found = []
    if "extAuth" in methods and mapping(spec.get("extAuth")).get("failOpen") is True:
        found.append("extAuth.failOpen")
    jwt = mapping(spec.get("jwt"))
    if "jwt" in methods and jwt:
        found += [f"jwt.{field}" for field in ("optional", "failOpen") if jwt.get(field) is True]
    api_key = mapping(spec.get("apiKeyAuth"))
    if "apiKeyAuth" in methods and api_key and not sequence(api_key.get("credentialRefs")):
        found.append("apiKeyAuth without credentialRefs")
    return found


def _enforced(policy: Mapping[str, Any], methods: list[str]) -> list[str]:
    """The auth methods a SecurityPolicy sets and enforces."""
    spec = object_spec(policy)
    weak = {w.split(".")[0].split(" ")[0] for w in _weakened(policy, methods)}
    return [m for m in methods if mapping(spec.get(m)) and m not in weak]


def _authenticates(policy: Mapping[str, Any], methods: list[str]) -> bool:
    return bool(_enforced(policy, methods))


def _merges(policy: Mapping[str, Any]) -> bool:
    """A route policy with `mergeType` is merged into its Gateway's (Envoy Gateway v1.9.0
    securitypolicy_types.go MergeType) instead of replacing it."""
    return bool(object_spec(policy).get("mergeType"))


def _redirect_only(route: Mapping[str, Any]) -> bool:
    """Every rule of the route redirects and none has a backend: nothing behind it to protect."""
    rules = [mapping(r) for r in sequence(object_spec(route).get("rules"))]
    return bool(rules) and all(
        not sequence(r.get("backendRefs"))
        and any(mapping(f).get("type") == "RequestRedirect" for f in sequence(r.get("filters")))
        for r in rules
    )


def listener_names(gateway: Mapping[str, Any]) -> list[str | None]:
    """The Gateway's listener names ([None]: a Gateway without listeners, as a whole)."""
    return [str(mapping(ln).get("name")) for ln in sequence(object_spec(gateway).get("listeners"))] or [None]


def by_precedence(
    candidates: list[Mapping[str, Any]], kind: str, target: Mapping[str, Any], section: str | None
) -> list[Mapping[str, Any]]:
    """The policies that apply to one section of a target (a route rule, a Gateway listener): those naming
    that section, else those targeting the whole object (Envoy Gateway v1.9.0 docs concepts/gateway_api_extensions
    security-policy.md and client-traffic-policy.md, Precedence: the section-specific policy wins; no merge)."""
    sections = [(p, _target_sections(p, kind, target)) for p in candidates]
    if section is not None:
        specific = [p for p, found in sections if section in found]
        if specific:
            return specific
    return [p for p, found in sections if None in found]


def _auth_required(args: StackValidationArgs, report: Report) -> None:
    methods = list(config_value(args, "authMethods", AUTH_METHODS))
    gateways = managed_gateways(args.resources)
    policies = [r.props for r in args.resources if base_type(r.resource_type) == SECURITY_POLICY_TYPE]
    gateway_objects = {
        (object_namespace(r.props), object_name(r.props)): r.props
        for r in args.resources
        if r.resource_type == GATEWAY_TYPE
    }

    def gateway_protects(attachment: Any) -> bool:
        """Every listener the route attaches to there has an authenticating policy (listener's, else Gateway's)."""
        gateway = gateway_objects.get((attachment.namespace, attachment.name))
        if gateway is None:
            return False
        listeners = [attachment.section] if attachment.section else listener_names(gateway)
        return all(
            any(_authenticates(p, methods) for p in by_precedence(policies, "Gateway", gateway, listener))
            for listener in listeners
        )

    def why_not(policy: Mapping[str, Any]) -> str:
        weak = _weakened(policy, methods)
        if weak:
            return f"authenticates only through {', '.join(weak)}, which let unauthenticated requests through"
        return f"uses none of {', '.join(methods)}"

    for route in http_routes(args.resources):
        if truthy(labels(route.props).get(PUBLIC_ROUTE_LABEL)) or _redirect_only(route.props):
            continue
        # served on any listener: HTTPS, and plain HTTP too (a route there is served unencrypted, not exempt)
        attachments = route_attachments(route.props, gateways)
        if not attachments:
            continue
        what = describe(route.resource_type, route.props, route.name)
        targeting = [p for p in policies if _selects(p, "HTTPRoute", route.props)]
        if not targeting:
            if not all(gateway_protects(a) for a in attachments):
                served = "over HTTPS" if all(on_https(a) for a in attachments) else "over plain HTTP"
                report(
                    f"{what} is served {served} without a SecurityPolicy using {', '.join(methods)}, and is not "
                    f'labelled {PUBLIC_ROUTE_LABEL}: "true"',
                    route.urn,
                )
            continue
        # Envoy Gateway: a SecurityPolicy targeting a rule (sectionName) wins over one targeting the route,
        # which replaces the Gateway's for that route (no merge, unless mergeType); each rule has its own.
        rules = [mapping(r) for r in sequence(object_spec(route.props).get("rules"))] or [{}]
        reported: set[str] = set()
        for index, rule in enumerate(rules, start=1):
            name = str(rule["name"]) if rule.get("name") else None
            own = by_precedence(targeting, "HTTPRoute", route.props, name)
            if not own:
                if not all(gateway_protects(a) for a in attachments):
                    label = f"'{name}'" if name else str(index)
                    report(
                        f"{what} rule {label} is covered by no SecurityPolicy: the policies targeting the route "
                        f"name other rules (sectionName), and the Gateway's does not use {', '.join(methods)}",
                        route.urn,
                    )
                continue
            for policy in own:
                key = object_name(policy)
                if key in reported or _authenticates(policy, methods):
                    continue
                merged = _merges(policy) and not _weakened(policy, methods)
                if merged and all(gateway_protects(a) for a in attachments):
                    continue
                reported.add(key)
                report(
                    f"{what} is targeted by {describe(SECURITY_POLICY_TYPE, policy, object_name(policy))}, "
                    f"which overrides the Gateway's SecurityPolicy but {why_not(policy)}",
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
    spec = object_spec(policy)
    ext = mapping(spec.get("extAuth"))
    headers = [*strings(ext.get("headersToBackend")), *strings(mapping(ext.get("http")).get("headersToBackend"))]
    for provider in (mapping(p) for p in sequence(mapping(spec.get("jwt")).get("providers"))):
        headers += [str(mapping(c).get("header")) for c in sequence(provider.get("claimToHeaders"))]
    for method, field in (("apiKeyAuth", "forwardClientIDHeader"), ("basicAuth", "forwardUsernameHeader")):
        value = mapping(spec.get(method)).get(field)
        if value:
            headers.append(str(value))
    return sorted({h.lower() for h in headers if h and h != "None"})


def _stripped(policy: Mapping[str, Any]) -> set[str]:
    early = mapping(mapping(object_spec(policy).get("headers")).get("earlyRequestHeaders"))
    return {h.lower() for h in strings(early.get("remove"))}


def _removed_by_route(route: Mapping[str, Any]) -> set[str]:
    """Request headers every rule of an HTTPRoute removes (its RequestHeaderModifier runs after every auth
    filter, so a header auth needed, such as a checked token, never reaches the backend)."""
    removed: list[set[str]] = []
    for rule in (mapping(r) for r in sequence(object_spec(route).get("rules"))):
        found: set[str] = set()
        for f in (mapping(f) for f in sequence(rule.get("filters"))):
            if f.get("type") == "RequestHeaderModifier":
                found |= {h.lower() for h in strings(mapping(f.get("requestHeaderModifier")).get("remove"))}
        removed.append(found)
    return set.intersection(*removed) if removed else set()


def _kept_from_backend(policy: Mapping[str, Any], routes: list[Mapping[str, Any]]) -> set[str]:
    """Headers removed by every route the policy targets (none when it targets anything but routes)."""
    if not _targets(policy) or any(t.get("kind") != "HTTPRoute" for t in _targets(policy)):
        return set()
    targeted = [r for r in routes if _selects(policy, "HTTPRoute", r)]
    return set.intersection(*(_removed_by_route(r) for r in targeted)) if targeted else set()


def _headers_stripped(args: StackValidationArgs, report: Report) -> None:
    routes = [r.props for r in http_routes(args.resources)]
    traffic = [r.props for r in args.resources if r.resource_type == CLIENT_TRAFFIC_POLICY_TYPE]
    gateways = [r.props for r in args.resources if r.resource_type == GATEWAY_TYPE]
    if gateways:
        # per listener: the ClientTrafficPolicies naming it (sectionName) replace the Gateway-wide ones there
        edges: dict[str, set[str]] = {}
        for g in gateways:
            what = describe(GATEWAY_TYPE, g, object_name(g))
            for listener in listener_names(g):
                applied = by_precedence(traffic, "Gateway", g, listener)
                section_specific = listener is not None and any(
                    listener in _target_sections(t, "Gateway", g) for t in applied
                )
                key = f"{what} listener '{listener}'" if section_specific else what
                edges.setdefault(key, set()).update(*(_stripped(t) for t in applied))
    else:  # Gateways managed elsewhere: whatever any ClientTrafficPolicy strips for a Gateway
        edges = {
            "the Gateway": set().union(
                *(_stripped(t) for t in traffic if any(x.get("kind") == "Gateway" for x in _targets(t)))
            )
        }
    for r in sorted(args.resources, key=lambda r: r.urn):
        if base_type(r.resource_type) != SECURITY_POLICY_TYPE:
            continue
        kept_from_backend = _kept_from_backend(r.props, routes)
        for header in forwarded_headers(r.props):
            if header in kept_from_backend:
                continue
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
    "apiKeyAuth forwardClientIDHeader) is removed from client requests at the edge, before any auth filter, "
    "unless every route the policy protects removes it before the backend.",
    validate=_headers_stripped,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="Envoy Gateway", reference="ClientTrafficPolicy earlyRequestHeaders"),
)


@for_types(SECURITY_POLICY_TYPE)
def _fail_closed(args: ResourceValidationArgs, report: Report) -> None:
    if mapping(object_spec(args.props).get("extAuth")).get("failOpen") is True:
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


@for_types(SECURITY_POLICY_TYPE)
def _denies_by_default(args: ResourceValidationArgs, report: Report) -> None:
    authorization = mapping(object_spec(args.props).get("authorization"))
    if authorization and authorization.get("defaultAction", "Deny") != "Deny":
        report(
            f"{describe(args.resource_type, args.props, args.name)} sets authorization.defaultAction: "
            f"{authorization.get('defaultAction')}; a request no rule matches must be denied"
        )


securitypolicy_denies_by_default = ResourceValidationPolicy(
    name="securitypolicy-denies-by-default",
    description="Authorization denies what no rule allows: a SecurityPolicy's authorization.defaultAction is Deny "
    "(Envoy Gateway's default when unset).",
    validate=_denies_by_default,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="Envoy Gateway", reference="SecurityPolicy authorization.defaultAction"),
)


IDENTITY_METHODS = ("extAuth", "oidc", "jwt")  # who someone is; an API key or password is itself the grant


@for_types(SECURITY_POLICY_TYPE)
def _names_who_enters(args: ResourceValidationArgs, report: Report) -> None:
    spec = object_spec(args.props)
    methods = [m for m in IDENTITY_METHODS if spec.get(m)]
    if methods and not sequence(mapping(spec.get("authorization")).get("rules")):
        report(
            f"{describe(args.resource_type, args.props, args.name)} authenticates ({', '.join(methods)}) but has "
            "no authorization rules: anyone the identity provider accepts would enter"
        )


securitypolicy_names_who_enters = ResourceValidationPolicy(
    name="securitypolicy-names-who-enters",
    description="A SecurityPolicy that signs people in or checks tokens (extAuth, oidc, jwt) says who may enter: "
    "authorization rules, so being authenticated alone admits nobody (what no rule allows is denied).",
    validate=_names_who_enters,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="Envoy Gateway", reference="SecurityPolicy authorization.rules"),
)


POLICIES = [
    httproute_auth_required,
    edge_strips_identity_headers,
    securitypolicy_fail_closed,
    securitypolicy_denies_by_default,
    securitypolicy_names_who_enters,
]
