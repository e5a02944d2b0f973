"""What every module of the identity plane shares: its namespaces, labels and a few small builders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from .. import endpoints
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


# Pod Security `restricted` for the charts that let us say so.
POD_SECURITY = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
