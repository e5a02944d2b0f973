"""The identity plane: databases, Authentik, Dex, Keycloak and Argo CD SSO, all derived from the config."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FIXTURES, REPO, UPSTREAM
from helpers import program_with_stack, run_preview, stack_config

from components import charts, config, endpoints
from components.identity import argocd, blueprint, dex, realm
from components.platform import identity_settings
from offline.manifests import chart_values_of, is_helm_chart, is_kubernetes_object, manifest_of
from offline.preview import PreviewResult
from offline.records import Registration, Secret, reveal
from offline.runtime import ProgramRun, run_program
from offline.stack_config import load_stack_config

IDENTITY = "gatehouse:identity:IdentityStack"
ORG_ROLES = ["ORG_ADMIN", "ORG_MANAGER", "ORG_USER"]


# --- running the program --------------------------------------------------------------------------


def _run(program: Path, stack: str) -> ProgramRun:
    run = run_program(program, load_stack_config(program, stack))
    assert run.error is None, run.error
    return run


def _wired(directory: Path, stack: str, cfg: dict[str, Any] | None = None) -> Path:
    """The fixture program (identity alone, CRDs wired, attributes exported) with the repo's code."""
    program = directory / "wired"
    program.mkdir(parents=True, exist_ok=True)
    (program / "__main__.py").symlink_to(FIXTURES / "identity" / "wired" / "__main__.py")
    for name in ("Pulumi.yaml", "components", "apis"):
        (program / name).symlink_to(REPO / name)
    (program / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": cfg or stack_config(stack)}))
    return program


@pytest.fixture(scope="module")
def staging() -> ProgramRun:
    return _run(REPO, "staging")


@pytest.fixture(scope="module")
def prod() -> ProgramRun:
    return _run(REPO, "prod")


@pytest.fixture(scope="module", params=["staging", "prod"])
def wired(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, ProgramRun]:
    stack = request.param
    return stack, _run(_wired(tmp_path_factory.mktemp(stack), stack), stack)


# --- reading what it registered -------------------------------------------------------------------


def identity_regs(run: ProgramRun) -> list[Registration]:
    return [r for r in run.registrations if f"{IDENTITY}$" in r.urn]


def objects(run: ProgramRun, kind: str) -> list[dict[str, Any]]:
    return [manifest_of(r).obj for r in identity_regs(run) if is_kubernetes_object(r) and r.inputs.get("kind") == kind]


def one(run: ProgramRun, kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in objects(run, kind) if o["metadata"]["name"] == name]
    return found


def reg(run: ProgramRun, type_: str, name: str) -> Registration:
    (found,) = [r for r in run.registrations if r.type == type_ and r.name == name]
    return found


def chart(run: ProgramRun, release: str) -> dict[str, Any]:
    (found,) = [chart_values_of(r) for r in identity_regs(run) if is_helm_chart(r) and r.inputs["name"] == release]
    return found.values


def the_realm(run: ProgramRun) -> dict[str, Any]:
    """The realm keycloak-config-cli applies (the ConfigMap its Job mounts)."""
    return json.loads(one(run, "ConfigMap", "keycloak-realm")["data"]["realm.json"])


def dex_config(run: ProgramRun) -> dict[str, Any]:
    return yaml.safe_load(one(run, "Secret", "dex-config")["stringData"]["config.yaml"])


def parsed(stack: str) -> config.StackConfig:
    return config.parse_raw({k.split(":", 1)[1]: v for k, v in stack_config(stack).items()})


def env_refs(env: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    return {e["name"]: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"]) for e in env}


# --- namespaces and databases ---------------------------------------------------------------------


def test_namespaces_and_their_pod_security(staging: ProgramRun) -> None:
    levels = {ns["metadata"]["name"]: ns["metadata"]["labels"] for ns in objects(staging, "Namespace")}
    assert set(levels) == {"cnpg-system", "identity", "keycloak", "argocd"}
    for name, labels in levels.items():
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted", name
    gateway = {name for name, labels in levels.items() if labels.get("gatehouse.dev/gateway-access") == "true"}
    assert gateway == {"identity", "keycloak", "argocd"}


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_one_database_per_app_with_a_generated_owner_password(
    stack: str, staging: ProgramRun, prod: ProgramRun
) -> None:
    run = {"staging": staging, "prod": prod}[stack]
    clusters = {c["metadata"]["name"]: c for c in objects(run, "Cluster")}
    assert set(clusters) == {"authentik-db", "dex-db", "keycloak-db"}
    operator = reg(run, "kubernetes:helm.sh/v4:Chart", "cloudnative-pg")
    for name, cluster in clusters.items():
        app = name.removesuffix("-db")
        spec = cluster["spec"]
        assert spec["instances"] == (3 if stack == "prod" else 1)
        assert spec["enablePDB"] is (stack == "prod")
        initdb = spec["bootstrap"]["initdb"]
        assert (initdb["database"], initdb["owner"]) == (app, app)
        credentials = one(run, "Secret", initdb["secret"]["name"])
        assert credentials["type"] == "kubernetes.io/basic-auth"
        assert credentials["metadata"]["namespace"] == cluster["metadata"]["namespace"]
        assert credentials["stringData"]["username"] == app  # CloudNativePG: the username must be the owner
        assert len(credentials["stringData"]["password"]) == 40
        cluster_reg = next(r for r in identity_regs(run) if r.name.endswith(name) and r.type.endswith(":Cluster"))
        assert operator.urn in cluster_reg.dependencies
    assert clusters["keycloak-db"]["metadata"]["namespace"] == "keycloak"
    assert (
        clusters["dex-db"]["metadata"]["namespace"] == clusters["authentik-db"]["metadata"]["namespace"] == "identity"
    )


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_databases_are_awaited_before_the_charts_that_use_them(
    stack: str, staging: ProgramRun, prod: ProgramRun
) -> None:
    """pulumi-kubernetes waits for no condition of a custom resource unless told (v4.32.0
    provider/pkg/await/awaiters.go; `pulumi.com/waitFor`, provider/pkg/metadata/annotations.go, since v4.18).
    CloudNativePG sets the Cluster's condition `Ready` once the cluster is healthy (v1.30.0
    api/v1/cluster_types.go ConditionClusterReady, pkg/resources/status/transactions.go). Dex exits when its
    database is unreachable at start (dex v2.44.0 storage/sql/config.go); Authentik and Keycloak migrate at
    start: each chart waits for its Cluster."""
    run = {"staging": staging, "prod": prod}[stack]
    clusters = {r.name: r for r in identity_regs(run) if r.type == "kubernetes:postgresql.cnpg.io/v1:Cluster"}
    for cluster in clusters.values():
        assert cluster.inputs["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=Ready"}
    users = {"authentik": "identity-authentik-db", "dex": "identity-dex-db", "keycloak": "keycloak-keycloak-db"}
    for chart_name, cluster_name in users.items():
        assert clusters[cluster_name].urn in reg(run, "kubernetes:helm.sh/v4:Chart", chart_name).dependencies


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_prod_protects_namespaces_databases_crds_and_keys(stack: str, staging: ProgramRun, prod: ProgramRun) -> None:
    """Protect what holds data or definitions, nothing else: namespaces, databases and generated keys
    directly; CRDs a chart renders through its transform, never the chart, whose children would inherit
    `protect` (pulumi sdk/python/lib/pulumi/resource.py; the engine's inheritFromParent)."""
    run = {"staging": staging, "prod": prod}[stack]
    regs = identity_regs(run)
    must = [r for r in regs if r.type in ("kubernetes:core/v1:Namespace", "kubernetes:postgresql.cnpg.io/v1:Cluster")]
    kept = {"authentik-secret-key", "authentik-db-password", "dex-db-password", "keycloak-db-password"}
    kept.add("keycloak-admin")  # Keycloak reads it only when it creates the master realm
    must += [r for r in regs if r.name in kept and r.type == "random:index/randomPassword:RandomPassword"]
    assert len(must) == 4 + 3 + 5
    for r in must:
        assert r.protect is (stack == "prod"), r.urn
    charts = {r.name: r for r in regs if r.type == "kubernetes:helm.sh/v4:Chart"}
    for r in charts.values():
        assert not r.protect, r.urn
    # the two that carry CRDs (CloudNativePG's, Argo CD's) protect them in prod
    assert {name for name, r in charts.items() if r.transforms} == (
        {"cloudnative-pg", "argocd"} if stack == "prod" else set()
    )


# --- secrets --------------------------------------------------------------------------------------


def _clear(value: Any, needles: set[str], path: str = "", inside: bool = False) -> Iterator[str]:
    """Paths of string leaves holding a secret value outside a Pulumi secret."""
    if isinstance(value, Secret):
        yield from _clear(value.value, needles, path, True)
    elif isinstance(value, dict):
        for key, nested in value.items():
            yield from _clear(nested, needles, f"{path}.{key}", inside)
    elif isinstance(value, list):
        for index, nested in enumerate(value):
            yield from _clear(nested, needles, f"{path}[{index}]", inside)
    elif isinstance(value, str) and not inside and any(n in value for n in needles):
        yield path


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_credential_is_a_pulumi_secret_end_to_end(stack: str, staging: ProgramRun, prod: ProgramRun) -> None:
    run = {"staging": staging, "prod": prod}[stack]
    passwords = [r for r in identity_regs(run) if r.type == "random:index/randomPassword:RandomPassword"]
    assert all(isinstance(p.outputs["result"], Secret) for p in passwords)
    assert not any(p.inputs.get("keepers") for p in passwords)  # nothing rotates them behind our back
    generated = {reveal(p.outputs["result"]) for p in passwords}
    stack_file = load_stack_config(REPO, stack)
    configured = {stack_file.values[k] for k in stack_file.secret_keys}
    needles = generated | configured
    for r in run.registrations:
        assert not list(_clear(r.inputs, needles)), r.urn
    # and every generated one reaches Kubernetes, inside a Secret
    secret_data = json.dumps([reveal(r.inputs) for r in identity_regs(run) if r.type == "kubernetes:core/v1:Secret"])
    assert all(value in secret_data for value in generated)
    # never, even marked secret, in chart values or ConfigMaps
    for r in identity_regs(run):
        if is_helm_chart(r) or r.type in ("kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:ConfigMapPatch"):
            text = json.dumps(reveal(r.inputs))
            assert not [n for n in needles if n in text], r.urn


def test_authentik_secret_key_is_generated_once(staging: ProgramRun) -> None:
    key = reg(staging, "random:index/randomPassword:RandomPassword", "authentik-secret-key")
    assert key.inputs["length"] == 64 and "keepers" not in key.inputs
    credentials = one(staging, "Secret", "authentik-credentials")
    assert set(credentials["stringData"]) == {"secret-key", "bootstrap-password", "bootstrap-token"}


# --- Authentik ------------------------------------------------------------------------------------


class _BlueprintLoader(yaml.SafeLoader):
    pass


_BlueprintLoader.add_constructor("!Find", lambda loader, node: ("Find", *loader.construct_sequence(node, deep=True)))
_BlueprintLoader.add_constructor("!KeyOf", lambda loader, node: ("KeyOf", loader.construct_scalar(node)))
_BlueprintLoader.add_constructor("!Env", lambda loader, node: ("Env", loader.construct_scalar(node)))


def test_blueprint_parses_with_groups_and_the_dex_provider(staging: ProgramRun) -> None:
    text = one(staging, "ConfigMap", "authentik-blueprints")["data"]["platform.yaml"]
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.safe_load(text)  # the tags are really there
    document = yaml.load(text, Loader=_BlueprintLoader)
    assert document["version"] == 1
    entries = document["entries"]
    ids = {e["id"] for e in entries if "id" in e}

    def refs(value: Any) -> Iterator[str]:
        if isinstance(value, tuple) and value[0] == "KeyOf":
            yield value[1]
        elif isinstance(value, dict):
            for v in value.values():
                yield from refs(v)
        elif isinstance(value, list | tuple):
            for v in value:
                yield from refs(v)

    assert set(refs(entries)) <= ids  # every !KeyOf points at an entry of this file
    by_model: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_model.setdefault(entry["model"], []).append(entry)
    groups = {e["identifiers"]["name"]: e["attrs"] for e in by_model["authentik_core.group"]}
    assert groups == {
        "platform-admins": {"is_superuser": True},
        "platform-operators": {"is_superuser": False},
        "platform-engineering": {"is_superuser": False},
    }
    (mapping,) = by_model["authentik_providers_oauth2.scopemapping"]
    assert mapping["attrs"]["scope_name"] == "email" and '"email_verified": True' in mapping["attrs"]["expression"]
    (provider,) = by_model["authentik_providers_oauth2.oauth2provider"]
    attrs = provider["attrs"]
    assert attrs["grant_types"] == ["authorization_code", "refresh_token"]
    assert attrs["client_id"] == "dex" and attrs["client_secret"] == ("Env", "AUTHENTIK_DEX_CLIENT_SECRET")
    assert attrs["redirect_uris"] == [
        {"matching_mode": "strict", "url": "https://dex.staging.platform.example.com/callback"}
    ]
    assert attrs["issuer_mode"] == "per_provider"
    assert attrs["invalidation_flow"][0] == "Find" and attrs["authorization_flow"][0] == "Find"
    assert ("KeyOf", "email-verified") in attrs["property_mappings"]
    (application,) = by_model["authentik_core.application"]
    assert application["identifiers"] == {"slug": "dex"} and application["attrs"]["provider"] == (
        "KeyOf",
        provider["id"],
    )
    bound = {b["attrs"]["group"][1] for b in by_model["authentik_policies.policybinding"]}
    assert bound == {e["id"] for e in by_model["authentik_core.group"]}


def test_blueprint_first_applies_the_blueprints_its_lookups_need(staging: ProgramRun) -> None:
    text = one(staging, "ConfigMap", "authentik-blueprints")["data"]["platform.yaml"]
    entries = yaml.load(text, Loader=_BlueprintLoader)["entries"]
    meta = [e for e in entries if e["model"] == "authentik_blueprints.metaapplyblueprint"]
    assert entries[: len(meta)] == meta  # before anything else: Authentik applies files in no set order
    assert [e["attrs"] for e in meta] == [
        {"identifiers": {"path": "system/providers-oauth2.yaml"}, "required": True},
        {"identifiers": {"path": "default/flow-default-authentication-flow.yaml"}, "required": True},
        {"identifiers": {"path": "default/flow-default-authenticator-totp-setup.yaml"}, "required": True},
        {
            "identifiers": {"path": "default/flow-default-provider-authorization-implicit-consent.yaml"},
            "required": True,
        },
        {"identifiers": {"path": "default/flow-default-provider-invalidation.yaml"}, "required": True},
    ]

    def finds(value: Any) -> Iterator[tuple[str, str, str]]:
        if isinstance(value, tuple) and value[0] == "Find":
            yield value[1], *value[2]
        elif isinstance(value, dict):
            for v in value.values():
                yield from finds(v)
        elif isinstance(value, list):
            for v in value:
                yield from finds(v)

    # what those blueprints create, and the certificate Authentik's crypto app creates at startup
    assert set(finds(entries)) == {
        ("authentik_flows.flow", "slug", "default-authentication-flow"),
        ("authentik_stages_authenticator_totp.authenticatortotpstage", "name", "default-authenticator-totp-setup"),
        ("authentik_flows.flow", "slug", "default-provider-authorization-implicit-consent"),
        ("authentik_flows.flow", "slug", "default-provider-invalidation-flow"),
        ("authentik_crypto.certificatekeypair", "name", "authentik Self-signed Certificate"),
        ("authentik_providers_oauth2.scopemapping", "managed", "goauthentik.io/providers/oauth2/scope-openid"),
        ("authentik_providers_oauth2.scopemapping", "managed", "goauthentik.io/providers/oauth2/scope-profile"),
        (
            "authentik_providers_oauth2.scopemapping",
            "managed",
            "goauthentik.io/providers/oauth2/scope-offline_access",
        ),
    }


# What Authentik's own blueprints create, read from goauthentik/authentik through the stored index (the
# 2026.8.0 tag itself could not be fetched: the repository is larger than the mirror allows):
# blueprints/default/flow-default-authentication-flow.yaml binds, to slug `default-authentication-flow`,
# these stages at these orders; it names the MFA stage by identifiers only, with no attrs.
STOCK_AUTHENTICATION_FLOW = "default-authentication-flow"
STOCK_BINDINGS = [
    (10, "authentik_stages_identification.identificationstage", "default-authentication-identification"),
    (20, "authentik_stages_password.passwordstage", "default-authentication-password"),
    (30, "authentik_stages_authenticator_validate.authenticatorvalidatestage", "default-authentication-mfa-validation"),
    (100, "authentik_stages_user_login.userloginstage", "default-authentication-login"),
]
VALIDATE_STAGE = "authentik_stages_authenticator_validate.authenticatorvalidatestage"
# blueprints/default/flow-default-authenticator-totp-setup.yaml: the TOTP enrolment stage
TOTP_SETUP = ("authentik_stages_authenticator_totp.authenticatortotpstage", "name", "default-authenticator-totp-setup")


def _sign_in_without_a_device(entries: list[dict[str, Any]]) -> str:
    """What happens to a staff member with no MFA device who signs in to Dex through Authentik.

    The flow is the Dex provider's `authentication_flow`, else the brand's (blueprints/default/
    default-brand.yaml: `default-authentication-flow`). Stages run in binding order; at an authenticator
    validation stage with no device, authentik/stages/authenticator_validate/stage.py `get` skips on
    `skip` (the model default, models.py `NotConfiguredAction.SKIP`), fails on `deny`, and on
    `configure` inserts the configuration stage (the only one, directly) or fails when there is none."""
    (provider,) = [e for e in entries if e["model"] == "authentik_providers_oauth2.oauth2provider"]
    stock = ("Find", "authentik_flows.flow", ["slug", STOCK_AUTHENTICATION_FLOW])
    assert provider["attrs"].get("authentication_flow", stock) == stock
    assert not [e for e in entries if e["model"] == "authentik_flows.flowstagebinding"]  # only the stock bindings
    attrs = {(e["model"], e.get("identifiers", {}).get("name")): e.get("attrs", {}) for e in entries}
    for _order, model, name in STOCK_BINDINGS:
        if model == "authentik_stages_user_login.userloginstage":
            return "signed in without a second factor"
        if model != VALIDATE_STAGE:
            continue
        stage = attrs.get((model, name), {})
        action = stage.get("not_configured_action", "skip")
        if action == "deny":
            return "denied"
        if action == "configure":
            return "enrols a device first" if stage.get("configuration_stages") else "denied"
    raise AssertionError("the flow has no user login stage")


def test_staff_signing_in_through_authentik_give_a_second_factor(staging: ProgramRun) -> None:
    """Issue 18: every staff sign-in through Authentik requires a second factor. A staff member without a
    device must enrol one (or be refused) before the user-login stage makes a session, and those who have
    one are asked on every sign-in (`last_auth_threshold: seconds=0`, the model default, pinned)."""
    text = one(staging, "ConfigMap", "authentik-blueprints")["data"]["platform.yaml"]
    entries = yaml.load(text, Loader=_BlueprintLoader)["entries"]
    assert _sign_in_without_a_device(entries) == "enrols a device first"
    (stage,) = [e for e in entries if e["model"] == VALIDATE_STAGE]
    assert stage["identifiers"] == {"name": "default-authentication-mfa-validation"}
    assert stage["attrs"]["configuration_stages"] == [("Find", TOTP_SETUP[0], list(TOTP_SETUP[1:]))]
    assert "totp" in stage["attrs"]["device_classes"]  # what that stage enrols is accepted afterwards
    assert "static" not in stage["attrs"]["device_classes"]  # recovery codes alone are no second factor
    assert stage["attrs"]["last_auth_threshold"] == "seconds=0"


def test_authentik_reads_every_secret_from_a_secret(staging: ProgramRun) -> None:
    values = chart(staging, "authentik")
    assert values["postgresql"] == {"enabled": False}
    assert values["authentik"]["postgresql"]["host"] == "authentik-db-rw.identity.svc.cluster.local"
    assert values["blueprints"]["configMaps"] == ["authentik-blueprints"]
    env = [e for e in values["global"]["env"] if "valueFrom" in e]
    for variable, (secret, key) in env_refs(env).items():
        assert key in one(staging, "Secret", secret)["stringData"], variable
    assert set(env_refs(env)) == {
        "AUTHENTIK_SECRET_KEY",
        "AUTHENTIK_POSTGRESQL__PASSWORD",
        "AUTHENTIK_BOOTSTRAP_PASSWORD",
        "AUTHENTIK_BOOTSTRAP_TOKEN",
        blueprint.DEX_SECRET_ENV,
    }
    assert env_refs(env)["AUTHENTIK_POSTGRESQL__PASSWORD"] == ("authentik-db-credentials", "password")
    route = values["server"]["route"]["main"]
    assert route["hostnames"] == ["authentik.staging.platform.example.com"]
    assert route["parentRefs"] == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": "public",
            "namespace": "envoy-gateway-system",
            "sectionName": "https",
        }
    ]
    assert route["labels"] == {"gatehouse.dev/public-route": "true"}
    for part in ("server", "worker"):
        assert values[part]["containerSecurityContext"]["allowPrivilegeEscalation"] is False
        assert values[part]["securityContext"]["runAsNonRoot"] is True


# --- Dex --------------------------------------------------------------------------------------------


def test_dex_config(staging: ProgramRun) -> None:
    cfg = dex_config(staging)
    stack = parsed("staging")
    assert cfg["issuer"] == "https://dex.staging.platform.example.com"
    assert cfg["expiry"] == {
        "signingKeys": "6h",
        "idTokens": "24h",
        "refreshTokens": {"validIfNotUsedFor": "2160h", "absoluteLifetime": "3960h"},
    }
    assert cfg["oauth2"]["skipApprovalScreen"] is True
    storage = cfg["storage"]
    assert storage["type"] == "postgres" and storage["config"]["ssl"] == {"mode": "require"}
    assert storage["config"]["host"] == "dex-db-rw.identity.svc.cluster.local" and storage["config"]["user"] == "dex"
    connectors = {c["id"]: c for c in cfg["connectors"]}
    assert set(connectors) == {"authentik", "github", "google"}
    authentik = connectors["authentik"]["config"]
    assert connectors["authentik"]["type"] == "oidc"
    assert authentik["issuer"] == "https://authentik.staging.platform.example.com/application/o/dex/"
    assert authentik["insecureEnableGroups"] is True
    assert authentik["claimModifications"] == {"modifyGroupNames": {"prefix": "authentik:"}}
    github = connectors["github"]["config"]
    assert github["teamNameField"] == "slug" and github["clientID"] == "Ov23liStagingGatehouse"
    # the platform org's teams, and each tenant repo's org with a team per tenant (its default group)
    assert github["orgs"] == [
        {"name": "acme-corp", "teams": ["helpdesk", "payments"]},
        {"name": "example-org", "teams": ["platform-admins", "platform-engineering", "platform-operators"]},
        {"name": "globex", "teams": ["analytics", "storefront"]},
        {"name": "initech", "teams": ["archon"]},
    ]
    assert connectors["google"]["config"]["hostedDomains"] == ["example.com"]
    for connector in connectors.values():
        assert connector["config"]["redirectURI"] == f"{cfg['issuer']}/callback"
    assert stack.identity.connectors.github is not None


UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _parsed_with(cfg: dict[str, Any]) -> config.StackConfig:
    return config.parse_raw({k.split(":", 1)[1]: v for k, v in cfg.items()})


def test_platform_groups_come_only_from_the_platform_github_org() -> None:
    """Dex's GitHub connector (dexidp/dex v2.44.0 connector/github/github.go, `groupsForOrgs`, `formatTeamName`)
    emits `<org>:<team>` for every org it lists, tenants' included: a tenant org's own team named
    `platform-admins` is `globex:platform-admins`, which must grant nothing in Argo CD. Only the declared
    platform org (and Authentik, which the platform runs) names platform groups."""
    cfg = copy.deepcopy(stack_config("staging"))
    cfg["gatehouse:identity"]["connectors"]["github"]["orgs"].append({"name": "globex"})  # every team a group
    stack = _parsed_with(cfg)
    lines = set(argocd.policy_csv(identity_settings(stack)).strip().splitlines())
    assert lines == PLATFORM_GROUP_LINES
    assert not [line for line in lines if "globex" in line]


def test_github_orgs_merge_configured_teams_with_the_tenants_teams() -> None:
    cfg = copy.deepcopy(stack_config("staging"))
    cfg["gatehouse:identity"]["connectors"]["github"]["orgs"] = [
        {"name": "example-org", "teams": ["platform-admins"]},
        {"name": "acme-corp", "teams": ["sre", "helpdesk"]},  # a tenant repo's org, configured too
        {"name": "globex"},  # no teams: every team of the org is a group, and stays so
    ]
    tenants = {t["name"]: t for t in cfg["gatehouse:tenants"]}
    tenants["archon"]["groups"] = ["initech:archon-devs"]  # explicit groups win, and need no Dex team
    stack = _parsed_with(cfg)
    expected = [
        {"name": "acme-corp", "teams": ["helpdesk", "payments", "sre"]},
        {"name": "example-org", "teams": ["platform-admins"]},
        {"name": "globex", "teams": []},
    ]
    assert stack.identity.connectors.github is not None
    assert dex.github_orgs(identity_settings(stack), stack.identity.connectors.github) == expected
    assert {t.name: t.oidc_groups for t in stack.tenants} == {
        "helpdesk": ["acme-corp:helpdesk"],
        "payments": ["acme-corp:payments"],
        "storefront": ["globex:storefront"],
        "analytics": ["globex:analytics"],
        "archon": ["initech:archon-devs"],
    }
    # the order of tenants and orgs in config changes nothing
    cfg["gatehouse:tenants"].reverse()
    cfg["gatehouse:identity"]["connectors"]["github"]["orgs"].reverse()
    reordered = _parsed_with(cfg)
    assert reordered.identity.connectors.github is not None
    assert dex.github_orgs(identity_settings(reordered), reordered.identity.connectors.github) == expected


def test_dex_secrets_only_through_environment_variables(staging: ProgramRun) -> None:
    cfg = dex_config(staging)
    values = chart(staging, "dex")
    assert values["configSecret"] == {"create": False, "name": "dex-config"}
    env = env_refs([e for e in values["envVars"] if "valueFrom" in e])
    referenced = set(re.findall(r"\$([A-Z_]+)", json.dumps(cfg)))
    referenced |= {c["secretEnv"] for c in cfg["staticClients"]}
    assert referenced == set(env)  # every variable Dex reads comes from a Secret, and nothing else
    for variable, (secret, key) in env.items():
        assert key in one(staging, "Secret", secret)["stringData"], variable
    assert env["GITHUB_CLIENT_SECRET"] == ("dex-connectors", "github-client-secret")
    assert env["DEX_DB_PASSWORD"] == ("dex-db-credentials", "password")
    # the secret Dex presents to Authentik is the one Authentik's blueprint reads
    authentik_env = env_refs([e for e in chart(staging, "authentik")["global"]["env"] if "valueFrom" in e])
    assert authentik_env[blueprint.DEX_SECRET_ENV] == env["AUTHENTIK_CLIENT_SECRET"]
    config_text = one(staging, "Secret", "dex-config")["stringData"]["config.yaml"]
    assert values["podAnnotations"]["checksum/config"] == hashlib.sha256(config_text.encode()).hexdigest()


def test_dex_can_start_with_a_read_only_root_filesystem(staging: ProgramRun) -> None:
    """dex v2.44.0, cmd/docker-entrypoint/main.go: the image's entrypoint renders every `.yaml` argument of
    `dex serve` through gomplate into `os.CreateTemp("/tmp", "dex.config.yaml-*")` before it execs Dex, and
    the dex chart 0.24.0 runs that entrypoint (templates/deployment.yaml sets args only). With the root
    filesystem read-only, /tmp must be a volume, or Dex never starts."""
    values = chart(staging, "dex")
    assert values["securityContext"]["readOnlyRootFilesystem"] is True
    volumes = {v["name"]: v for v in values["volumes"]}
    (tmp,) = [m for m in values["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert "emptyDir" in volumes[tmp["name"]]


def test_dex_starts_while_an_upstream_issuer_is_unreachable(staging: ProgramRun) -> None:
    """dex v2.44.0, server/server.go: NewServer fails ("Failed to open connector") when a connector cannot
    open, and the oidc connector (connector/oidc/oidc.go) fetches its issuer's discovery document at open:
    Authentik's, served through the gateway, which a first `pulumi up` may not have ready. The feature flag
    DEX_CONTINUE_ON_CONNECTOR_FAILURE (pkg/featureflags/set.go, default false until v2.45.0) lets Dex start
    and reopen the connector when it is first used."""
    env = {e["name"]: e for e in chart(staging, "dex")["envVars"]}
    assert env["DEX_CONTINUE_ON_CONNECTOR_FAILURE"] == {"name": "DEX_CONTINUE_ON_CONNECTOR_FAILURE", "value": "true"}


@pytest.mark.parametrize("stack", ["staging", "dev"])
def test_dex_outlasts_authentiks_start_instead_of_waiting_for_it(stack: str, staging: ProgramRun) -> None:
    """dex v2.44.0 server/server.go: with DEX_CONTINUE_ON_CONNECTOR_FAILURE Dex still exits when no connector
    opens ("failed to open all connectors"), as with Authentik alone (dev) until Authentik serves. Dex does
    not wait for Authentik's install, which would lengthen `pulumi up`'s longest path: the kubelet restarts
    it (at most 5 minutes apart), and Pulumi waits for its Deployment (`pulumi.com/timeoutSeconds`,
    pulumi-kubernetes provider/pkg/metadata/overrides.go) longer than for Authentik's (10 minutes,
    provider/pkg/await/deployment.go) plus one such back-off."""
    run = staging if stack == "staging" else _run(REPO, "dev")
    authentik_chart = reg(run, "kubernetes:helm.sh/v4:Chart", "authentik")
    assert authentik_chart.urn not in reg(run, "kubernetes:helm.sh/v4:Chart", "dex").dependencies
    wait = int(chart(run, "dex")["deploymentAnnotations"]["pulumi.com/timeoutSeconds"])
    assert wait >= 10 * 60 + 5 * 60
    connectors = [c["id"] for c in dex_config(run)["connectors"]]
    assert connectors == (["authentik"] if stack == "dev" else ["authentik", "github", "google"])


def test_dex_route(staging: ProgramRun) -> None:
    route = one(staging, "HTTPRoute", "dex")
    assert route["metadata"]["namespace"] == "identity"
    assert route["metadata"]["labels"]["gatehouse.dev/public-route"] == "true"
    assert route["spec"]["hostnames"] == ["dex.staging.platform.example.com"]
    assert route["spec"]["parentRefs"][0]["name"] == "public"
    assert route["spec"]["rules"][0]["backendRefs"] == [{"name": "dex", "port": 5556}]


# --- rolling pods when a Secret they read changes ---------------------------------------------------

# What each consumer's pods read from Secrets in staging (GitHub and Google connectors on), by release
# and where its chart takes pod annotations. oauth2-proxy's `client-id` is left out: not a secret.
CONSUMERS: dict[str, tuple[list[tuple[str, ...]], dict[str, list[str]]]] = {
    "dex": (
        [("podAnnotations",)],
        {
            "dex-db-credentials": ["password"],
            "dex-connectors": ["authentik-client-secret", "github-client-secret", "google-client-secret"],
            "dex-clients": ["argocd", "grafana", "oauth2-proxy"],
        },
    ),
    "authentik": (
        [("server", "podAnnotations"), ("worker", "podAnnotations")],
        {
            "authentik-credentials": ["bootstrap-password", "bootstrap-token", "secret-key"],
            "authentik-db-credentials": ["password"],
            "dex-connectors": ["authentik-client-secret"],
        },
    ),
    "oauth2-proxy": (
        [("podAnnotations",)],
        {"oauth2-proxy-credentials": ["client-secret", "cookie-secret"], "oauth2-proxy-redis-users": ["default"]},
    ),
}
ROTATED_GITHUB_SECRET = "rotated-github-client-secret"


@pytest.fixture(scope="module")
def rolled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PreviewResult, PreviewResult]:
    """The staging preview, and the same with another GitHub client secret (read by Dex only)."""
    results = []
    out = tmp_path_factory.mktemp("staging-checksums")
    for directory, secrets in ((out, None), (out / "rotated", {"gatehouse:githubClientSecret": ROTATED_GITHUB_SECRET})):
        result, printed = run_preview(REPO, directory, "staging", REPO / "policy" / "staging.json", secrets=secrets)
        assert result.exit_code == 0, printed
        results.append(result)
    return out, results[0], results[1]


def _values(result: PreviewResult, release: str) -> dict[str, Any]:
    (found,) = [c for c in result.charts if c.release == release]
    return found.values


def _at(values: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for key in path:
        values = values[key]
    return values


def _annotations(result: PreviewResult, release: str) -> list[str]:
    paths, _ = CONSUMERS[release]
    return [_at(_values(result, release), path)["checksum/secrets"] for path in paths]


def _expected_checksum(result: PreviewResult, consumed: dict[str, list[str]]) -> str:
    """SHA-256 of the compact, key-sorted JSON `{secret: {key: value}}` of the Secrets as registered."""
    data = {m.name: m.obj["stringData"] for m in result.manifests if m.kind == "Secret" and m.name in consumed}
    assert set(data) == set(consumed)
    read = {name: {key: data[name][key] for key in keys} for name, keys in consumed.items()}
    return hashlib.sha256(json.dumps(read, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def test_each_consumer_carries_a_digest_of_the_secrets_it_reads(rolled) -> None:
    _, result, _ = rolled
    upstream = {c: yaml.safe_load((UPSTREAM / "charts" / c / "values.yaml").read_text()) for c in CONSUMERS}
    for release, (paths, consumed) in CONSUMERS.items():
        expected = _expected_checksum(result, consumed)
        assert _annotations(result, release) == [expected] * len(paths), release
        for path in paths:  # where the chart reads pod annotations
            assert _at(upstream[release], path) == {}, (release, path)
    # exactly what the environment reads, and only secrets: Dex's config has its own checksum
    for release, env in (
        ("dex", _values(result, "dex")["envVars"]),
        ("authentik", _values(result, "authentik")["global"]["env"]),
    ):
        read = {(name, key) for name, key in env_refs([e for e in env if "valueFrom" in e]).values()}
        assert read == {(name, key) for name, keys in CONSUMERS[release][1].items() for key in keys}, release
    assert set(_at(_values(result, "dex"), ("podAnnotations",))) == {"checksum/config", "checksum/secrets"}


def test_secrets_checksums_stay_pulumi_secrets(rolled) -> None:
    out, result, _ = rolled
    assert result.run is not None
    digests = {d for release in CONSUMERS for d in _annotations(result, release)}
    assert len(digests) == 3 and all(re.fullmatch(r"[0-9a-f]{64}", d) for d in digests)
    for r in result.run.registrations:
        assert not list(_clear(r.inputs, digests)), r.urn  # never outside a Pulumi secret
    recorded = {r["name"]: r for r in json.loads((out / "resources.json").read_text())}
    for release, (paths, _) in CONSUMERS.items():
        assert "values" in recorded[release]["secret_inputs"], release
        written = yaml.safe_load((out / "charts" / f"{release}.values.yaml").read_text())
        for path in paths:
            assert _at(written, path)["checksum/secrets"] == "[secret]", (release, path)
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".yaml"):
            text = path.read_text()
            assert not [d for d in digests if d in text], path


def test_a_changed_secret_rolls_only_the_workloads_that_read_it(rolled) -> None:
    _, before, after = rolled
    assert after.config is not None and after.config.values["gatehouse:githubClientSecret"] == ROTATED_GITHUB_SECRET
    changed = {release for release in CONSUMERS if _annotations(before, release) != _annotations(after, release)}
    assert changed == {"dex"}  # Authentik reads another key of dex-connectors; oauth2-proxy none of it
    assert _annotations(after, "dex") == [_expected_checksum(after, CONSUMERS["dex"][1])]
    config_checksum = [_values(r, "dex")["podAnnotations"]["checksum/config"] for r in (before, after)]
    assert config_checksum[0] == config_checksum[1]  # the config only names the variable


def test_secrets_checksum_needs_every_value_it_is_asked_for() -> None:
    with pytest.raises(ValueError, match="no value given for key 'password' of Secret 'dex-db-credentials'"):
        charts.secrets_checksum([("dex-db-credentials", "password")], [])


# --- consistency across Dex, Argo CD and the component's interface -----------------------------------


def test_issuers_client_ids_and_redirect_uris_agree(wired: tuple[str, ProgramRun]) -> None:
    stack, run = wired
    domain = stack_config(stack)["gatehouse:domain"]
    exports = run.exports
    cfg = dex_config(run)
    issuer = f"https://dex.{domain}"
    assert exports["issuer"] == cfg["issuer"] == issuer
    dex_clients = {c["id"]: c["redirectURIs"] for c in cfg["staticClients"]}
    exported = {key: value["redirectUris"] for key, value in exports["clients"].items()}
    assert {key: value["id"] for key, value in exports["clients"].items()} == {k: k for k in exported}
    assert dex_clients == exported
    assert set(exported) == {"argocd", "grafana", "oauth2-proxy"}
    assert exported["argocd"] == [f"https://argocd.{domain}/auth/callback"]
    assert exported["grafana"] == [f"https://grafana.{domain}/login/generic_oauth"]
    assert exported["oauth2-proxy"] == [f"https://auth.{domain}/oauth2/callback"]
    # Argo CD: the same issuer, its client id, and a callback Dex accepts
    argocd_cm = chart(run, "argocd")["configs"]["cm"]
    oidc = yaml.safe_load(argocd_cm["oidc.config"])
    assert oidc["issuer"] == issuer and oidc["clientID"] == "argocd"
    assert f"{argocd_cm['url']}/auth/callback" in dex_clients[oidc["clientID"]]
    secret_name, key = oidc["clientSecret"].removeprefix("$").split(":")
    oidc_secret = one(run, "Secret", secret_name)
    assert oidc_secret["metadata"]["labels"]["app.kubernetes.io/part-of"] == "argocd"
    assert key in oidc_secret["stringData"]
    assert oidc_secret["stringData"][key] == one(run, "Secret", "dex-clients")["stringData"]["argocd"]
    # Keycloak: the issuer and JWKS the gateway verifies API tokens with
    assert exports["keycloakIssuer"] == f"https://sso.{domain}/realms/tenants"
    assert exports["keycloakJwksUri"] == (
        "https://keycloak-http.keycloak.svc.cluster.local:8443/realms/tenants/protocol/openid-connect/certs"
    )
    keycloak_env = yaml.safe_load(chart(run, "keycloak")["extraEnv"])
    assert {"name": "KC_HOSTNAME", "value": f"https://sso.{domain}"} in keycloak_env
    hosts = [f"dex.{domain}", f"authentik.{domain}", f"sso.{domain}", f"argocd.{domain}"]
    assert exports["publicHosts"] == hosts
    routed = {h for r in objects(run, "HTTPRoute") for h in r["spec"]["hostnames"]}
    routed |= set(chart(run, "authentik")["server"]["route"]["main"]["hostnames"])
    assert routed == set(exports["publicHosts"])


def test_client_secrets_are_pulumi_secrets(wired: tuple[str, ProgramRun]) -> None:
    _, run = wired
    secrets = {k.split(":", 1)[1]: v for k, v in run.exports.items() if k.startswith("clientSecret:")}
    assert set(secrets) == {"argocd", "grafana", "oauth2-proxy"}
    assert all(isinstance(v, Secret) and len(v.value) == 40 for v in secrets.values())
    assert reveal(secrets) == one(run, "Secret", "dex-clients")["stringData"]


def test_routes_wait_for_the_gateway_api_crds(wired: tuple[str, ProgramRun]) -> None:
    _, run = wired
    crds = reg(run, "kubernetes:yaml/v2:ConfigFile", "gateway-api-crds").urn
    waiting = [r for r in identity_regs(run) if r.type == "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"]
    waiting.append(reg(run, "kubernetes:helm.sh/v4:Chart", "authentik"))  # renders Authentik's route
    assert len(waiting) == 4  # Dex, Keycloak, Argo CD, Authentik
    for r in waiting:
        assert crds in r.dependencies, r.urn


# --- Argo CD ----------------------------------------------------------------------------------------


FORCE = {"pulumi.com/patchForce": "true"}
PLATFORM_GROUP_LINES = {
    "g, authentik:platform-admins, role:admin",
    "g, example-org:platform-admins, role:admin",
    "g, authentik:platform-operators, role:readonly",
    "g, example-org:platform-operators, role:readonly",
    "g, authentik:platform-engineering, role:readonly",
    "g, example-org:platform-engineering, role:readonly",
}


def test_argocd_is_installed_with_sso_through_the_platform_dex(staging: ProgramRun) -> None:
    """argo-helm argo-cd-10.1.1: `dex.enabled` runs a Dex of its own (off: the platform's instead);
    `configs.cm`/`configs.rbac`/`configs.params` render argocd-cm, argocd-rbac-cm and argocd-cmd-params-cm;
    with `server.insecure` the argocd-server Service serves plain HTTP on port 80
    (templates/argocd-server/service.yaml), which the route targets; `crds.install` installs the
    argoproj.io CRDs every tenant AppProject needs."""
    values = chart(staging, "argocd")
    assert values["dex"] == {"enabled": False}
    assert values["crds"] == {"install": True}
    assert values["configs"]["params"] == {"server.insecure": True}
    cm = values["configs"]["cm"]
    assert cm["url"] == "https://argocd.staging.platform.example.com"
    assert cm["admin.enabled"] is False
    # tenant AppProjects' destinationServiceAccounts are ignored unless this is on
    assert cm["application.sync.impersonation.enabled"] == "true"
    assert yaml.safe_load(cm["oidc.config"]) == {
        "name": "Platform SSO",
        "issuer": "https://dex.staging.platform.example.com",
        "clientID": "argocd",
        "clientSecret": "$argocd-dex-oidc:clientSecret",
    }  # no requestedScopes: Argo CD's default (openid profile email groups) is what Dex needs
    rbac = values["configs"]["rbac"]
    assert set(rbac["policy.csv"].strip().splitlines()) == PLATFORM_GROUP_LINES
    assert (rbac["policy.default"], rbac["scopes"]) == ("", "[groups]")
    (rule,) = one(staging, "HTTPRoute", "argocd")["spec"]["rules"]
    assert rule["backendRefs"] == [{"name": "argocd-server", "port": 80}]
    chart_reg = reg(staging, "kubernetes:helm.sh/v4:Chart", "argocd")
    assert chart_reg.inputs["namespace"] == "argocd"
    projects = [r for r in staging.registrations if r.type == "kubernetes:argoproj.io/v1alpha1:AppProject"]
    assert projects and all(chart_reg.urn in p.dependencies for p in projects)


def test_argocd_redis_secret_is_made_since_its_hook_never_runs(staging: ProgramRun) -> None:
    """argo-helm argo-cd-10.1.1 templates/redis-secret-init/*: a pre-install hook Job creates Secret
    `argocd-redis` (key `auth`), which the Redis Deployment requires (templates/redis/deployment.yaml,
    secretKeyRef without `optional`); pulumi-kubernetes' helm.v4.Chart renders no hooks (DisableHooks in
    provider/pkg/provider/helm/v4/chart.go). Gatehouse makes the Secret before the chart and turns the hook off."""
    values = chart(staging, "argocd")
    assert values["redisSecretInit"] == {"enabled": False}
    redis = one(staging, "Secret", "argocd-redis")
    assert redis["metadata"]["namespace"] == "argocd" and len(redis["stringData"]["auth"]) == 40
    secret_reg = next(
        r for r in identity_regs(staging) if r.type.endswith(":Secret") and r.name == "argocd-argocd-redis"
    )
    assert secret_reg.urn in reg(staging, "kubernetes:helm.sh/v4:Chart", "argocd").dependencies


def test_an_existing_argocd_gets_only_gatehouses_keys(tmp_path: Path) -> None:
    """`argocd.install: false`: no chart, no namespace; the keys Gatehouse owns are patched into the
    install's ConfigMaps (forced: the argo-cd chart renders some of them itself), and the stack states the
    prerequisite (stack output `prerequisites`)."""
    cfg = stack_config("staging")
    cfg["gatehouse:argocd"] = {"install": False}
    run = _run(program_with_stack(tmp_path, "staging", cfg), "staging")
    assert not [r for r in identity_regs(run) if r.name == "argocd" and r.type.endswith(":Chart")]
    assert "argocd" not in {ns["metadata"]["name"] for ns in objects(run, "Namespace")}
    patch = one(run, "ConfigMap", "argocd-rbac-cm")
    # no labels (the object is the install's), and forced: the install's field manager owns policy.csv
    assert patch["metadata"] == {"name": "argocd-rbac-cm", "namespace": "argocd", "annotations": FORCE}
    assert set(patch["data"]) == {"policy.csv"}  # policy.default "" and scopes [groups] are Argo CD's defaults
    assert set(patch["data"]["policy.csv"].strip().splitlines()) == PLATFORM_GROUP_LINES
    data = one(run, "ConfigMap", "argocd-cm")["data"]
    assert set(data) == {"url", "oidc.config", "application.sync.impersonation.enabled"}
    chart_defaults = yaml.safe_load((UPSTREAM / "charts" / "argo-cd" / "values.yaml").read_text())["configs"]
    assert set(data) & set(chart_defaults["cm"]) == {"application.sync.impersonation.enabled"}
    assert reveal(run.exports["prerequisites"]) == [
        {"what": "Argo CD", "namespaces": ["argocd"], "apiGroups": ["argoproj.io"]}
    ]


# --- Keycloak ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_keycloak_server_behind_the_gateway(stack: str, staging: ProgramRun, prod: ProgramRun) -> None:
    """keycloakx 7.1.11 (codecentric/helm-charts charts/keycloakx): no command or args by default (kc.sh with
    nothing to do: `start` is given); `http.relativePath` defaults to /auth (the issuer has no prefix);
    `proxy.mode` becomes KC_PROXY_HEADERS (Envoy sends X-Forwarded-*); the database password comes from
    `database.existingSecret`; the HTTP Service is `<fullname>-http` on port 80 (templates/service-http.yaml)."""
    run = {"staging": staging, "prod": prod}[stack]
    values = chart(run, "keycloak")
    assert values["fullnameOverride"] == "keycloak"
    assert values["replicas"] == (2 if stack == "prod" else 1)
    assert values["args"] == ["start"]
    assert values["http"] == {"relativePath": "/", "internalScheme": "HTTPS"}  # probes: see test_jwks.py
    assert values["proxy"] == {"enabled": True, "mode": "xforwarded", "http": {"enabled": True}}
    assert values["database"]["hostname"] == "keycloak-db-rw.keycloak.svc.cluster.local"
    assert values["database"]["existingSecret"] == "keycloak-db-credentials"
    env = {e["name"]: e for e in yaml.safe_load(values["extraEnv"])}
    assert env["KC_DB_USERNAME"]["valueFrom"]["secretKeyRef"] == {"name": "keycloak-db-credentials", "key": "username"}
    assert env["KC_BOOTSTRAP_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "keycloak-admin"
    assert values["serviceAccount"]["automountServiceAccountToken"] is False  # jdbc-ping: no API access
    route = one(run, "HTTPRoute", "keycloak")
    (rule,) = route["spec"]["rules"]
    assert rule["backendRefs"] == [{"name": "keycloak-http", "port": 80}]
    prefixes = {m["path"]["value"] for m in rule["matches"]}
    assert prefixes == {"/realms/tenants/", "/resources/", "/.well-known/"}  # never /admin, nor other realms
    assert all(m["path"]["type"] == "PathPrefix" for m in rule["matches"])
    assert values["httpRoute"] == {"enabled": False}  # the chart's own route would serve everything
    assert not [r for r in run.registrations if r.type.startswith("kubernetes:k8s.keycloak.org/")]


def test_the_realm_is_reconciled_by_keycloak_config_cli(staging: ProgramRun) -> None:
    """adorsys/keycloak-config-cli v6.5.0 (README.md, application.properties, docs/MANAGED.md): it signs in to
    the master realm with KEYCLOAK_USER/PASSWORD, waits for Keycloak with the availability check, substitutes
    `$(env:NAME)` only when IMPORT_VARSUBSTITUTION_ENABLED, deletes what it created and the file no longer
    names (remote state), client scopes and scope mappings only when their managed mode is `full`, and skips
    an unchanged realm while its cache is on."""
    job = one(staging, "Job", next(o["metadata"]["name"] for o in objects(staging, "Job")))
    assert re.fullmatch(r"keycloak-realm-[0-9a-f]{10}", job["metadata"]["name"])
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "docker.io/adorsys/keycloak-config-cli:6.5.0-26.5.4"
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    assert env["KEYCLOAK_URL"] == "http://keycloak-http.keycloak.svc.cluster.local:80"  # never the public host
    assert env["KEYCLOAK_USER"] == {"secretKeyRef": {"name": "keycloak-admin", "key": "username"}}
    assert env["KEYCLOAK_AVAILABILITYCHECK_ENABLED"] == "true"
    assert env["IMPORT_VARSUBSTITUTION_ENABLED"] == "true"
    assert env["IMPORT_REMOTESTATE_ENABLED"] == "true"
    assert env["IMPORT_CACHE_ENABLED"] == "false"
    assert env["IMPORT_MANAGED_CLIENTSCOPE"] == env["IMPORT_MANAGED_SCOPEMAPPING"] == "full"
    assert env["IMPORT_FILES_LOCATIONS"] == "file:/config/*"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/config"]]["configMap"] == {"name": "keycloak-realm"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True and "emptyDir" in volumes[mounts["/tmp"]]
    # a user profile goes in through the top-level key while the attribute is set (adorsys#979)
    realm = the_realm(staging)
    assert realm["attributes"] == {"userProfileEnabled": "true"} and "components" not in realm
    assert "preferred_org" in {a["name"] for a in realm["userProfile"]["attributes"]}


def test_the_realm_job_waits_for_keycloak_itself(staging: ProgramRun) -> None:
    """adorsys/keycloak-config-cli v6.5.0, src/main/java/de/adorsys/keycloak/config/provider/KeycloakProvider.java
    `getKeycloakWithRetry`: with `keycloak.availability-check.enabled` it retries signing in and reading the
    server info, whatever fails (a Failsafe policy without an exception filter), every `retry-delay` until
    `availability-check.timeout` (application.properties: off, 120s, 2s by default). pulumi-kubernetes
    (provider/pkg/await: deployment.go, statefulset.go, job.go, await.go) waits 10 minutes for each
    workload and awaited resource unless `pulumi.com/timeoutSeconds` says otherwise (metadata/overrides.go).
    So the Job need not wait for the Keycloak install, which would lengthen `pulumi up`'s longest path: it
    waits out the three awaits Keycloak's pods come after on an empty cluster (the CloudNativePG chart,
    the database, Keycloak), and its deadline and Pulumi's wait for it outlast that and the import."""
    job_reg = reg(staging, "kubernetes:batch/v1:Job", "keycloak-realm-sync")
    keycloak_chart = reg(staging, "kubernetes:helm.sh/v4:Chart", "keycloak")
    database = reg(staging, "kubernetes:postgresql.cnpg.io/v1:Cluster", "keycloak-keycloak-db")
    assert not {keycloak_chart.urn, database.urn} & set(job_reg.dependencies)
    job = one(staging, "Job", job_reg.inputs["metadata"]["name"])
    (container,) = job["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["KEYCLOAK_AVAILABILITYCHECK_ENABLED"] == "true"
    keycloak_wait = int(env["KEYCLOAK_AVAILABILITYCHECK_TIMEOUT"].removesuffix("s"))
    default_await = 10 * 60
    assert keycloak_wait >= 3 * default_await
    deadline = job["spec"]["activeDeadlineSeconds"]
    assert int(job["metadata"]["annotations"]["pulumi.com/timeoutSeconds"]) == deadline
    assert deadline > keycloak_wait and job["spec"]["backoffLimit"] >= 1


def test_realm_secrets_are_substituted_from_the_client_secrets_secret(staging: ProgramRun) -> None:
    job = objects(staging, "Job")[0]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    used = set(re.findall(r"\$\(env:([A-Z0-9_]+)\)", json.dumps(the_realm(staging))))
    assert used == {
        "GOOGLE_CLIENT_SECRET",
        "CLIENT_PARTNER_LOGISTICS_SECRET",
        "CLIENT_APP_SHOP_SECRET",
        "CLIENT_APP_HELPDESK_SECRET",
    }
    data = one(staging, "Secret", "keycloak-client-secrets")["stringData"]
    for variable in used:
        ref = env[variable]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == "keycloak-client-secrets" and ref["key"] in data
    # no Keycloak-import placeholders (`${NAME}`) left: keycloak-config-cli would apply them literally
    assert not re.findall(r"\$\{[A-Z0-9_]+\}", json.dumps(the_realm(staging)))


def _clients(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["clientId"]: c for c in r["clients"]}


def test_spa_and_partner_clients(staging: ProgramRun) -> None:
    r = the_realm(staging)
    clients = _clients(r)
    assert set(clients) == {"organizations", "portal", "partner-logistics", "app-shop", "app-helpdesk"}
    spa = clients["portal"]
    assert spa["publicClient"] is True and spa["standardFlowEnabled"] is True
    assert spa["attributes"]["pkce.code.challenge.method"] == "S256"
    assert spa["redirectUris"] == ["https://app.staging.platform.example.com/*"]
    assert spa["webOrigins"] == ["https://app.staging.platform.example.com"]
    assert "basic" in spa["defaultClientScopes"] and "tenant-claims" in spa["defaultClientScopes"]
    # not `assets:write`: staging's assets API makes it partner-only (`partnerOnlyScopes`, issue 20)
    # (inventory's two versions, apis/inventory-v*.yaml, have scopes of their own: one token per version)
    api_scopes = ["assets:read", "tickets:admin", "tickets:read", "tickets:write"]
    api_scopes += ["inventory-v1:read", "inventory-v1:write", "inventory-v2:admin", "inventory-v2:read"]
    api_scopes += ["inventory-v2:write"]
    assert sorted(spa["optionalClientScopes"]) == sorted(["offline_access", *api_scopes])
    partner = clients["partner-logistics"]
    assert partner["serviceAccountsEnabled"] is True and partner["publicClient"] is False
    assert partner["secret"] == "$(env:CLIENT_PARTNER_LOGISTICS_SECRET)"
    assert partner["defaultClientScopes"] == ["basic", "assets:write"]
    for client in clients.values():  # no password grant, no implicit flow, anywhere
        assert client["directAccessGrantsEnabled"] is False and client["implicitFlowEnabled"] is False
    declared = {s["name"] for s in r["clientScopes"]} | {"offline_access"}  # Keycloak adds offline_access
    for client in clients.values():
        assert set(client.get("defaultClientScopes", [])) | set(client.get("optionalClientScopes", [])) <= declared


def test_api_scopes_claims_and_audiences(staging: ProgramRun) -> None:
    r = the_realm(staging)
    scopes = {s["name"]: s for s in r["clientScopes"]}
    for api in parsed("staging").apis:
        for scope in api.scopes:
            declared = scopes.get(api.scope_name(scope))
            if api.auth != "jwt":
                assert declared is None
                continue
            assert declared is not None and declared["attributes"]["include.in.token.scope"] == "true"
            (audience,) = declared["protocolMappers"]
            assert audience["protocolMapper"] == "oidc-audience-mapper"
            assert audience["config"]["included.custom.audience"] == api.audience
    mappers = {m["name"]: m for m in scopes["tenant-claims"]["protocolMappers"]}
    assert set(mappers) == {"org_memberships", "tenant_ids", "preferred_org"}
    assert mappers["org_memberships"]["protocolMapper"] == "oidc-group-membership-mapper"
    assert mappers["org_memberships"]["config"]["full.path"] == "true"
    assert mappers["preferred_org"]["config"]["user.attribute"] == "preferred_org"
    # Keycloak 24+ drops attributes its user profile does not declare
    attributes = {a["name"]: a for a in r["userProfile"]["attributes"]}
    assert {"username", "email", "preferred_org"} <= set(attributes)
    # the built-in scopes the clients use are declared (declaring any scope drops Keycloak's own)
    assert {"basic", "profile", "email", "roles", "web-origins", "acr"} <= set(scopes)
    assert [m["protocolMapper"] for m in scopes["basic"]["protocolMappers"]][0] == "oidc-sub-mapper"


def test_preferred_org_falls_back_to_one_of_the_user_s_organizations(staging: ProgramRun) -> None:
    """keycloak/keycloak (26.x) server-spi-private KeycloakModelUtils.resolveAttribute: without
    `aggregate.attrs`, a user attribute mapper takes the user's own values, else the first of the user's
    groups whose attribute (or a parent's) is set. Every organization group holds its slug, so a member
    who chose none still gets one of their organizations; one who chose keeps the choice."""
    r = the_realm(staging)
    (mapper,) = [m for s in r["clientScopes"] for m in s.get("protocolMappers", []) if m["name"] == "preferred_org"]
    assert mapper["config"].get("aggregate.attrs", "false") == "false"
    assert mapper["config"].get("multivalued", "false") == "false"
    for org in r["groups"][0]["subGroups"]:
        assert org["attributes"]["preferred_org"] == [org["name"]]
        assert all("preferred_org" not in role.get("attributes", {}) for role in org["subGroups"])


def test_tenant_ids_are_the_ids_of_the_users_organizations_from_their_groups(staging: ProgramRun) -> None:
    """Seed 003: `tenant_ids` is "a convenience list of the user's org IDs". keycloak/keycloak
    server-spi-private KeycloakModelUtils.resolveAttribute (the same in every stored version): with the
    user-attribute mapper's `aggregate.attrs` (ProtocolMapperUtils.AGGREGATE_ATTRS) it unites the user's own
    values with each of the user's groups' and, for each, its parents', so a member of `/orgs/acme/ORG_USER`
    gets the `org_id` of `/orgs/acme`. Nothing else may add one: `org_id` and `tenant_ids` are on no user
    profile (Keycloak keeps no undeclared user attribute), so no user or admin can give a user a value."""
    r = the_realm(staging)
    scopes = {s["name"]: s for s in r["clientScopes"]}
    mappers = {m["name"]: m for m in scopes["tenant-claims"]["protocolMappers"]}
    tenant_ids = mappers["tenant_ids"]
    assert tenant_ids["protocolMapper"] == "oidc-usermodel-attribute-mapper"
    assert {k: tenant_ids["config"][k] for k in ("user.attribute", "claim.name", "multivalued", "aggregate.attrs")} == {
        "user.attribute": "org_id",
        "claim.name": "tenant_ids",
        "multivalued": "true",
        "aggregate.attrs": "true",
    }
    stack = parsed("staging")
    (orgs,) = r["groups"]
    ids = {g["path"]: g["attributes"]["org_id"] for g in orgs["subGroups"]}
    assert ids == {f"/orgs/{o.name}": [o.org_id] for o in stack.organizations}
    for group in orgs["subGroups"]:  # the role groups people join inherit it, and hold no other value
        assert all("org_id" not in role.get("attributes", {}) for role in group["subGroups"])
    assert not {"org_id", "tenant_ids"} & {a["name"] for a in r["userProfile"]["attributes"]}
    assert "unmanagedAttributePolicy" not in r["userProfile"]  # undeclared attributes are dropped


def test_google_is_an_identity_provider(staging: ProgramRun) -> None:
    r = the_realm(staging)
    (google,) = r["identityProviders"]
    assert google["providerId"] == "google" and google["enabled"] is True
    assert google["config"]["clientSecret"] == "$(env:GOOGLE_CLIENT_SECRET)"
    # the staff's Workspace, and each organization admin's
    assert google["config"]["hostedDomain"] == "acme.example.com,example.com,globex.example.com,initech.example.com"
    assert google["postBrokerLoginFlowAlias"] in {f["alias"] for f in r["authenticationFlows"]}


def _user(email: str, *orgs: str) -> dict[str, Any]:
    groups = [f"/orgs/{org}/ORG_ADMIN" for org in orgs]
    return {"username": email, "email": email, "emailVerified": True, "enabled": True, "groups": groups}


def test_organization_admins_are_users_in_their_admin_groups(staging: ProgramRun) -> None:
    r = the_realm(staging)
    people = [u for u in r["users"] if "serviceAccountClientId" not in u]
    assert people == [
        _user("admin@acme.example.com", "acme"),
        _user("bill@initech.example.com", "initech"),
        _user("it@globex.example.com", "globex"),
        _user("ops@acme.example.com", "acme"),
    ]  # no credentials: they sign in through Google
    groups = {g["path"] for org in r["groups"][0]["subGroups"] for g in org["subGroups"]}
    assert {group for user in people for group in user["groups"]} <= groups


def test_an_admin_of_several_organizations_is_one_user() -> None:
    cfg = copy.deepcopy(stack_config("staging"))
    orgs = {o["name"]: o for o in cfg["gatehouse:organizations"]}
    orgs["globex"]["adminUsers"].append("Admin@ACME.example.com")  # Keycloak keeps addresses lowercase
    users = realm.admin_users(identity_settings(_parsed_with(cfg)))
    assert users[0] == _user("admin@acme.example.com", "acme", "globex")
    assert [u["username"] for u in users] == [
        "admin@acme.example.com",
        "bill@initech.example.com",
        "it@globex.example.com",
        "ops@acme.example.com",
    ]


def test_a_first_google_login_links_to_the_user_with_that_email(staging: ProgramRun) -> None:
    r = the_realm(staging)
    (google,) = r["identityProviders"]
    assert google["trustEmail"] is True and google["config"]["hostedDomain"]  # Google-verified addresses
    flows = {f["alias"]: f for f in r["authenticationFlows"]}
    configs = {c["alias"]: c["config"] for c in r["authenticatorConfig"]}
    first = flows[google["firstBrokerLoginFlowAlias"]]
    assert first["topLevel"] is True
    review, create_or_link = sorted(first["authenticationExecutions"], key=lambda s: s["priority"])
    assert (review["authenticator"], review["requirement"]) == ("idp-review-profile", "REQUIRED")
    assert configs[review["authenticatorConfig"]] == {"update.profile.on.first.login": "missing"}
    assert create_or_link["requirement"] == "REQUIRED" and create_or_link["authenticatorFlow"] is True
    # alternatives inside their own sub-flow: beside a REQUIRED step Keycloak would ignore them
    steps = sorted(flows[create_or_link["flowAlias"]]["authenticationExecutions"], key=lambda s: s["priority"])
    assert [(s["authenticator"], s["requirement"]) for s in steps] == [
        ("idp-create-user-if-unique", "ALTERNATIVE"),
        ("idp-auto-link", "ALTERNATIVE"),
    ]
    # linking by e-mail is safe only if nobody may set their own address
    attributes = {a["name"]: a for a in r["userProfile"]["attributes"]}
    assert attributes["email"]["permissions"] == {"view": ["admin", "user"], "edit": ["admin"]}
    assert r["registrationAllowed"] is False and r["duplicateEmailsAllowed"] is False


def test_read_and_write_scopes_need_an_organization_role_or_a_partner_client(staging: ProgramRun) -> None:
    """keycloak/keycloak 26.5 services/src/main/java/org/keycloak/services/util/DefaultClientSessionContext.java
    `isClientScopePermittedForUser`: a client scope with role mappings is granted only to a user (or a
    service account) holding one of them, and left out silently otherwise; without any it is granted to
    anyone, such as a user a first Google login created. adorsys/keycloak-config-cli v6.5.0
    (service/RealmImportService.java) imports clients, then roles, then users, so the service account a
    partner client's import made exists when its `users` entry sets its client roles
    (service/UserImportService.java `handleClientRoles`)."""
    r = the_realm(staging)
    mappings = {m["clientScope"]: m["roles"] for m in r["clientScopeMappings"]["organizations"]}
    api_scopes = [s["name"] for s in r["clientScopes"] if ":" in s["name"]]
    assert sorted(mappings) == sorted(api_scopes)  # every API scope is restricted: none is anyone's
    partner_only = {a.scope_name(s) for a in parsed("staging").apis for s in a.partner_only_scopes}
    assert partner_only == {"assets:write"}  # issue 20: partners write assets, people read them
    for scope, roles in mappings.items():
        expected = ["ORG_ADMIN"] if scope.endswith(":admin") else [*ORG_ROLES, "PARTNER"]
        assert roles == (["PARTNER"] if scope in partner_only else expected), scope
    partners = {c["clientId"] for c in r["clients"] if c.get("serviceAccountsEnabled")}
    accounts = {u["serviceAccountClientId"]: u for u in r["users"] if "serviceAccountClientId" in u}
    assert partners and set(accounts) == partners
    for client_id, account in accounts.items():
        assert account["username"] == f"service-account-{client_id}"
        assert account["clientRoles"] == {"organizations": ["PARTNER"]}
        assert "groups" not in account and "realmRoles" not in account  # no organization, no person's role


def test_admin_scopes_need_a_second_factor(staging: ProgramRun) -> None:
    r = the_realm(staging)
    admin_scopes = [s["name"] for s in r["clientScopes"] if s["name"].endswith(":admin")]
    assert admin_scopes == ["inventory-v2:admin", "tickets:admin"]
    # only ORG_ADMINs are ever granted an admin scope ...
    mappings = {m["clientScope"]: m["roles"] for m in r["clientScopeMappings"]["organizations"]}
    assert {scope: mappings[scope] for scope in admin_scopes} == {scope: ["ORG_ADMIN"] for scope in admin_scopes}
    flows = {f["alias"]: f for f in r["authenticationFlows"]}
    configs = {c["alias"]: c["config"] for c in r["authenticatorConfig"]}

    def second_factor(alias: str) -> list[str]:
        """The required authenticators of `alias` and of its sub-flows, in order (alternatives skipped)."""
        found: list[str] = []
        for step in sorted(flows[alias]["authenticationExecutions"], key=lambda s: s["priority"]):
            if step["authenticatorFlow"]:
                found += second_factor(step["flowAlias"])
            elif step["requirement"] == "REQUIRED":
                if step["authenticator"].startswith("conditional-"):
                    assert configs[step["authenticatorConfig"]] == {
                        "condUserRole": "organizations.ORG_ADMIN",
                        "negate": "false",
                    }
                found.append(step["authenticator"])
        return found

    # ... and an ORG_ADMIN passes an OTP check on every way in
    assert r["browserFlow"] in flows and r["directGrantFlow"] in flows and r["registrationFlow"] in flows
    browser = second_factor(r["browserFlow"])
    assert browser == ["auth-username-password-form", "conditional-user-role", "auth-otp-form"]
    grant = second_factor(r["directGrantFlow"])
    assert grant[-2:] == ["conditional-user-role", "direct-grant-validate-otp"]
    (google,) = r["identityProviders"]
    assert second_factor(google["postBrokerLoginFlowAlias"]) == [
        "allow-access-authenticator",
        "conditional-user-role",
        "auth-otp-form",
    ]


def test_every_admin_otp_step_puts_otp_in_the_tokens_amr(staging: ProgramRun) -> None:
    """The gateway lets a token onto admin paths only when `amr` lists `otp` (endpoints.SECOND_FACTOR_*):
    every OTP step of the realm carries that reference, with a max age, and the portal's tokens carry `amr`.

    keycloak/keycloak (stored index, main/26.x): AmrUtils.getAuthenticationExecutionReferences lists each
    completed execution's `default.reference.value` while completed-at + `default.reference.maxAge` >= now,
    an absent max age read as 0 (so without one `otp` would vanish from every token at once);
    AmrProtocolMapper (`oidc-amr-mapper`) is in no built-in scope and writes access and ID tokens only;
    DefaultAuthenticationFlow.processResult records every successful execution of any flow it runs,
    the post-broker-login flow included, so Google-brokered admins get `otp` too. adorsys/keycloak-config-cli
    v6.5.0 AuthenticatorConfigImportService: a config whose alias no execution names is an error."""
    r = the_realm(staging)
    flows = {f["alias"]: f for f in r["authenticationFlows"]}
    configs = {c["alias"]: c["config"] for c in r["authenticatorConfig"]}
    otp_steps = [
        step
        for flow in flows.values()
        for step in flow["authenticationExecutions"]
        if step.get("authenticator") in ("auth-otp-form", "direct-grant-validate-otp")
    ]
    assert len(otp_steps) == 3  # browser, direct grant, after Google
    for step in otp_steps:
        reference = configs[step["authenticatorConfig"]]
        assert reference["default.reference.value"] == endpoints.SECOND_FACTOR_VALUE == "otp"
        assert int(reference["default.reference.maxAge"]) > 0
    steps = [step for flow in flows.values() for step in flow["authenticationExecutions"]]
    assert set(configs) == {step["authenticatorConfig"] for step in steps if "authenticatorConfig" in step}
    scopes = {s["name"]: s for s in r["clientScopes"]}
    (mapper,) = scopes["amr"]["protocolMappers"]
    assert mapper["protocolMapper"] == "oidc-amr-mapper"
    assert mapper["config"]["claim.name"] == endpoints.SECOND_FACTOR_CLAIM == "amr"
    assert mapper["config"]["access.token.claim"] == "true"  # the gateway verifies access tokens
    (spa,) = [c for c in r["clients"] if c["clientId"] == realm.SPA_CLIENT]
    assert "amr" in spa["defaultClientScopes"]


def test_a_google_login_without_the_admin_role_succeeds(staging: ProgramRun) -> None:
    """Keycloak 26 services/.../authentication/DefaultAuthenticationFlow.java processFlow: a CONDITIONAL
    sub-flow whose condition is false is dropped; a flow left with no REQUIRED or ALTERNATIVE step that
    succeeded is not successful, and AuthenticationProcessor.authenticateOnly then fails the login
    (INTERNAL_ERROR, shown as "Invalid username or password"). Keycloak's own
    testsuite/.../broker/KcOidcPostBrokerLoginTest.java puts a REQUIRED `allow-access-authenticator`
    (always succeeds; registered in the server's services, AllowAccessAuthenticatorFactory) first."""
    r = the_realm(staging)
    flows = {f["alias"]: f for f in r["authenticationFlows"]}
    (google,) = r["identityProviders"]
    steps = sorted(flows[google["postBrokerLoginFlowAlias"]]["authenticationExecutions"], key=lambda s: s["priority"])
    first, conditional = steps
    assert (first["authenticator"], first["requirement"]) == ("allow-access-authenticator", "REQUIRED")
    assert conditional["requirement"] == "CONDITIONAL" and conditional["authenticatorFlow"] is True
    # every top-level flow has a step that succeeds when no condition holds
    for flow in r["authenticationFlows"]:
        if flow["topLevel"]:
            requirements = {step["requirement"] for step in flow["authenticationExecutions"]}
            assert requirements & {"REQUIRED", "ALTERNATIVE"}, flow["alias"]


# --- the realm follows the organizations -------------------------------------------------------------


def _org_group(org: config.Organization) -> dict[str, Any]:
    return {
        "name": org.name,
        "path": f"/orgs/{org.name}",
        "attributes": {
            "org_id": [org.org_id],
            "plan": [org.plan],
            "features": sorted(org.features),
            "preferred_org": [org.name],
        },
        "subGroups": [
            {"name": role, "path": f"/orgs/{org.name}/{role}", "clientRoles": {"organizations": [role]}}
            for role in ORG_ROLES
        ],
    }


def _with_orgs(extra: int) -> dict[str, Any]:
    cfg = copy.deepcopy(stack_config("staging"))
    for i in range(extra):
        cfg["gatehouse:organizations"].append(
            {
                "name": f"umbrella-{i}",
                "displayName": f"Umbrella {i}",
                "adminUsers": [f"admin@umbrella-{i}.example.com"],
                "plan": ["free", "pro", "enterprise"][i % 3],
                "features": ["sso"] if i % 2 else [],
            }
        )
    return cfg


@pytest.fixture(scope="module")
def bigger(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], ProgramRun]:
    cfg = _with_orgs(4)
    return cfg, _run(program_with_stack(tmp_path_factory.mktemp("orgs"), "staging", cfg), "staging")


def test_the_realm_for_n_organizations(bigger: tuple[dict[str, Any], ProgramRun]) -> None:
    cfg, run = bigger
    stack = config.parse_raw({k.split(":", 1)[1]: v for k, v in cfg.items()})
    assert len(stack.organizations) == 7
    r = the_realm(run)
    expected = [_org_group(o) for o in sorted(stack.organizations, key=lambda o: o.name)]
    assert r["groups"] == [{"name": "orgs", "path": "/orgs", "subGroups": expected}]
    assert list(r["roles"]) == ["client"] and list(r["roles"]["client"]) == ["organizations"]
    assert [role["name"] for role in r["roles"]["client"]["organizations"]] == [*ORG_ROLES, "PARTNER"]
    assert set(_clients(r)) == {"organizations", "portal", "partner-logistics", "app-shop", "app-helpdesk"}
    ids = [g["attributes"]["org_id"][0] for g in r["groups"][0]["subGroups"]]
    assert len(set(ids)) == 7 and all(re.fullmatch(UUID, i) for i in ids)
    # every organization's admins, each in that organization's ORG_ADMIN group
    admins = {(email, f"/orgs/{o.name}/ORG_ADMIN") for o in stack.organizations for email in o.admin_users}
    people = [u for u in r["users"] if "serviceAccountClientId" not in u]
    assert {(u["username"], group) for u in people for group in u["groups"]} == admins
    assert len(admins) == 8 and {"admin@umbrella-3.example.com"} <= {u["email"] for u in people}


def test_adding_an_organization_adds_its_group_tree_and_admins_and_nothing_else(
    staging: ProgramRun, bigger: tuple[dict[str, Any], ProgramRun]
) -> None:
    _, run = bigger
    before, after = the_realm(staging), the_realm(run)
    new = [g for g in after["groups"][0]["subGroups"] if g["name"].startswith("umbrella-")]
    assert len(new) == 4
    assert [g for g in after["groups"][0]["subGroups"] if g not in new] == before["groups"][0]["subGroups"]
    added = [u for u in after["users"] if u not in before["users"]]
    assert [u for u in after["users"] if u not in added] == before["users"]
    assert added == [_user(f"admin@umbrella-{i}.example.com", f"umbrella-{i}") for i in range(4)]
    unchanged = {k: v for k, v in after.items() if k not in ("groups", "users", "identityProviders")}
    assert unchanged == {k: v for k, v in before.items() if k not in ("groups", "users", "identityProviders")}
    # and the new admins' Google domains may sign in
    (google,) = after["identityProviders"]
    assert {f"umbrella-{i}.example.com" for i in range(4)} <= set(google["config"]["hostedDomain"].split(","))
    # the reconcile Job's input changes (a new Job, so a new run); the Keycloak install, and everything else
    # outside the realm, does not change at all
    old = {r.urn: r.inputs for r in identity_regs(staging)}
    now = {r.urn: r.inputs for r in identity_regs(run)}
    assert set(now) == set(old)
    changed = {urn.rsplit("::", 1)[1] for urn in now if now[urn] != old[urn]}
    assert changed == {"keycloak-keycloak-realm", "keycloak-realm-sync"}
    job = reg(run, "kubernetes:batch/v1:Job", "keycloak-realm-sync")
    assert job.inputs["metadata"]["name"] != old[job.urn]["metadata"]["name"]  # a new Job: it runs again


def test_connectors_follow_the_config(tmp_path: Path) -> None:
    cfg = copy.deepcopy(stack_config("staging"))
    cfg["gatehouse:identity"]["connectors"] = {}
    run = _run(program_with_stack(tmp_path, "staging", cfg), "staging")
    assert [c["id"] for c in dex_config(run)["connectors"]] == ["authentik"]
    dex_env = env_refs([e for e in chart(run, "dex")["envVars"] if "valueFrom" in e])
    assert set(dex_env).isdisjoint({"GITHUB_CLIENT_SECRET", "GOOGLE_CLIENT_SECRET"})
    assert set(one(run, "Secret", "dex-connectors")["stringData"]) == {"authentik-client-secret"}
    assert all(line.split(", ")[1].startswith("authentik:") for line in _policy(run))
    r = the_realm(run)
    assert r["identityProviders"] == []
    (container,) = objects(run, "Job")[0]["spec"]["template"]["spec"]["containers"]
    substituted = {e["name"] for e in container["env"] if e["name"].endswith("_SECRET")}
    assert substituted == {"CLIENT_PARTNER_LOGISTICS_SECRET", "CLIENT_APP_SHOP_SECRET", "CLIENT_APP_HELPDESK_SECRET"}


def _policy(run: ProgramRun) -> list[str]:
    return chart(run, "argocd")["configs"]["rbac"]["policy.csv"].strip().splitlines()


def test_organization_admins_can_sign_in_with_their_own_google_accounts(staging: ProgramRun) -> None:
    """The realm's Google provider accepts only ID tokens whose `hd` is among its hosted domains
    (keycloak/keycloak 26.x GoogleIdentityProvider.java `validateToken`, comma-separated): every
    organization admin's domain is one, or admins from outside the staff's Workspace could never sign in."""
    (google,) = the_realm(staging)["identityProviders"]
    accepted = set(google["config"]["hostedDomain"].split(","))
    stack = parsed("staging")
    admins = {email.split("@")[1] for org in stack.organizations for email in org.admin_users}
    assert admins and admins <= accepted
    assert stack.identity.connectors.google and set(stack.identity.connectors.google.hosted_domains) <= accepted
