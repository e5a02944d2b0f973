"""What the pinned upstream charts install, guard and read, given their values: the facts the deploy-order
check (offline/order/check.py) needs about a chart it cannot render offline.

One entry per chart in `FACTS`, keyed by the vendored chart folder name (`offline.manifests.chart_values_of`
gives it as `chart`). Each fact names where it was read: project, tag and file. Values are looked up as
Helm coalesces them (the user's values over the chart's default `values.yaml` in
`../shared/upstream/charts/<chart>/`), so an absent value takes the chart's default.

Pulumi's `helm.v4.Chart` installs no Helm hook (pulumi/pulumi-kubernetes v4.32.0
`provider/pkg/provider/helm/v4/chart.go`: `cmd.DisableHooks = true`, only `release.Manifest` is
applied), so nothing a chart creates in a hook counts as created here.

A chart without an entry installs no CRD and runs no webhook as far as this module knows; what it
reads is only what any chart's values show (`generic_reads`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MISSING = object()


# --- values, as Helm sees them ------------------------------------------------------------------


class Values:
    """A chart's values as Helm coalesces them (`validate.coalesce`), looked up without copying the
    defaults: a user map merges key by key over the default map, a user null deletes the key, any
    other user value replaces the default."""

    def __init__(self, user: Mapping[str, Any] | None, defaults: Mapping[str, Any] | None = None) -> None:
        self.user: Mapping[str, Any] = user if isinstance(user, Mapping) else {}
        self.defaults: Mapping[str, Any] = defaults if isinstance(defaults, Mapping) else {}

    def get(self, path: str, default: Any = None) -> Any:
        """The value at a dotted path (keys without dots), or `default` when it is absent or null."""
        user: Any = self.user
        fallback: Any = self.defaults
        for key in path.split("."):
            mine = user.get(key, _MISSING) if isinstance(user, Mapping) else _MISSING
            theirs = fallback.get(key, _MISSING) if isinstance(fallback, Mapping) else _MISSING
            if mine is None:
                return default  # a user null deletes the key
            if mine is not _MISSING and not (isinstance(mine, Mapping) and isinstance(theirs, Mapping)):
                user, fallback = mine, _MISSING  # replaces the default wholesale
            else:
                user, fallback = mine, theirs
        found = user if user is not _MISSING else fallback
        return default if found is _MISSING or found is None else found

    def flag(self, path: str) -> bool:
        """Helm's truthiness of a value (`{{ if .Values.x }}`): absent, null, false, 0, "" and empty are false."""
        return bool(self.get(path))

    def text(self, path: str) -> str:
        value = self.get(path)
        return value if isinstance(value, str) else ""


@cache
def _defaults_at(values_file: Path) -> Mapping[str, Any]:
    try:
        loaded = yaml.load(values_file.read_text(), Loader=_Loader)
    except (OSError, yaml.YAMLError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def chart_defaults(upstream: Path, chart: str) -> Mapping[str, Any]:
    """The chart's default values.yaml (read once per process), or {} when it is not vendored."""
    if not chart or "/" in chart or chart in (".", ".."):
        return {}
    return _defaults_at(Path(upstream) / "charts" / chart / "values.yaml")


# --- what a fact says ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Kinds:
    """Kinds of API groups: per group every kind (None) or only the kinds named, less `excluded`."""

    groups: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    excluded: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def covers(self, group: str, kind: str) -> bool:
        if group not in self.groups:
            return False
        kinds = self.groups[group]
        return (kinds is None or kind in kinds) and kind not in self.excluded.get(group, frozenset())

    def __bool__(self) -> bool:
        return bool(self.groups)

    def describe(self, group: str) -> str:
        kinds = self.groups.get(group)
        return group if kinds is None else f"{group} ({', '.join(sorted(kinds))})"


NO_KINDS = Kinds()


@dataclass(frozen=True)
class Read:
    """A Secret, ConfigMap or ServiceAccount a chart's workloads need in the chart's namespace."""

    kind: str  # Secret | ConfigMap | ServiceAccount
    name: str
    via: str  # where the values name it, for the message


@dataclass(frozen=True)
class ChartFacts:
    """What one pinned chart does given its values; `source` names project, tag and files read."""

    source: str
    crds: Callable[[Values], Kinds] = lambda v: NO_KINDS
    webhooks: Callable[[Values], Kinds] = lambda v: NO_KINDS  # kinds its admission webhooks guard
    reads: Callable[[Values], list[Read]] = lambda v: []  # besides generic_reads
    cluster_scoped_only: bool = False  # renders no namespaced object: its release namespace is never used
    namespace_override: bool = False  # `namespaceOverride` replaces the release namespace in its objects
    creates_namespace: Callable[[Values], bool] = lambda v: False  # renders its own (effective) namespace


@dataclass(frozen=True)
class EvaluatedChart:
    """The facts of one chart registration: its values applied."""

    chart: str
    known: bool  # FACTS has an entry for it
    namespace: str  # where its namespaced objects go
    crds: Kinds
    webhooks: Kinds
    reads: list[Read]
    cluster_scoped_only: bool
    creates_namespace: bool


def evaluate(
    chart: str, user_values: Mapping[str, Any] | None, release_namespace: str, upstream: Path
) -> EvaluatedChart:
    facts = FACTS.get(chart)
    values = Values(user_values, chart_defaults(upstream, chart) if facts else {})
    reads = generic_reads(values.user)
    namespace = release_namespace
    if facts is None:
        return EvaluatedChart(chart, False, namespace, NO_KINDS, NO_KINDS, reads, False, False)
    if facts.namespace_override and values.text("namespaceOverride"):
        namespace = values.text("namespaceOverride")
    return EvaluatedChart(
        chart,
        True,
        namespace,
        facts.crds(values),
        facts.webhooks(values),
        _unique([*reads, *facts.reads(values)]),
        facts.cluster_scoped_only,
        facts.creates_namespace(values),
    )


def _unique(reads: list[Read]) -> list[Read]:
    """First of each (kind, name), without names Helm would still template (`{{ ... }}`)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for r in reads:
        if r.name and "{{" not in r.name and (r.kind, r.name) not in seen:
            seen.add((r.kind, r.name))
            out.append(r)
    return out


# --- reads any chart's values show ---------------------------------------------------------------


def generic_reads(values: Any) -> list[Read]:
    """What the user's values hand to a pod verbatim, wherever they sit: every non-optional
    `secretKeyRef` / `configMapKeyRef` (env `valueFrom`), every `envFrom` entry's `secretRef` /
    `configMapRef`, and every volume (an item of a list under a key ending in `volumes`) mounting a
    Secret, a ConfigMap or a projection of them. Charts render these `toYaml` into their pod specs."""
    return _unique(list(_walk_reads(values, "values")))


def _walk_reads(node: Any, path: str) -> Iterator[Read]:
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk_reads(item, f"{path}[{i}]")
        return
    if not isinstance(node, Mapping):
        return
    for key, value in node.items():
        here = f"{path}.{key}"
        if key in ("secretKeyRef", "configMapKeyRef") and isinstance(value, Mapping):
            yield from _ref(value, "Secret" if key == "secretKeyRef" else "ConfigMap", here)
        elif key == "envFrom" and isinstance(value, list):
            yield from env_from_reads(value, here)
        elif str(key).lower().endswith("volumes") and isinstance(value, list):
            yield from volume_reads(value, here)
        yield from _walk_reads(value, here)


def _ref(ref: Mapping[str, Any], kind: str, via: str, key: str = "name") -> Iterator[Read]:
    name = ref.get(key)
    if isinstance(name, str) and name and ref.get("optional") is not True:
        yield Read(kind, name, via)


def env_reads(env: Any, via: str) -> Iterator[Read]:
    for i, entry in enumerate(env if isinstance(env, list) else []):
        source = entry.get("valueFrom") if isinstance(entry, Mapping) else None
        if isinstance(source, Mapping):
            name = entry.get("name", i)
            for key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                if isinstance(source.get(key), Mapping):
                    yield from _ref(source[key], kind, f"{via} {name} {key}")


def env_from_reads(env_from: Any, via: str) -> Iterator[Read]:
    for entry in env_from if isinstance(env_from, list) else []:
        if isinstance(entry, Mapping):
            for key, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                if isinstance(entry.get(key), Mapping):
                    yield from _ref(entry[key], kind, f"{via} {key}")


def volume_reads(volumes: Any, via: str) -> Iterator[Read]:
    for volume in volumes if isinstance(volumes, list) else []:
        if not isinstance(volume, Mapping):
            continue
        name = volume.get("name", "")
        if isinstance(volume.get("secret"), Mapping):
            yield from _ref(volume["secret"], "Secret", f"{via} {name} secret", key="secretName")
        if isinstance(volume.get("configMap"), Mapping):
            yield from _ref(volume["configMap"], "ConfigMap", f"{via} {name} configMap")
        projected = volume.get("projected")
        sources = projected.get("sources") if isinstance(projected, Mapping) else None
        for source in sources if isinstance(sources, list) else []:
            if isinstance(source, Mapping):
                for key, kind in (("secret", "Secret"), ("configMap", "ConfigMap")):
                    if isinstance(source.get(key), Mapping):
                        yield from _ref(source[key], kind, f"{via} {name} projected {key}")


def _yaml_list(text: Any) -> Any:
    """A values string holding YAML (keycloakx's `extraEnv`), parsed; None when it does not parse."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        return None


def _named(kind: str, name: Any, via: str) -> list[Read]:
    return [Read(kind, name, via)] if isinstance(name, str) and name else []


def _service_account(v: Values, create_key: str = "serviceAccount.create") -> list[Read]:
    """The common `<chart>.serviceAccountName` helper: with `create` false the pods run as
    `serviceAccount.name`, or `default` (which every namespace has) when that is empty."""
    if v.flag(create_key):
        return []
    name = v.text("serviceAccount.name")
    return _named("ServiceAccount", name, f"values serviceAccount.name ({create_key} false)")


# --- the charts ------------------------------------------------------------------------------------


def _gateway_crds_helm(v: Values) -> Kinds:
    groups: dict[str, frozenset[str] | None] = {}
    if v.flag("crds.gatewayAPI.enabled"):
        groups["gateway.networking.k8s.io"] = None
    if v.flag("crds.envoyGateway.enabled"):
        groups["gateway.envoyproxy.io"] = None
    return Kinds(groups)


def _gateway_helm_crds(v: Values) -> Kinds:
    if not v.flag("crds.enabled"):
        return NO_KINDS
    return Kinds({"gateway.networking.k8s.io": None, "gateway.envoyproxy.io": None})


def _cert_manager_crds(v: Values) -> Kinds:
    if v.flag("crds.enabled") or v.flag("installCRDs"):
        return Kinds({"cert-manager.io": None, "acme.cert-manager.io": None})
    return NO_KINDS


def _cert_manager_webhooks(v: Values) -> Kinds:
    return Kinds({"cert-manager.io": None, "acme.cert-manager.io": None})


def _cnpg_crds(v: Values) -> Kinds:
    return Kinds({"postgresql.cnpg.io": None}) if v.flag("crds.create") else NO_KINDS


_CNPG_MUTATED = frozenset({"Backup", "Cluster", "Database", "ScheduledBackup"})
_CNPG_VALIDATED = frozenset({"Backup", "Cluster", "Database", "ScheduledBackup", "Pooler"})


def _cnpg_webhooks(v: Values) -> Kinds:
    kinds: frozenset[str] = frozenset()
    if v.flag("webhook.mutating.create"):
        kinds |= _CNPG_MUTATED
    if v.flag("webhook.validating.create"):
        kinds |= _CNPG_VALIDATED
    return Kinds({"postgresql.cnpg.io": kinds}) if kinds else NO_KINDS


# kinds whose CRD template has its own `crds.create<Kind>` switch besides installCRDs
_ESO_SWITCHED = {
    "external-secrets.io": ("ClusterExternalSecret", "ClusterSecretStore", "ClusterPushSecret", "PushSecret"),
    "generators.external-secrets.io": ("ClusterGenerator",),
}


def _eso_crds(v: Values) -> Kinds:
    if not v.flag("installCRDs"):
        return NO_KINDS
    excluded = {
        group: frozenset(kind for kind in kinds if not v.flag(f"crds.create{kind}"))
        for group, kinds in _ESO_SWITCHED.items()
    }
    return Kinds({"external-secrets.io": None, "generators.external-secrets.io": None}, excluded)


def _eso_webhooks(v: Values) -> Kinds:
    if not v.flag("webhook.create"):
        return NO_KINDS
    return Kinds({"external-secrets.io": frozenset({"SecretStore", "ClusterSecretStore", "ExternalSecret"})})


def _argocd_crds(v: Values) -> Kinds:
    return Kinds({"argoproj.io": None}) if v.flag("crds.install") else NO_KINDS


def _argocd_reads(v: Values) -> list[Read]:
    reads: list[Read] = []
    if v.flag("redis-ha.enabled"):
        name = v.text("redis-ha.existingSecret")
        reads += _named("Secret", name, "the redis-ha subchart's auth (values redis-ha.existingSecret)")
    elif v.flag("redis.enabled"):
        reads.append(Read("Secret", "argocd-redis", "the redis Deployment's REDIS_PASSWORD (auth), not optional"))
    if v.text("externalRedis.host"):
        reads += _named("Secret", v.text("externalRedis.existingSecret"), "values externalRedis.existingSecret")
    return reads


def _dex_reads(v: Values) -> list[Read]:
    reads = _service_account(v)
    if not v.flag("configSecret.create"):
        name = v.text("configSecret.name") or "default"
        reads.append(Read("Secret", name, "values configSecret.name (configSecret.create false)"))
    return reads


def _authentik_reads(v: Values) -> list[Read]:
    reads: list[Read] = []
    for name in v.get("blueprints.configMaps", []) or []:
        reads += _named("ConfigMap", name, "values blueprints.configMaps")
    for name in v.get("blueprints.secrets", []) or []:
        reads += _named("Secret", name, "values blueprints.secrets")
    reads += _named(
        "Secret", v.text("authentik.existingSecret.secretName"), "values authentik.existingSecret.secretName"
    )
    if v.flag("geoip.enabled"):
        reads += _named("Secret", v.text("geoip.existingSecret.secretName"), "values geoip.existingSecret.secretName")
    for component in ("server", "worker"):
        reads += _named(
            "ServiceAccount", v.text(f"{component}.serviceAccountName"), f"values {component}.serviceAccountName"
        )
    return reads


def _oauth2_proxy_reads(v: Values) -> list[Read]:
    reads = _service_account(v, "serviceAccount.enabled")
    reads += _named("Secret", v.text("config.existingSecret"), "values config.existingSecret")
    alpha = v.flag("alphaConfig.enabled")
    if not (alpha and not v.flag("alphaConfig.forceLegacyConfig")) and not v.text("config.configFile"):
        reads += _named("ConfigMap", v.text("config.existingConfig"), "values config.existingConfig")
    if alpha:
        reads += _named("ConfigMap", v.text("alphaConfig.existingConfig"), "values alphaConfig.existingConfig")
        reads += _named("Secret", v.text("alphaConfig.existingSecret"), "values alphaConfig.existingSecret")
    if (v.text("sessionStorage.type") or "cookie") == "redis":
        redis_secret = v.text("sessionStorage.redis.existingSecret")
        reads += _named("Secret", redis_secret, "values sessionStorage.redis.existingSecret")
        if v.text("sessionStorage.redis.clientType") == "sentinel":
            sentinel = v.text("sessionStorage.redis.sentinel.existingSecret")
            reads += _named("Secret", sentinel, "values sessionStorage.redis.sentinel.existingSecret")
    if v.flag("htpasswdFile.enabled"):
        reads += _named("Secret", v.text("htpasswdFile.existingSecret"), "values htpasswdFile.existingSecret")
    return reads


def _valkey_reads(v: Values) -> list[Read]:
    reads = _service_account(v)
    if v.flag("auth.enabled"):
        reads += _named("Secret", v.text("auth.usersExistingSecret"), "values auth.usersExistingSecret")
    if v.flag("tls.enabled"):
        reads += _named("Secret", v.text("tls.existingSecret"), "values tls.existingSecret")
    for entry in v.get("extraValkeySecrets", []) or []:
        if isinstance(entry, Mapping):
            reads += _named("Secret", entry.get("name"), "values extraValkeySecrets")
    for entry in v.get("extraValkeyConfigs", []) or []:
        if isinstance(entry, Mapping):
            reads += _named("ConfigMap", entry.get("name"), "values extraValkeyConfigs")
    return reads


def _keycloakx_reads(v: Values) -> list[Read]:
    reads = _service_account(v)
    reads += _named("Secret", v.text("database.existingSecret"), "values database.existingSecret")
    reads += env_reads(_yaml_list(v.get("extraEnv")), "values extraEnv")
    reads += env_from_reads(_yaml_list(v.get("extraEnvFrom")), "values extraEnvFrom")
    return reads


def _grafana_reads(v: Values) -> list[Read]:
    reads = _service_account(v)
    reads += _named("Secret", v.text("admin.existingSecret"), "values admin.existingSecret")
    return reads


FACTS: dict[str, ChartFacts] = {
    # envoyproxy/gateway v1.9.0, charts/gateway-crds-helm: templates/standard-gatewayapi-crds.yaml and
    # experimental-gatewayapi-crds.yaml are wrapped in `if .Values.crds.gatewayAPI.enabled` (by channel),
    # templates/generated/gateway.envoyproxy.io_*.yaml in `if .Values.crds.envoyGateway.enabled`; it renders
    # CustomResourceDefinitions and a ValidatingAdmissionPolicy(+Binding) only: all cluster-scoped.
    "gateway-crds-helm": ChartFacts(
        source="envoyproxy/gateway v1.9.0 charts/gateway-crds-helm/templates/*",
        crds=_gateway_crds_helm,
        cluster_scoped_only=True,
    ),
    # envoyproxy/gateway v1.9.0, charts/gateway-helm: Chart.yaml depends on the `crds` subchart with
    # `condition: crds.enabled` (values.yaml default true), whose crds/ folder holds the Gateway API and
    # gateway.envoyproxy.io CRDs (charts/crds/crds/gatewayapi-crds.yaml, generated/*). Its only webhook,
    # templates/envoy-proxy-topology-injector-webhook.yaml (`if .Values.topologyInjector.enabled`), is a
    # MutatingWebhookConfiguration on pods/binding with failurePolicy Ignore, annotated as a
    # `helm.sh/hook: pre-install, pre-upgrade` (so helm.v4.Chart does not even install it): it guards nothing
    # the program declares. templates/namespace.yaml renders the namespace when `createNamespace`.
    "gateway-helm": ChartFacts(
        source="envoyproxy/gateway v1.9.0 charts/gateway-helm/{Chart.yaml,values.yaml,templates/*}",
        crds=_gateway_helm_crds,
        namespace_override=True,
        creates_namespace=lambda v: v.flag("createNamespace"),
    ),
    # cert-manager/cert-manager v1.21.1, deploy/charts/cert-manager: the CRD templates are wrapped in
    # `if or .Values.crds.enabled .Values.installCRDs` (both false by default) and define cert-manager.io
    # (Certificate, CertificateRequest, Issuer, ClusterIssuer) and acme.cert-manager.io (Order, Challenge);
    # templates/webhook-validating-webhook.yaml (always rendered) validates CREATE/UPDATE of `*/*` in both
    # groups with failurePolicy Fail; templates/webhook-mutating-webhook.yaml mutates cert-manager.io
    # certificaterequests.
    "cert-manager": ChartFacts(
        source="cert-manager/cert-manager v1.21.1 deploy/charts/cert-manager/{values.yaml,templates/crd-*,"
        "templates/webhook-validating-webhook.yaml,templates/webhook-mutating-webhook.yaml}",
        crds=_cert_manager_crds,
        webhooks=_cert_manager_webhooks,
    ),
    # cloudnative-pg/charts cloudnative-pg-v0.29.0, charts/cloudnative-pg: templates/crds/crds.yaml is wrapped
    # in `if .Values.crds.create` (default true), 11 CRDs all of postgresql.cnpg.io;
    # templates/mutatingwebhookconfiguration.yaml (`webhook.mutating.create`, default true) mutates backups,
    # clusters, databases, scheduledbackups; templates/validatingwebhookconfiguration.yaml
    # (`webhook.validating.create`, default true) validates those and poolers; failurePolicy Fail by default;
    # served by the operator Deployment itself.
    "cloudnative-pg": ChartFacts(
        source="cloudnative-pg/charts cloudnative-pg-v0.29.0 charts/cloudnative-pg/{values.yaml,"
        "templates/crds/crds.yaml,templates/mutatingwebhookconfiguration.yaml,"
        "templates/validatingwebhookconfiguration.yaml}",
        crds=_cnpg_crds,
        webhooks=_cnpg_webhooks,
        namespace_override=True,
    ),
    # external-secrets/external-secrets helm-chart-2.9.0: hack/helm.generate.sh wraps each CRD of
    # config/crds/bases (external-secrets.io, generators.external-secrets.io) in `if .Values.installCRDs`
    # (default true), and kinds named Cluster* or PushSecret in `and .Values.installCRDs
    # .Values.crds.create<Kind>`; deploy/charts/external-secrets/templates/validatingwebhook.yaml
    # (`if .Values.webhook.create`, default true) validates secretstores, clustersecretstores and
    # externalsecrets of external-secrets.io with failurePolicy Fail.
    "external-secrets": ChartFacts(
        source="external-secrets/external-secrets helm-chart-2.9.0 {hack/helm.generate.sh,"
        "deploy/charts/external-secrets/values.yaml,deploy/charts/external-secrets/templates/validatingwebhook.yaml}",
        crds=_eso_crds,
        webhooks=_eso_webhooks,
        namespace_override=True,
    ),
    # argoproj/argo-helm argo-cd-10.1.1, charts/argo-cd: templates/crds/crd-{application,applicationset,
    # appproject}.yaml are wrapped in `if .Values.crds.install` (default true); no WebhookConfiguration in
    # templates/. templates/redis/deployment.yaml (`if and .Values.redis.enabled (not redis-ha.enabled)`)
    # reads Secret `argocd-redis` (key auth) with no `optional`; that Secret is made only by the
    # redis-secret-init Job, a `helm.sh/hook: pre-install,pre-upgrade` (templates/redis-secret-init/job.yaml),
    # which helm.v4.Chart skips: so it must be declared before the chart.
    "argo-cd": ChartFacts(
        source="argoproj/argo-helm argo-cd-10.1.1 charts/argo-cd/{values.yaml,templates/crds/*,"
        "templates/redis/deployment.yaml,templates/redis-secret-init/job.yaml}",
        crds=_argocd_crds,
        reads=_argocd_reads,
        namespace_override=True,
    ),
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
    # `extraEnv` / `extraEnvFrom` are YAML strings rendered with `tpl` into env / envFrom; runs as
    # `keycloak.serviceAccountName`.
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
