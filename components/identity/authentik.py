"""Authentik, the platform's user store: its chart on its CloudNativePG database, configured by blueprint.

Every credential is generated here and reaches the pods only through a Secret and `global.env`
`secretKeyRef`s: the chart values hold names of Secrets, never values. Server and worker pods carry a
digest of those values (`checksum/secrets`), so rotating one rolls both.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .. import meta
from ..charts import SECRETS_CHECKSUM, SecretData, helm_chart, resources, secret_refs, secrets_checksum
from ..gateway.routes import correlation_filters, gateway_parent_ref, public_route_labels
from .blueprint import DEX_SECRET_ENV, blueprint_yaml
from .common import (
    COMPONENT,
    CONTAINER_SECURITY,
    POD_SECURITY,
    Home,
    env_from_secret,
    kept,
    password,
    secret,
)
from .databases import PORT, Database
from .settings import IdentitySettings

RELEASE = "authentik"
CREDENTIALS = "authentik-credentials"
BLUEPRINTS = "authentik-blueprints"
CONNECTORS = "dex-connectors"  # shared with Dex: the secret of Dex's OAuth2 client in Authentik
AUTHENTIK_CLIENT_SECRET_KEY = "authentik-client-secret"


def environment(stack: IdentitySettings, db: Database) -> list[dict[str, Any]]:
    """Server and worker alike (`global.env`)."""
    return [
        env_from_secret("AUTHENTIK_SECRET_KEY", CREDENTIALS, "secret-key"),
        env_from_secret("AUTHENTIK_POSTGRESQL__PASSWORD", db.credentials, "password"),
        # read once, by the worker, on the very first start
        env_from_secret("AUTHENTIK_BOOTSTRAP_PASSWORD", CREDENTIALS, "bootstrap-password"),
        env_from_secret("AUTHENTIK_BOOTSTRAP_TOKEN", CREDENTIALS, "bootstrap-token"),
        {"name": "AUTHENTIK_BOOTSTRAP_EMAIL", "value": stack.identity.admin_email},
        # `!Env` in the blueprint
        env_from_secret(DEX_SECRET_ENV, CONNECTORS, AUTHENTIK_CLIENT_SECRET_KEY),
    ]


def authentik_values(stack: IdentitySettings, db: Database, secrets: list[SecretData]) -> dict[str, Any]:
    """`secrets`: the Secrets `global.env` reads, with their values."""
    production = stack.is_production
    env = environment(stack, db)
    pods = {
        "replicas": 2 if production else 1,
        "podAnnotations": {SECRETS_CHECKSUM: secrets_checksum(secret_refs(env), secrets)},
        "securityContext": POD_SECURITY,
        "containerSecurityContext": CONTAINER_SECURITY,
        "resources": resources("100m", "512Mi", "1Gi"),
    }
    return {
        "global": {"env": env},
        "authentik": {
            "error_reporting": {"enabled": False},
            "postgresql": {"host": db.host, "port": PORT, "name": db.database, "user": db.owner, "sslmode": "require"},
        },
        "postgresql": {"enabled": False},  # CloudNativePG instead: the bundled chart cannot upgrade majors in place
        "serviceAccount": {"create": False},  # only managed outposts need it, and it is cluster-wide
        "blueprints": {"configMaps": [BLUEPRINTS]},
        "server": {
            **pods,
            "route": {
                "main": {
                    "enabled": True,
                    "hostnames": [stack.host(stack.identity.hosts.authentik)],
                    "parentRefs": [gateway_parent_ref()],
                    "labels": public_route_labels(True),  # the login page itself
                    # goauthentik/helm 2026.8.0 charts/authentik/templates/server/route.yaml: the one rule's filters
                    "filters": correlation_filters(),
                }
            },
        },
        "worker": pods,
    }


def authentik(
    stack: IdentitySettings,
    home: Home,
    db: Database,
    connectors_secret: SecretData,
    opts: pulumi.ResourceOptions,
    chart_opts: pulumi.ResourceOptions,
) -> k8s.helm.v4.Chart:
    production = stack.is_production
    # Signs cookies and derives unique ids: created once, no keepers, protected in prod, never rotated.
    secret_key = password("authentik-secret-key", kept(opts, production), length=64)
    credentials = secret(
        home,
        CREDENTIALS,
        {
            "secret-key": secret_key,
            "bootstrap-password": password("authentik-bootstrap-password", opts),
            "bootstrap-token": password("authentik-bootstrap-token", opts, length=64),
        },
        opts,
    )
    blueprints = k8s.core.v1.ConfigMap(
        f"{home.name}-{BLUEPRINTS}",
        metadata=meta.object_meta(BLUEPRINTS, COMPONENT, home.ref),
        data={"platform.yaml": blueprint_yaml(stack)},  # only keys ending in .yaml are discovered
        opts=opts,
    )
    return helm_chart(
        "authentik",
        "authentik",
        RELEASE,
        home.ref,
        authentik_values(stack, db, [credentials, db.secret, connectors_secret]),
        pulumi.ResourceOptions.merge(
            chart_opts,
            # migrations run in the server at start: the database must be up
            pulumi.ResourceOptions(
                depends_on=[credentials.resource, blueprints, connectors_secret.resource, db.resource]
            ),
        ),
    )
