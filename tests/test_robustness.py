"""Robustness: mistakes are caught by path, secrets never leak, output never depends on order."""

from __future__ import annotations

import copy
import random as stdlib_random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from helpers import api_entries, program_with_stack, run_preview, stack_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components import config
from offline.records import Secret
from offline.runtime import run_program
from offline.stack_config import load_stack_config

BASE = {k.split(":", 1)[1]: v for k, v in stack_config("staging").items()}
BASE["apis"] = api_entries("staging")  # its definition files as entries: mistakes are made in those too
del BASE["apiDefinitions"]

# --- generated invalid configurations ------------------------------------------------------------

DNS_LABEL_FIELDS = [
    "tenants[{t}].name",
    "tenants[{t}].organization",
    "organizations[{o}].name",
    "apps[{a}].name",
    "apps[{a}].namespace",
    "apis[{p}].namespace",
    "apis[{p}].service.name",
    "identity.hosts.dex",
    "identity.platformGroups.admins",
]
ENUM_FIELDS = {
    "tenants[{t}].profile": ["standard", "elevated"],
    "tenants[{t}].size": ["small", "medium", "large"],
    "organizations[{o}].plan": ["free", "pro", "enterprise"],
    "apps[{a}].auth": ["sso", "public"],
    "environment": ["dev", "staging", "prod"],
}
EMAIL_FIELDS = ["organizations[{o}].adminUsers[0]", "identity.adminEmail", "edge.acme.email"]
REQUIRED_FIELDS = [
    "tenants[{t}].repo",
    "tenants[{t}].organization",
    "organizations[{o}].displayName",
    "apps[{a}].service",
    "cluster.context",
    "identity",
    "domain",
]
PORT_FIELDS = ["apps[{a}].service.port", "apis[{p}].service.port"]

bad_labels = st.one_of(
    st.text(alphabet="ABCDEFGHIJ_.!@ ", min_size=1, max_size=10),
    st.from_regex(r"\A-[a-z]{1,8}\Z"),
    st.from_regex(r"\A[a-z]{1,8}-\Z"),
    st.just("a" * 64),
    st.just(""),
)
bad_emails = st.one_of(st.from_regex(r"\A[a-z]{1,8}\Z"), st.from_regex(r"\A[a-z]{1,5}@[a-z]{1,5}\Z"), st.just("@x.io"))
wrong_types = st.one_of(
    st.integers(), st.booleans(), st.lists(st.integers(), min_size=1, max_size=2), st.just({"x": 1})
)


def _indexes(draw: st.DrawFn, template: str) -> str:
    return template.format(
        t=draw(st.integers(0, len(BASE["tenants"]) - 1)),
        o=draw(st.integers(0, len(BASE["organizations"]) - 1)),
        a=draw(st.integers(0, len(BASE["apps"]) - 1)),
        p=draw(st.integers(0, len(BASE["apis"]) - 1)),
    )


def _parts(path: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in path.replace("]", "").replace("[", ".").split(".")]


def _apply(raw: dict[str, Any], path: str, value: Any, delete: bool = False) -> None:
    parts = _parts(path)
    target: Any = raw
    for part in parts[:-1]:
        target = target[part] if isinstance(part, int) else target.setdefault(part, {})
    if delete:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value


@st.composite
def invalid_config(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A copy of staging's config with one mistake, and the config path that must be reported."""
    raw = copy.deepcopy(BASE)
    kind = draw(st.sampled_from(["label", "enum", "email", "missing", "unknown", "type", "port", "org"]))
    if kind == "label":
        path = _indexes(draw, draw(st.sampled_from(DNS_LABEL_FIELDS)))
        _apply(raw, path, draw(bad_labels))
    elif kind == "enum":
        template = draw(st.sampled_from(sorted(ENUM_FIELDS)))
        path = _indexes(draw, template)
        _apply(raw, path, draw(st.text(max_size=12).filter(lambda v: v not in ENUM_FIELDS[template])))
    elif kind == "email":
        path = _indexes(draw, draw(st.sampled_from(EMAIL_FIELDS)))
        _apply(raw, path, draw(bad_emails))
    elif kind == "missing":
        path = _indexes(draw, draw(st.sampled_from(REQUIRED_FIELDS)))
        _apply(raw, path, None, delete=True)
    elif kind == "unknown":
        parent = _indexes(draw, draw(st.sampled_from(["tenants[{t}]", "organizations[{o}]", "edge", "apis[{p}]"])))
        key = draw(st.from_regex(r"\A[a-z]{3,10}[A-Z][a-z]{2,5}\Z"))
        path = f"{parent}.{key}"
        _apply(raw, path, "x")
    elif kind == "type":
        path = _indexes(draw, draw(st.sampled_from(["tenants[{t}].namespaces", "apps[{a}].service", "edge.acme"])))
        _apply(raw, path, draw(wrong_types))
    elif kind == "port":
        path = _indexes(draw, draw(st.sampled_from(PORT_FIELDS)))
        _apply(raw, path, draw(st.one_of(st.integers(max_value=0), st.integers(min_value=65536))))
    else:
        path = _indexes(draw, "tenants[{t}].organization")
        _apply(raw, path, draw(st.from_regex(r"\Azz[a-z]{1,8}\Z")))
    return raw, f"{config.NAMESPACE}:{path}"


@settings(
    max_examples=1200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(invalid_config())
def test_every_generated_mistake_is_named_by_its_path(case: tuple[dict[str, Any], str]) -> None:
    raw, path = case
    with pytest.raises(config.ConfigError) as caught:
        config.parse_raw(raw)
        pytest.fail(f"accepted a mistake at {path}")
    reported = [p for p, _ in caught.value.problems]
    # a wrong type or a missing block may be reported on a field inside it; never elsewhere
    assert any(p == path or p.startswith(path + ".") or p.startswith(path + "[") for p in reported), (path, reported)
    assert "Traceback" not in str(caught.value)


def _mistakes(count: int) -> Iterator[dict[str, Any]]:
    rng = stdlib_random.Random(7)
    for _ in range(count):
        raw = copy.deepcopy(BASE)
        tenant = rng.randrange(len(raw["tenants"]))
        raw["tenants"][tenant][rng.choice(["name", "profile", "size"])] = rng.choice(["Bad_Value", "", "x" * 70])
        yield raw


def test_a_mistake_registers_no_resource(tmp_path: Path) -> None:
    for i, raw in enumerate(_mistakes(5)):
        program = program_with_stack(tmp_path / str(i), "bad", {f"gatehouse:{k}": v for k, v in raw.items()})
        run = run_program(program, load_stack_config(program, "bad"))
        assert isinstance(run.error, config.ConfigError)
        assert [r.type for r in run.registrations] == ["pulumi:pulumi:Stack"]


# --- secrets ---------------------------------------------------------------------------------------

CANARIES = {
    "gatehouse:cloudflareApiToken": "CANARY-cloudflare-7f3a9c",
    "gatehouse:githubClientSecret": "CANARY-github-51d2e8",
    "gatehouse:googleClientSecret": "CANARY-google-0b6c44",
}


def _secret_leaves(value: Any, inside: bool = False) -> Iterator[str]:
    if isinstance(value, Secret):
        yield from _secret_leaves(value.value, True)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _secret_leaves(v, inside)
    elif isinstance(value, list):
        for v in value:
            yield from _secret_leaves(v, inside)
    elif inside and isinstance(value, str) and len(value) >= 8:
        yield value


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_no_secret_appears_in_clear_anywhere(stack: str, tmp_path: Path) -> None:
    result, printed = run_preview(REPO, tmp_path, stack=stack, secrets=CANARIES)
    assert result.exit_code == 0, printed
    assert result.run is not None
    generated = {
        leaf
        for reg in result.run.registrations
        for leaf in _secret_leaves(reg.outputs)
        if reg.type.startswith(("random:", "tls:"))
    }
    assert len(generated) >= 10  # passwords, keys, certificates: the check below has something to find
    planted = set(CANARIES.values()) | generated
    for path in tmp_path.rglob("*"):
        if path.is_file():
            text = path.read_text()
            leaked = [s for s in planted if s in text]
            assert not leaked, f"{path.relative_to(tmp_path)} contains a secret in clear"
    assert not [s for s in planted if s in printed]


# --- order and names -------------------------------------------------------------------------------


def test_reordering_config_lists_changes_no_urn_and_no_object(tmp_path: Path) -> None:
    original = stack_config("staging")
    shuffled = copy.deepcopy(original)
    rng = stdlib_random.Random(11)
    shuffled["gatehouse:apis"] = api_entries("staging")  # the definition files' APIs, as entries, shuffled
    del shuffled["gatehouse:apiDefinitions"]
    for key in ("gatehouse:tenants", "gatehouse:organizations", "gatehouse:apps", "gatehouse:apis"):
        rng.shuffle(shuffled[key])
    first, _ = run_preview(program_with_stack(tmp_path / "a", "staging", original), tmp_path / "a" / "out", "staging")
    second, _ = run_preview(program_with_stack(tmp_path / "b", "staging", shuffled), tmp_path / "b" / "out", "staging")
    assert first.run is not None and second.run is not None
    assert [r.urn for r in first.run.registrations] == [r.urn for r in second.run.registrations]
    objects_a = {m.identity: m.obj for m in first.manifests}
    objects_b = {m.identity: m.obj for m in second.manifests}
    assert objects_a == objects_b
