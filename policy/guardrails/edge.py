"""The edge on every Gateway: each listener of each Gateway, public or internal, is covered by a
ClientTrafficPolicy that normalises paths and keeps a request id, as the public one's always was.

A second Gateway gets proxies of its own (Envoy Gateway v1.9.0 internal/gatewayapi/translator.go buildIR: one
infrastructure per Gateway), which a ClientTrafficPolicy of the first does not reach: without its own, its
requests keep escaped slashes and get no request id. Which headers it removes early is
edge-strips-identity-headers' concern (authentication.py).

Anchors: Envoy Gateway v1.9.0 api/v1alpha1/pathsettings_types.go (`escapedSlashesAction` KeepUnchanged
forwards `%2F` as is, so authorization and the backend read different paths; `disableMergeSlashes`),
clienttrafficpolicy_types.go (`requestID`: Preserve generates none, Disable neither preserves nor generates;
unset is Generate), client-traffic-policy.md Precedence (a listener's own policy wins over the Gateway's).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyComplianceFramework, Severity, StackValidationArgs, StackValidationPolicy

from ._util import CLIENT_TRAFFIC_POLICY_TYPE, GATEWAY_TYPE, Report, describe, mapping, object_name, object_spec
from .authentication import by_precedence, listener_names

# Values that leave a path or a request unnormalised, or a request without an id (X-Correlation-Id is it).
UNSAFE_ESCAPED_SLASHES = ("KeepUnchanged",)
UNSAFE_REQUEST_ID = ("Preserve", "Disable")


def _gaps(policy: Mapping[str, Any]) -> list[str]:
    """What a ClientTrafficPolicy leaves out of the edge's hygiene."""
    spec = object_spec(policy)
    path, headers = mapping(spec.get("path")), mapping(spec.get("headers"))
    found = []
    if path.get("escapedSlashesAction") in UNSAFE_ESCAPED_SLASHES:
        found.append(f"path.escapedSlashesAction: {path.get('escapedSlashesAction')}")
    if path.get("disableMergeSlashes") is True:
        found.append("path.disableMergeSlashes: true")
    if headers.get("requestID") in UNSAFE_REQUEST_ID:
        found.append(f"headers.requestID: {headers.get('requestID')}")
    return found


def _edge_on_every_gateway(args: StackValidationArgs, report: Report) -> None:
    traffic = [r.props for r in args.resources if r.resource_type == CLIENT_TRAFFIC_POLICY_TYPE]
    for gateway in sorted((r for r in args.resources if r.resource_type == GATEWAY_TYPE), key=lambda r: r.urn):
        what = describe(GATEWAY_TYPE, gateway.props, gateway.name)
        for listener in listener_names(gateway.props):
            at = f"{what} listener '{listener}'" if listener else what
            applied = by_precedence(traffic, "Gateway", gateway.props, listener)
            if not applied:
                report(f"{at} is covered by no ClientTrafficPolicy: paths are not normalised", gateway.urn)
            for policy in applied:
                gaps = _gaps(policy)
                if gaps:
                    named = describe(CLIENT_TRAFFIC_POLICY_TYPE, policy, object_name(policy))
                    report(f"{at}: {named} sets {', '.join(gaps)}", gateway.urn)


gateway_edge_client_traffic = StackValidationPolicy(
    name="gateway-edge-client-traffic",
    description="Every listener of every Gateway is covered by a ClientTrafficPolicy (its own, else the Gateway's) "
    "that normalises paths (escaped slashes not kept, slashes merged) and keeps a request id.",
    validate=_edge_on_every_gateway,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="Envoy Gateway", reference="ClientTrafficPolicy path and requestID"),
)


POLICIES = [gateway_edge_client_traffic]
