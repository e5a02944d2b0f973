"""Dex, the OIDC broker every platform app signs in with: Authentik, GitHub and Google behind one issuer.

Dex expands `$VAR` in its storage and connector config, so every secret reaches it as an environment
variable from a Secret. The config file itself lives in a Secret of our own (`configSecret.create:
false`) rather than in the chart values, because the guardrail `no-literal-credentials-in-chart-values`
reads `clientSecret: $VAR` as a literal credential. The price: previews show the config as a secret.
Two pod annotations roll Dex when its inputs change: `checksum/config` (the config text) and
`checksum/secrets` (a digest of the Secret values its environment reads, so a rotated client secret
reaches Dex, see `secrets_checksum`).

Start-up (dex v2.44.0): the image's entrypoint renders the config through gomplate into a file it creates
under `/tmp` before it execs Dex (cmd/docker-entrypoint/main.go), so the read-only root filesystem gets a
writable `/tmp`. Dex exits when a connector fails to open (server/server.go), and the Authentik connector
fetches its issuer's discovery document at open, through the gateway that may not serve it yet on a first
`pulumi up`: `DEX_CONTINUE_ON_CONNECTOR_FAILURE` (pkg/featureflags/set.go, off by default before v2.45)
lets it start and reopen the connector at its first use. It still exits when no connector opens
(server.go: "failed to open all connectors"), as on a stack with Authentik alone until Authentik serves.
Dex does not wait for Authentik's install, which would put a step after Authentik's on the longest path of
`pulumi up` (namespace, CloudNativePG, the database, Authentik): with GitHub or Google it starts at once;
with Authentik alone it restarts until Authentik serves, and Pulumi waits for it (`WAIT`) longer than
for Authentik (10 minutes by default, pulumi-kubernetes provider/pkg/await/deployment.go) plus the
kubelet's longest back-off between restarts (5 minutes).

HTTPS beside HTTP, for the gateway to fetch Dex's signing keys (`/keys`) over verified TLS: the chart's
`https.enabled` adds `--web-https-addr 0.0.0.0:5554` and the Service's `https` port (dex chart 0.24.0
templates/deployment.yaml, service.yaml); the config's `web.tlsCert` / `web.tlsKey` name the certificate,
which Dex reloads when it changes (dex v2.44.0 cmd/dex/config.go, serve.go `newTLSReloader`). Its Secret
is a plain volume: until cert-manager writes it the pod waits instead of failing the config check.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from .. import config, endpoints, meta
from ..charts import SECRETS_CHECKSUM, SecretData, helm_chart, resources, secret_refs, secrets_checksum
from .authentik import AUTHENTIK_CLIENT_SECRET_KEY, CONNECTORS
from .blueprint import DEX_CLIENT_ID, authentik_issuer
from .clients import DexClient
from .common import (
    COMPONENT,
    CONTAINER_SECURITY,
    POD_SECURITY,
    Home,
    env_from_secret,
    login_route,
    secret,
    serving_certificate,
)
from .databases import PORT, Database
from .settings import IdentitySettings

RELEASE = endpoints.DEX_SERVICE  # the chart names its Service after the release
HTTP_PORT = endpoints.DEX_HTTP_PORT
CONFIG_SECRET = "dex-config"
CLIENTS_SECRET = "dex-clients"
TMP_VOLUME = "tmp"  # the entrypoint's rendered config
TLS_VOLUME = "tls"
TLS_DIR = "/etc/dex/tls"  # the serving certificate's Secret (cert-manager's kubernetes.io/tls keys)
# The stack's own CA, on a stack whose gateway certificate it signs: the Authentik connector trusts it
# (connector/oidc/oidc.go `rootCAs`: file paths, added to the system pool)
CA_CONFIGMAP = "gatehouse-ca"
CA_DIR = "/etc/gatehouse-ca"
CA_FILE = f"{CA_DIR}/ca.crt"
# Start even when a connector's issuer cannot be reached yet (retried when someone signs in with it).
CONTINUE_ON_CONNECTOR_FAILURE = {"name": "DEX_CONTINUE_ON_CONNECTOR_FAILURE", "value": "true"}
# How long Pulumi waits for Dex's pods: Authentik's 10 minutes, one 5-minute back-off and a start
WAIT = 20 * 60
GITHUB_SECRET_KEY = "github-client-secret"
GOOGLE_SECRET_KEY = "google-client-secret"
# Seed 002's lifetimes.
EXPIRY = {
    "signingKeys": "6h",
    "idTokens": "24h",
    "refreshTokens": {"validIfNotUsedFor": "2160h", "absoluteLifetime": "3960h"},
}
CLIENT_NAMES = {
    "argocd": "Argo CD",
    "grafana": "Grafana",
    "oauth2-proxy": "Platform SSO",
}


def tenant_teams(stack: IdentitySettings) -> dict[str, set[str]]:
    """GitHub org -> the teams tenants' default groups name (`<org>:<team>`, see `Tenant.oidc_groups`).

    Tenants with explicit `groups` need nothing here: whoever chose those groups says where they come from.
    """
    teams: dict[str, set[str]] = {}
    for tenant in stack.tenants:
        if not tenant.groups:
            for group in tenant.oidc_groups:
                org, team = group.split(":", 1)
                teams.setdefault(org, set()).add(team)
    return teams


def github_orgs(stack: IdentitySettings, github: config.GitHubConnector) -> list[dict[str, Any]]:
    """The configured orgs and teams merged with every tenant repo's org and the teams its tenants need.

    Dex admits only members of a listed team (or of the org, when it lists no teams) and emits only
    those teams as groups. An org configured without teams already emits all of them: it stays so,
    since listing tenant teams there would shut out everyone else.
    """
    teams = tenant_teams(stack)
    all_teams: set[str] = set()
    for org in github.orgs:
        teams.setdefault(org.name, set()).update(org.teams)
        if not org.teams:
            all_teams.add(org.name)
    return [{"name": org, "teams": [] if org in all_teams else sorted(teams[org])} for org in sorted(teams)]


def connectors(stack: IdentitySettings) -> list[dict[str, Any]]:
    callback = f"{endpoints.dex_issuer(stack)}/callback"
    found: list[dict[str, Any]] = [
        {
            "type": "oidc",
            "id": "authentik",
            "name": "Authentik",
            "config": {
                "issuer": authentik_issuer(stack),
                "clientID": DEX_CLIENT_ID,
                "clientSecret": "$AUTHENTIK_CLIENT_SECRET",
                "redirectURI": callback,
                "scopes": ["profile", "email", "offline_access"],  # Dex adds openid; `groups` comes with profile
                "insecureEnableGroups": True,  # the oidc connector drops groups unless told otherwise
                "claimModifications": {"modifyGroupNames": {"prefix": f"{config.AUTHENTIK_GROUP_PREFIX}:"}},
                **({"rootCAs": [CA_FILE]} if stack.uses_private_ca else {}),
            },
        }
    ]
    github = stack.identity.connectors.github
    if github:
        found.append(
            {
                "type": "github",
                "id": "github",
                "name": "GitHub",
                "config": {
                    "clientID": github.client_id,
                    "clientSecret": "$GITHUB_CLIENT_SECRET",
                    "redirectURI": callback,
                    "orgs": github_orgs(stack, github),  # groups are `<org>:<team>`
                    "teamNameField": "slug",
                },
            }
        )
    google = stack.identity.connectors.google
    if google:
        found.append(
            {
                "type": "google",
                "id": endpoints.GOOGLE_CONNECTOR,
                "name": "Google",
                "config": {
                    "clientID": google.client_id,
                    "clientSecret": "$GOOGLE_CLIENT_SECRET",
                    "redirectURI": callback,
                    "hostedDomains": sorted(google.hosted_domains),
                },
            }
        )
    return found


def dex_config(stack: IdentitySettings, db: Database, clients: dict[str, DexClient]) -> dict[str, Any]:
    return {
        "issuer": endpoints.dex_issuer(stack),  # every client must use exactly this string
        # the listen addresses come from the chart's flags; the HTTPS one needs a certificate
        "web": {"tlsCert": f"{TLS_DIR}/tls.crt", "tlsKey": f"{TLS_DIR}/tls.key"},
        "storage": {
            "type": "postgres",
            "config": {
                "host": db.host,
                "port": PORT,
                "database": db.database,
                "user": db.owner,
                "password": "$DEX_DB_PASSWORD",
                # CloudNativePG serves TLS with its own CA; Dex's default verify-full would reject it
                "ssl": {"mode": "require"},
            },
        },
        "oauth2": {"skipApprovalScreen": True, "responseTypes": ["code"]},
        "expiry": EXPIRY,
        "enablePasswordDB": False,
        "connectors": connectors(stack),
        "staticClients": [
            {
                "id": c.id,
                "name": CLIENT_NAMES.get(c.id, c.id),
                "secretEnv": c.secret_env,
                "redirectURIs": c.redirect_uris,
            }
            for c in sorted(clients.values(), key=lambda c: c.id)
        ],
    }


def dex_config_yaml(stack: IdentitySettings, db: Database, clients: dict[str, DexClient]) -> str:
    return yaml.safe_dump(dex_config(stack, db, clients), sort_keys=False)


def environment(stack: IdentitySettings, db: Database, clients: dict[str, DexClient]) -> list[dict[str, Any]]:
    env = [
        env_from_secret("DEX_DB_PASSWORD", db.credentials, "password"),
        env_from_secret("AUTHENTIK_CLIENT_SECRET", CONNECTORS, AUTHENTIK_CLIENT_SECRET_KEY),
    ]
    if stack.identity.connectors.github:
        env.append(env_from_secret("GITHUB_CLIENT_SECRET", CONNECTORS, GITHUB_SECRET_KEY))
    if stack.identity.connectors.google:
        env.append(env_from_secret("GOOGLE_CLIENT_SECRET", CONNECTORS, GOOGLE_SECRET_KEY))
    env += [env_from_secret(c.secret_env, CLIENTS_SECRET, c.id) for c in sorted(clients.values(), key=lambda c: c.id)]
    return env


def dex_values(
    stack: IdentitySettings,
    db: Database,
    clients: dict[str, DexClient],
    config_text: str,
    secrets: list[SecretData],
) -> dict[str, Any]:
    """`secrets`: the Secrets the environment reads, with their values."""
    env = environment(stack, db, clients)
    return {
        "replicaCount": 2 if stack.is_production else 1,
        # Pulumi's wait for the Deployment (pulumi-kubernetes provider/pkg/metadata/overrides.go)
        "deploymentAnnotations": {"pulumi.com/timeoutSeconds": str(WAIT)},
        "configSecret": {"create": False, "name": CONFIG_SECRET},
        "https": {"enabled": True},
        "envVars": [*env, CONTINUE_ON_CONNECTOR_FAILURE],
        # the config is not the chart's, so the chart's own checksum never changes: roll pods on ours
        "podAnnotations": {
            "checksum/config": hashlib.sha256(config_text.encode()).hexdigest(),
            SECRETS_CHECKSUM: secrets_checksum(secret_refs(env), secrets),
        },
        "rbac": {"create": False},  # Postgres storage: Dex never talks to the Kubernetes API
        "podSecurityContext": POD_SECURITY,
        "securityContext": {**CONTAINER_SECURITY, "readOnlyRootFilesystem": True},
        "volumes": [
            {"name": TMP_VOLUME, "emptyDir": {"sizeLimit": "16Mi"}},
            {"name": TLS_VOLUME, "secret": {"secretName": endpoints.DEX_TLS_SECRET}},
            *([{"name": CA_CONFIGMAP, "configMap": {"name": CA_CONFIGMAP}}] if stack.uses_private_ca else []),
        ],
        "volumeMounts": [
            {"name": TMP_VOLUME, "mountPath": "/tmp"},
            {"name": TLS_VOLUME, "mountPath": TLS_DIR, "readOnly": True},
            *([{"name": CA_CONFIGMAP, "mountPath": CA_DIR, "readOnly": True}] if stack.uses_private_ca else []),
        ],
        "resources": resources("50m", "64Mi", "256Mi"),
    }


def connector_secret(
    stack: IdentitySettings, home: Home, authentik_client_secret: pulumi.Output[str], opts: pulumi.ResourceOptions
) -> SecretData:
    """Upstream credentials: Dex's client secret in Authentik (generated), GitHub's and Google's (config)."""
    data: dict[str, pulumi.Input[str]] = {AUTHENTIK_CLIENT_SECRET_KEY: authentik_client_secret}
    if stack.identity.connectors.github:
        data[GITHUB_SECRET_KEY] = config.secret("githubClientSecret")
    if stack.identity.connectors.google:
        data[GOOGLE_SECRET_KEY] = config.secret("googleClientSecret")
    return secret(home, CONNECTORS, data, opts)


def dex(
    stack: IdentitySettings,
    home: Home,
    db: Database,
    clients: dict[str, DexClient],
    connectors_secret: SecretData,
    private_ca: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions,
    route_opts: pulumi.ResourceOptions,
    cert_manager: pulumi.Input[Sequence[pulumi.Resource]] = (),
) -> k8s.helm.v4.Chart:
    """`private_ca`: the stack's own CA (PEM), used when `stack.uses_private_ca`; `cert_manager`:
    what the serving Certificate waits for (cert-manager, its webhook admitting objects)."""
    config_text = dex_config_yaml(stack, db, clients)
    config_secret = secret(home, CONFIG_SECRET, {"config.yaml": config_text}, opts)
    clients_secret = secret(home, CLIENTS_SECRET, {c.id: c.secret for c in clients.values()}, opts)
    certificate = serving_certificate(
        home,
        RELEASE,
        endpoints.DEX_TLS_SECRET,
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=cert_manager)),
    )
    inputs: list[pulumi.Resource] = [
        config_secret.resource,
        clients_secret.resource,
        connectors_secret.resource,
        certificate,
    ]
    if stack.uses_private_ca and private_ca is not None:
        inputs.append(
            k8s.core.v1.ConfigMap(
                f"{home.name}-{CA_CONFIGMAP}",
                metadata=meta.object_meta(CA_CONFIGMAP, COMPONENT, home.ref),
                data={"ca.crt": private_ca},
                opts=opts,
            )
        )
    chart = helm_chart(
        "dex",
        "dex",
        RELEASE,
        home.ref,
        dex_values(stack, db, clients, config_text, [db.secret, connectors_secret, clients_secret]),
        pulumi.ResourceOptions.merge(
            opts,
            # Dex runs its migrations at start and exits if the database is unreachable
            pulumi.ResourceOptions(depends_on=[*inputs, db.resource]),
        ),
    )
    login_route(home, RELEASE, stack.host(stack.identity.hosts.dex), (RELEASE, HTTP_PORT), route_opts)
    return chart
