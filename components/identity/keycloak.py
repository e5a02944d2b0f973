"""Keycloak for the tenants: the server (through its operator), its public route and the realm import."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .. import config, endpoints, meta
from .common import COMPONENT, Home, http_route, password, secret
from .databases import PORT, Database
from .realm import CLIENT_SECRETS, GOOGLE_SECRET_KEY, m2m_clients, placeholders, realm

NAME = endpoints.KEYCLOAK_NAME  # the operator names the Service `<name>-service`
SERVICE = f"{NAME}-service"
# Public paths of the realm only: not /admin, and not the master realm's login.
PUBLIC_PREFIXES = ("/resources/", "/.well-known/")


def keycloak_spec(stack: config.StackConfig, db: Database) -> dict[str, Any]:
    return {
        "instances": 2 if stack.is_production else 1,
        "db": {
            "vendor": "postgres",
            "host": db.host,
            "port": PORT,
            "database": db.database,
            "usernameSecret": {"name": db.credentials, "key": "username"},
            "passwordSecret": {"name": db.credentials, "key": "password"},
        },
        "http": {"httpEnabled": True},  # TLS ends at the gateway
        "hostname": {"hostname": endpoints.https(stack, stack.identity.hosts.keycloak)},
        "proxy": {"headers": "xforwarded"},  # TLS ends at Envoy, which sets X-Forwarded-Proto and -For
        "ingress": {"enabled": False},  # the HTTPRoute below instead
    }


def public_prefixes(stack: config.StackConfig) -> tuple[str, ...]:
    return (f"/realms/{stack.identity.realm}/", *PUBLIC_PREFIXES)


def keycloak(
    stack: config.StackConfig,
    home: Home,
    db: Database,
    opts: pulumi.ResourceOptions,
    crd_opts: pulumi.ResourceOptions,
    route_opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    server = k8s.apiextensions.CustomResource(
        f"{home.name}-{NAME}",
        api_version="k8s.keycloak.org/v2alpha1",
        kind="Keycloak",
        metadata=meta.object_meta(NAME, COMPONENT, home.ref),
        spec=keycloak_spec(stack, db),
        opts=crd_opts,
    )
    host = stack.host(stack.identity.hosts.keycloak)
    http_route(home, NAME, host, (SERVICE, endpoints.KEYCLOAK_HTTP_PORT), route_opts, public_prefixes(stack))
    realm_import(stack, home, server, opts, crd_opts)
    return server


def realm_import(
    stack: config.StackConfig,
    home: Home,
    server: k8s.apiextensions.CustomResource,
    opts: pulumi.ResourceOptions,
    crd_opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """Create-only: Keycloak imports the realm once; later changes here do not reach an existing realm."""
    data: dict[str, pulumi.Input[str]] = {name: password(f"keycloak-m2m-{name}", opts) for name in m2m_clients(stack)}
    if stack.identity.connectors.google:
        data[GOOGLE_SECRET_KEY] = config.secret("googleClientSecret")
    secrets = secret(home, CLIENT_SECRETS, data, opts)
    return k8s.apiextensions.CustomResource(
        f"{home.name}-realm-{stack.identity.realm}",
        api_version="k8s.keycloak.org/v2alpha1",
        kind="KeycloakRealmImport",
        metadata=meta.object_meta(stack.identity.realm, COMPONENT, home.ref),
        spec={"keycloakCRName": NAME, "realm": realm(stack), "placeholders": placeholders(stack)},
        opts=pulumi.ResourceOptions.merge(crd_opts, pulumi.ResourceOptions(depends_on=[server, secrets.resource])),
    )
