"""The pinned charts that extend the Kubernetes API: which CustomResourceDefinitions each installs and
which kinds its admission webhooks guard, given its values (and, for argo-cd, the Secret its Redis reads).

The `crd` rule lets a custom resource depend on such a chart instead of on its CRD objects; the
`webhook` rule requires every object a chart's webhook admits to depend on that chart. Each entry's comment
names what it was read from: project, tag and files.
"""

from __future__ import annotations

from ..reads import Read
from ..values import Values
from .fact import NO_KINDS, ChartFacts, Kinds, named_read


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
        reads += named_read("Secret", name, "the redis-ha subchart's auth (values redis-ha.existingSecret)")
    elif v.flag("redis.enabled"):
        reads.append(Read("Secret", "argocd-redis", "the redis Deployment's REDIS_PASSWORD (auth), not optional"))
    if v.text("externalRedis.host"):
        reads += named_read("Secret", v.text("externalRedis.existingSecret"), "values externalRedis.existingSecret")
    return reads


def _tekton_operator_crds(v: Values) -> Kinds:
    if v.flag("installCRDs") and not v.flag("openshift.enabled"):
        return Kinds({"operator.tekton.dev": None})
    return NO_KINDS


API_CHARTS: dict[str, ChartFacts] = {
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
    # tektoncd/operator v0.81.1, charts/tekton-operator: templates/kubernetes-crds.yaml is wrapped in
    # `if (and (not .Values.openshift.enabled) .Values.installCRDs)` (installCRDs default false) and defines the
    # operator.tekton.dev CRDs (TektonConfig among them). No WebhookConfiguration in templates/: the operator's
    # webhook Deployment (templates/deployment.yaml) registers its own for operator.tekton.dev at start (knative),
    # so a TektonConfig waits for the chart's workloads. What the operator installs from a TektonConfig (the
    # tekton.dev and triggers.tekton.dev CRDs and webhooks) is in offline/order/operator_facts.py.
    "tekton-operator": ChartFacts(
        source="tektoncd/operator v0.81.1 charts/tekton-operator/{values.yaml,templates/kubernetes-crds.yaml,"
        "templates/deployment.yaml}",
        crds=_tekton_operator_crds,
        webhooks=lambda v: Kinds({"operator.tekton.dev": None}),
    ),
}
