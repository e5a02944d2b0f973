"""IdentityStack (components/identity/identity_stack.py) built alone from an IdentityStackArgs: what each of
its settings and arguments changes, what it hands on (outputs, `argocd`), and what waits for what.

tests/test_identity.py tests Dex, Authentik, Keycloak, the realm and Argo CD as the staging and prod
stacks configure them (chart values, the realm, the connectors); here one IdentityStack is built from
small settings made below, with host labels and a realm of its own, so each can be traced to what uses it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from component_harness import Built, build, in_clear

from components import config
from components.identity import IdentityStack, IdentityStackArgs
from components.identity.settings import IdentitySettings
from components.versions import CHARTS
from offline.manifests import chart_values_of, is_helm_chart
from offline.records import reveal

CHART = "kubernetes:helm.sh/v4:Chart"
CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
PASSWORD = "random:index/randomPassword:RandomPassword"
ACME = config.Organization(name="acme", display_name="ACME Corporation", admin_users=["ops@acme.example"])
SETTINGS = IdentitySettings(
    environment="staging",
    domain="example.test",
    identity=config.Identity(
        admin_email="admin@example.test",
        hosts=config.IdentityHosts(dex="login", keycloak="accounts", oauth2_proxy="sso-proxy"),
        realm="customers",
    ),
    argocd=config.ArgoCd(),
    apps=[
        config.App(
            name="grafana",
            host="dashboards",
            namespace="monitoring",
            service=config.ServiceRef(name="grafana", port=80),
        )
    ],
    access={"grafana": config.AppAccess(audience="staff", staff_groups=("platform-admins",))},
    apis=[],
    organizations=[ACME],
    tenants=[],
    uses_private_ca=False,
)
# release -> (pin in versions.CHARTS, namespace)
CHARTS_INSTALLED = {
    "cloudnative-pg": ("cloudnative-pg", "cnpg-system"),
    "authentik": ("authentik", "identity"),
    "dex": ("dex", "identity"),
    "keycloak": ("keycloakx", "keycloak"),
    "argocd": ("argo-cd", "argocd"),
}


def settings(**changes: Any) -> IdentitySettings:
    return SETTINGS.model_copy(update=changes)


def build_identity(
    stack: IdentitySettings = SETTINGS,
    secrets: dict[str, str] | None = None,
    extra: Callable[[IdentityStack], object] | None = None,
    **args: Any,
) -> Built:
    """`secrets`: stack config secrets (`gatehouse:<key>`); `extra` registers what consumes the stack."""

    def make() -> IdentityStack:
        identity = IdentityStack("identity", IdentityStackArgs(stack, **args))
        if extra:
            extra(identity)
        return identity

    return build(make, config=secrets, secrets=set(secrets or ()))


@pytest.fixture(scope="module")
def staging() -> Built:
    return build_identity()


def charts(built: Built) -> dict[str, Any]:
    return {v.release: v for v in map(chart_values_of, filter(is_helm_chart, built.children))}


def test_it_builds_its_namespaces_and_the_pinned_charts_in_them(staging: Built) -> None:
    assert staging.component.type == "gatehouse:identity:IdentityStack"
    assert staging.children and all(r.parent == staging.component.urn for r in staging.children)
    namespaces = {n["metadata"]["name"]: n["metadata"]["labels"] for n in staging.objects("Namespace")}
    assert set(namespaces) == {"cnpg-system", "identity", "keycloak", "argocd"}
    assert {n for n, labels in namespaces.items() if labels.get("gatehouse.dev/gateway-access")} == {
        "identity",
        "keycloak",
        "argocd",
    }
    assert all(labels["pod-security.kubernetes.io/enforce"] == "restricted" for labels in namespaces.values())
    installed = charts(staging)
    assert set(installed) == set(CHARTS_INSTALLED)
    for release, (pin, namespace) in CHARTS_INSTALLED.items():
        values = installed[release]
        assert (values.chart, values.version, values.namespace) == (CHARTS[pin].chart, CHARTS[pin].version, namespace)


def test_everything_namespaced_waits_for_its_namespace(staging: Built) -> None:
    namespace_urns = {r.name: r.urn for r in staging.of_type("kubernetes:core/v1:Namespace")}
    for registration in staging.children:
        namespace = registration.inputs.get("namespace") or (registration.inputs.get("metadata") or {}).get("namespace")
        if namespace:
            assert namespace_urns[reveal(namespace)] in registration.dependencies, registration.urn


def test_hosts_and_realm_from_the_settings_reach_outputs_and_what_serves_them(staging: Built) -> None:
    assert staging.outputs == {
        "issuer": "https://login.example.test",
        "keycloakIssuer": "https://accounts.example.test/realms/customers",
        "keycloakJwksUri": (
            "https://keycloak-http.keycloak.svc.cluster.local:8443/realms/customers/protocol/openid-connect/certs"
        ),
        "publicHosts": ["login.example.test", "authentik.example.test", "accounts.example.test", "argocd.example.test"],
        "clients": {
            "argocd": ["https://argocd.example.test/auth/callback"],
            "grafana": ["https://dashboards.example.test/login/generic_oauth"],  # the grafana app's host
            "oauth2-proxy": ["https://sso-proxy.example.test/oauth2/callback"],
        },
    }
    dex = yaml.safe_load(staging.object("Secret", "dex-config")["stringData"]["config.yaml"])
    assert dex["issuer"] == staging.outputs["issuer"]
    assert {c["id"]: c["redirectURIs"] for c in dex["staticClients"]} == staging.outputs["clients"]
    routed = {h for route in staging.objects("HTTPRoute") for h in route["spec"]["hostnames"]}
    routed |= set(charts(staging)["authentik"].values["server"]["route"]["main"]["hostnames"])
    assert routed == set(staging.outputs["publicHosts"])
    realm_file = staging.object("ConfigMap", "keycloak-realm")["data"]["realm.json"]
    assert json.loads(realm_file)["realm"] == "customers"


def test_a_new_realm_is_a_new_reconcile_job_and_leaves_the_keycloak_install_alone(staging: Built) -> None:
    renamed = build_identity(settings(identity=SETTINGS.identity.model_copy(update={"realm": "partners"})))
    (before,), (after,) = staging.objects("Job"), renamed.objects("Job")
    assert before["metadata"]["name"] != after["metadata"]["name"]  # a Job runs once: a new name runs it again
    assert charts(renamed)["keycloak"].values == charts(staging)["keycloak"].values
    job = renamed.named("keycloak-realm-sync")
    needs = {renamed.named(n).urn for n in ("keycloak-keycloak-realm", "keycloak-keycloak-client-secrets")}
    needs.add(renamed.named("keycloak-keycloak-admin", "kubernetes:core/v1:Secret").urn)
    assert needs <= set(job.dependencies)
    assert renamed.named("keycloak", CHART).urn not in job.dependencies


@pytest.mark.parametrize("install", [True, False])
def test_argocd_is_what_tenants_wait_for_only_when_it_is_installed(install: bool) -> None:
    """A tenant's AppProject waits for `IdentityStack.argocd` (components/platform.py): the chart carrying the
    argoproj.io CRDs, or nothing for an Argo CD the cluster already has."""

    def tenant(identity: IdentityStack) -> None:
        waits = [identity.argocd] if identity.argocd else []
        k8s.core.v1.ConfigMap("tenant-project", opts=pulumi.ResourceOptions(depends_on=waits))

    built = build_identity(settings(argocd=config.ArgoCd(install=install)), extra=tenant)
    (project,) = built.handed
    argocd_charts = [r for r in built.of_type(CHART) if r.name == "argocd"]
    assert project.dependencies == [r.urn for r in argocd_charts]
    assert bool(argocd_charts) is install
    assert ("argocd.example.test" in built.outputs["publicHosts"]) is install
    patches = {r.name for r in built.of_type("kubernetes:core/v1:ConfigMapPatch")}
    assert patches == (set() if install else {"argocd-argocd-cm", "argocd-argocd-rbac-cm"})


def test_only_what_renders_a_route_waits_for_the_gateway_api_crds() -> None:
    """The routes need the CRDs; nothing else should wait for the gateway's install."""
    crds: list[pulumi.Resource] = []

    def make() -> IdentityStack:
        crds.append(k8s.core.v1.ConfigMap("gateway-crds"))  # stands in for the gateway's CRD chart
        return IdentityStack("identity", IdentityStackArgs(SETTINGS, gateway_crds=crds))

    built = build(make)
    (handed,) = built.handed
    waiting = {r.name for r in built.children if handed.urn in r.dependencies}
    assert waiting == {r.name for r in built.of_type(ROUTE)} | {"authentik"}  # its chart renders its route
    assert len(built.of_type(ROUTE)) == 3  # Dex, Keycloak, Argo CD


def test_the_stacks_own_ca_may_arrive_after_the_stack_is_built() -> None:
    """components/platform.py hands the gateway's CA as a deferred output, resolved once the gateway exists:
    Dex mounts it and Argo CD trusts it once it resolves."""
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

    def make() -> IdentityStack:
        private_ca: pulumi.Output[str]
        resolve: Callable[[pulumi.Output[str]], None]
        private_ca, resolve = pulumi.deferred_output()
        identity = IdentityStack("identity", IdentityStackArgs(settings(uses_private_ca=True), private_ca=private_ca))
        resolve(pulumi.Output.from_input(pem))
        return identity

    built = build(make)
    ca = built.object("ConfigMap", "gatehouse-ca")
    assert (ca["metadata"]["namespace"], ca["data"]) == ("identity", {"ca.crt": pem})
    assert built.named("identity-gatehouse-ca").urn in built.named("dex", CHART).dependencies
    assert yaml.safe_load(charts(built)["argocd"].values["configs"]["cm"]["oidc.config"])["rootCA"] == pem


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_each_app_gets_a_database_awaited_until_ready_and_sized_for_the_environment(environment: str) -> None:
    """pulumi-kubernetes waits for a custom resource's condition only when `pulumi.com/waitFor` says so
    (v4.18+, provider/pkg/await); CloudNativePG sets `Ready` once the cluster is healthy."""
    built = build_identity(settings(environment=environment))
    production = environment == "prod"
    operator = built.named("cloudnative-pg", CHART).urn
    users = {"identity-authentik-db": "authentik", "identity-dex-db": "dex", "keycloak-keycloak-db": "keycloak"}
    assert {r.name for r in built.of_type(CLUSTER)} == set(users)
    for name, app in users.items():
        cluster = built.named(name, CLUSTER)
        spec = reveal(cluster.inputs["spec"])
        assert reveal(cluster.inputs["metadata"]["annotations"]) == {"pulumi.com/waitFor": "condition=Ready"}
        assert (spec["instances"], spec["storage"]["size"]) == ((3, "20Gi") if production else (1, "5Gi"))
        credentials = built.named(f"{name}-credentials", "kubernetes:core/v1:Secret")
        assert {operator, credentials.urn} <= set(cluster.dependencies), name
        assert cluster.urn in built.named(app, CHART).dependencies, app  # the app migrates its database at start


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_in_production_exactly_the_namespaces_databases_and_keys_never_regenerated_are_kept(environment: str) -> None:
    built = build_identity(settings(environment=environment))
    production = environment == "prod"
    keys = {
        "authentik-secret-key",
        "authentik-db-password",
        "dex-db-password",
        "keycloak-db-password",
        "keycloak-admin",
    }
    for registration in built.children:
        stateful = registration.type in ("kubernetes:core/v1:Namespace", CLUSTER)
        key = registration.type == PASSWORD and registration.name in keys
        assert registration.protect is (production and (stateful or key)), registration.urn
        assert registration.retain_on_delete is (production and stateful), registration.urn
    transforming = {r.name for r in built.of_type(CHART) if r.transforms}
    assert transforming == ({"cloudnative-pg", "argocd"} if production else set())  # the CRD-bearing charts


CONNECTORS = config.Connectors(
    github=config.GitHubConnector(
        client_id="gh-client", orgs=[config.GitHubOrg(name="platform-team")], platform_org="platform-team"
    ),
    google=config.GoogleConnector(client_id="google-client", hosted_domains=["example.test"]),
)
CONNECTOR_SECRETS = {
    "gatehouse:githubClientSecret": "gh-canary-1234",
    "gatehouse:googleClientSecret": "goog-canary-5678",
}


def test_generated_and_configured_secrets_are_never_in_clear_nor_in_the_outputs() -> None:
    stack = settings(identity=SETTINGS.identity.model_copy(update={"connectors": CONNECTORS}))
    built = build_identity(stack, secrets=CONNECTOR_SECRETS)
    generated = {reveal(r.outputs["result"]) for r in built.of_type(PASSWORD)}
    assert len(generated) == len(built.of_type(PASSWORD)) > 0
    needles = generated | set(CONNECTOR_SECRETS.values())
    assert not [r.urn for r in built.children if in_clear(r.inputs, needles)]
    assert not in_clear(built.outputs, needles)
    assert not [n for n in needles if n in json.dumps(reveal(built.outputs))]  # not even marked secret
    connectors = built.object("Secret", "dex-connectors")
    assert {connectors["stringData"][k] for k in ("github-client-secret", "google-client-secret")} == set(
        CONNECTOR_SECRETS.values()
    )


@pytest.mark.parametrize("missing", sorted(CONNECTOR_SECRETS))
def test_a_connector_without_its_client_secret_in_the_stack_config_stops_the_build(missing: str) -> None:
    stack = settings(identity=SETTINGS.identity.model_copy(update={"connectors": CONNECTORS}))
    given = {k: v for k, v in CONNECTOR_SECRETS.items() if k != missing}
    with pytest.raises(pulumi.ConfigMissingError, match=missing):
        build_identity(stack, secrets=given)


@pytest.mark.parametrize("uses_private_ca, private_ca", [(True, None), (False, "-----BEGIN CERTIFICATE-----")])
def test_the_private_ca_is_given_exactly_when_the_settings_use_one(
    uses_private_ca: bool, private_ca: str | None
) -> None:
    """Given alone, Argo CD would trust a CA Dex does not; flagged alone, Dex would mount `gatehouse-ca`,
    a ConfigMap nothing creates, and never start: refused before anything is registered."""
    with pytest.raises(ValueError, match="private_ca must be given exactly when settings.uses_private_ca"):
        IdentityStackArgs(settings(uses_private_ca=uses_private_ca), private_ca=private_ca)
