"""From push to pipeline (issue 21, seed 002): what the staging stack renders for its tenant with a pipeline,
evaluated as Tekton would evaluate it.

Upstream facts, each at the pinned tag (components/versions.py TEKTON): tektoncd/triggers v0.37.0 (the GitHub and
CEL interceptors, the EventListener's documented RBAC, where a template's resources are created),
tektoncd/pipeline v1.15.0 (params and workspaces a PipelineRun must give), tektoncd/operator v0.81.1 (the chart,
the TektonConfig).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import celpy
import pulumi
import pytest
from conftest import REPO
from helpers import run_preview, run_stack
from test_config import _stack_raw

from components import config
from components.pipelines import rbac
from components.pipelines.tekton import READY
from offline.records import Registration, Secret, reveal
from offline.runtime import ProgramRun, run_program
from offline.stack_config import load_stack_config

TRIGGERS = "kubernetes:triggers.tekton.dev/v1beta1"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
SECRET = "kubernetes:core/v1:Secret"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
TENANT, ORG, REPO_NAME = "archon", "initech", "initech/archon-agent"


@pytest.fixture(scope="module")
def staging() -> ProgramRun:
    return run_stack(REPO, "staging")


def _objects(run: ProgramRun, type_: str) -> list[Registration]:
    return [r for r in run.registrations if r.type == type_]


def _one(run: ProgramRun, type_: str, namespace: str | None = None) -> dict[str, Any]:
    found = [
        reveal(r.inputs)
        for r in _objects(run, type_)
        if namespace is None or reveal(r.inputs)["metadata"].get("namespace") == namespace
    ]
    assert len(found) == 1, (type_, namespace, len(found))
    return found[0]


def _push(repo: str = "initech/archon-agent", ref: str = "refs/heads/main", deleted: bool = False) -> dict[str, Any]:
    """A GitHub push event's payload, the fields the filter and binding read (docs.github.com webhook
    events: push)."""
    return {
        "ref": ref,
        "after": "9f2c1e7d0b5a4c3e8f1a2b3c4d5e6f708192a3b4",
        "deleted": deleted,
        "repository": {
            "full_name": repo,
            "default_branch": "main",
            "clone_url": f"https://github.com/{repo}.git",
        },
    }


def _cel(expression: str, body: dict[str, Any]) -> bool:
    env = celpy.Environment()
    program = env.program(env.compile(expression))
    return bool(program.evaluate({"body": celpy.json_to_cel(body), "header": celpy.json_to_cel({})}))


def _interceptor(trigger: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [i for i in trigger["spec"]["interceptors"] if i["ref"]["name"] == name]
    return {p["name"]: p["value"] for p in found["params"]}


def test_only_a_push_to_the_tenants_repository_matches_its_trigger(staging: ProgramRun) -> None:
    """The rendered Trigger's CEL filter, evaluated on sample push payloads with cel-python (standard CEL; the
    filter keeps to it: tektoncd/triggers v0.37.0 pkg/interceptors/cel/cel.go evaluates `filter` over `body`
    and `header`, with cel-go's standard library and more). A push from another repository, even one of the
    same owner or whose name contains the tenant's, never starts the tenant's pipeline."""
    trigger = _one(staging, f"{TRIGGERS}:Trigger")
    assert trigger["metadata"]["name"] == f"{TENANT}-push"
    expression = _interceptor(trigger, "cel")["filter"]
    assert _cel(expression, _push())
    assert _cel(expression, _push("Initech/Archon-Agent"))  # GitHub keeps the case its owner gave
    for other in ("initech/other", "globex/archon-agent", "initech/archon-agent-fork", "evil/initech/archon-agent"):
        assert not _cel(expression, _push(other)), other
    assert not _cel(expression, _push(ref="refs/heads/feature"))  # only the default branch deploys
    assert not _cel(expression, _push(ref="refs/tags/main"))
    assert not _cel(expression, _push(deleted=True))  # deleting the branch is a push too


def test_the_github_interceptor_checks_the_organizations_secret_first(staging: ProgramRun) -> None:
    """tektoncd/triggers v0.37.0 pkg/interceptors/github/github.go: `eventTypes` rejects any other
    X-GitHub-Event; with `secretRef` (secretName, secretKey) a request without X-Hub-Signature-256, or whose
    HMAC-SHA256 of the body under the Secret's key differs, is refused; the Secret is read in the Trigger's
    own namespace (`ParseTriggerID(r.Context.TriggerID)`). So the Trigger sits in `org-<org>` beside the
    organization's `github-webhook-secret`, and the GitHub interceptor runs before the CEL filter."""
    trigger = _one(staging, f"{TRIGGERS}:Trigger")
    assert trigger["metadata"]["namespace"] == f"org-{ORG}"
    assert [i["ref"] for i in trigger["spec"]["interceptors"]] == [
        {"name": "github", "kind": "ClusterInterceptor"},
        {"name": "cel", "kind": "ClusterInterceptor"},
    ]
    params = _interceptor(trigger, "github")
    assert params == {
        "secretRef": {"secretName": "github-webhook-secret", "secretKey": "secret"},
        "eventTypes": ["push"],
    }
    webhook = [
        reveal(r.inputs)
        for r in _objects(staging, SECRET)
        if reveal(r.inputs)["metadata"] == {**reveal(r.inputs)["metadata"], "name": "github-webhook-secret"}
        and reveal(r.inputs)["metadata"]["namespace"] == f"org-{ORG}"
    ]
    assert len(webhook) == 1 and "secret" in webhook[0]["stringData"]


def test_the_dispatcher_runs_the_tenants_pipeline_in_its_namespace(staging: ProgramRun) -> None:
    """The TriggerTemplate's PipelineRun is created in the tenant's namespace (tektoncd/triggers v0.37.0
    pkg/resources/create.go uses a resource template's own `metadata.namespace`), runs the tenant's Pipeline as
    `pipeline-runner`, and gives every param the Pipeline requires (tektoncd/pipeline v1.15.0
    validate_params.go: a missing one fails the run, extra ones are ignored); the binding fills the template's."""
    template = _one(staging, f"{TRIGGERS}:TriggerTemplate")
    binding = _one(staging, f"{TRIGGERS}:TriggerBinding")
    pipeline = _one(staging, "kubernetes:tekton.dev/v1:Pipeline")
    (run,) = template["spec"]["resourcetemplates"]
    assert run["kind"] == "PipelineRun" and run["metadata"]["namespace"] == TENANT
    assert run["spec"]["pipelineRef"] == {"name": pipeline["metadata"]["name"]} == {"name": "cdktf-deploy-pipeline"}
    assert pipeline["metadata"]["namespace"] == TENANT
    assert run["spec"]["taskRunTemplate"] == {"serviceAccountName": "pipeline-runner"}
    given = {p["name"] for p in run["spec"]["params"]}
    required = {p["name"] for p in pipeline["spec"]["params"] if "default" not in p}
    assert required <= given
    assert {p["name"] for p in binding["spec"]["params"]} == {p["name"] for p in template["spec"]["params"]}
    assert run["spec"]["workspaces"] == [{"name": "terraform-backend", "secret": {"secretName": "terraform-backend"}}]
    external = _one(staging, "kubernetes:external-secrets.io/v1:ExternalSecret", TENANT)
    assert external["spec"]["target"]["name"] == "terraform-backend"
    assert external["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": f"tenant-{TENANT}-store"}


def test_tekton_objects_wait_for_tekton(staging: ProgramRun) -> None:
    """Every tekton.dev and triggers.tekton.dev object depends on the TektonConfig, which Pulumi awaits Ready
    (the operator installs those CRDs and webhooks only then: tektoncd/operator v0.81.1
    pkg/reconciler/shared/tektonconfig/tektonconfig.go)."""
    (config_reg,) = [r for r in staging.registrations if r.type.endswith(":TektonConfig")]
    assert reveal(config_reg.inputs)["metadata"]["annotations"] == READY
    tekton = [
        r for r in staging.registrations if r.type.split(":")[1].split("/")[0] in ("tekton.dev", "triggers.tekton.dev")
    ]
    assert len(tekton) == 5
    for reg in tekton:
        assert config_reg.urn in reg.dependencies, reg.urn


def test_a_listener_only_where_an_organization_has_a_pipeline(staging: ProgramRun) -> None:
    """tektoncd/triggers v0.37.0 EventListenerSpec.validate refuses a listener with no trigger (nor selector):
    only initech, whose archon has a pipeline, gets one, listing its tenants' Triggers by name."""
    listeners = [reveal(r.inputs) for r in _objects(staging, f"{TRIGGERS}:EventListener")]
    assert [(el["metadata"]["namespace"], el["metadata"]["name"]) for el in listeners] == [
        (f"org-{ORG}", "github-listener")
    ]
    assert listeners[0]["spec"] == {
        "serviceAccountName": "github-listener",
        "triggers": [{"triggerRef": "archon-push"}],
    }


def _listener_rules(run: ProgramRun) -> list[tuple[str, rbac.Rule]]:
    """Every rule granted to the listener's ServiceAccount, with where: `<namespace>` or `cluster`."""
    roles = {
        (reveal(r.inputs)["metadata"].get("namespace"), reveal(r.inputs)["metadata"]["name"]): reveal(r.inputs)["rules"]
        for r in run.registrations
        if r.type in (ROLE, CLUSTER_ROLE)
    }
    granted = []
    for reg in run.registrations:
        if reg.type not in (ROLE_BINDING, CLUSTER_ROLE_BINDING):
            continue
        binding = reveal(reg.inputs)
        subjects = binding.get("subjects") or []
        if not any(s.get("kind") == "ServiceAccount" and s.get("name") == "github-listener" for s in subjects):
            continue
        namespace = binding["metadata"].get("namespace")
        ref = binding["roleRef"]
        rules = roles[(namespace if ref["kind"] == "Role" else None, ref["name"])]
        for r in rules:
            granted.append(
                (namespace or "cluster", rbac.Rule(tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r["verbs"])))
            )
    return granted


def test_the_listeners_service_account_has_nothing_beyond_the_documented(staging: ProgramRun) -> None:
    """tektoncd/triggers v0.37.0 docs/eventlisteners.md and examples/rbac.yaml: a listener's ServiceAccount
    gets `tekton-triggers-eventlistener-roles` in its namespace and `tekton-triggers-eventlistener-clusterroles`
    (config/200-clusterrole.yaml, copied in rbac.DOCUMENTED). Every rule it holds here is within those: the
    namespaced ones within the first, the cluster-wide ones within the second; and it holds neither Secrets
    nor impersonation, which the sink never uses (rbac.py)."""
    granted = _listener_rules(staging)
    assert granted
    for where, rule in granted:
        documented = (
            ("tekton-triggers-eventlistener-clusterroles",)
            if where == "cluster"
            else ("tekton-triggers-eventlistener-roles",)
        )
        assert rbac.documented(rule, documented), (where, rule)
        assert "secrets" not in rule.resources and "impersonate" not in rule.verbs, (where, rule)
    where = {w for w, _ in granted}
    assert where == {"cluster", f"org-{ORG}", TENANT}
    # in the tenant's namespace, one verb on one kind: creating its PipelineRuns
    assert [r for w, r in granted if w == TENANT] == [rbac.Rule(("tekton.dev",), ("pipelineruns",), ("create",))]


def test_documented_rules_check_catches_extra_permissions() -> None:
    """The check above can fail: a rule with Secrets cluster-wide is documented (clusterroles), impersonation
    in the namespace is documented (roles), but create on Secrets or deployments is not."""
    cluster = ("tekton-triggers-eventlistener-clusterroles",)
    namespaced = ("tekton-triggers-eventlistener-roles",)
    assert rbac.documented(rbac.Rule(("",), ("secrets",), ("get",)), cluster)
    assert not rbac.documented(rbac.Rule(("",), ("secrets",), ("create",)), cluster)
    assert not rbac.documented(rbac.Rule(("apps",), ("deployments",), ("create",)), namespaced)
    assert not rbac.documented(rbac.Rule(("tekton.dev",), ("pipelineruns",), ("delete",)), namespaced)


# --- config ---------------------------------------------------------------------------------------------


def _raw_staging() -> dict[str, Any]:
    return _stack_raw("staging")


def _archon(raw: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    (found,) = [(i, t) for i, t in enumerate(raw["tenants"]) if t["name"] == TENANT]
    return found


BAD_SPECS = [
    ("unknown-field", lambda p: p["spec"]["tasks"][0].update(runAfterr=["x"]), "runAfterr"),
    ("wrong-type", lambda p: p["spec"].update(tasks={"deploy": {}}), "spec.tasks"),
    ("bad-api-version", lambda p: p.update(apiVersion="tekton.dev/v1beta2"), "must be a Pipeline of tekton.dev/v1"),
    ("other-name", lambda p: p["metadata"].update(name="other"), "is not the tenant's pipelineName"),
    ("param-never-passed", lambda p: p["spec"]["params"].append({"name": "region"}), "'region' has no default"),
]


@pytest.mark.parametrize(("case", "mutate", "message"), BAD_SPECS, ids=[c[0] for c in BAD_SPECS])
def test_an_invalid_pipeline_spec_is_a_config_error_naming_the_tenant(case: str, mutate: Any, message: str) -> None:
    """Checked against the vendored Pipeline CRD (tektoncd/pipeline v1.15.0 config/300-crds/300-pipeline.yaml,
    strict like the API server) when the config is read, before anything is registered."""
    raw = _raw_staging()
    i, tenant = _archon(raw)
    pipeline = config.parse_raw(raw).tenants[i].pipeline_spec
    assert pipeline is not None
    pipeline = copy.deepcopy(pipeline)
    mutate(pipeline)
    tenant["pipelineSpec"] = pipeline
    with pytest.raises(config.ConfigError) as caught:
        config.parse_raw(raw)
    ((path, problem),) = caught.value.problems
    assert path == f"gatehouse:tenants[{i}].pipelineSpec"
    assert problem.startswith(f"tenant '{TENANT}': invalid pipelineSpec: ") and message in problem, problem


def test_pipeline_config_comes_whole_and_in_seed_002s_forms() -> None:
    """pipelineName (^[a-z0-9-]+$), a shipped templateRef, and the spec as YAML text (seed 002) or a mapping."""
    raw = _raw_staging()
    i, tenant = _archon(raw)
    as_text = config.parse_raw(raw).tenants[i]
    tenant["pipelineSpec"] = as_text.pipeline_spec
    assert config.parse_raw(raw).tenants[i].pipeline_spec == as_text.pipeline_spec
    for key, value, message in (
        ("pipelineName", "Deploy_It", "should match pattern"),
        ("templateRef", "run-anything", "run-pipeline-v1"),
        ("pipelineSpec", "tasks: [unclosed", "is not valid YAML"),
    ):
        broken = copy.deepcopy(raw)
        broken["tenants"][i][key] = value
        with pytest.raises(config.ConfigError) as caught:
            config.parse_raw(broken)
        assert any(p == f"gatehouse:tenants[{i}].{key}" and message in m for p, m in caught.value.problems), (
            caught.value.problems
        )
    partial = copy.deepcopy(raw)
    del partial["tenants"][i]["templateRef"]
    with pytest.raises(config.ConfigError) as caught:
        config.parse_raw(partial)
    assert "a pipeline needs templateRef too" in str(caught.value)


# --- the organization's own webhook secret ---------------------------------------------------------------

CANARY = "acme-own-webhook-secret_4711-canary"


def _run_with(secrets: dict[str, str]) -> ProgramRun:
    return run_program(REPO, load_stack_config(REPO, "staging", secrets=secrets))


def _webhook_secret(run: ProgramRun, org: str) -> Registration:
    (found,) = [r for r in _objects(run, SECRET) if r.name == f"{org}-webhook-secret"]
    return found


def _secret_value(reg: Registration) -> str | None:
    """The webhook Secret's value if the program marked it secret (the whole `stringData`, or its key); else
    None."""
    data = reg.inputs["stringData"]
    if isinstance(data, Secret):
        return str(reveal(data)["secret"])
    value = data["secret"]
    return str(reveal(value)) if isinstance(value, Secret) else None


def test_a_custom_webhook_secret_is_used_and_stays_secret(tmp_path: Path) -> None:
    """Config `webhookSecrets.<org>` (secret config, seed 002's optional webhookSecret): that organization's
    Secret holds it, as a Pulumi secret, and nothing is generated for it; the others keep a generated one.
    End to end: not one file the preview writes holds the value."""
    secrets = {"gatehouse:webhookSecrets": json.dumps({"acme": CANARY})}
    run = _run_with(secrets)
    assert run.error is None, run.error
    assert _secret_value(_webhook_secret(run, "acme")) == CANARY
    passwords = {r.name for r in _objects(run, RANDOM_PASSWORD)}
    assert "acme-webhook-secret" not in passwords and "globex-webhook-secret" in passwords
    assert _secret_value(_webhook_secret(run, "globex")) is not None
    result, printed = run_preview(REPO, tmp_path, stack="staging", secrets=secrets)
    assert result.exit_code == 0, printed
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert CANARY not in path.read_text(errors="replace"), path
    assert CANARY not in printed


@pytest.mark.parametrize(
    ("value", "where", "message"),
    [
        ({"acme": "has spaces and $ signs!"}, "gatehouse:webhookSecrets.acme", "must match ^[a-zA-Z0-9_-]+$"),
        ({"acme": "short"}, "gatehouse:webhookSecrets.acme", "at least 16 characters"),
        ({"umbrella": "a" * 20}, "gatehouse:webhookSecrets.umbrella", "unknown organization 'umbrella'"),
        (["acme"], "gatehouse:webhookSecrets", "must map organizations"),
    ],
)
def test_a_bad_webhook_secret_is_a_config_error_without_its_value(value: Any, where: str, message: str) -> None:
    run = _run_with({"gatehouse:webhookSecrets": json.dumps(value)})
    assert isinstance(run.error, config.ConfigError), run.error
    problems = [(p, m) for p, m in run.error.problems if p == where]
    assert problems and message in problems[0][1], run.error.problems
    assert "$ signs" not in str(run.error)
    assert not [r for r in run.registrations if r.type.startswith("kubernetes:")]


def test_the_webhook_secret_must_be_secret_config() -> None:
    values = dict(load_stack_config(REPO, "staging").values)
    values["gatehouse:webhookSecrets"] = json.dumps({"acme": CANARY})
    pulumi.runtime.set_all_config(values, [k for k in values if k != "gatehouse:webhookSecrets" and "Secret" in k])
    with pytest.raises(config.ConfigError) as caught:
        config.load(pulumi.Config("gatehouse"))
    assert any(p == "gatehouse:webhookSecrets" and "must be a secret" in m for p, m in caught.value.problems)
    assert CANARY not in str(caught.value)


def test_a_secret_set_by_path_previews_offline(tmp_path: Path) -> None:
    """`pulumi config set --secret --path 'gatehouse:webhookSecrets.acme'` writes a `secure:` leaf inside the
    map; the offline preview gives each leaf a placeholder (still a secret), which config accepts."""
    stack = (REPO / "Pulumi.staging.yaml").read_text()
    stack = stack.replace(
        "config:\n", "config:\n  gatehouse:webhookSecrets:\n    acme:\n      secure: AAABAGVuY3J5cHRlZA==\n", 1
    )
    program = tmp_path / "program"
    program.mkdir()
    for item in REPO.iterdir():
        if item.name not in ("Pulumi.staging.yaml", "build", ".git", ".venv"):
            (program / item.name).symlink_to(item)
    (program / "Pulumi.staging.yaml").write_text(stack)
    loaded = load_stack_config(program, "staging")
    assert "gatehouse:webhookSecrets" in loaded.secret_keys
    run = run_program(program, loaded)
    assert run.error is None, run.error
    assert _secret_value(_webhook_secret(run, "acme")) == "offline-placeholder-gatehouse-webhookSecrets-acme"
