"""The offline preview itself: what it records, what it writes, and when it fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, REPO, UPSTREAM
from helpers import program_with_stack, run_preview, stack_config
from hypothesis import given, settings
from hypothesis import strategies as st

from offline import outputs, validate
from offline import preview as preview_module
from offline.policy import run_policies
from offline.records import REDACTED, Secret
from offline.validate import crds

PROGRAMS = FIXTURES / "programs"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("tiny")
    result, printed = run_preview(PROGRAMS / "tiny", out, secrets={"tiny:dbToken": "canary-token-4711"})
    return result, printed, out


def _by_name(resources: list[dict], type_: str, name: str) -> dict:
    return next(r for r in resources if r["type"] == type_ and r["name"] == name)


def test_tiny_program_is_clean(tiny) -> None:
    result, printed, _ = tiny
    assert result.exit_code == 0, printed
    assert "Resources:  6 to create" in printed  # stack, Box and its 3 children, ConfigMap


def test_resources_json_records_parent_protect_and_dependencies(tiny) -> None:
    _, _, out = tiny
    resources = json.loads((out / "resources.json").read_text())
    assert [r["urn"] for r in resources] == sorted(r["urn"] for r in resources)
    box = _by_name(resources, "tiny:index:Box", "box")
    namespace = _by_name(resources, "kubernetes:core/v1:Namespace", "team-a")
    password = _by_name(resources, "random:index/randomPassword:RandomPassword", "db")
    secret = _by_name(resources, "kubernetes:core/v1:Secret", "db")
    settings = _by_name(resources, "kubernetes:core/v1:ConfigMap", "settings")

    assert namespace["parent"] == box["urn"] and namespace["custom"] and not box["custom"]
    assert namespace["protect"] and namespace["retain_on_delete"]
    assert not secret["protect"] and not secret["retain_on_delete"]
    assert set(secret["dependencies"]) == {namespace["urn"], password["urn"]}
    assert secret["urn"] in settings["dependencies"]
    assert namespace["inputs"]["metadata"]["labels"] == {"team": "team-a"}


def test_secrets_are_redacted_leaf_by_leaf(tiny) -> None:
    _, _, out = tiny
    resources = json.loads((out / "resources.json").read_text())
    secret = _by_name(resources, "kubernetes:core/v1:Secret", "db")
    assert secret["secret_inputs"] == ["stringData"]
    assert secret["inputs"]["stringData"] == {"password": REDACTED, "token": REDACTED}
    manifest = yaml.safe_load((out / "manifests" / "team-a" / "secret.core.db.yaml").read_text())
    assert manifest["stringData"] == {"password": REDACTED, "token": REDACTED}


def test_no_secret_value_reaches_disk(tiny) -> None:
    result, _, out = tiny
    generated = (
        next(r for r in result.run.registrations if r.type == "random:index/randomPassword:RandomPassword")
        .outputs["result"]
        .value
    )
    everything = "".join(p.read_text() for p in out.rglob("*") if p.is_file())
    assert "canary-token-4711" not in everything
    assert generated not in everything
    assert result.run.exports["password"].value == generated  # the export stayed a secret


def test_auto_named_object_gets_a_name_and_a_manifest(tiny) -> None:
    _, _, out = tiny
    files = sorted(p.name for p in (out / "manifests" / "team-a").iterdir())
    assert any(f.startswith("configmap.core.settings-") for f in files)
    assert "namespace.core.team-a.yaml" in {p.name for p in (out / "manifests" / "_cluster").iterdir()}


def test_validation_report_covers_every_object(tiny) -> None:
    _, _, out = tiny
    report = json.loads((out / "validation-report.json").read_text())
    assert report["summary"] == {"ok": 3, "error": 0, "no-schema": 0}
    assert {o["kind"] for o in report["objects"]} == {"Namespace", "Secret", "ConfigMap"}


def test_schema_errors_and_unknown_kinds_fail_the_preview(tmp_path: Path) -> None:
    result, printed = run_preview(PROGRAMS / "broken_schema", tmp_path)
    assert result.exit_code == 1
    status = {e.what["name"]: e.result for e in result.objects}
    assert status["fine"].status == "ok"
    assert status["widget"].status == "no-schema"
    assert status["no-cidr"].status == "error"
    assert any("ipBlock" in e and "cidr" in e for e in status["no-cidr"].errors)
    assert any("parent_refs" in e for e in status["route"].errors)
    assert any("65535" in e for e in status["route"].errors)
    assert "[no-schema]" in printed and "[error]" in printed


def test_mandatory_policy_violation_fails_the_preview(tmp_path: Path) -> None:
    result, printed = run_preview(PROGRAMS / "policy_violation", tmp_path, policy_config=REPO / "policy" / "prod.json")
    assert result.exit_code == 1
    found = {(v.policy, v.urn.rsplit("::", 1)[-1]) for v in result.policy.mandatory}
    assert ("tenant-namespace-labels", "rogue") in found
    assert ("protected-namespaces", "rogue") in found
    assert ("no-helm-release", "legacy") in found
    report = json.loads((tmp_path / "policy-report.json").read_text())
    assert {v["policy"] for v in report["violations"]} >= {"tenant-namespace-labels", "no-helm-release"}
    assert "[mandatory] no-helm-release" in printed


def _offline_cli(program: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """`python -m offline` on the stack `bad` of `program`, as a user runs it."""
    command = [sys.executable, "-m", "offline", "--stack", "bad", "--program", str(program), "--out", str(out)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)


def test_config_error_stops_before_any_resource_without_traceback(tmp_path: Path) -> None:
    config = stack_config("staging")
    config["gatehouse:tenants"][2]["name"] = "Not_A_Label"
    config["gatehouse:partnerTiers"][0]["requestsPerMinute"] = 0
    program = program_with_stack(tmp_path, "bad", config)
    proc = _offline_cli(program, tmp_path / "out")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "gatehouse:tenants[2].name: must be a DNS label" in proc.stdout
    assert "gatehouse:partnerTiers[0].requestsPerMinute: must be greater than or equal to 1" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "out" / "resources.json").exists()


def test_a_bad_api_definition_file_is_named_by_file_and_field(tmp_path: Path) -> None:
    """Through the real command: a definition file with an unknown policy and a retried POST stops the
    preview (exit 2) before anything is registered, each problem named by the file and its field path."""
    program = tmp_path / "program"
    (program / "apis").mkdir(parents=True)  # the program's own apis/ is not linked in: this one is
    for good in (REPO / "apis").glob("*.yaml"):
        (program / "apis" / good.name).write_text(good.read_text())
    bad = yaml.safe_load((REPO / "apis" / "inventory-v2.yaml").read_text())
    bad["data"]["version"] = "v3"
    bad["data"]["operations"][0]["requestPolicies"] = [{"name": "throttle"}]
    bad["data"]["operations"][1]["requestPolicies"] = [{"name": "retry", "params": {"attempts": 2}}]
    (program / "apis" / "inventory-v3.yaml").write_text(yaml.safe_dump(bad))
    program_with_stack(tmp_path, "bad", stack_config("staging"))
    proc = _offline_cli(program, tmp_path / "out")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (
        "apis/inventory-v3.yaml: data.operations[0].requestPolicies[0].name: unknown policy 'throttle'" in proc.stdout
    )
    assert "apis/inventory-v3.yaml: data.operations[1].requestPolicies[0].name: POST is not idempotent" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "out" / "resources.json").exists()


def test_config_error_registers_nothing(tmp_path: Path) -> None:
    config = stack_config("staging")
    config["gatehouse:tenants"][0]["profile"] = "root"
    program = program_with_stack(tmp_path, "bad", config)
    result, printed = run_preview(program, tmp_path / "out", stack="bad")
    assert result.exit_code == 2
    assert "gatehouse:tenants[0].profile: must be 'standard' or 'elevated'" in printed
    assert [r.type for r in result.run.registrations] == ["pulumi:pulumi:Stack"]


def test_clear_text_secret_in_stack_file_is_refused(tmp_path: Path) -> None:
    config = stack_config("staging")
    config["gatehouse:cloudflareApiToken"] = "plain-text-token"
    program = program_with_stack(tmp_path, "bad", config)
    result, printed = run_preview(program, tmp_path / "out", stack="bad")
    assert result.exit_code == 2
    assert "gatehouse:cloudflareApiToken is declared secret" in printed
    assert "plain-text-token" not in printed


def test_two_runs_write_identical_resources(tmp_path: Path) -> None:
    first, _ = run_preview(REPO, tmp_path / "a", stack="staging")
    second, _ = run_preview(REPO, tmp_path / "b", stack="staging")
    assert first.exit_code == second.exit_code == 0
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    for name in files_a:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def _program(tmp_path: Path, main: str, extra_config: dict | None = None) -> Path:
    """A one-off program beside the tiny one's project file."""
    program = tmp_path / "program"
    program.mkdir(parents=True)
    (program / "Pulumi.yaml").write_text((PROGRAMS / "tiny" / "Pulumi.yaml").read_text())
    (program / "Pulumi.dev.yaml").write_text(
        yaml.safe_dump({"config": {"tiny:team": "team-a", **(extra_config or {})}})
    )
    (program / "__main__.py").write_text(main)
    return program


def test_duplicate_urn_stops_the_run_like_the_engine(tmp_path: Path) -> None:
    program = _program(
        tmp_path,
        "import pulumi_kubernetes as k8s\n"
        "k8s.core.v1.ConfigMap('same', metadata={'name': 'a', 'namespace': 'team-a'})\n"
        "k8s.core.v1.ConfigMap('same', metadata={'name': 'b', 'namespace': 'team-a'})\n",
    )
    result, printed = run_preview(program, tmp_path / "out")
    assert result.exit_code == 2
    assert "Duplicate resource URN" in printed and "ConfigMap::same" in printed
    assert "Traceback" not in printed


def test_a_program_failing_with_a_registration_in_flight_is_reported_not_waited_on(tmp_path: Path) -> None:
    """The SDK waits for every registration in flight before reporting a program error; one waiting on a
    deferred output the program never resolved would wait forever (pulumi/runtime/stack.py run_pulumi_func)."""
    program = _program(
        tmp_path,
        "import pulumi, pulumi_kubernetes as k8s\n"
        "later, resolve = pulumi.deferred_output()\n"
        "k8s.core.v1.ConfigMap('waits', data={'a': 'b'}, opts=pulumi.ResourceOptions(depends_on=later))\n"
        "raise ValueError('failed before resolving its deferred output')\n",
    )
    result, printed = run_preview(program, tmp_path / "out")
    assert result.exit_code == 2
    assert "ValueError: failed before resolving its deferred output" in printed


def test_a_failed_run_leaves_nothing_that_stops_the_next_one(tmp_path: Path) -> None:
    """After a failed program its stall watchdog must not outlive the run: the event loop does, and a
    watchdog still waiting would cancel whatever the next run waits on for longer than its window."""
    failing = _program(tmp_path / "a", "raise ValueError('first run fails')\n")
    slow = _program(
        tmp_path / "b",
        "import asyncio, pulumi, pulumi_kubernetes as k8s\n"
        "async def later():\n"
        "    await asyncio.sleep(1.5)\n"
        "    return 'b'\n"
        "k8s.core.v1.ConfigMap('waits', data={'a': pulumi.Output.from_input(later())})\n",
    )
    first, _ = run_preview(failing, tmp_path / "a" / "out")
    assert first.exit_code == 2
    second, printed = run_preview(slow, tmp_path / "b" / "out")
    assert second.run is not None and second.run.error is None, printed
    assert [r.name for r in second.run.registrations if r.type == "kubernetes:core/v1:ConfigMap"] == ["waits"]


def test_two_charts_with_one_release_name_are_an_error(tmp_path: Path) -> None:
    chart = (
        "k8s.helm.v4.Chart('{res}', chart='cert-manager', version='v1.21.1', name='shared', "
        "namespace='{ns}', repository_opts={{'repo': 'https://charts.jetstack.io'}})\n"
    )
    program = _program(
        tmp_path,
        "import pulumi_kubernetes as k8s\n" + chart.format(res="one", ns="a") + chart.format(res="two", ns="b"),
    )
    result, printed = run_preview(program, tmp_path / "out")
    assert result.exit_code == 1
    first, second = sorted(result.chart_results, key=lambda e: e.urn)
    assert first.result.status == "ok"
    assert second.result.status == "error"
    assert second.result.errors == [f"duplicate release name 'shared': also released by {first.urn}"]


def test_kubernetes_version_without_schemas_is_a_config_error(tmp_path: Path) -> None:
    program = _program(
        tmp_path,
        (PROGRAMS / "tiny" / "__main__.py").read_text(),
        {"tiny:kubernetesVersion": "1.99", "tiny:dbToken": {"secure": "v1:abc"}},
    )
    result, printed = run_preview(program, tmp_path / "out")
    assert result.exit_code == 2
    assert printed.startswith("error: tiny:kubernetesVersion: cannot validate offline")
    assert "not 1.99" in printed


def test_bad_policy_config_stops_the_preview_and_leaves_no_report(tmp_path: Path) -> None:
    bad = tmp_path / "policy.json"
    bad.write_text('{"no-such-policy": "mandatory"}')
    result, printed = run_preview(PROGRAMS / "tiny", tmp_path / "out", policy_config=bad)
    assert result.exit_code == 2
    assert printed.startswith(f"error: invalid policy config {bad}: no-such-policy: no policy of that name")
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]


def test_policies_beside_validation_report_what_a_serial_run_reports(
    tiny, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, forked = tiny
    monkeypatch.setenv("GATEHOUSE_PREVIEW_SERIAL", "1")
    serial, _ = run_preview(PROGRAMS / "tiny", tmp_path, secrets={"tiny:dbToken": "canary-token-4711"})
    assert serial.exit_code == 0
    for name in ("resources.json", "validation-report.json", "policy-report.json"):
        assert (tmp_path / name).read_bytes() == (forked / name).read_bytes(), name


def test_urns_are_the_engines(tmp_path: Path) -> None:
    """The root stack's type is not in its children's URNs; a parent's whole qualified type is."""
    program = _program(
        tmp_path,
        "import pulumi\n"
        "import pulumi_kubernetes as k8s\n"
        "class Outer(pulumi.ComponentResource):\n"
        "    def __init__(self, name):\n"
        "        super().__init__('t:index:Outer', name)\n"
        "        self.inner = Inner('inner', pulumi.ResourceOptions(parent=self))\n"
        "class Inner(pulumi.ComponentResource):\n"
        "    def __init__(self, name, opts):\n"
        "        super().__init__('t:index:Inner', name, None, opts)\n"
        "        k8s.core.v1.Namespace('deep', metadata={'name': 'deep'}, opts=pulumi.ResourceOptions(parent=self))\n"
        "Outer('outer')\n"
        "k8s.core.v1.Namespace('top', metadata={'name': 'top'})\n",
    )
    result, printed = run_preview(program, tmp_path / "out")
    urns = {r.name: r.urn for r in result.run.registrations}
    assert urns["outer"] == "urn:pulumi:dev::tiny::t:index:Outer::outer"
    assert urns["inner"] == "urn:pulumi:dev::tiny::t:index:Outer$t:index:Inner::inner"
    assert urns["deep"] == "urn:pulumi:dev::tiny::t:index:Outer$t:index:Inner$kubernetes:core/v1:Namespace::deep"
    assert urns["top"] == "urn:pulumi:dev::tiny::kubernetes:core/v1:Namespace::top"


def test_a_nested_secret_is_redacted_on_its_leaf_only(tmp_path: Path) -> None:
    """The engine keeps a secret where it is; the SDK's own deserialiser would mark the whole property."""
    program = _program(
        tmp_path,
        "import pulumi\n"
        "import pulumi_kubernetes as k8s\n"
        "k8s.core.v1.ConfigMap('settings', metadata={'name': 'settings', 'namespace': 'team-a',\n"
        "    'annotations': {'checksum': pulumi.Output.secret('s3cr3t-hash'), 'owner': 'team-a'}},\n"
        "    data={'greeting': 'hello'})\n",
    )
    result, printed = run_preview(program, tmp_path / "out")
    resources = json.loads((tmp_path / "out" / "resources.json").read_text())
    settings = _by_name(resources, "kubernetes:core/v1:ConfigMap", "settings")
    assert settings["secret_inputs"] == ["metadata"]
    assert settings["inputs"]["metadata"]["annotations"] == {"checksum": REDACTED, "owner": "team-a"}
    assert settings["inputs"]["metadata"]["name"] == "settings" and settings["inputs"]["data"] == {"greeting": "hello"}
    assert "s3cr3t-hash" not in "".join(p.read_text() for p in (tmp_path / "out").rglob("*") if p.is_file())


def test_component_outputs_keep_a_nested_secret_on_its_leaf(tmp_path: Path) -> None:
    program = _program(
        tmp_path,
        "import pulumi\n"
        "class Box(pulumi.ComponentResource):\n"
        "    def __init__(self, name):\n"
        "        super().__init__('t:index:Box', name)\n"
        "        self.register_outputs({'access': {'token': pulumi.Output.secret('t0k3n'), 'user': 'bot'}})\n"
        "Box('box')\n",
    )
    result, printed = run_preview(program, tmp_path / "out")
    assert result.exit_code == 0, printed
    (outputs,) = [o for urn, o in result.run.component_outputs.items() if urn.endswith("::box")]
    assert outputs == {"access": {"token": Secret("t0k3n"), "user": "bot"}}


@pytest.mark.parametrize("main", ["raise RuntimeError('the program broke')\n", "import pulumi\n"])
def test_the_crds_are_read_beside_the_program_and_nothing_is_left_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, main: str
) -> None:
    monkeypatch.setattr(crds, "_CATALOGS", {})  # as in a fresh process: the CRDs not read yet
    result, printed = run_preview(_program(tmp_path, main), tmp_path / "out")
    assert result.exit_code == (2 if "raise" in main else 0), printed
    assert validate.has_crd_catalog(UPSTREAM / "crds") is (result.exit_code == 0)  # handed over from the fork
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no process of the preview's left, finished or not


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=20,
)


@given(json_values)
@settings(max_examples=200, deadline=None)
def test_reports_are_written_as_json_with_indent_2_would_write_them(value: object) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.json"
        outputs.dump_json(path, value)
        assert (
            path.read_text(encoding="utf-8") == json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )


def test_a_value_orjson_refuses_is_written_by_json(tmp_path: Path) -> None:
    outputs.dump_json(tmp_path / "big.json", {"n": 2**70, "s": "é"})
    assert json.loads((tmp_path / "big.json").read_text(encoding="utf-8")) == {"n": 2**70, "s": "é"}


def test_the_policy_run_split_over_two_processes_reports_what_one_run_reports(tmp_path: Path) -> None:
    result, _ = run_preview(REPO, tmp_path, stack="staging")
    assert result.run is not None and result.policy is not None and result.config is not None
    regs = result.run.registrations
    tags = preview_module._stack_tags(result.config)
    whole = run_policies(REPO / "policy", REPO / "policy" / "staging.json", regs, tags)
    assert result.policy.to_json() == whole.to_json()
    # staging's advisories (unprotected namespaces and databases) come from both processes' shares
    share = {r.urn: preview_module._in_fork_share(i) for i, r in enumerate(regs)}
    assert {share[v.urn] for v in whole.violations if v.urn in share} == {True, False}
