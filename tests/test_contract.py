"""The contract between the program and the policy pack: policy/gatehouse_contract.py.

Both sides import its names. These tests prove that the pack still loads alone with it and that the
program reaches it without loading the pack, and they hold equal the pairs the program still spells
itself (a tenant's profiles, the size tiers, the image pins) or holds only on its output: a
failing test here names a pair that drifted apart.

How the two sides load it: pulumi (sdk/python/cmd/pulumi-language-python/main.go, RunPlugin) runs a
policy pack as `python <pack dir>`, so the pack's folder is sys.path[0] and the contract is the
top-level `gatehouse_contract`; the program runs through `runpy.run_path(<program dir>)`
(sdk/python/cmd/pulumi-language-python-exec), so the repository root is sys.path[0] and the contract
is `policy.gatehouse_contract`.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gatehouse_contract as contract
import guardrails
import pytest
from conftest import REPO
from guardrails import workloads
from guardrails._util import quantity, urn_types
from helpers import program_with_stack, stack_config

from components import config
from components.tenancy.profiles import DEPLOYER_PROFILES, PROFILES
from components.tenancy.sizes import SIZES
from components.versions import IMAGES
from offline.manifests import chart_values_of, is_helm_chart, is_kubernetes_object, manifest_of
from offline.records import Registration
from offline.runtime import ProgramRun, run_program
from offline.stack_config import load_stack_config

PACK = REPO / "policy"
CONTRACT_FILE = PACK / "gatehouse_contract.py"
ADMISSION_FILE = PACK / "admission_rules.py"
OWNERS = (contract.TENANT_TYPE, contract.ORGANIZATION_TYPE)


def _python(code: str, cwd: Path) -> dict[str, Any]:
    """Run `code` in a fresh interpreter that sees only the standard library and site-packages (-I: no
    PYTHONPATH, no working directory on sys.path); it prints one JSON document."""
    done = subprocess.run(
        [sys.executable, "-I", "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


LOADED_MODULES = """
import sysconfig
files = {name: getattr(m, "__file__", None) or "" for name, m in sys.modules.items()}
installed = sorted({sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")})
print(json.dumps({"captured": captured, "files": files, "installed": installed}))
"""


def _from_elsewhere(result: dict[str, Any], *allowed: Path) -> list[str]:
    """Modules loaded from neither the standard library, site-packages nor the `allowed` folders."""
    roots = [Path(p).resolve() for p in result["installed"]] + [a.resolve() for a in allowed]
    return [
        name
        for name, file in result["files"].items()
        if file and not any(Path(file).resolve().is_relative_to(root) for root in roots)
    ]


def test_the_pack_loads_alone_with_its_contract(tmp_path: Path) -> None:
    """A copy of policy/ and nothing else of the repository, run as pulumi runs a pack (its folder as
    sys.path[0]), builds the same pack: the contract travels with the pack and needs no program."""
    pack = tmp_path / "pack"
    shutil.copytree(PACK, pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    code = f"""
import json, runpy, sys
import pulumi_policy

captured = {{}}

class Recorder:  # stands in for PolicyPack, which would serve gRPC until killed
    def __init__(self, name, enforcement_level, policies, **kwargs):
        captured.update(name=name, policies=[p.name for p in policies])

pulumi_policy.PolicyPack = Recorder
runpy.run_path({str(pack)!r}, run_name="__main__")  # `python <pack dir>`: the folder becomes sys.path[0]
{LOADED_MODULES}"""
    result = _python(code, tmp_path)
    assert result["captured"] == {"name": "gatehouse-guardrails", "policies": [p.name for p in guardrails.POLICIES]}
    files = result["files"]
    assert Path(files["gatehouse_contract"]) == pack / "gatehouse_contract.py"
    assert _from_elsewhere(result, pack) == []
    assert not {"policy", "components"} & {name.partition(".")[0] for name in files}


def test_the_program_reaches_the_contract_without_the_pack(tmp_path: Path) -> None:
    """The program, with the repository root as sys.path[0] (as pulumi runs it), imports the contract as
    `policy.gatehouse_contract` and loads none of the pack's rules (nor pulumi-policy)."""
    code = f"""
import json, sys
sys.path.insert(0, {str(REPO)!r})
import components.platform
captured = None
{LOADED_MODULES}"""
    result = _python(code, tmp_path)
    files = result["files"]
    assert Path(files["policy.gatehouse_contract"]) == CONTRACT_FILE
    assert Path(files["policy.admission_rules"]) == ADMISSION_FILE  # the rules both gates enforce
    assert _from_elsewhere(result, REPO / "components", CONTRACT_FILE, ADMISSION_FILE) == []
    assert not {"gatehouse_contract", "guardrails", "pulumi_policy"} & {name.partition(".")[0] for name in files}


@pytest.mark.parametrize("shared", [CONTRACT_FILE, ADMISSION_FILE], ids=["contract", "admission rules"])
def test_what_the_program_shares_with_the_pack_needs_only_the_standard_library(shared: Path) -> None:
    """The pack is installed from policy/requirements.txt alone, the program from requirements.txt: the
    contract, and the admission rules beside it, must import nothing either might lack."""
    tree = ast.parse(shared.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    # besides the standard library, only the contract beside it (a relative import)
    imported |= {
        node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.level, node.module) != (1, CONTRACT_FILE.stem)
    }
    assert imported
    assert {name.partition(".")[0] for name in imported} <= set(sys.stdlib_module_names) | {"__future__"}


# --- pairs the program still spells itself (config profiles, sizes, image pins) -------------------------


def test_config_profiles_are_the_contracts() -> None:
    """A tenant's `profile` (components/config/tenancy.py) picks its Pod Security level and its Roles: every
    profile has both, and the profiles whose Roles read Secrets are the ones the pack lets read them."""
    profiles = set(typing.get_args(config.Tenant.model_fields["profile"].annotation))
    assert profiles == set(contract.POD_SECURITY_BY_PROFILE) == set(PROFILES) == set(DEPLOYER_PROFILES)
    assert set(contract.POD_SECURITY_BY_PROFILE.values()) <= set(contract.POD_SECURITY_LEVELS)
    readers = {
        profile
        for profile, rules in PROFILES.items()
        if any("secrets" in rule.resources and {"get", "list", "watch"} & set(rule.verbs) for rule in rules)
    }
    assert readers == set(contract.SECRET_READER_PROFILES)


def test_every_size_tier_stays_within_the_ceilings() -> None:
    """The largest tier is the ceiling (components/tenancy/sizes.py builds it from the contract); the
    others limit the same keys, no higher."""
    assert SIZES["large"].quota() == dict(contract.QUOTA_CEILINGS)
    for name, size in SIZES.items():
        quota = size.quota()
        assert set(quota) == set(contract.QUOTA_CEILINGS), name
        for key, value in quota.items():
            limit = quantity(contract.QUOTA_CEILINGS[key])
            assert limit is not None and quantity(value) is not None, (name, key)
            assert quantity(value) <= limit, (name, key)


@pytest.mark.parametrize("pin", sorted(IMAGES), ids=str)
def test_every_pinned_image_comes_from_a_registry_the_pack_allows(pin: str) -> None:
    """components/versions.py IMAGES against workload-image-registry's default `allowedRegistries`: most
    of these run inside charts, whose workloads only a real `pulumi preview` shows the pack."""
    pod = {"containers": [{"name": pin, "image": IMAGES[pin].ref}]}
    assert workloads.registries(pin, pod, {"allowedRegistries": workloads.ALLOWED_REGISTRIES}) == []


# --- pairs held on the program's output -----------------------------------------------------------------


def _run(program: Path, stack: str) -> ProgramRun:
    run = run_program(program, load_stack_config(program, stack))
    assert run.error is None, run.error
    return run


@pytest.fixture(scope="module", params=["staging", "prod", "dev"])
def run(request: pytest.FixtureRequest) -> ProgramRun:
    return _run(REPO, request.param)


def _owned(reg: Registration) -> bool:
    """Declared inside a Tenant or an Organization: tenancy's business, not the platform's."""
    return bool(set(urn_types(reg.urn)[:-1]) & set(OWNERS))


def _objects(run: ProgramRun, kind: str) -> Iterator[tuple[Registration, dict[str, Any]]]:
    for reg in run.registrations:
        if is_kubernetes_object(reg):
            obj = manifest_of(reg).obj
            if obj["kind"] == kind:
                yield reg, obj


def test_every_platform_namespace_is_reserved(run: ProgramRun) -> None:
    """A namespace the platform creates or installs into (besides tenants' and organizations', where the
    gateway puts their apps' routes), missing from the contract, is one a tenant could claim: config
    would accept the name, the pack would not object."""
    tenancy = {obj["metadata"]["name"] for reg, obj in _objects(run, "Namespace") if _owned(reg)}
    platform = [manifest_of(reg).obj for reg in run.registrations if is_kubernetes_object(reg) and not _owned(reg)]
    used = {obj["metadata"]["name"] for obj in platform if obj["kind"] == "Namespace"}
    used |= {str(obj["metadata"]["namespace"]) for obj in platform if obj["metadata"].get("namespace")}
    used |= {chart_values_of(reg).namespace for reg in run.registrations if is_helm_chart(reg) and not _owned(reg)}
    assert tenancy and used - tenancy
    assert used - tenancy <= set(contract.RESERVED_NAMESPACES)


def test_organizations_are_what_the_pack_looks_for(run: ProgramRun) -> None:
    """components/tenancy/organization.py's type token, and its namespace `org-<name>` (components/config/tenancy.py
    Organization.namespace), which the pack reserves for organizations."""
    organizations = [r for r in run.registrations if r.type == contract.ORGANIZATION_TYPE]
    assert organizations
    for org in organizations:
        (namespace,) = [obj for reg, obj in _objects(run, "Namespace") if reg.parent == org.urn]
        assert namespace["metadata"]["name"] == contract.ORGANIZATION_NAMESPACE_PREFIX + org.name
        assert namespace["metadata"]["labels"][contract.ORGANIZATION_LABEL] == org.name


def test_app_projects_name_repositories_as_the_pack_expects(run: ProgramRun) -> None:
    """components/config/tenancy.py Tenant.repo_url against appproject-source-repos' `repoUrlPrefixes`."""
    projects = [obj for _, obj in _objects(run, "AppProject")]
    assert projects
    for project in projects:
        assert all(url.startswith(contract.REPO_URL_PREFIXES) for url in project["spec"]["sourceRepos"])


def _grants_admin(policy_csv: str) -> bool:
    return any(line.split(",")[-1].strip() == contract.ADMIN_ROLE for line in policy_csv.splitlines())


def test_argocd_admin_grants_are_where_the_pack_reads_them(run: ProgramRun) -> None:
    """components/identity/argocd.py installs the `argo-cd` chart with the admin grants in `configs.rbac`,
    which argocd-rbac-admin-group reads from that chart only."""
    (chart,) = [chart_values_of(r) for r in run.registrations if is_helm_chart(r) and r.name == "argocd"]
    assert chart.chart == contract.ARGOCD_CHART
    assert _grants_admin(chart.values["configs"]["rbac"]["policy.csv"])


def test_an_existing_argocd_gets_its_admin_grants_where_the_pack_reads_them(tmp_path: Path) -> None:
    """For an Argo CD the cluster already has, components/identity/argocd.py patches the grants into the
    ConfigMap argocd-rbac-admin-group reads."""
    cfg = stack_config("staging")
    cfg["gatehouse:argocd"] = {"install": False}
    run = _run(program_with_stack(tmp_path, "staging", cfg), "staging")
    (patch,) = [obj for _, obj in _objects(run, "ConfigMap") if "policy.csv" in obj.get("data", {})]
    assert patch["metadata"]["name"] == contract.ARGOCD_RBAC_CONFIG_MAP
    assert _grants_admin(patch["data"]["policy.csv"])
