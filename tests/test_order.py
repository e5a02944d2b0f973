"""The deploy-order check of the offline preview (offline/order/: check.py, replay.py, chart_facts/): an
empty cluster replayed in dependency order, each rule with a program that breaks it and one that does not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FIXTURES, UPSTREAM
from helpers import run_preview

from offline.order import RULES, chart_facts, check_order, prerequisites_of
from offline.order.values import Values
from offline.records import Registration, Secret

PROGRAMS = FIXTURES / "programs"


def _variant(tmp_path: Path, fixture: str, **config: Any) -> Path:
    """A copy of a fixture program with its dev stack's config keys set."""
    program = tmp_path / fixture
    shutil.copytree(PROGRAMS / fixture, program)
    project = yaml.safe_load((program / "Pulumi.yaml").read_text())["name"]
    (program / "Pulumi.dev.yaml").write_text(
        yaml.safe_dump({"config": {f"{project}:{k}": v for k, v in config.items()}})
    )
    return program


def _preview(tmp_path: Path, fixture: str, **config: Any) -> tuple[Any, str, dict[str, Any]]:
    program = _variant(tmp_path, fixture, **config) if config else PROGRAMS / fixture
    result, printed = run_preview(program, tmp_path / "out")
    order = json.loads((tmp_path / "out" / "validation-report.json").read_text())["order"]
    return result, printed, order


def _found(order: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(v["rule"], v["object"], v["missing"]) for v in order["violations"]}


# --- through the preview ----------------------------------------------------------------------------


def test_a_clean_program_reports_its_order_without_violations(tmp_path: Path) -> None:
    result, printed, order = _preview(tmp_path, "tiny")
    assert result.exit_code == 0, printed
    assert order["rules"] == list(RULES) == ["namespace", "crd", "webhook", "reads"]
    assert order["prerequisites"] == [] and order["violations"] == []
    # the Namespace; the Secret in it; the ConfigMap after the Secret (through the Box's children)
    assert order["checked"] == 3 and order["waves"] == [1, 1, 1]
    assert "Order:      3 objects and charts in 3 waves, 0 violations" in printed
    assert printed.index("Validation:") < printed.index("Order:") < printed.index("Policies:")


def test_an_app_project_without_argo_cd_misses_its_crd(tmp_path: Path) -> None:
    """argoproj.io CRDs come from an Argo CD install (the argo-cd chart installs them when crds.install,
    argoproj/argo-helm argo-cd-10.1.1 charts/argo-cd/templates/crds/); this program has none."""
    result, printed, order = _preview(tmp_path, "order_argocd", prerequisite=False)
    assert result.exit_code == 1
    assert _found(order) == {("crd", "AppProject argocd/team-a", "CRD argoproj.io/AppProject")}
    (violation,) = order["violations"]
    assert violation["urn"].endswith("kubernetes:argoproj.io/v1alpha1:AppProject::team-a")
    assert "argoproj.io" in violation["message"] and "AppProject" in violation["message"]
    assert f"  [order:crd] {violation['urn']}\n      {violation['message']}" in printed
    assert result.validation_problems == [] and len(result.order_problems) == 1


def test_an_existing_argo_cd_stated_as_a_prerequisite_provides_namespace_and_crds(tmp_path: Path) -> None:
    result, printed, order = _preview(tmp_path, "order_argocd", prerequisite=True)
    assert result.exit_code == 0, printed
    assert order["violations"] == []
    assert order["prerequisites"] == [{"what": "Argo CD", "namespaces": ["argocd"], "apiGroups": ["argoproj.io"]}]
    assert "Prerequisites: Argo CD (namespaces argocd, API groups argoproj.io)" in printed


def test_a_certificate_without_cert_manager_misses_its_crd(tmp_path: Path) -> None:
    result, printed, order = _preview(tmp_path, "order_certificate")
    assert result.exit_code == 1
    assert _found(order) == {("crd", "Certificate web/web-tls", "CRD cert-manager.io/Certificate")}
    assert "[order:crd]" in printed


def test_an_object_not_depending_on_its_namespace_may_come_first(tmp_path: Path) -> None:
    result, printed, order = _preview(tmp_path, "order_namespace", linked=False)
    assert result.exit_code == 1
    assert _found(order) == {("namespace", "ConfigMap team-a/settings", "Namespace team-a")}
    assert "namespace team-a" in order["violations"][0]["message"]
    assert order["waves"] == [2]  # nothing orders the two


def test_an_object_taking_its_namespace_from_the_namespace_comes_after_it(tmp_path: Path) -> None:
    result, printed, order = _preview(tmp_path, "order_namespace", linked=True)
    assert result.order_problems == [] and result.validation_problems == [], printed
    assert order["violations"] == [] and order["waves"] == [1, 1]


def test_a_cluster_not_depending_on_the_cloudnative_pg_chart_can_meet_no_webhook(tmp_path: Path) -> None:
    """cloudnative-pg/charts cloudnative-pg-v0.29.0 charts/cloudnative-pg/templates/
    {mutating,validating}webhookconfiguration.yaml: the operator's webhooks admit postgresql.cnpg.io
    Clusters (failurePolicy Fail), created by default (webhook.mutating/validating.create: true in
    values.yaml); `crds.create: false` leaves the CRD to the program (templates/crds/crds.yaml)."""
    result, printed, order = _preview(tmp_path, "order_webhook", dependsOnChart=False)
    assert result.exit_code == 1
    assert _found(order) == {("webhook", "Cluster db/app-db", "chart cloudnative-pg")}


def test_a_cluster_depending_on_the_cloudnative_pg_chart_waits_for_its_webhook(tmp_path: Path) -> None:
    """As above (cloudnative-pg-v0.29.0 webhook configurations); the Cluster's CRD is the program's own
    CustomResourceDefinition object, since the chart's `crds.create` is false."""
    result, printed, order = _preview(tmp_path, "order_webhook", dependsOnChart=True)
    assert result.order_problems == [] and result.validation_problems == [], printed
    assert order["violations"] == []
    assert order["checked"] == 5 and order["waves"] == [3, 1, 1]


def test_what_a_deployment_and_a_chart_read_must_be_declared_before_them(tmp_path: Path) -> None:
    """grafana-community/helm-charts grafana-12.11.1 charts/grafana/templates/_pod.tpl reads the admin
    user and password by secretKeyRef from `admin.existingSecret`."""
    result, printed, order = _preview(tmp_path, "order_reads", declared=False)
    assert result.exit_code == 1
    assert _found(order) == {
        ("reads", "Deployment apps/web", "Secret apps/db"),
        ("reads", "Deployment apps/web", "ServiceAccount apps/web"),
        ("reads", "chart grafana", "Secret apps/grafana-admin"),
    }  # the Secret read with `optional: true` is not required
    urns = [v["urn"] for v in order["violations"]]
    assert urns == sorted(urns)
    assert printed.count("[order:reads]") == 3


def test_declaring_what_they_read_and_depending_on_it_fixes_the_reads(tmp_path: Path) -> None:
    """As above (grafana-12.11.1 `admin.existingSecret`)."""
    result, printed, order = _preview(tmp_path, "order_reads", declared=True)
    assert result.order_problems == [] and result.validation_problems == [], printed
    assert order["violations"] == []


# --- the replay, on registrations ---------------------------------------------------------------------


def _urn(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::t::{type_}::{name}"


def _object(kind: str, name: str, namespace: str = "", api: str = "v1", deps: tuple[str, ...] = (), **body: Any):
    type_ = f"kubernetes:{'core/v1' if api == 'v1' else api}:{kind}"
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    inputs = {"apiVersion": api, "kind": kind, "metadata": metadata, **body}
    return Registration(_urn(type_, name), type_, name, "", True, False, "", inputs, {}, list(deps))


def _chart(release: str, chart: str, namespace: str, values: dict[str, Any], deps: tuple[str, ...] = ()):
    type_ = "kubernetes:helm.sh/v4:Chart"
    inputs = {"name": release, "chart": chart, "version": "0", "namespace": namespace, "values": values}
    return Registration(_urn(type_, release), type_, release, "", False, True, "", inputs, {}, list(deps))


def _check(*regs: Registration, exports: dict[str, Any] | None = None, crd_kinds: tuple[str, ...] = ()):
    schemas = {r.urn: "crd:x" if r.inputs.get("kind") in crd_kinds else "core" for r in regs}
    return check_order(list(regs), schemas=schemas, exports=exports, upstream=UPSTREAM)


def _missing(report) -> set[tuple[str, str]]:
    return {(v.rule, v.missing) for v in report.violations}


def test_a_dependency_on_a_component_is_one_on_all_its_descendants() -> None:
    box_type = "t:index:Box"
    box = Registration(_urn(box_type, "box"), box_type, "box", "", False, False, "", {}, {}, [])
    inner = Registration(_urn(box_type, "inner"), box_type, "inner", box.urn, False, False, "", {}, {}, [])
    namespace = _object("Namespace", "team")
    namespace.parent = inner.urn  # a grandchild of the component depended on
    config = _object("ConfigMap", "settings", "team", deps=(box.urn,))
    report = _check(box, inner, namespace, config)
    assert report.violations == [] and report.waves == [1, 1] and report.checked == 2


def test_resources_outside_the_cluster_pass_waves_on_without_one_of_their_own() -> None:
    namespace = _object("Namespace", "team")
    password_type = "random:index/randomPassword:RandomPassword"
    password = Registration(
        _urn(password_type, "pw"), password_type, "pw", "", True, False, "", {}, {}, [namespace.urn]
    )
    secret = _object("Secret", "db", "team", deps=(password.urn,))
    assert _check(namespace, password, secret).waves == [1, 1]


def test_violations_are_sorted_by_urn_then_rule() -> None:
    project = _object("AppProject", "p", "argocd", api="argoproj.io/v1alpha1")
    config = _object("ConfigMap", "a", "nowhere")
    report = _check(project, config, crd_kinds=("AppProject",))
    keys = [(v.urn, v.rule) for v in report.violations]
    assert keys == sorted(keys, key=lambda k: (k[0], RULES.index(k[1])))
    assert [v.rule for v in report.violations if v.urn == project.urn] == ["namespace", "crd"]


def test_a_patch_declares_nothing() -> None:
    """A Patch resource modifies an object that must exist already (pulumi-kubernetes' Patch docs)."""
    type_ = "kubernetes:core/v1:NamespacePatch"
    patch = Registration(
        _urn(type_, "ns"),
        type_,
        "ns",
        "",
        True,
        False,
        "",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}},
        {},
        [],
    )
    config = _object("ConfigMap", "a", "x", deps=(patch.urn,))
    assert _missing(_check(patch, config)) == {("namespace", "Namespace x")}


def test_a_certificate_declares_the_secret_cert_manager_writes_for_it() -> None:
    """cert-manager v1.21.1, the Certificate CRD: `spec.secretName` is the Secret cert-manager creates
    and manages for the Certificate, in its namespace. A pod mounting it as a plain volume waits for it
    (the kubelet retries the mount), so depending on the Certificate is depending on its Secret."""
    namespace = _object("Namespace", "web")
    certificate = _object(
        "Certificate", "web-tls", "web", api="cert-manager.io/v1", deps=(namespace.urn,), spec={"secretName": "web-tls"}
    )
    volumes = [{"name": "tls", "secret": {"secretName": "web-tls"}}]
    waits = _chart("web", "dex", "web", {"volumes": volumes}, deps=(namespace.urn, certificate.urn))
    assert _missing(_check(namespace, certificate, waits)) == set()
    early = _chart("web", "dex", "web", {"volumes": volumes}, deps=(namespace.urn,))
    assert _missing(_check(namespace, certificate, early)) == {("reads", "Secret web/web-tls")}


def test_a_yaml_config_file_of_a_crd_installs_that_kind() -> None:
    """keycloak/keycloak-k8s-resources 26.0.0 kubernetes/keycloaks.k8s.keycloak.org-v1.yml is the CRD
    keycloaks.k8s.keycloak.org (kind Keycloak); a ConfigFile of it stands for that CRD."""
    type_ = "kubernetes:yaml/v2:ConfigFile"
    url = "https://raw.githubusercontent.com/keycloak/keycloak-k8s-resources/26.0.0/kubernetes/keycloaks.k8s.keycloak.org-v1.yml"
    crds = Registration(_urn(type_, "crds"), type_, "crds", "", False, True, "", {"file": url}, {}, [])
    keycloak = _object("Keycloak", "kc", "default", api="k8s.keycloak.org/v2alpha1", deps=(crds.urn,))
    realm = _object("KeycloakRealmImport", "realm", "default", api="k8s.keycloak.org/v2alpha1", deps=(crds.urn,))
    report = _check(crds, keycloak, realm, crd_kinds=("Keycloak", "KeycloakRealmImport"))
    assert _missing(report) == {("crd", "CRD k8s.keycloak.org/KeycloakRealmImport")}


def test_prerequisites_may_be_secret_and_are_read_as_exported() -> None:
    exported = {"prerequisites": Secret([{"what": "Argo CD", "namespaces": ["argocd"], "apiGroups": ["argoproj.io"]}])}
    (found,) = prerequisites_of(exported)
    assert found.to_json() == {"what": "Argo CD", "namespaces": ["argocd"], "apiGroups": ["argoproj.io"]}
    assert found.describe() == "Argo CD (namespaces argocd, API groups argoproj.io)"
    assert prerequisites_of({}) == [] and prerequisites_of({"prerequisites": "nonsense"}) == []


def test_cert_manager_installs_its_crds_only_when_told_and_guards_every_cert_manager_object() -> None:
    """cert-manager/cert-manager v1.21.1 deploy/charts/cert-manager: the CRD templates are wrapped in
    `if or .Values.crds.enabled .Values.installCRDs` (both false in values.yaml), and
    templates/webhook-validating-webhook.yaml validates every resource of cert-manager.io and
    acme.cert-manager.io."""
    namespace = _object("Namespace", "cert-manager")
    issuer_args = {"api": "cert-manager.io/v1", "spec": {"selfSigned": {}}}
    for values, missing in (
        ({}, {("crd", "CRD cert-manager.io/ClusterIssuer")}),
        ({"crds": {"enabled": True}}, set()),
        ({"installCRDs": True}, set()),
    ):
        chart = _chart("cert-manager", "cert-manager", "cert-manager", values, deps=(namespace.urn,))
        issuer = _object("ClusterIssuer", "ca", deps=(chart.urn,), **issuer_args)
        assert _missing(_check(namespace, chart, issuer, crd_kinds=("ClusterIssuer",))) == missing, values
    chart = _chart("cert-manager", "cert-manager", "cert-manager", {"crds": {"enabled": True}}, deps=(namespace.urn,))
    crd = _object("CustomResourceDefinition", "c", api="apiextensions.k8s.io/v1")
    crd.inputs["spec"] = {"group": "cert-manager.io", "names": {"kind": "ClusterIssuer"}}
    issuer = _object("ClusterIssuer", "ca", deps=(crd.urn,), **issuer_args)
    report = _check(namespace, chart, crd, issuer, crd_kinds=("ClusterIssuer",))
    assert _missing(report) == {("webhook", "chart cert-manager")}


def test_external_secrets_guards_stores_but_not_every_kind_and_switches_crds_by_kind() -> None:
    """external-secrets/external-secrets helm-chart-2.9.0: templates/validatingwebhook.yaml validates
    secretstores, clustersecretstores and externalsecrets only; hack/helm.generate.sh wraps Cluster* and
    PushSecret CRDs in `and .Values.installCRDs .Values.crds.create<Kind>`, the others in installCRDs."""
    namespace = _object("Namespace", "external-secrets")
    values = {"crds": {"createClusterSecretStore": False}}
    chart = _chart("eso", "external-secrets", "external-secrets", values, deps=(namespace.urn,))
    store = _object("ClusterSecretStore", "s", api="external-secrets.io/v1", deps=(chart.urn,))
    push = _object("PushSecret", "p", "external-secrets", api="external-secrets.io/v1alpha1", deps=(namespace.urn,))
    report = _check(namespace, chart, store, push, crd_kinds=("ClusterSecretStore", "PushSecret"))
    assert _missing(report) == {
        ("crd", "CRD external-secrets.io/ClusterSecretStore"),
        ("crd", "CRD external-secrets.io/PushSecret"),
    }


def test_the_crds_chart_renders_only_cluster_scoped_objects() -> None:
    """envoyproxy/gateway v1.9.0 charts/gateway-crds-helm/templates/: CRDs and a ValidatingAdmissionPolicy
    (and its binding) only, so its release namespace need not exist; gateway-helm's crds subchart is on by
    default (values.yaml `crds.enabled: true`)."""
    crds = _chart(
        "gateway-crds", "gateway-crds-helm", "envoy-gateway-system", {"crds": {"gatewayAPI": {"enabled": True}}}
    )
    helm = _chart("envoy-gateway", "gateway-helm", "envoy-gateway-system", {})
    route = _object("GatewayClass", "eg", api="gateway.networking.k8s.io/v1", deps=(crds.urn,))
    policy = _object("ClientTrafficPolicy", "p", "default", api="gateway.envoyproxy.io/v1alpha1", deps=(helm.urn,))
    report = _check(crds, helm, route, policy, crd_kinds=("GatewayClass", "ClientTrafficPolicy"))
    assert _missing(report) == {("namespace", "Namespace envoy-gateway-system")}
    assert [v.object for v in report.violations] == ["chart envoy-gateway"]


# --- chart facts ----------------------------------------------------------------------------------------


def _facts(chart: str, values: dict[str, Any], namespace: str = "ns") -> chart_facts.EvaluatedChart:
    return chart_facts.evaluate(chart, values, namespace, UPSTREAM)


def _reads(chart: str, values: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r.kind, r.name) for r in _facts(chart, values).reads}


def test_values_coalesce_like_helm() -> None:
    values = Values({"a": {"b": None, "c": 2}, "d": "x"}, {"a": {"b": 1, "e": 3}, "d": {"f": 1}, "g": 4})
    assert values.get("a.b") is None and values.get("a.c") == 2 and values.get("a.e") == 3
    assert values.get("d") == "x" and values.get("d.f") is None and values.get("g") == 4
    assert values.get("missing.path", "fallback") == "fallback"


def test_every_fact_reads_its_defaults_from_the_vendored_values() -> None:
    """Absent values take the chart's values.yaml defaults: cloudnative-pg `crds.create: true`, argo-cd
    `crds.install: true`, cert-manager `crds.enabled: false`, external-secrets `installCRDs: true` and
    `webhook.create: true`, gateway-helm `crds.enabled: true`."""
    assert _facts("cloudnative-pg", {}).crds.covers("postgresql.cnpg.io", "Cluster")
    assert _facts("argo-cd", {}).crds.covers("argoproj.io", "AppProject")
    assert not _facts("cert-manager", {}).crds
    assert _facts("external-secrets", {}).crds.covers("generators.external-secrets.io", "Password")
    assert _facts("external-secrets", {}).webhooks.covers("external-secrets.io", "ExternalSecret")
    assert not _facts("external-secrets", {}).webhooks.covers("external-secrets.io", "PushSecret")
    assert _facts("gateway-helm", {}).crds.covers("gateway.envoyproxy.io", "SecurityPolicy")
    assert not _facts("gateway-helm", {}).webhooks  # the topology injector guards pods/binding only
    assert not _facts("gateway-crds-helm", {}).crds  # both switches default to false
    assert not _facts("tekton-operator", {}).crds  # installCRDs defaults to false
    assert _facts("tekton-operator", {"installCRDs": True}).crds.covers("operator.tekton.dev", "TektonConfig")
    vendored = {p.name for d in (UPSTREAM / "charts", UPSTREAM / "tekton" / "charts") for p in d.iterdir()}
    assert set(chart_facts.FACTS) <= vendored


def test_argo_cd_needs_the_redis_secret_its_skipped_hook_would_make() -> None:
    """argoproj/argo-helm argo-cd-10.1.1 charts/argo-cd/templates/redis/deployment.yaml reads Secret
    argocd-redis (no optional); only the redis-secret-init pre-install hook Job creates it, and
    helm.v4.Chart installs no hooks."""
    assert _reads("argo-cd", {}) == {("Secret", "argocd-redis")}
    assert _reads("argo-cd", {"redis": {"enabled": False}}) == set()


@pytest.mark.parametrize(
    ("chart", "values", "expected"),
    [
        # dexidp/helm-charts dex-0.24.0 templates/_helpers.tpl dex.configSecretName / dex.serviceAccountName
        ("dex", {"configSecret": {"create": False, "name": "dex-config"}}, {("Secret", "dex-config")}),
        ("dex", {}, set()),
        ("dex", {"serviceAccount": {"create": False, "name": "dex"}}, {("ServiceAccount", "dex")}),
        # goauthentik/helm authentik-2026.8.0 templates/worker/deployment.yaml blueprints volumes
        (
            "authentik",
            {"blueprints": {"configMaps": ["bp"], "secrets": ["bs"]}},
            {("ConfigMap", "bp"), ("Secret", "bs")},
        ),
        # oauth2-proxy/manifests oauth2-proxy-10.7.0 templates/_helpers.tpl, deployment.yaml
        (
            "oauth2-proxy",
            {
                "config": {"existingSecret": "creds"},
                "sessionStorage": {"type": "redis", "redis": {"existingSecret": "r"}},
            },
            {("Secret", "creds"), ("Secret", "r")},
        ),
        ("oauth2-proxy", {"sessionStorage": {"redis": {"existingSecret": "r"}}}, set()),  # cookie sessions
        # valkey-io/valkey-helm valkey-0.11.0 valkey/templates/deploy_valkey.yaml (only with auth.enabled)
        ("valkey", {"auth": {"enabled": True, "usersExistingSecret": "users"}}, {("Secret", "users")}),
        ("valkey", {"auth": {"usersExistingSecret": "users"}}, set()),
        # codecentric/helm-charts keycloakx-7.1.11 templates/statefulset.yaml: extraEnv is a YAML string
        (
            "keycloakx",
            {
                "database": {"existingSecret": "db"},
                "extraEnv": "- name: A\n  valueFrom:\n    secretKeyRef:\n      name: admin\n      key: password\n",
            },
            {("Secret", "db"), ("Secret", "admin")},
        ),
        # ... and so is extraVolumes, rendered into the pod's volumes
        (
            "keycloakx",
            {"extraVolumes": "- name: tls\n  secret:\n    secretName: keycloak-tls\n"},
            {("Secret", "keycloak-tls")},
        ),
        # any chart: a secretKeyRef anywhere in the values, unless optional
        (
            "redis-ha",
            {
                "x": {"env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]},
                "y": {"secretKeyRef": {"name": "o", "optional": True}},
            },
            {("Secret", "s")},
        ),
    ],
)
def test_what_each_chart_reads(chart: str, values: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    assert _reads(chart, values) == expected


def test_a_namespace_override_moves_the_chart() -> None:
    """dexidp/helm-charts dex-0.24.0 templates/_helpers.tpl: dex.namespace is `namespaceOverride` or the
    release namespace."""
    assert _facts("dex", {"namespaceOverride": "elsewhere"}, "identity").namespace == "elsewhere"
    assert _facts("dex", {}, "identity").namespace == "identity"
