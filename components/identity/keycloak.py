"""Keycloak for the tenants: the server (the codecentric keycloakx chart) on its CloudNativePG database,
its public route, and the realm reconciled on every change (`realm_sync`).

Start-up facts (keycloakx 7.1.11, charts/keycloakx/templates/statefulset.yaml and values.yaml): the
chart passes no command or arguments by default, so `start` is given; it serves under `/auth` unless
`http.relativePath` says otherwise (the issuer here has no prefix); `proxy.mode` becomes
`KC_PROXY_HEADERS`, and Envoy sends X-Forwarded-*, hence `xforwarded`; the chart has no hostname or admin
values, so `KC_HOSTNAME` and the bootstrap admin come through `extraEnv` (a template string). Peers find
each other through the database (`cache.stack: default` is jdbc-ping), so the pods need no Kubernetes
API: no RBAC, and no service-account token.

The root filesystem stays writable: `kc.sh start` re-augments Keycloak when its build options differ
from the image's (database, health, metrics, relative path) and writes under /opt/keycloak
(keycloak/keycloak#44632, #37533). Everything else meets Pod Security `restricted`.

HTTPS beside HTTP: the gateway fetches the realm's signing keys from the Service's `https` port (the
chart's `service.httpsPort`, to the container's 8443, templates/service-http.yaml and statefulset.yaml)
with a certificate from the internal CA (`KC_HTTPS_CERTIFICATE_FILE` / `KC_HTTPS_CERTIFICATE_KEY_FILE`,
Keycloak's "Configuring TLS" guide; it reloads renewed files, `https-certificates-reload-period`). With TLS
on the main server the management interface (port 9000: health, probes) serves HTTPS too (Keycloak's
"Configuring the Management Interface" guide), hence `http.internalScheme: HTTPS` for the probes (the
kubelet does not verify a probe's certificate). The certificate's Secret is a plain volume, not
optional: until cert-manager writes it the pod waits in ContainerCreating instead of starting without TLS.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from .. import endpoints
from ..charts import SECRETS_CHECKSUM, SecretData, helm_chart, resources, secret_refs, secrets_checksum
from ..versions import IMAGES
from .common import (
    CONTAINER_SECURITY,
    POD_SECURITY,
    Home,
    env_from_secret,
    kept,
    login_route,
    password,
    secret,
    serving_certificate,
)
from .databases import PORT, Database
from .settings import IdentitySettings

RELEASE = endpoints.KEYCLOAK_NAME
ADMIN_SECRET = "keycloak-admin"
ADMIN_USER = "gatehouse-admin"
# Public paths of the realm only: not /admin, and not the master realm's login.
PUBLIC_PREFIXES = ("/resources/", "/.well-known/")
TLS_VOLUME = "tls"
TLS_DIR = "/etc/keycloak-tls"  # the serving certificate's Secret (cert-manager's kubernetes.io/tls keys)


def public_prefixes(stack: IdentitySettings) -> tuple[str, ...]:
    return (f"/realms/{stack.identity.realm}/", *PUBLIC_PREFIXES)


def environment(stack: IdentitySettings, db: Database) -> list[dict[str, Any]]:
    """What `extraEnv` adds: the public URL, the database user, the bootstrap admin (read only when the
    master realm is created, i.e. on the first start against an empty database)."""
    return [
        {"name": "KC_HOSTNAME", "value": endpoints.https(stack, stack.identity.hosts.keycloak)},
        env_from_secret("KC_DB_USERNAME", db.credentials, "username"),
        env_from_secret("KC_BOOTSTRAP_ADMIN_USERNAME", ADMIN_SECRET, "username"),
        env_from_secret("KC_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_SECRET, "password"),
        {"name": "KC_HTTPS_CERTIFICATE_FILE", "value": f"{TLS_DIR}/tls.crt"},
        {"name": "KC_HTTPS_CERTIFICATE_KEY_FILE", "value": f"{TLS_DIR}/tls.key"},
    ]


def keycloak_values(stack: IdentitySettings, db: Database, secrets: list[SecretData]) -> dict[str, Any]:
    """`secrets`: the Secrets the pods read, with their values (their digest rolls the pods)."""
    image = IMAGES["keycloak"]
    env = environment(stack, db)
    return {
        "fullnameOverride": RELEASE,  # Services `keycloak-http` and `keycloak-headless`
        "replicas": 2 if stack.is_production else 1,
        "image": {"repository": image.repository, "tag": image.tag},
        "args": ["start"],
        "http": {"relativePath": "/", "internalScheme": "HTTPS"},  # the management port follows the TLS
        # public TLS ends at Envoy (HTTP to port 80); the signing keys go over the HTTPS port
        "proxy": {"enabled": True, "mode": "xforwarded", "http": {"enabled": True}},
        "service": {"httpsPort": endpoints.KEYCLOAK_HTTPS_PORT},
        "extraVolumes": yaml.safe_dump(
            [{"name": TLS_VOLUME, "secret": {"secretName": endpoints.KEYCLOAK_TLS_SECRET}}], sort_keys=False
        ),
        "extraVolumeMounts": yaml.safe_dump(
            [{"name": TLS_VOLUME, "mountPath": TLS_DIR, "readOnly": True}], sort_keys=False
        ),
        "database": {
            "vendor": "postgres",
            "hostname": db.host,
            "port": PORT,
            "database": db.database,
            "existingSecret": db.credentials,
            "existingSecretKey": "password",
        },
        "extraEnv": yaml.safe_dump(env, sort_keys=False),
        # the password comes through `database.existingSecret`, the rest through `extraEnv`
        "podAnnotations": {
            SECRETS_CHECKSUM: secrets_checksum([*secret_refs(env), (db.credentials, "password")], secrets)
        },
        "serviceAccount": {"create": True, "automountServiceAccountToken": False},
        "podSecurityContext": {**POD_SECURITY, "fsGroup": 1000},
        "securityContext": {**CONTAINER_SECURITY, "runAsUser": 1000},
        "resources": resources("250m", "1Gi", "2Gi"),
        "httpRoute": {"enabled": False},  # ours exposes the realm's public paths only
    }


def admin_secret(home: Home, production: bool, opts: pulumi.ResourceOptions) -> SecretData:
    """The bootstrap admin of the master realm, which the realm reconcile signs in as. Keycloak reads it
    only when it creates the master realm (BootstrapAdminOptions): a new value would lock the reconcile
    out, so it never changes (protected in prod)."""
    admin_password = password("keycloak-admin", kept(opts, production))
    data: dict[str, pulumi.Input[str]] = {"username": ADMIN_USER, "password": admin_password}
    return secret(home, ADMIN_SECRET, data, opts)


def keycloak(
    stack: IdentitySettings,
    home: Home,
    db: Database,
    admin: SecretData,
    opts: pulumi.ResourceOptions,
    route_opts: pulumi.ResourceOptions,
    cert_manager: pulumi.Input[Sequence[pulumi.Resource]] = (),
) -> k8s.helm.v4.Chart:
    """The server, once its database is Ready (Keycloak migrates it at start) and its serving Certificate
    exists; `cert_manager`: what the Certificate waits for (cert-manager, its webhook admitting objects)."""
    certificate = serving_certificate(
        home,
        endpoints.KEYCLOAK_SERVICE,
        endpoints.KEYCLOAK_TLS_SECRET,
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=cert_manager)),
    )
    server = helm_chart(
        "keycloak",
        "keycloakx",
        RELEASE,
        home.ref,
        keycloak_values(stack, db, [db.secret, admin]),
        pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[db.resource, db.secret.resource, admin.resource, certificate])
        ),
    )
    host = stack.host(stack.identity.hosts.keycloak)
    backend = (endpoints.KEYCLOAK_SERVICE, endpoints.KEYCLOAK_HTTP_PORT)
    login_route(home, RELEASE, host, backend, route_opts, public_prefixes(stack))
    return server
