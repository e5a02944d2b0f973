"""offline.yaml_text writes exactly what yaml.dump writes, taking its own path for most manifests."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from offline import manifests as mf
from offline import yaml_text
from offline.runtime import run_program
from offline.stack_config import load_stack_config


def pyyaml(data: Any) -> str:
    return yaml.dump(data, Dumper=yaml_text._DUMPER, sort_keys=False, default_flow_style=False)


# strings that are plain, quoted, numbers or booleans in disguise, keys and indicators, and worse
tricky = st.sampled_from(["", "true", "no", "~", "null", "8080", "0o17", "1e3", ".5", "-", "- a", "a: b", "a:b", "#x"])
texts = tricky | st.text(alphabet="ab:-#'\" .,[]{}&*!|>%@`?\n\té0", max_size=8)
leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts
documents = st.dictionaries(
    texts,
    st.recursive(
        leaves, lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3)
    ),
    max_size=4,
)


@given(documents)
@settings(max_examples=500, deadline=None)
def test_writes_what_yaml_dump_writes(document: dict[str, Any]) -> None:
    assert yaml_text.dump(document) == pyyaml(document)


def test_long_keys_and_nested_lists_are_written_as_pyyaml_does() -> None:
    document = {"k" * 130: 1, "grid": [[1, [2, {"a": []}]], {}], "empty": {}, "none": None}
    assert yaml_text.dump(document) == pyyaml(document)


@pytest.fixture(scope="module")
def staging_manifests() -> list[dict[str, Any]]:
    run = run_program(REPO, load_stack_config(REPO, "staging", {}))
    assert run.error is None
    return [mf.manifest_of(r).redacted for r in run.registrations if mf.is_kubernetes_object(r)]


def test_staging_manifests_are_written_as_pyyaml_does_most_on_the_fast_path(
    staging_manifests: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = [pyyaml(m) for m in staging_manifests]
    fallbacks: list[Any] = []
    dump = yaml.dump
    monkeypatch.setattr(yaml, "dump", lambda data, **kwargs: fallbacks.append(data) or dump(data, **kwargs))
    assert [yaml_text.dump(m) for m in staging_manifests] == expected
    assert len(fallbacks) < len(staging_manifests) / 4
