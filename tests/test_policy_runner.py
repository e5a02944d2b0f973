"""offline.policy: the real pulumi-policy servicer driven in-process with a tiny fixture pack.

Every test runs twice: with pulumi-policy's own servicer (stock) and with the `policy-servicer` and
`policy-proxy` accelerators (the same expectations: their equivalence tests). Tests of what only the
accelerated servicer does carry an `accel` mark of their own and run accelerated only."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pulumi
import pulumi_policy
import pulumi_policy.policy as _pp
import pytest
from google.protobuf import struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.output import Unknown
from pulumi.runtime import proto
from pulumi.runtime.rpc import UNKNOWN

from offline import accel
from offline.accel.analyzer import OfflineAnalyzerServicer
from offline.policy import (
    LoadedPack,
    PolicyConfigError,
    PolicyPackLoadError,
    PolicyReport,
    StockServicer,
    Violation,
    effective_config,
    load_pack,
    run_policies,
)
from offline.policy.messages import configure, struct
from offline.policy.session import servicer_for
from offline.records import Registration, Secret, to_wire

PACK = Path(__file__).resolve().parent / "fixtures" / "policy_runner" / "pack"
ALL_POLICIES = ["every-namespace-has-quota", "namespace-needs-team-label", "no-default-namespace", "secret-length"]

STACK_URN = "urn:pulumi:dev::proj::pulumi:pulumi:Stack::proj-dev"
PROVIDER_URN = "urn:pulumi:dev::proj::pulumi:providers:kubernetes::cluster"
NS = "kubernetes:core/v1:Namespace"


ACCELERATED = [pytest.mark.accel(name="policy-servicer"), pytest.mark.accel(name="policy-proxy")]


@pytest.fixture(autouse=True, params=[pytest.param("accelerated", marks=ACCELERATED), "stock"])
def servicer_class(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> type:
    """The servicer the runs of this test use (runs that name no accelerators use all or none)."""
    if request.param == "stock":
        if request.node.get_closest_marker("accel") is not None:
            pytest.skip("a test of the accelerated servicer alone")
        monkeypatch.setenv(accel.NO_ACCEL, "1")
        return StockServicer
    monkeypatch.delenv(accel.NO_ACCEL, raising=False)
    monkeypatch.setenv(accel.IGNORE_RANGE, "1")
    return OfflineAnalyzerServicer


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::proj::{type_}::{name}"


def registration(type_: str, name: str, inputs: dict[str, Any], **kw: Any) -> Registration:
    return Registration(
        urn=kw.pop("urn", urn(type_, name)),
        type=type_,
        name=name,
        parent=kw.pop("parent", STACK_URN),
        custom=kw.pop("custom", True),
        remote=False,
        provider=kw.pop("provider", ""),
        inputs=inputs,
        outputs=kw.pop("outputs", dict(inputs)),
        **kw,
    )


def stack() -> Registration:
    return Registration(STACK_URN, "pulumi:pulumi:Stack", "proj-dev", "", False, False, "", {}, {})


def namespace(name: str, labels: dict[str, str] | None = None) -> Registration:
    labels = {"team": "platform"} if labels is None else labels
    meta = {"name": name, "labels": labels}
    return registration(NS, name, {"apiVersion": "v1", "kind": "Namespace", "metadata": meta})


def quota(namespace_name: str) -> Registration:
    inputs = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "quota", "namespace": namespace_name},
        "spec": {"hard": {"limits.cpu": "4", "pods": 20}},
    }
    return registration("kubernetes:core/v1:ResourceQuota", f"{namespace_name}-quota", inputs)


def secret(name: str, password: str) -> Registration:
    # As the SDK sends it: Secret.stringData is one secret top-level property.
    inputs = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "stringData": Secret({"password": password}),
    }
    return registration("kubernetes:core/v1:Secret", name, inputs)


def compliant() -> list[Registration]:
    return [stack(), namespace("team-a"), quota("team-a"), secret("db", "correct-horse-battery")]


def write_config(tmp_path: Path, config: Any) -> Path:
    path = tmp_path / "policy-config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def found(report: PolicyReport) -> list[tuple[str, str, str]]:
    return [(v.policy, v.enforcement, v.urn) for v in report.violations]


# --- running the pack -------------------------------------------------------------------------------


def requests_to(monkeypatch: pytest.MonkeyPatch, servicer_class: type, method: str) -> list[Any]:
    """Every request the servicer's `method` ("Analyze", "AnalyzeStack") receives, in order."""
    seen: list[Any] = []
    original = getattr(servicer_class, method)

    def spy(self: Any, request: Any, context: Any) -> Any:
        seen.append(request)
        return original(self, request, context)

    monkeypatch.setattr(servicer_class, method, spy)
    return seen


def test_compliant_stack_has_no_violations_and_runs_every_policy() -> None:
    report = run_policies(PACK, None, compliant())
    assert report.pack == "fixture-pack"
    assert report.version == "0.1.0"
    assert report.policies_run == ALL_POLICIES
    assert report.violations == []
    assert report.mandatory == []


def test_unlabelled_namespace_is_one_mandatory_violation() -> None:
    regs = [*compliant(), namespace("team-b", labels={}), quota("team-b")]
    report = run_policies(PACK, None, regs)
    assert report.violations == [
        Violation(
            policy="namespace-needs-team-label",
            enforcement="mandatory",
            urn=urn(NS, "team-b"),
            message="Namespace 'team-b' has no 'team' label",  # the servicer's description prefix is gone
        )
    ]
    assert report.mandatory == report.violations


def test_policy_level_overrides_pack_default() -> None:
    regs = [*compliant(), namespace("default"), quota("default")]
    report = run_policies(PACK, None, regs)
    assert found(report) == [("no-default-namespace", "advisory", urn(NS, "default"))]
    assert report.violations[0].message == "do not manage the 'default' namespace"
    assert report.mandatory == []


def test_user_config_property_changes_the_outcome(tmp_path: Path) -> None:
    regs = [*compliant(), namespace("team-b", labels={"owner": "b"}), quota("team-b")]
    assert found(run_policies(PACK, None, regs)) == [("namespace-needs-team-label", "mandatory", urn(NS, "team-b"))]

    config = write_config(tmp_path, {"namespace-needs-team-label": {"label": "owner"}})
    report = run_policies(PACK, config, regs)
    assert found(report) == [("namespace-needs-team-label", "mandatory", urn(NS, "team-a"))]
    assert report.violations[0].message == "Namespace 'team-a' has no 'owner' label"


def test_all_advisory_makes_every_violation_advisory(tmp_path: Path) -> None:
    regs = [stack(), namespace("default", labels={}), secret("db", "short")]
    strict = run_policies(PACK, None, regs)
    assert {v.enforcement for v in strict.violations} == {"mandatory", "advisory"}

    report = run_policies(PACK, write_config(tmp_path, {"all": "advisory"}), regs)
    assert found(report) == [
        ("every-namespace-has-quota", "advisory", urn(NS, "default")),
        ("namespace-needs-team-label", "advisory", urn(NS, "default")),
        ("no-default-namespace", "advisory", urn(NS, "default")),
        ("secret-length", "advisory", urn("kubernetes:core/v1:Secret", "db")),
    ]
    assert report.mandatory == []
    assert report.policies_run == ALL_POLICIES


def test_disabled_policy_is_not_run(tmp_path: Path) -> None:
    regs = [stack(), namespace("team-a")]  # no quota
    assert found(run_policies(PACK, None, regs)) == [("every-namespace-has-quota", "mandatory", urn(NS, "team-a"))]

    report = run_policies(PACK, write_config(tmp_path, {"every-namespace-has-quota": "disabled"}), regs)
    assert report.policies_run == [p for p in ALL_POLICIES if p != "every-namespace-has-quota"]
    assert report.violations == []


def test_stack_policy_violation_carries_the_urn_it_reported() -> None:
    regs = [stack(), namespace("team-a"), quota("team-a"), namespace("team-b")]
    report = run_policies(PACK, None, regs)
    assert report.violations == [
        Violation(
            "every-namespace-has-quota", "mandatory", urn(NS, "team-b"), "Namespace 'team-b' has no ResourceQuota"
        )
    ]


def test_secret_values_reach_policies_unwrapped() -> None:
    # Were the wire encoding passed through, props["stringData"]["password"] would raise KeyError.
    assert run_policies(PACK, None, [stack(), secret("db", "long-enough-password")]).violations == []
    report = run_policies(PACK, None, [stack(), secret("db", "short")])
    assert report.violations == [
        Violation(
            "secret-length",
            "mandatory",
            urn("kubernetes:core/v1:Secret", "db"),
            "password of Secret 'db' is shorter than 8 characters",
        )
    ]


def test_pack_is_importable_while_policies_run_and_only_then() -> None:
    # secret-length imports fixture_limits lazily, inside validate, after load_pack has returned.
    path_before = list(sys.path)
    sys.modules.pop("fixture_limits", None)
    report = run_policies(PACK, None, [stack(), secret("db", "short")])
    assert [v.policy for v in report.violations] == ["secret-length"]
    assert sys.path == path_before
    assert "fixture_limits" not in sys.modules and "fixture_rules" not in sys.modules


def test_a_failing_policy_propagates_with_the_resource_named() -> None:
    with pytest.raises(ValueError, match="asked to fail") as caught:
        run_policies(PACK, None, [stack(), secret("db", "raise")])
    assert any(urn("kubernetes:core/v1:Secret", "db") in note for note in caught.value.__notes__)
    assert pulumi_policy.PolicyPack is _pp.PolicyPack and "fixture_rules" not in sys.modules


def test_running_twice_gives_the_same_report(tmp_path: Path) -> None:
    regs = [stack(), namespace("default", labels={}), namespace("team-a"), quota("team-a"), secret("db", "x")]
    config = write_config(tmp_path, {"no-default-namespace": "mandatory"})
    first = run_policies(PACK, config, regs)
    second = run_policies(PACK, config, regs)
    assert first.to_json() == second.to_json()
    assert len(first.violations) == 4
    assert run_policies(PACK, None, regs).to_json() != first.to_json()  # config of one run does not leak


def test_report_json_shape() -> None:
    report = run_policies(PACK, None, [stack(), namespace("team-b", labels={}), quota("team-b")])
    assert report.to_json() == {
        "pack": "fixture-pack",
        "version": "0.1.0",
        "policies_run": ALL_POLICIES,
        "violations": [
            {
                "policy": "namespace-needs-team-label",
                "enforcement": "mandatory",
                "urn": urn(NS, "team-b"),
                "message": "Namespace 'team-b' has no 'team' label",
            }
        ],
    }
    json.dumps(report.to_json())


def test_requests_look_like_the_engines(monkeypatch: pytest.MonkeyPatch, servicer_class: type) -> None:
    seen = requests_to(monkeypatch, servicer_class, "Analyze")
    stack_seen = requests_to(monkeypatch, servicer_class, "AnalyzeStack")

    provider = registration(
        "pulumi:providers:kubernetes", "cluster", {"namespace": "team-a"}, urn=PROVIDER_URN, outputs={}
    )
    tenant = registration("gatehouse:index:Tenant", "team-a", {"name": "team-a"}, custom=False, outputs={})
    ns = namespace("team-a")
    ns.provider = f"{PROVIDER_URN}::04f7cc2c-provider-id"
    ns.parent = tenant.urn
    ns.protect = True
    ns.dependencies = [tenant.urn]
    ns.property_dependencies = {"metadata": [tenant.urn]}
    run_policies(PACK, None, [stack(), provider, tenant, ns, quota("team-a")])

    assert [r.type for r in seen] == [
        "pulumi:providers:kubernetes",
        "gatehouse:index:Tenant",  # components are analyzed too
        NS,
        "kubernetes:core/v1:ResourceQuota",
    ]  # and the root Stack is not
    ns_request = seen[2]
    assert ns_request.urn == urn(NS, "team-a") and ns_request.name == "team-a"
    assert ns_request.options.protect and ns_request.options.parent == tenant.urn
    assert not ns_request.options.HasField("customTimeouts")
    assert ns_request.provider.type == "pulumi:providers:kubernetes"
    assert ns_request.provider.urn == PROVIDER_URN and ns_request.provider.name == "cluster"
    assert dict(ns_request.provider.properties) == {"namespace": "team-a"}
    assert not seen[1].HasField("provider")

    (stack_request,) = stack_seen
    resources = {r.urn: r for r in stack_request.resources}
    assert STACK_URN not in resources
    assert resources[tenant.urn].properties["name"] == "team-a"  # no outputs: inputs are sent
    assert resources[ns.urn].parent == tenant.urn
    assert list(resources[ns.urn].dependencies) == [tenant.urn]
    assert list(resources[ns.urn].propertyDependencies["metadata"].urns) == [tenant.urn]
    # Numbers travel as doubles, as through the engine.
    assert resources[urn("kubernetes:core/v1:ResourceQuota", "team-a-quota")].properties["spec"]["hard"]["pods"] == 20.0


def test_secrets_travel_wire_encoded(monkeypatch: pytest.MonkeyPatch, servicer_class: type) -> None:
    seen = requests_to(monkeypatch, servicer_class, "Analyze")
    run_policies(PACK, None, [secret("db", "long-enough-password")])
    string_data = seen[0].properties["stringData"]
    assert string_data["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270"
    assert string_data["value"]["password"] == "long-enough-password"


def test_runner_ignores_and_keeps_the_callers_pulumi_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_PROJECT", "env-project")
    monkeypatch.setenv("PULUMI_STACK", "env-stack")
    monkeypatch.setenv("PULUMI_DRY_RUN", "true")
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"env-project:leaked": "yes"}))
    project, stack_name, dry_run = pulumi.get_project(), pulumi.get_stack(), pulumi.runtime.is_dry_run()
    monitor = pulumi.runtime.settings.SETTINGS.monitor
    config_before = dict(pulumi.runtime.config.CONFIG.get())

    report = run_policies(PACK, None, compliant())

    assert report.violations == []
    assert (pulumi.get_project(), pulumi.get_stack(), pulumi.runtime.is_dry_run()) == (project, stack_name, dry_run)
    assert pulumi.runtime.settings.SETTINGS.monitor is monitor
    assert dict(pulumi.runtime.config.CONFIG.get()) == config_before


def test_stack_tags_reach_policies(tmp_path: Path) -> None:
    pack = tmp_path / "tags-pack"
    pack.mkdir()
    (pack / "__main__.py").write_text(
        "from pulumi_policy import PolicyPack, ResourceValidationPolicy\n"
        "def check(args, report):\n"
        "    report('tags ' + ','.join(f'{k}={v}' for k, v in sorted(args.stack_tags.items())))\n"
        "PolicyPack(name='tags-pack', policies=[ResourceValidationPolicy(name='show-tags', description='d', "
        "validate=check)])\n",
        encoding="utf-8",
    )
    report = run_policies(pack, None, [namespace("team-a")], {"pulumi:stack": "dev", "owner": "platform"})
    assert report.version == "0.0.1"  # no PulumiPolicy.yaml
    assert report.violations == [
        Violation("show-tags", "advisory", urn(NS, "team-a"), "tags owner=platform,pulumi:stack=dev")
    ]


# --- configuration ----------------------------------------------------------------------------------


def test_unknown_policy_name_is_an_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"no-such-policy": "mandatory", "all": "advisory"})
    with pytest.raises(PolicyConfigError) as caught:
        run_policies(PACK, config, compliant())
    assert caught.value.errors == ["no-such-policy: no policy of that name in the policy pack"]
    assert "no-such-policy" in str(caught.value)


def test_wrongly_typed_property_is_an_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"namespace-needs-team-label": {"label": 5}})
    with pytest.raises(PolicyConfigError) as caught:
        run_policies(PACK, config, compliant())
    assert caught.value.errors == ["namespace-needs-team-label: label: 5 is not of type 'string'"]


def test_all_config_errors_are_reported_together(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        {
            "namespace-needs-team-label": {"label": ["x"], "enforcementLevel": "mandatory"},
            "secret-length": "strict",
            "no-default-namespace": {"enforcementLevel": 1},
            "every-namespace-has-quota": 3,
            "ghost": {},
        },
    )
    with pytest.raises(PolicyConfigError) as caught:
        run_policies(PACK, config, compliant())
    message = str(caught.value)
    for part in (
        "namespace-needs-team-label: label:",
        "secret-length:",
        "no-default-namespace:",
        "every-namespace-has-quota:",
        "ghost:",
    ):
        assert part in message
    assert len(caught.value.errors) == 5


def test_unreadable_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyConfigError, match="cannot read"):
        run_policies(PACK, tmp_path / "missing.json", compliant())
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(PolicyConfigError, match="not valid JSON"):
        run_policies(PACK, bad, compliant())
    empty = tmp_path / "empty.json"
    empty.write_text("\n", encoding="utf-8")  # the engine accepts an empty file
    assert run_policies(PACK, empty, compliant()).policies_run == ALL_POLICIES


def test_effective_config_defaults_and_levels() -> None:
    pack = load_pack(PACK)
    assert effective_config(pack, None) == {
        "namespace-needs-team-label": {"enforcementLevel": "mandatory", "properties": {"label": "team"}},
        "no-default-namespace": {"enforcementLevel": "advisory", "properties": {}},
        "every-namespace-has-quota": {"enforcementLevel": "mandatory", "properties": {}},
        "secret-length": {"enforcementLevel": "mandatory", "properties": {}},
    }
    cfg = effective_config(
        pack,
        {
            "all": "disabled",
            "secret-length": "advisory",
            "namespace-needs-team-label": {"label": "owner"},
        },
    )
    assert {name: c["enforcementLevel"] for name, c in cfg.items()} == {
        "namespace-needs-team-label": "disabled",  # "all" applies first, the entry only sets a property
        "no-default-namespace": "disabled",
        "every-namespace-has-quota": "disabled",
        "secret-length": "advisory",
    }
    assert cfg["namespace-needs-team-label"]["properties"] == {"label": "owner"}


def test_effective_config_applies_initial_config_then_user_config() -> None:
    base = load_pack(PACK)
    pack = LoadedPack(
        directory=base.directory,
        name=base.name,
        version=base.version,
        policies=base.policies,
        enforcement_level=base.enforcement_level,
        initial_config={
            "all": pulumi_policy.EnforcementLevel.ADVISORY,
            "namespace-needs-team-label": {"enforcementLevel": pulumi_policy.EnforcementLevel.MANDATORY, "label": "x"},
        },
    )
    cfg = effective_config(pack, None)
    assert cfg["namespace-needs-team-label"] == {"enforcementLevel": "mandatory", "properties": {"label": "x"}}
    assert cfg["secret-length"]["enforcementLevel"] == "advisory"

    cfg = effective_config(pack, {"namespace-needs-team-label": {"label": "y"}, "all": "remediate"})
    assert cfg["namespace-needs-team-label"] == {"enforcementLevel": "remediate", "properties": {"label": "y"}}
    assert cfg["no-default-namespace"]["enforcementLevel"] == "remediate"


def test_remediate_level_is_reported_as_mandatory(tmp_path: Path) -> None:
    # The servicer "downgrades" a violation of a remediate-level policy without remediation to mandatory.
    report = run_policies(PACK, write_config(tmp_path, {"all": "remediate"}), [stack(), namespace("x", labels={})])
    assert {v.enforcement for v in report.violations} == {"mandatory"}


# --- loading ----------------------------------------------------------------------------------------


def test_load_pack_restores_policy_pack_and_sys_path() -> None:
    path_before = list(sys.path)
    original = pulumi_policy.PolicyPack
    assert _pp.PolicyPack is original
    sys.modules.pop("fixture_rules", None)

    pack = load_pack(PACK)

    assert pulumi_policy.PolicyPack is original and _pp.PolicyPack is original
    assert sys.path == path_before
    assert "fixture_rules" not in sys.modules  # imported from PACK (so PACK was on sys.path), then forgotten
    assert pack.name == "fixture-pack"
    assert pack.version == "0.1.0"
    assert pack.description == "A tiny pack for the offline policy runner's tests."
    assert pack.enforcement_level is pulumi_policy.EnforcementLevel.MANDATORY
    assert pack.policy_names == [
        "namespace-needs-team-label",
        "no-default-namespace",
        "every-namespace-has-quota",
        "secret-length",
    ]


def test_load_pack_restores_everything_when_the_pack_fails(tmp_path: Path) -> None:
    pack = tmp_path / "broken"
    pack.mkdir()
    (pack / "__main__.py").write_text("import broken_helper\n", encoding="utf-8")
    (pack / "broken_helper.py").write_text("raise ValueError('boom')\n", encoding="utf-8")
    path_before = list(sys.path)
    with pytest.raises(PolicyPackLoadError, match="ValueError: boom"):
        load_pack(pack)
    assert sys.path == path_before
    assert pulumi_policy.PolicyPack is _pp.PolicyPack
    assert _pp.PolicyPack.__name__ == "PolicyPack" and _pp.PolicyPack.__module__ == "pulumi_policy.policy"


def test_pack_without_policy_pack_is_a_load_error(tmp_path: Path) -> None:
    pack = tmp_path / "empty-pack"
    pack.mkdir()
    (pack / "__main__.py").write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(PolicyPackLoadError, match="did not construct a PolicyPack"):
        load_pack(pack)
    (pack / "__main__.py").write_text(
        "from pulumi_policy import PolicyPack\nPolicyPack(name='bad name!', policies=[])\n"
    )
    with pytest.raises(PolicyPackLoadError, match="TypeError"):
        load_pack(pack)


def test_same_named_helper_modules_of_two_packs_do_not_mix(tmp_path: Path) -> None:
    other = tmp_path / "other-pack"
    other.mkdir()
    (other / "fixture_rules.py").write_text(
        "from pulumi_policy import StackValidationPolicy\n"
        "POLICIES = [StackValidationPolicy(name='other-rule', description='d', validate=lambda a, r: r('hi'))]\n",
        encoding="utf-8",
    )
    (other / "__main__.py").write_text(
        "from fixture_rules import POLICIES\nfrom pulumi_policy import PolicyPack\n"
        "PolicyPack(name='other-pack', policies=POLICIES)\n",
        encoding="utf-8",
    )
    import importlib

    sys.path.insert(0, str(PACK))
    try:
        mine = importlib.import_module("fixture_rules")  # the fixture pack's module is already imported
    finally:
        sys.path.remove(str(PACK))
    try:
        assert load_pack(other).policy_names == ["other-rule"]
        assert sys.modules["fixture_rules"] is mine  # put back afterwards
        assert load_pack(PACK).policy_names[0] == "namespace-needs-team-label"
        report = run_policies(other, None, [])
        assert report.violations == [Violation("other-rule", "advisory", "", "hi")]
    finally:
        sys.modules.pop("fixture_rules", None)


@pytest.mark.accel(name="policy-servicer")
def test_properties_are_converted_once_per_request_and_the_servicer_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = _pp.deserialize_properties

    def counting(props: Any, *args: Any) -> Any:
        calls.append(1)
        return original(props, *args)

    monkeypatch.setattr(_pp, "deserialize_properties", counting)
    json_format = _pp.json_format
    report = run_policies(PACK, None, compliant())
    assert report.violations == []
    resource_policies = 3  # the fixture pack's resource policies each read every resource's props
    assert 0 < len(calls) < resource_policies * len(compliant())
    assert _pp.json_format is json_format and _pp.deserialize_properties is counting


RECORDING_PACK = """
import json, pathlib
from pulumi_policy import PolicyPack, StackValidationPolicy

OUT = pathlib.Path(__file__).parent / "seen.json"
seen, kept = {}, []

def record(name):
    def validate(args, report_violation):
        ns = next(r for r in args.resources if r.name == "team-a")
        kept.append(ns)
        seen[name] = {
            "parent": ns.parent.urn,
            "dependencies": [d.urn for d in ns.dependencies],
            "property_dependencies": {k: [d.urn for d in v] for k, v in ns.property_dependencies.items()},
            "provider": ns.provider.urn,
            "name": ns.props["metadata"]["name"],
            "same_object_as_first": len(kept) > 1 and kept[0] is ns,
        }
        ns.props["metadata"]["name"] = "changed by " + name  # must not reach the next policy
        OUT.write_text(json.dumps(seen))
    return validate

PolicyPack(name="recorder", policies=[
    StackValidationPolicy(name=name, description="records", validate=record(name)) for name in ("first", "second")
])
"""


def test_every_stack_policy_gets_linked_resources_of_its_own(tmp_path: Path) -> None:
    """AnalyzeStack decodes the request once for all stack policies; each still sees the engine's links
    (parent, dependencies, property dependencies, provider) on resources and proxies of its own."""
    (tmp_path / "__main__.py").write_text(RECORDING_PACK, encoding="utf-8")
    provider = registration("pulumi:providers:kubernetes", "cluster", {}, urn=PROVIDER_URN, outputs={})
    tenant = registration("gatehouse:index:Tenant", "team-a-tenant", {}, custom=False, outputs={})
    ns = namespace("team-a")
    ns.provider, ns.parent = f"{PROVIDER_URN}::provider-id", tenant.urn
    ns.dependencies, ns.property_dependencies = [tenant.urn], {"metadata": [tenant.urn, provider.urn]}
    report = run_policies(tmp_path, None, [stack(), provider, tenant, ns])
    assert report.violations == []
    seen = json.loads((tmp_path / "seen.json").read_text())
    expected = {
        "parent": tenant.urn,
        "dependencies": [tenant.urn],
        "property_dependencies": {"metadata": [tenant.urn, provider.urn]},
        "provider": PROVIDER_URN,
        "name": "team-a",
        "same_object_as_first": False,
    }
    assert seen == {"first": expected, "second": expected}


def test_a_provider_listed_after_its_resources_still_lends_them_its_properties(
    monkeypatch: pytest.MonkeyPatch, servicer_class: type
) -> None:
    """Registrations come sorted by URN, and `pulumi:providers:...` sorts after `gatehouse:...`."""
    seen = requests_to(monkeypatch, servicer_class, "Analyze")
    provider = registration(
        "pulumi:providers:kubernetes", "cluster", {"namespace": "team-a"}, urn=PROVIDER_URN, outputs={}
    )
    ns = namespace("team-a")
    ns.provider = f"{PROVIDER_URN}::provider-id"
    run_policies(PACK, None, [ns, quota("team-a"), provider])
    assert dict(seen[0].provider.properties) == {"namespace": "team-a"}


@pytest.mark.accel(name="policy-servicer")
def test_a_servicer_configured_again_runs_by_the_new_levels() -> None:
    """The servicer works out which policies run once per configuration: a new one must count."""
    pack = load_pack(PACK)
    servicer = servicer_for(pack, accel.ALL)
    bare = namespace("team-b", labels={})
    request = proto.AnalyzeRequest(type=bare.type, properties=struct(bare.inputs), urn=bare.urn, name=bare.name)

    def policies_reporting(levels: str) -> set[str]:
        configure(servicer, effective_config(pack, {"all": levels}))
        with pack.importable():
            return {d.policyName for d in servicer.Analyze(request, None).diagnostics}

    assert "namespace-needs-team-label" in policies_reporting("mandatory")
    assert policies_reporting("disabled") == set()


wire_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=4)
    | st.just(Unknown()),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=3), children, max_size=3)
        | children.map(Secret)
    ),
    max_leaves=25,
)


def _plain(value: Any) -> Any:
    """What Struct.update takes: unknowns as the engine's sentinel, keys as strings (the recipe the
    policy run used before it built Structs itself)."""
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@given(st.dictionaries(st.text(max_size=3), wire_values, max_size=4))
@settings(max_examples=300, deadline=None)
def test_properties_reach_the_servicer_as_struct_update_would_build_them(values: dict[str, Any]) -> None:
    expected = struct_pb2.Struct()
    expected.update(_plain(to_wire(values)))
    assert struct(values) == expected
    assert struct(values).SerializeToString(deterministic=True) == expected.SerializeToString(deterministic=True)
