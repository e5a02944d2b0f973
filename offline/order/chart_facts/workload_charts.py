"""The pinned charts whose workloads read Secrets, ConfigMaps and ServiceAccounts their values name:
the program must declare those (and depend on them) before the chart, or its pods cannot start.

Their entries name no CRD and no admission webhook. Each entry's comment names what it was read
from: project, tag and files.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..reads import Read, env_from_reads, env_reads, volume_reads
from ..values import Values, yaml_value
from .fact import ChartFacts, named_read


def _service_account(v: Values, create_key: str = "serviceAccount.create") -> list[Read]:
    """The common `<chart>.serviceAccountName` helper: with `create` false the pods run as
    `serviceAccount.name`, or `default` (which every namespace has) when that is empty."""
    if v.flag(create_key):
        return []
    name = v.text("serviceAccount.name")
    return named_read("ServiceAccount", name, f"values serviceAccount.name ({create_key} false)")


def _dex_reads(v: Values) -> list[Read]:
    reads = _service_account(v)
    if not v.flag("configSecret.create"):
        name = v.text("configSecret.name") or "default"
        reads.append(Read("Secret", name, "values configSecret.name (configSecret.create false)"))
    return reads


def _authentik_reads(v: Values) -> list[Read]:
    reads: list[Read] = []
    for name in v.get("blueprints.configMaps", []) or []:
        reads += named_read("ConfigMap", name, "values blueprints.configMaps")
    for name in v.get("blueprints.secrets", []) or []:
        reads += named_read("Secret", name, "values blueprints.secrets")
    reads += named_read(
        "Secret", v.text("authentik.existingSecret.secretName"), "values authentik.existingSecret.secretName"
    )
    if v.flag("geoip.enabled"):
        reads += named_read(
            "Secret", v.text("geoip.existingSecret.secretName"), "values geoip.existingSecret.secretName"
        )
    for component in ("server", "worker"):
        reads += named_read(
            "ServiceAccount", v.text(f"{component}.serviceAccountName"), f"values {component}.serviceAccountName"
        )
    return reads


def _oauth2_proxy_reads(v: Values) -> list[Read]:
    reads = _service_account(v, "serviceAccount.enabled")
    reads += named_read("Secret", v.text("config.existingSecret"), "values config.existingSecret")
    alpha = v.flag("alphaConfig.enabled")
    if not (alpha and not v.flag("alphaConfig.forceLegacyConfig")) and not v.text("config.configFile"):
        reads += named_read("ConfigMap", v.text("config.existingConfig"), "values config.existingConfig")
    if alpha:
        reads += named_read("ConfigMap", v.text("alphaConfig.existingConfig"), "values alphaConfig.existingConfig")
        reads += named_read("Secret", v.text("alphaConfig.existingSecret"), "values alphaConfig.existingSecret")
    if (v.text("sessionStorage.type") or "cookie") == "redis":
        redis_secret = v.text("sessionStorage.redis.existingSecret")
        reads += named_read("Secret", redis_secret, "values sessionStorage.redis.existingSecret")
        if v.text("sessionStorage.redis.clientType") == "sentinel":
            sentinel = v.text("sessionStorage.redis.sentinel.existingSecret")
            reads += named_read("Secret", sentinel, "values sessionStorage.redis.sentinel.existingSecret")
    if v.flag("htpasswdFile.enabled"):
        reads += named_read("Secret", v.text("htpasswdFile.existingSecret"), "values htpasswdFile.existingSecret")
    return reads


def _valkey_reads(v: Values) -> list[Read]:
    reads = _service_account(v)
    if v.flag("auth.enabled"):
        reads += named_read("Secret", v.text("auth.usersExistingSecret"), "values auth.usersExistingSecret")
    if v.flag("tls.enabled"):
        reads += named_read("Secret", v.text("tls.existingSecret"), "values tls.existingSecret")
    for entry in v.get("extraValkeySecrets", []) or []:
        if isinstance(entry, Mapping):
            reads += named_read("Secret", entry.get("name"), "values extraValkeySecrets")
    for entry in v.get("extraValkeyConfigs", []) or []:
        if isinstance(entry, Mapping):
            reads += named_read("ConfigMap", entry.get("name"), "values extraValkeyConfigs")
    return reads


def _keycloakx_reads(v: Values) -> list[Read]:
    reads = _service_account(v)
    reads += named_read("Secret", v.text("database.existingSecret"), "values database.existingSecret")
    reads += env_reads(yaml_value(v.get("extraEnv")), "values extraEnv")
    reads += env_from_reads(yaml_value(v.get("extraEnvFrom")), "values extraEnvFrom")
    reads += volume_reads(yaml_value(v.get("extraVolumes")), "values extraVolumes")
    return reads


def _grafana_reads(v: Values) -> list[Read]:
    reads = _service_account(v)
    reads += named_read("Secret", v.text("admin.existingSecret"), "values admin.existingSecret")
    return reads


WORKLOAD_CHARTS: dict[str, ChartFacts] = {
    # dexidp/helm-charts dex-0.24.0, charts/dex: templates/deployment.yaml mounts the Secret
    # `dex.configSecretName` (templates/_helpers.tpl: with configSecret.create false, `configSecret.name`,
    # else "default"; templates/secret.yaml creates it only when create is true) and runs as
    # `dex.serviceAccountName` (create false: `serviceAccount.name` or "default").
    "dex": ChartFacts(
        source="dexidp/helm-charts dex-0.24.0 charts/dex/templates/{deployment.yaml,_helpers.tpl,secret.yaml}",
        reads=_dex_reads,
        namespace_override=True,
    ),
    # goauthentik/helm authentik-2026.8.0, charts/authentik: templates/worker/deployment.yaml mounts each
    # `blueprints.configMaps` entry as a configMap volume and each `blueprints.secrets` entry as a secret
    # volume; server and worker take `envFrom.secretRef` `authentik.secret.name` (templates/_helpers.tpl:
    # `authentik.existingSecret.secretName` when set; templates/secret.yaml creates it otherwise), geoip's
    # `existingSecret.secretName` by secretKeyRef, and `server/worker.serviceAccountName` when set.
    "authentik": ChartFacts(
        source="goauthentik/helm authentik-2026.8.0 charts/authentik/templates/{server,worker}/deployment.yaml,"
        "_helpers.tpl,secret.yaml",
        reads=_authentik_reads,
    ),
    # oauth2-proxy/manifests oauth2-proxy-10.7.0, helm/oauth2-proxy: templates/_helpers.tpl
    # `oauth2-proxy.secretName` is `config.existingSecret` when set (templates/secret.yaml is skipped then);
    # templates/deployment.yaml reads `sessionStorage.redis.existingSecret` by secretKeyRef when
    # sessionStorage.type is redis (the sentinel's `existingSecret` with clientType sentinel), mounts
    # `htpasswdFile.existingSecret`, `config.existingConfig` / `alphaConfig.existingConfig|existingSecret`
    # (per the config modes in _helpers.tpl), and runs as `oauth2-proxy.serviceAccountName`
    # (serviceAccount.enabled false: `serviceAccount.name` or "default").
    "oauth2-proxy": ChartFacts(
        source="oauth2-proxy/manifests oauth2-proxy-10.7.0 helm/oauth2-proxy/templates/{_helpers.tpl,deployment.yaml}",
        reads=_oauth2_proxy_reads,
        namespace_override=True,
    ),
    # valkey-io/valkey-helm valkey-0.11.0, valkey/templates/deploy_valkey.yaml: with auth.enabled (default
    # false) mounts Secret `auth.usersExistingSecret` and reads it by secretKeyRef (no optional); with
    # tls.enabled mounts `tls.existingSecret`; mounts every extraValkeySecrets / extraValkeyConfigs entry;
    # runs as `valkey.serviceAccountName` (templates/_helpers.tpl).
    "valkey": ChartFacts(
        source="valkey-io/valkey-helm valkey-0.11.0 valkey/templates/{deploy_valkey.yaml,_helpers.tpl}",
        reads=_valkey_reads,
    ),
    # codecentric/helm-charts keycloakx-7.1.11, charts/keycloakx/templates/statefulset.yaml: KC_DB_PASSWORD
    # from secretKeyRef `database.existingSecret` (templates/_helpers.tpl keycloak.databasePasswordEnv),
    # `extraEnv` / `extraEnvFrom` are YAML strings rendered with `tpl` into env / envFrom, `extraVolumes`
    # one rendered into the pod's volumes; runs as `keycloak.serviceAccountName`.
    "keycloakx": ChartFacts(
        source="codecentric/helm-charts keycloakx-7.1.11 charts/keycloakx/templates/{statefulset.yaml,_helpers.tpl}",
        reads=_keycloakx_reads,
    ),
    # grafana-community/helm-charts grafana-12.11.1, charts/grafana/templates/_pod.tpl: the admin user and
    # password come by secretKeyRef from `admin.existingSecret` (else the chart's own Secret); runs as
    # `grafana.serviceAccountName` (templates/_helpers.tpl).
    "grafana": ChartFacts(
        source="grafana-community/helm-charts grafana-12.11.1 charts/grafana/templates/{_pod.tpl,_helpers.tpl}",
        reads=_grafana_reads,
        namespace_override=True,
    ),
}
