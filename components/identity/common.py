"""What every module of the identity plane shares: its namespaces, labels and a few small builders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from .. import endpoints, meta
from ..charts import SecretData, stored_secret
from ..gateway.routes import http_route, path_prefixes, route_spec

COMPONENT = "identity"
CNPG_NAMESPACE = "cnpg-system"
IDENTITY_NAMESPACE = endpoints.DEX_NAMESPACE  # Authentik and Dex
KEYCLOAK_NAMESPACE = endpoints.KEYCLOAK_NAMESPACE  # the operator watches only its own namespace


@dataclass(frozen=True)
class Home:
    """A namespace by its (static) name, and the resource, so objects in it wait for it."""

    name: str
    namespace: k8s.core.v1.Namespace

    @property
    def ref(self) -> pulumi.Output[str]:
        return self.namespace.metadata.name


def password(name: str, opts: pulumi.ResourceOptions, length: int = 40) -> pulumi.Output[str]:
    """A generated credential: letters and digits only, so it survives Dex's `$VAR` expansion, YAML and URLs."""
    return pulumi.Output.secret(random.RandomPassword(name, length=length, special=False, opts=opts).result)


def kept(opts: pulumi.ResourceOptions, production: bool) -> pulumi.ResourceOptions:
    """For generated values that must never change once in use (keys, database passwords): protected in prod."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=production))


def secret(
    home: Home,
    name: str,
    data: dict[str, pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
    type_: str = "Opaque",
) -> SecretData:
    """A Secret in `home`, kept with its values so its consumers can roll when one changes (`secrets_checksum`)."""
    return stored_secret(f"{home.name}-{name}", name, COMPONENT, home.ref, data, opts, type_)


def env_from_secret(variable: str, secret_name: str, key: str) -> dict[str, Any]:
    return {"name": variable, "valueFrom": {"secretKeyRef": {"name": secret_name, "key": key}}}


def login_route(
    home: Home,
    name: str,
    host: str,
    backend: tuple[str, int],
    opts: pulumi.ResourceOptions,
    prefixes: tuple[str, ...] = ("/",),
) -> k8s.apiextensions.CustomResource:
    """A login host on the shared Gateway: public on purpose, it is where people sign in."""
    service, port = backend
    spec = route_spec(host, service, port, path_prefixes(*prefixes))
    return http_route(f"{home.name}-{name}-route", name, COMPONENT, home.ref, spec, opts, public=True)


def serving_certificate(
    home: Home, service: str, secret_name: str, opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    """A cert-manager Certificate for a Service's in-cluster names, from the stack's internal CA (on every
    stack), so the gateway can fetch signing keys over verified TLS. cert-manager writes `tls.crt`,
    `tls.key` and the signing CA as `ca.crt` (cert-manager v1.21.1 pkg/controller/certificaterequests/
    ca/ca.go), which the gateway's BackendTLSPolicy trusts: always the CA that signed what is served."""
    return meta.custom_resource(
        f"{home.name}-{secret_name}",
        "cert-manager.io/v1",
        "Certificate",
        meta.object_meta(secret_name, COMPONENT, home.ref),
        {
            "secretName": secret_name,
            "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": endpoints.INTERNAL_ISSUER},
            "dnsNames": [meta.service_host(service, home.name), f"{service}.{home.name}.svc", service],
            # PKCS#8: what both Keycloak's (Vert.x) and Dex's (Go) PEM loaders read for an EC key
            "privateKey": {"algorithm": "ECDSA", "size": 256, "encoding": "PKCS8", "rotationPolicy": "Always"},
        },
        opts,
    )


# Pod Security `restricted` for the charts that let us say so.
POD_SECURITY = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
