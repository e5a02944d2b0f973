"""Services: traffic reaches tenants only through the gateway, never a LoadBalancer, NodePort or external IP.

Anchors: Kyverno restrict-loadbalancer, restrict-node-port, restrict-service-external-ips (CVE-2020-8554),
Capsule allowedServices, pulumi compliance-policies disallowLoadBalancer.
"""

from __future__ import annotations

from pulumi_policy import PolicyComplianceFramework, Severity, StackValidationArgs, StackValidationPolicy

from ._util import (
    SERVICE_TYPE,
    Report,
    base_type,
    describe,
    mapping,
    object_namespace,
    resource_objects,
    resource_tenant,
    sequence,
    tenant_namespaces,
)

EXPOSED_TYPES = ("LoadBalancer", "NodePort")


def _exposure(args: StackValidationArgs, report: Report) -> None:
    namespaces = tenant_namespaces(args.resources)
    for r in args.resources:
        if base_type(r.resource_type) != SERVICE_TYPE:  # ServicePatch and ServiceList too
            continue
        for props in resource_objects(r):
            tenant = namespaces.get(object_namespace(props))
            if tenant is None:
                tenant = resource_tenant(r)
            spec = mapping(props.get("spec"))
            what = describe(r.resource_type, props, r.name)
            if tenant is None:
                # CVE-2020-8554: whoever sets externalIPs takes over traffic to those addresses, cluster-wide;
                # no platform Service needs them either
                if sequence(spec.get("externalIPs")):
                    report(f"{what} sets externalIPs (CVE-2020-8554: it intercepts traffic to them)", r.urn)
                continue
            kind = spec.get("type")
            if kind in EXPOSED_TYPES:
                report(
                    f"{what} of tenant '{tenant}' is of type {kind}; tenants are reached only through the gateway",
                    r.urn,
                )
            if sequence(spec.get("externalIPs")):
                report(f"{what} of tenant '{tenant}' sets externalIPs", r.urn)


tenant_service_exposure = StackValidationPolicy(
    name="tenant-service-exposure",
    description="No Service in a tenant namespace is a LoadBalancer or NodePort, and no Service anywhere sets "
    "externalIPs (CVE-2020-8554).",
    validate=_exposure,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(
        name="Kyverno", reference="restrict-loadbalancer, restrict-node-port, restrict-service-external-ips"
    ),
)

POLICIES = [tenant_service_exposure]
