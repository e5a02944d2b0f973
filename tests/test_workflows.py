"""The GitHub Actions workflows: valid for GitHub, and running the README's commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from conftest import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_workflows_match_githubs_schema() -> None:
    assert WORKFLOWS
    check = Path(sys.executable).parent / "check-jsonschema"
    proc = subprocess.run(
        [str(check), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_pull_requests_run_the_offline_preview_and_pulumi_preview_with_the_pack() -> None:
    workflow = _load(REPO / ".github" / "workflows" / "preview.yml")
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as True
    assert any(step.get("run") == "bash .ci/run" for step in _steps(workflow))
    preview = next(s for s in _steps(workflow) if s.get("uses", "").startswith("pulumi/actions@"))
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["comment-on-pr"] is True
    assert preview["with"]["policyPacks"] == "policy"
    assert preview["with"]["policyPackConfigs"] == "policy/${{ matrix.stack }}.json"
    assert workflow["jobs"]["preview"]["strategy"]["matrix"]["stack"] == ["staging", "prod"]


def test_merges_deploy_staging_then_prod_after_approval() -> None:
    workflow = _load(REPO / ".github" / "workflows" / "deploy.yml")
    assert workflow[True]["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    assert jobs["up-prod"]["needs"] == "up-staging"
    assert jobs["up-prod"]["environment"] == "production"
    for job, stack in (("up-staging", "staging"), ("up-prod", "prod")):
        action = next(s for s in jobs[job]["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
        assert action["with"]["command"] == "up"
        assert action["with"]["stack-name"].endswith(f"/gatehouse/{stack}")
        assert action["with"]["policyPackConfigs"] == f"policy/{stack}.json"


def test_ci_script_runs_the_readme_commands() -> None:
    readme = (REPO / "README.md").read_text()
    script = (REPO / ".ci" / "run").read_text()
    for command in ("make test", "make preview STACK=staging", "make preview STACK=prod", "make preview STACK=dev"):
        assert command in script
    assert "make test" in readme and "make preview" in readme
    assert "--policy-pack policy --policy-pack-config policy/staging.json" in readme


def test_pulumi_cli_is_pinned_to_the_sdk_version() -> None:
    pins = dict(line.split("==", 1) for line in (REPO / "requirements.txt").read_text().splitlines() if "==" in line)
    actions = [
        step for path in WORKFLOWS for step in _steps(_load(path)) if step.get("uses", "").startswith("pulumi/actions@")
    ]
    assert len(actions) == 3  # preview (per stack, one matrix step), up staging, up prod
    assert {str(step["with"]["pulumi-version"]) for step in actions} == {pins["pulumi"]}


POLICY_VENV = "python -m venv policy/venv && policy/venv/bin/pip install -r policy/requirements.txt"


def test_every_run_with_the_policy_pack_has_its_virtualenv_first() -> None:
    """pulumi v3.259.0: a Python pack runs in the virtualenv its PulumiPolicy.yaml names
    (sdk/python/cmd/pulumi-language-python/main.go), and the CLI installs a local pack's dependencies only in
    `pulumi policy new` and `pulumi install` (pkg/cmd/pulumi/policy/io.go InstallPluginDependencies, called
    from policy_new.go and install/install.go), never in `preview` or `up` with `--policy-pack`: so the
    workflows, and the README's deploy steps, make it first."""
    pack = yaml.safe_load((REPO / "policy" / "PulumiPolicy.yaml").read_text())
    assert pack["runtime"]["options"]["virtualenv"] == "venv"
    jobs = [job for path in WORKFLOWS for job in _load(path)["jobs"].values()]
    checked = 0
    for job in jobs:
        steps = job["steps"]
        for i, step in enumerate(steps):
            if step.get("uses", "").startswith("pulumi/actions@") and step["with"].get("policyPacks"):
                assert any(earlier.get("run") == POLICY_VENV for earlier in steps[:i]), job
                checked += 1
    assert checked == 3
    readme = (REPO / "README.md").read_text()
    assert readme.count(POLICY_VENV) >= 2  # deploying for real, and on a local cluster


def test_workflows_point_the_kubeconfig_at_a_file_of_their_own() -> None:
    """The stack names its context (gatehouse:cluster.context); the kubeconfig only has to contain it."""
    for path in WORKFLOWS:
        for step in _steps(_load(path)):
            if "KUBECONFIG_DATA" in step.get("env", {}):
                assert "~/.kube/config" not in step["run"] and "KUBECONFIG=$RUNNER_TEMP/kubeconfig" in step["run"]


def test_a_weekly_canary_runs_the_accelerators_equivalence_tests_against_the_newest_sdk() -> None:
    """offline/accel/__init__.py: each accelerator is on only at the versions its equivalence tests ran
    against; the canary says, every week, which of them still hold on the newest releases."""
    workflow = _load(REPO / ".github" / "workflows" / "accel-canary.yml")
    (schedule,) = workflow[True]["schedule"]
    minute, hour, day, month, weekday = schedule["cron"].split()
    assert (day, month) == ("*", "*") and weekday.isdigit()  # once a week
    steps = _steps(workflow)
    install = next(s["run"] for s in steps if "pip install --upgrade pulumi pulumi-policy" in s.get("run", ""))
    assert install.index("pip install -r requirements.txt") < install.index("--upgrade pulumi pulumi-policy")
    canary = next(s for s in steps if "-m offline.accel.canary" in s.get("run", ""))
    assert canary["env"] == {"GATEHOUSE_ACCEL_IGNORE_RANGE": "1"}
    assert any(s.get("with", {}).get("path") == "shared" for s in steps)  # the upstream schemas, as in preview.yml
