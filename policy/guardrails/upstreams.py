"""Upstreams outside the cluster: an Envoy Gateway Backend reaches a named host over verified TLS only.

A Backend sends the gateway's requests (with the identity headers the gateway sets, and whatever the
caller sent) wherever its endpoints say. An IP or Unix-socket endpoint can name the cloud's metadata
address, the API server or a node; a `DynamicResolver` Backend follows the request's own Host; without TLS,
or with `insecureSkipVerify`, anyone on the path reads and answers the traffic. Gatehouse's Backends
(components/gateway/upstreams.py) name one FQDN and verify its certificate against the system CAs.

Anchors: Envoy Gateway v1.9.0 api/v1alpha1/backend_types.go (endpoints fqdn/ip/unix, type DynamicResolver,
tls.wellKnownCACertificates, caCertificateRefs, insecureSkipVerify), internal/gatewayapi/backend.go
validateBackendTLSSettings; OWASP API10:2023 Unsafe Consumption of APIs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyComplianceFramework, ResourceValidationArgs, ResourceValidationPolicy, Severity

from ._util import Report, describe, for_types, mapping, object_spec, sequence

BACKEND_TYPE = "kubernetes:gateway.envoyproxy.io/v1alpha1:Backend"


def _gaps(spec: Mapping[str, Any]) -> list[str]:
    gaps = []
    if spec.get("type") == "DynamicResolver":
        gaps.append("type DynamicResolver (it follows the request's Host)")
    for i, endpoint in enumerate(mapping(e) for e in sequence(spec.get("endpoints"))):
        if "fqdn" not in endpoint:
            gaps.append(f"endpoints[{i}] is not an fqdn ({', '.join(sorted(endpoint)) or 'empty'})")
    tls = mapping(spec.get("tls"))
    if not tls:
        gaps.append("no tls")
    elif tls.get("insecureSkipVerify") is True:
        gaps.append("tls.insecureSkipVerify")
    elif not tls.get("wellKnownCACertificates") and not sequence(tls.get("caCertificateRefs")):
        gaps.append("tls without CA certificates")
    return gaps


@for_types(BACKEND_TYPE)
def _verified(args: ResourceValidationArgs, report: Report) -> None:
    if gaps := _gaps(object_spec(args.props)):
        report(f"{describe(args.resource_type, args.props, args.name)}: {'; '.join(gaps)}")


backend_verified_tls = ResourceValidationPolicy(
    name="backend-verified-tls",
    description="Every Envoy Gateway Backend names hosts (fqdn endpoints, never IPs, sockets or the request's "
    "own Host) and reaches them over TLS verified against CA certificates (never insecureSkipVerify).",
    validate=_verified,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="OWASP API Security", reference="API10:2023"),
)

POLICIES = [backend_verified_tls]
