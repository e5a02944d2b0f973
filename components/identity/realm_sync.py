"""The tenants' realm, reconciled with Keycloak on every change: keycloak-config-cli as a Job.

Keycloak's own realm import only ever creates a realm. keycloak-config-cli (adorsys, v6.5.0, built and
tested against Keycloak 26.5) makes the live realm match the file instead, through the admin API on
Keycloak's in-cluster Service (never the public host, which does not serve /admin). Facts it relies on
(v6.5.0, README.md, src/main/resources/application.properties, docs/MANAGED.md):

- `import.managed.*` is `full` for groups, clients, roles, flows, identity providers, components and
  client-scope mappings, and `no-delete` for client scopes and scope mappings: both are set to `full`
  here, so an API scope removed from config leaves the realm too. With remote state on (the default)
  only what the tool created is deleted, never Keycloak's own defaults. Users are not a managed type:
  a listed user's groups are synced, an unlisted user is left as is.
- `$(env:NAME)` is substituted only with `import.var-substitution.enabled`; secrets reach the file that
  way, from a Secret, so the realm itself (a ConfigMap) holds none.
- The realm is skipped when its checksum is unchanged and the cache is on: the cache is off, so every run
  applies the whole file (and reverts changes made by hand).
- `keycloak.availability-check` retries signing in (and reading the server info) until Keycloak answers
  or its timeout passes, whatever fails meanwhile (src/main/java/.../provider/KeycloakProvider.java
  `getKeycloakWithRetry`, a Failsafe policy without an exception filter): no Service yet, connection
  refused, 401 before Keycloak has made its bootstrap admin, 503.
- A user profile is imported from the top-level `userProfile` key, only with the realm attribute
  `userProfileEnabled` (UserProfileImportService).

The Job's name carries a digest of everything it applies (the realm file, the image, its settings) and
its pod template a digest of the secrets it substitutes, so a change to either replaces the Job, which
runs once; `pulumi up` waits for it to complete and fails if the realm cannot be applied. The Keycloak
install itself does not depend on the realm: a new organization changes only this Job.

Nor does the Job depend on the Keycloak install: it waits for Keycloak itself, so it does not add a step
after Keycloak's to the longest path of `pulumi up` (namespace, CloudNativePG, the database awaited until
Ready, Keycloak). On an empty cluster it starts with its namespace and waits while those come up: Pulumi
awaits each of them for 10 minutes by default (pulumi-kubernetes provider/pkg/await), so the wait
(`KEYCLOAK_WAIT`) covers all three, and the Job's deadline and Pulumi's wait for the Job cover that and
the import's retries. The price: a `pulumi up` that fails on Keycloak returns only when the Job gives up.
On an upgrade that changes both, the realm may be applied while Keycloak's pods roll; an import cut off
is retried (`backoffLimit`), and applying the same file again is harmless.
"""

from __future__ import annotations

import hashlib
import json

import pulumi
import pulumi_kubernetes as k8s

from .. import config, endpoints, meta
from ..charts import ONE_SHOT, SECRETS_CHECKSUM, SecretData, secrets_checksum
from ..versions import IMAGES
from .common import COMPONENT, Home, password, secret
from .keycloak import ADMIN_SECRET
from .realm import CLIENT_SECRETS, GOOGLE_SECRET_KEY, m2m_clients, realm, substitutions
from .settings import IdentitySettings

REALM_CONFIGMAP = "keycloak-realm"
REALM_FILE = "realm.json"
CONFIG_DIR = "/config"
# Keycloak's path on an empty cluster: the CloudNativePG chart, the database, Keycloak, each awaited by
# Pulumi for up to 10 minutes
KEYCLOAK_WAIT = 30 * 60
BACKOFF_LIMIT = 2  # a failed import is retried twice
# what the Job may take in all, and Pulumi waits for: the wait, then the import and its retries
DEADLINE = KEYCLOAK_WAIT + 10 * 60
SETTINGS = {
    "KEYCLOAK_URL": endpoints.keycloak_internal_url(),
    "KEYCLOAK_AVAILABILITYCHECK_ENABLED": "true",
    "KEYCLOAK_AVAILABILITYCHECK_TIMEOUT": f"{KEYCLOAK_WAIT}s",
    "IMPORT_FILES_LOCATIONS": f"file:{CONFIG_DIR}/*",
    "IMPORT_VARSUBSTITUTION_ENABLED": "true",
    "IMPORT_CACHE_ENABLED": "false",
    "IMPORT_REMOTESTATE_ENABLED": "true",
    "IMPORT_MANAGED_CLIENTSCOPE": "full",
    "IMPORT_MANAGED_SCOPEMAPPING": "full",
}


def realm_text(stack: IdentitySettings) -> str:
    return json.dumps(realm(stack), indent=2, sort_keys=True) + "\n"


def job_name(realm_file: str) -> str:
    """`keycloak-realm-<digest>`: a new name, hence a new run, whenever what the Job applies changes."""
    applied = json.dumps([realm_file, IMAGES["keycloak-config-cli"].ref, SETTINGS], sort_keys=True)
    return f"{REALM_CONFIGMAP}-{hashlib.sha256(applied.encode()).hexdigest()[:10]}"


def secret_environment(stack: IdentitySettings) -> dict[str, tuple[str, str]]:
    """Variable -> (Secret, key): the admin it signs in as, and the secrets it substitutes into the realm."""
    variables = {"KEYCLOAK_USER": (ADMIN_SECRET, "username"), "KEYCLOAK_PASSWORD": (ADMIN_SECRET, "password")}
    variables.update({var: (CLIENT_SECRETS, key) for var, key in substitutions(stack).items()})
    return variables


def environment(stack: IdentitySettings) -> list[k8s.core.v1.EnvVarArgs]:
    def from_secret(variable: str, secret_name: str, key: str) -> k8s.core.v1.EnvVarArgs:
        ref = k8s.core.v1.SecretKeySelectorArgs(name=secret_name, key=key)
        return k8s.core.v1.EnvVarArgs(name=variable, value_from=k8s.core.v1.EnvVarSourceArgs(secret_key_ref=ref))

    plain = [k8s.core.v1.EnvVarArgs(name=name, value=value) for name, value in SETTINGS.items()]
    return plain + [from_secret(var, *ref) for var, ref in secret_environment(stack).items()]


def client_secrets(
    stack: IdentitySettings, home: Home, app_secrets: dict[str, pulumi.Output[str]], opts: pulumi.ResourceOptions
) -> SecretData:
    """Partner clients' secrets (generated), organization apps' (generated by the plane, which hands them
    to the gateway) and Google's (config), substituted into the realm."""
    data: dict[str, pulumi.Input[str]] = {name: password(f"keycloak-m2m-{name}", opts) for name in m2m_clients(stack)}
    data.update(app_secrets)
    if stack.identity.connectors.google:
        data[GOOGLE_SECRET_KEY] = config.secret("googleClientSecret")
    return secret(home, CLIENT_SECRETS, data, opts)


def realm_sync(
    stack: IdentitySettings,
    home: Home,
    admin: SecretData,
    app_secrets: dict[str, pulumi.Output[str]],
    opts: pulumi.ResourceOptions,
) -> k8s.batch.v1.Job:
    secrets = client_secrets(stack, home, app_secrets, opts)
    text = realm_text(stack)
    realm_file = k8s.core.v1.ConfigMap(
        f"{home.name}-{REALM_CONFIGMAP}",
        metadata=meta.object_meta(REALM_CONFIGMAP, COMPONENT, home.ref),
        data={REALM_FILE: text},
        opts=opts,
    )
    name = job_name(text)
    labels = meta.labels(COMPONENT, {"app.kubernetes.io/name": REALM_CONFIGMAP})
    container = k8s.core.v1.ContainerArgs(
        name="keycloak-config-cli",
        image=IMAGES["keycloak-config-cli"].ref,
        image_pull_policy="IfNotPresent",
        env=environment(stack),
        resources=k8s.core.v1.ResourceRequirementsArgs(**{**ONE_SHOT, "limits": {"memory": "512Mi"}}),
        security_context=k8s.core.v1.SecurityContextArgs(
            allow_privilege_escalation=False,
            capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
            run_as_non_root=True,
            read_only_root_filesystem=True,
        ),
        volume_mounts=[
            k8s.core.v1.VolumeMountArgs(name="realm", mount_path=CONFIG_DIR, read_only=True),
            k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),  # the JVM's perf data
        ],
    )
    return k8s.batch.v1.Job(
        f"{home.name}-realm-sync",
        # Pulumi's wait for the Job (pulumi-kubernetes provider/pkg/metadata/overrides.go)
        metadata=meta.object_meta(name, COMPONENT, home.ref, annotations={"pulumi.com/timeoutSeconds": str(DEADLINE)}),
        spec=k8s.batch.v1.JobSpecArgs(
            backoff_limit=BACKOFF_LIMIT,
            active_deadline_seconds=DEADLINE,
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    labels=labels,
                    # a rotated partner or Google secret re-applies the realm
                    annotations={
                        SECRETS_CHECKSUM: secrets_checksum(secret_environment(stack).values(), [secrets, admin])
                    },
                ),
                spec=k8s.core.v1.PodSpecArgs(
                    restart_policy="Never",
                    automount_service_account_token=False,
                    security_context=k8s.core.v1.PodSecurityContextArgs(
                        run_as_non_root=True,
                        run_as_user=65534,  # the image's user
                        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
                    ),
                    containers=[container],
                    volumes=[
                        k8s.core.v1.VolumeArgs(
                            name="realm", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=REALM_CONFIGMAP)
                        ),
                        k8s.core.v1.VolumeArgs(
                            name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="64Mi")
                        ),
                    ],
                ),
            ),
        ),
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[realm_file, secrets.resource, admin.resource])
        ),
    )
