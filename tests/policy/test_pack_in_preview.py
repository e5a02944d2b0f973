"""The whole gatehouse-guardrails pack in-process, as `pulumi preview --policy-pack policy` runs it.

Over both real stacks with their configs (every policy runs, nothing is reported), over the real stacks
with one guardrail broken at a time (the policy sees what the components really register), and over
tests/fixtures/programs/bad_program, which breaks every mandatory rule of policy/prod.json.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FIXTURES, REPO
from guardrails import POLICIES
from helpers import run_preview
from pulumi.output import Unknown

from offline import accel
from offline.policy import PolicyReport, effective_config, load_pack, run_policies
from offline.records import Registration
from offline.runtime import ProgramRun, run_program
from offline.stack_config import load_stack_config

PACK = REPO / "policy"
STACKS = ["staging", "prod"]
ALL = [p.name for p in POLICIES]
PROTECTION = {"protected-namespaces", "protected-databases", "protected-crds"}


def levels(stack: str) -> dict[str, str]:
    config = effective_config(load_pack(PACK), json.loads((PACK / f"{stack}.json").read_text()))
    return {name: entry["enforcementLevel"] for name, entry in config.items()}


def domain(stack: str) -> str:
    return yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]["gatehouse:domain"]


# --- the pack and its configs ------------------------------------------------------------------------------


def test_pack_builds_for_the_cli() -> None:
    pack = load_pack(PACK)
    assert pack.name == "gatehouse-guardrails"
    assert pack.version == yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())["version"]
    assert len(pack.policies) >= 25
    assert pack.policy_names == ALL
    assert pack.enforcement_level.value == "mandatory"


def test_prod_enforces_everything() -> None:
    assert levels("prod") == {name: "mandatory" for name in ALL}


def test_staging_runs_every_policy_with_only_protection_advisory() -> None:
    expected = {name: "advisory" if name in PROTECTION else "mandatory" for name in ALL}
    assert levels("staging") == expected
    assert "disabled" not in levels("staging").values()


@pytest.mark.parametrize("stack", STACKS)
def test_domains_are_the_stacks_own(stack: str) -> None:
    config = json.loads((PACK / f"{stack}.json").read_text())
    for policy in ("httproute-hostnames", "dns-record-in-allowed-zone"):
        assert config[policy]["domains"] == [domain(stack)]


def test_readme_lists_every_policy_with_its_levels() -> None:
    rows = {
        match.group(1): (match.group(2), match.group(3))
        for match in re.finditer(
            r"^\| `([a-z0-9-]+)` \| [RS] \|.*\| (\w+) \| (\w+) \|$", (PACK / "README.md").read_text(), re.M
        )
    }
    staging, prod = levels("staging"), levels("prod")
    assert rows == {name: (staging[name], prod[name]) for name in ALL}
    assert levels("dev") == staging  # the README's staging column holds for the laptop stack too


# --- both real stacks ----------------------------------------------------------------------------------------


def _tags(stack: str) -> dict[str, str]:
    return {"pulumi:project": "gatehouse", "pulumi:runtime": "python", "pulumi:stack": stack}


@pytest.fixture(scope="module")
def runs() -> dict[str, ProgramRun]:
    found = {}
    for stack in STACKS:
        run = run_program(REPO, load_stack_config(REPO, stack))
        assert run.error is None, run.error
        found[stack] = run
    return found


def _run(stack: str, registrations: list[Registration]) -> PolicyReport:
    return run_policies(PACK, PACK / f"{stack}.json", registrations, _tags(stack))


@pytest.mark.parametrize("stack", STACKS)
def test_real_stack_passes_every_policy(runs: dict[str, ProgramRun], stack: str) -> None:
    report = _run(stack, runs[stack].registrations)
    assert report.pack == "gatehouse-guardrails"
    assert set(report.policies_run) == set(ALL)
    assert [(v.policy, v.urn, v.message) for v in report.mandatory] == []
    if stack == "prod":
        assert [(v.policy, v.urn, v.message) for v in report.violations] == []


def test_staging_reports_its_unprotected_resources_as_advisories(runs: dict[str, ProgramRun]) -> None:
    """Staging is deliberately unprotected: the protection rules say so without blocking."""
    report = _run("staging", runs["staging"].registrations)
    found = {(v.policy, v.enforcement, v.urn.rsplit("::", 1)[-1]) for v in report.violations}
    assert {v.policy for v in report.violations} == PROTECTION - {"protected-crds"}
    assert ("protected-namespaces", "advisory", "payments") in found
    assert ("protected-databases", "advisory", "keycloak-keycloak-db") in found
    # charts are never protected, and no CRD is declared outside one: nothing for protected-crds here


def _reg(registrations: list[Registration], type_suffix: str, name: str) -> Registration:
    return next(r for r in registrations if r.type.endswith(type_suffix) and r.name == name)


def _both(reg: Registration, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply a change to what resource policies see (inputs) and stack policies see (outputs)."""
    change(reg.inputs)
    change(reg.outputs)


def _drop(name: str, type_suffix: str) -> Callable[[list[Registration]], list[Registration]]:
    return lambda regs: [r for r in regs if r is not _reg(regs, type_suffix, name)]


def _edit(name: str, type_suffix: str, change: Callable[[dict[str, Any]], None]):
    def mutate(regs: list[Registration]) -> list[Registration]:
        _both(_reg(regs, type_suffix, name), change)
        return regs

    return mutate


def _keep_removing_all_but(header: str) -> Callable[[dict[str, Any]], None]:
    def change(props: dict[str, Any]) -> None:
        early = props["spec"]["headers"]["earlyRequestHeaders"]
        early["remove"] = [h for h in early["remove"] if h != header]

    return change


def _append_rule(props: dict[str, Any]) -> None:
    props["rules"] = [*props["rules"], {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(props: dict[str, Any]) -> None:
        target: Any = props
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


# (what breaks, policy that must fire, the Pulumi name of the resource it must name)
MUTATIONS = [
    (_drop("payments-default-deny", ":NetworkPolicy"), "tenant-namespace-network-isolation", "payments"),
    (_drop("payments-batch-quota", ":ResourceQuota"), "tenant-namespace-quota-and-limits", "payments-batch"),
    (_drop("storefront-shop-sso", ":SecurityPolicy"), "httproute-auth-required", "app-shop"),
    (_drop("dns-shop", ":DnsRecord"), "route-host-dns-and-tls", "app-shop"),
    (
        _edit("public-edge", ":ClientTrafficPolicy", _keep_removing_all_but("x-user-id")),
        "edge-strips-identity-headers",
        "api-tickets-v1-jwt",
    ),
    (_edit("payments-role", ":Role", _append_rule), "standard-profile-no-secret-reads", "payments-role"),
    (
        _edit("payments-project", ":AppProject", _set(("spec", "sourceRepos"), ["*"])),
        "appproject-source-repos",
        "payments-project",
    ),
    (
        _edit("argocd", ":Chart", _set(("values", "configs", "rbac", "policy.default"), "role:admin")),
        "argocd-rbac-admin-group",
        "argocd",
    ),
    (
        _edit("payments", ":Namespace", _set(("metadata", "labels", "gatehouse.dev/tenant"), "storefront")),
        "tenant-namespace-labels",
        "payments",
    ),
    (
        _edit("payments-quota", ":ResourceQuota", _set(("spec", "hard", "services.loadbalancers"), "2")),
        "tenant-quota-within-ceiling",
        "payments-quota",
    ),
    (
        _edit(
            "keycloak-realm-sync",
            ":Job",
            _set(("spec", "template", "spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"), True),
        ),
        "workload-restricted-security-context",
        "keycloak-realm-sync",
    ),
    (
        _edit(
            "public-gateway",
            ":Gateway",
            _set(("spec", "listeners", 1, "allowedRoutes"), {"namespaces": {"from": "All"}}),
        ),
        "gateway-listener-route-scope",
        "public-gateway",
    ),
]


@pytest.mark.parametrize(("mutate", "policy", "name"), MUTATIONS, ids=[m[1] for m in MUTATIONS])
def test_a_broken_guardrail_on_the_real_stack_is_named(
    runs: dict[str, ProgramRun], mutate: Callable[[list[Registration]], list[Registration]], policy: str, name: str
) -> None:
    registrations = mutate(copy.deepcopy(runs["staging"].registrations))
    report = _run("staging", registrations)
    found = {(v.policy, v.urn.rsplit("::", 1)[-1]) for v in report.mandatory}
    assert (policy, name) in found, report.violations
    assert {v.policy for v in report.mandatory} == {policy}, report.violations


# --- the deliberately bad program ------------------------------------------------------------------------------

# policy -> the Pulumi name of a resource in bad_program it must report
EXPECTED = {
    "no-cluster-admin-binding": "rogue-admin",
    "no-builtin-edit-admin-binding": "rogue-binding",
    "no-system-group-bindings": "rogue-binding",
    "tenant-binding-subjects": "rogue-binding",
    "tenant-role-least-privilege": "rogue-role",
    "tenant-role-no-guardrail-writes": "rogue-role",
    "standard-profile-no-secret-reads": "rogue-role",
    "no-cluster-scoped-tenant-objects": "rogue-admin",
    "tenant-serviceaccount-no-automount": "rogue-sa",
    "namespace-explicit-name": "auto",
    "tenant-namespace-not-reserved": "kube-rogue",
    "tenant-namespace-labels": "shadow",
    "namespace-pod-security": "shadow",
    "tenant-namespace-prefix": "shadow",
    "no-default-namespace": "rogue-chart",
    "tenant-namespace-network-isolation": "shadow",
    "networkpolicy-no-empty-namespace-selector": "rogue-netpol",
    "networkpolicy-no-open-ingress": "rogue-netpol",
    "networkpolicy-egress-scoped": "rogue-netpol",
    "tenant-namespace-quota-and-limits": "kube-rogue",
    "tenant-quota-within-ceiling": "rogue-quota",
    "tenant-limitrange-defaults": "rogue-limits",
    "tenant-service-exposure": "rogue-lb",
    "appproject-destinations": "rogue-project",
    "appproject-destinations-exclusive": "rogue-project",
    "appproject-no-cluster-resources": "rogue-project",
    "appproject-source-repos": "rogue-project",
    "appproject-guardrail-blacklist": "rogue-project",
    "appproject-scoped-roles": "rogue-project",
    "no-default-project": "rogue-app",
    "argocd-rbac-admin-group": "rogue-rbac-cm",
    "argocd-sync-impersonation": "rogue-argocd-cm",
    "workload-no-host-access": "rogue-deployment",
    "workload-restricted-security-context": "rogue-deployment",
    "workload-resources": "rogue-deployment",
    "workload-image-pinned": "rogue-deployment",
    "workload-image-registry": "rogue-deployment",
    "chart-workload-hygiene": "rogue-chart-deployment",
    "workload-safe-sysctls": "rogue-deployment",
    "workload-default-proc-mount": "rogue-deployment",
    "workload-no-unconfined-apparmor": "rogue-deployment",
    "workload-restricted-volume-types": "rogue-deployment",
    "workload-no-token-automount": "rogue-deployment",
    "no-service-account-token-secrets": "rogue-token",
    "workload-not-as-deployer": "rogue-deployment",
    "workload-pipeline-runner-for-runs": "rogue-runner",
    "workload-terraform-backend-for-runs": "rogue-deployment",
    "gateway-https-listeners-tls": "rogue-gateway",
    "gateway-listener-route-scope": "rogue-gateway",
    "httproute-hostnames": "rogue-route-wild",
    "httproute-unique-host-path": "rogue-route-steal-b",
    "httproute-auth-required": "rogue-route-steal-a",
    "edge-strips-identity-headers": "rogue-security-policy",
    "route-host-dns-and-tls": "rogue-route-steal-a",
    "internal-hosts-unpublished": "rogue-route-internal",
    "gateway-edge-client-traffic": "rogue-gateway",
    "securitypolicy-fail-closed": "rogue-security-policy",
    "backend-verified-tls": "rogue-backend",
    "securitypolicy-denies-by-default": "rogue-security-policy",
    "securitypolicy-names-who-enters": "rogue-security-policy",
    "dns-record-in-allowed-zone": "rogue-dns",
    "generated-credentials-only-in-secrets": "rogue-config",
    "no-credentials-in-configmaps": "rogue-config",
    "no-literal-credentials-in-chart-values": "rogue-chart",
    "no-credential-values-outside-secrets": "rogue-leak",
    "clustersecretstore-namespace-conditions": "rogue-store",
    "protected-namespaces": "shadow",
    "protected-databases": "rogue-db",
    "protected-crds": "rogue-chart",
    "no-helm-release": "rogue-release",
    "no-helm-v3-chart": "rogue-v3-chart",
    "helm-chart-version-pinned": "rogue-chart",
}


def test_the_bad_program_covers_every_mandatory_policy() -> None:
    assert set(EXPECTED) == {name for name, level in levels("prod").items() if level == "mandatory"}


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("bad_program")
    return run_preview(FIXTURES / "programs" / "bad_program", out, policy_config=PACK / "prod.json")


def test_the_bad_program_fails_the_preview(bad) -> None:
    result, printed = bad
    assert result.exit_code == 1, printed
    assert result.policy is not None and result.policy.mandatory


@pytest.mark.parametrize(("policy", "name"), sorted(EXPECTED.items()))
def test_the_bad_program_breaks_each_mandatory_policy(bad, policy: str, name: str) -> None:
    result, printed = bad
    urns = {r.urn for r in result.run.registrations if r.name == name}
    assert len(urns) == 1, name
    (urn,) = urns
    found = [v for v in result.policy.mandatory if v.policy == policy and v.urn == urn]
    assert found, [v for v in result.policy.violations if v.policy == policy]
    assert f"[mandatory] {policy}: {urn}" in printed


RECORDING_PACK = """
import json, pathlib
from collections.abc import Mapping, Sequence
from pulumi_policy import (EnforcementLevel, PolicyConfigSchema, PolicyPack, ResourceValidationPolicy,
                           StackValidationPolicy)
from pulumi_policy.proxy import UnknownValueError

SEEN = []

def plain(value):
    if isinstance(value, Mapping):
        return {str(k): plain(value[k]) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [plain(v) for v in value]
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)

def props(resource):
    try:
        return plain(resource.props)
    except UnknownValueError as e:  # what pulumi-policy says when a policy reads an unknown
        return "unknown: " + e.message

def options(o):
    return [o.protect, o.parent, list(o.ignore_changes), o.delete_before_replace,
            list(o.additional_secret_outputs), repr(o.custom_timeouts.__dict__)]

def provider(p):
    return p and [p.resource_type, p.urn, p.name, plain(p.props)]

def see(args, report_violation):
    SEEN.append([args.resource_type, args.urn, args.name, props(args), options(args.opts),
                 provider(args.provider), args.get_config(), plain(dict(args.stack_tags))])
    if args.name.endswith("-quota"):
        report_violation("a quota", args.urn)

def see_stack(args, report_violation):
    for r in args.resources:
        SEEN.append([r.resource_type, r.urn, r.name, props(r), options(r.opts), provider(r.provider),
                     r.parent and r.parent.urn, [d.urn for d in r.dependencies],
                     {k: [d.urn for d in v] for k, v in r.property_dependencies.items()}])
    SEEN.append(args.get_config())
    report_violation("seen", args.resources[0].urn)
    pathlib.Path(__file__).with_name("seen.json").write_text(json.dumps(SEEN))

schema = PolicyConfigSchema(properties={"limit": {"type": "integer", "default": 3}})
PolicyPack(name="recorder", enforcement_level=EnforcementLevel.MANDATORY, policies=[
    ResourceValidationPolicy(name="see", description="sees", validate=see, config_schema=schema),
    ResourceValidationPolicy(name="remediate-only", description="r", remediate=lambda args: None),
    ResourceValidationPolicy(name="reads-unknowns", description="u",
                             validate=lambda args, report: plain(args.props)),
    StackValidationPolicy(name="see-stack", description="sees the stack", validate=see_stack,
                          config_schema=schema),
])
"""


@pytest.mark.accel(name="policy-servicer")
@pytest.mark.accel(name="policy-proxy")
def test_policies_see_what_pulumi_policys_own_servicer_gives_them(runs: dict[str, ProgramRun], tmp_path: Path) -> None:
    """offline/accel/analyzer.py derives what policies see once per resource instead of once per policy:
    over a whole stack, every argument, report and diagnostic is what pulumi-policy's servicer gives."""
    (tmp_path / "__main__.py").write_text(RECORDING_PACK, encoding="utf-8")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"see": {"limit": 5}, "see-stack": {"limit": 7}}))
    registrations = copy.deepcopy(runs["staging"].registrations)
    _reg(registrations, ":ResourceQuota", "payments-quota").inputs["spec"]["hard"]["pods"] = Unknown()

    def seen_with(accelerators: accel.Selection) -> tuple[PolicyReport, Any]:
        report = run_policies(tmp_path, config, registrations, _tags("staging"), accelerators=accelerators)
        return report, json.loads((tmp_path / "seen.json").read_text())

    ours, theirs = seen_with(accel.ALL), seen_with(accel.STOCK)
    assert ours == theirs
    report, seen = ours
    assert {v.policy for v in report.violations} == {"see", "see-stack", "reads-unknowns"}  # unknowns: advisory
    assert len(seen) == 2 * (len(registrations) - 1) + 1  # every resource but the stack twice, the config
    assert [entry[2] for entry in seen[:-1] if str(entry[3]).startswith("unknown: ")] == ["payments-quota"] * 2


@pytest.mark.accel(name="policy-servicer")
def test_the_real_pack_reports_as_with_pulumi_policys_own_servicer(bad) -> None:
    """Skipping the calls a `for_types` policy declines (offline/accel/analyzer.py) changes no report: over
    a program that breaks every mandatory policy, the pack's report is the same as pulumi-policy's."""
    result, _ = bad
    reports = []
    for accelerators in (accel.ALL, accel.STOCK):
        registrations = result.run.registrations
        reports.append(run_policies(PACK, PACK / "prod.json", registrations, _tags("prod"), accelerators=accelerators))
    assert reports[0] == reports[1]
    assert {v.policy for v in reports[0].mandatory} == set(EXPECTED)  # every mandatory policy fired
