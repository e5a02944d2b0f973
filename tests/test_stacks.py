"""The real stacks through the offline preview: clean, complete, and protected where it matters."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from guardrails import POLICIES
from helpers import program_with_stack, run_preview

from bench.measure import longest_chain

STACKS = ["dev", "staging", "prod"]


@pytest.fixture(scope="module", params=STACKS)
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    name = request.param
    out = tmp_path_factory.mktemp(name)
    result, printed = run_preview(REPO, out, stack=name, policy_config=REPO / "policy" / f"{name}.json")
    config = yaml.safe_load((REPO / f"Pulumi.{name}.yaml").read_text())["config"]
    return name, result, printed, out, config


def test_preview_is_green(stack) -> None:
    name, result, printed, out, _ = stack
    assert result.exit_code == 0, printed
    report = json.loads((out / "validation-report.json").read_text())
    assert report["summary"]["error"] == 0 and report["summary"]["no-schema"] == 0
    assert report["summary"]["ok"] == len(report["objects"]) + len(report["charts"]) > 0
    violations = json.loads((out / "policy-report.json").read_text())["violations"]
    # staging only advises on what prod enforces (protection of stateful things)
    assert [v for v in violations if v["enforcement"] == "mandatory"] == []
    assert {v["policy"] for v in violations} <= (
        set() if name == "prod" else {"protected-namespaces", "protected-databases", "protected-crds"}
    )


def test_every_plane_component_is_registered(stack) -> None:
    _, result, _, _, config = stack
    types = [r.type for r in result.run.registrations]
    assert types.count("gatehouse:gateway:AuthGateway") == 1
    assert types.count("gatehouse:identity:IdentityStack") == 1
    assert types.count("gatehouse:tenancy:Organization") == len(config["gatehouse:organizations"])
    assert types.count("gatehouse:tenancy:Tenant") == len(config["gatehouse:tenants"])


def test_every_tenant_and_organization_namespace_is_rendered(stack) -> None:
    _, result, _, out, config = stack
    expected = {f"org-{o['name']}" for o in config["gatehouse:organizations"]}
    for tenant in config["gatehouse:tenants"]:
        expected |= {tenant["name"], *(f"{tenant['name']}-{s}" for s in tenant.get("namespaces", []))}
    homes = {"tenant", "organization"}  # platform namespaces belong to the other planes
    rendered = {
        m.name
        for m in result.manifests
        if m.kind == "Namespace" and m.obj["metadata"]["labels"]["gatehouse.dev/component"] in homes
    }
    assert rendered == expected
    for tenant in config["gatehouse:tenants"]:
        manifest = yaml.safe_load(
            (out / "manifests" / "_cluster" / f"namespace.core.{tenant['name']}.yaml").read_text()
        )
        labels = manifest["metadata"]["labels"]
        assert labels["gatehouse.dev/tenant"] == tenant["name"]
        assert labels["gatehouse.dev/organization"] == tenant["organization"]
        level = {"standard": "restricted", "elevated": "baseline"}[tenant["profile"]]
        assert labels["pod-security.kubernetes.io/enforce"] == level


def test_every_chart_release_has_its_own_values_file(stack) -> None:
    _, result, _, out, _ = stack
    releases = [c.release for c in result.charts]
    assert len(releases) == len(set(releases)), releases
    assert {p.name for p in (out / "charts").iterdir()} == {f"{r}.values.yaml" for r in releases}


def test_secret_stores_wait_for_the_external_secrets_operator(stack) -> None:
    name, result, _, _, config = stack
    regs = result.run.registrations
    (chart,) = [r for r in regs if r.type == "kubernetes:helm.sh/v4:Chart" and r.inputs["chart"] == "external-secrets"]
    assert chart.inputs["namespace"] == "external-secrets"
    # it carries the CRDs: protected in prod through its transform, never the chart itself
    assert (chart.protect, chart.transforms) == (False, 1 if name == "prod" else 0)
    stores = [r for r in regs if r.type == "kubernetes:external-secrets.io/v1:ClusterSecretStore"]
    assert len(stores) == len(config["gatehouse:tenants"])  # one per tenant, under its organization
    assert all(chart.urn in s.dependencies for s in stores)


def test_only_routed_tenant_namespaces_reach_the_gateway(stack) -> None:
    _, result, _, _, config = stack
    routed = {a["namespace"] for a in config.get("gatehouse:apps", []) + config.get("gatehouse:apis", [])}
    for m in result.manifests:
        labels = m.obj["metadata"].get("labels", {})
        if m.kind == "Namespace" and labels.get("gatehouse.dev/component") == "tenant":
            assert (labels.get("gatehouse.dev/gateway-access") == "true") is (m.name in routed), m.name


def test_namespaces_protected_only_in_prod(stack) -> None:
    name, result, _, _, _ = stack
    namespaces = [r for r in result.run.registrations if r.type == "kubernetes:core/v1:Namespace"]
    assert namespaces
    for ns in namespaces:
        assert ns.protect is (name == "prod"), ns.urn
        assert ns.retain_on_delete is (name == "prod"), ns.urn


def test_the_provider_targets_the_stacks_named_cluster(stack) -> None:
    """pulumi-kubernetes (provider/pkg/provider/provider.go, python provider.py `context`): without a
    context the provider uses the kubeconfig's current context, whatever cluster that is."""
    _, result, _, _, config = stack
    (provider,) = [r for r in result.run.registrations if r.type == "pulumi:providers:kubernetes"]
    assert provider.inputs["context"] == config["gatehouse:cluster"]["context"]


def test_critical_path_of_pulumi_up_is_at_most_five_resources(stack) -> None:
    """The longest paths: the CloudNativePG namespace -> its chart -> a database (awaited until Ready) ->
    Keycloak or Authentik; and, beside it, the cert-manager namespace -> its chart -> its API check (the
    webhook admits objects) -> Keycloak's or Dex's serving Certificate -> Keycloak or Dex, which must not
    start without the certificate the gateway fetches signing keys through (gateway/jwks.py). What comes
    after those waits for them itself instead of through a dependency (test_identity.py): the realm's Job
    through keycloak-config-cli's availability check (v6.5.0 KeycloakProvider.java), Dex by restarting
    until Authentik serves (dex v2.44.0 server/server.go)."""
    _, result, _, _, _ = stack
    assert longest_chain(result.run.registrations) <= 5


def test_children_have_parents_and_the_explicit_provider(stack) -> None:
    _, result, _, _, _ = stack
    by_urn = {r.urn: r for r in result.run.registrations}
    provider = next(r for r in result.run.registrations if r.type == "pulumi:providers:kubernetes")
    for reg in result.run.registrations:
        if reg.type.startswith("kubernetes:"):
            assert by_urn[reg.parent].type.startswith("gatehouse:"), reg.urn
            assert reg.provider.startswith(provider.urn + "::"), reg.urn


def test_policies_run_per_stack_config(stack) -> None:
    name, result, _, _, _ = stack
    levels = json.loads((REPO / "policy" / f"{name}.json").read_text())
    assert "disabled" not in levels.values()  # every policy runs in every stack
    # chart-workload-hygiene included: only the protection rules of dev and staging advise instead of blocking
    advisory = {policy for policy, level in levels.items() if level == "advisory"}
    assert advisory == (set() if name == "prod" else {"protected-namespaces", "protected-databases", "protected-crds"})
    assert set(result.policy.policies_run) == {p.name for p in POLICIES}
    assert result.policy.mandatory == []


def test_kubernetes_names_come_from_slugs(stack, tmp_path: Path) -> None:
    """Renaming every display name changes no URN and no Kubernetes name."""
    name, result, _, _, shared = stack
    config = copy.deepcopy(shared)
    for org in config["gatehouse:organizations"]:
        org["displayName"] = "Renamed " + org["displayName"]
    program = program_with_stack(tmp_path, name, config)
    renamed, printed = run_preview(program, tmp_path / "out", stack=name)
    assert renamed.exit_code == 0, printed
    assert [r.urn for r in renamed.run.registrations] == [r.urn for r in result.run.registrations]
    assert [m.identity for m in renamed.manifests] == [m.identity for m in result.manifests]


def test_summary_lists_blocking_problems_and_groups_advice(stack) -> None:
    name, result, printed, _, _ = stack
    advice = [v for v in result.policy.violations if v.enforcement == "advisory"]
    if name == "prod":
        assert not advice and "Advice" not in printed
        return
    assert advice and "Problems:" not in printed
    for policy in {v.policy for v in advice}:
        count = sum(v.policy == policy for v in advice)
        assert f"  [advisory] {policy}: {count} (" in printed
    assert not any(v.urn in printed for v in advice)  # one line per policy, not one per resource


def test_an_existing_argocd_is_a_prerequisite_the_preview_states(tmp_path: Path) -> None:
    """`argocd.install: false`: the AppProjects and patches need an Argo CD nothing in the stack installs;
    the deploy-order check takes the stated prerequisite as present, and the summary names it."""
    config = yaml.safe_load((REPO / "Pulumi.staging.yaml").read_text())["config"]
    config["gatehouse:argocd"] = {"install": False}
    program = program_with_stack(tmp_path, "staging", config)
    result, printed = run_preview(program, tmp_path / "out", stack="staging")
    assert result.exit_code == 0, printed
    assert "Prerequisites: Argo CD (namespaces argocd, API groups argoproj.io)" in printed
    order = json.loads((tmp_path / "out" / "validation-report.json").read_text())["order"]
    assert order["prerequisites"] == [{"what": "Argo CD", "namespaces": ["argocd"], "apiGroups": ["argoproj.io"]}]
