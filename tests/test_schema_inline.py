"""offline.validate.schema_inline: schemas with inlined $refs validate exactly as the originals do."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import REPO, UPSTREAM

from offline import manifests as mf
from offline.runtime import run_program
from offline.stack_config import load_stack_config
from offline.validate import Validator, normalise
from offline.validate.builtin import DEFINITIONS_ID
from offline.validate.schema_inline import Inliner
from offline.validate.validator import fast_check

Path = tuple[str | int, ...]


@pytest.fixture(scope="module")
def staging_objects() -> list[dict[str, Any]]:
    """One rendered object per kind of the staging stack."""
    run = run_program(REPO, load_stack_config(REPO, "staging", {}))
    assert run.error is None
    by_kind: dict[tuple[str, str], dict[str, Any]] = {}
    for registration in run.registrations:
        if mf.is_kubernetes_object(registration):
            obj = mf.manifest_of(registration).obj
            by_kind.setdefault((obj["apiVersion"], obj["kind"]), obj)
    return list(by_kind.values())


@pytest.fixture(scope="module")
def validators() -> tuple[Validator, Validator]:
    """(inlined, as the files are): the second builds its checks with inlining switched off."""
    return Validator("1.33", UPSTREAM), Validator("1.33", UPSTREAM)


def _paths(value: Any, path: Path = ()) -> Iterator[Path]:
    yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in children:
        yield from _paths(child, (*path, key))


def _mutants(obj: dict[str, Any], places: int = 15) -> Iterator[dict[str, Any]]:
    """At up to `places` places spread over `obj`: an unknown field in it, a value of the wrong type,
    and no value."""
    paths = list(_paths(obj))[1:]
    for path in paths[:: max(1, len(paths) // places)]:
        *parents, last = path
        for change in ("unknown", "wrong-type", "removed"):
            mutant = copy.deepcopy(obj)
            node: Any = mutant
            for p in parents:
                node = node[p]
            if change == "unknown" and isinstance(node[last], dict):
                node[last]["bogusField"] = 1
            elif change == "wrong-type":
                node[last] = "text" if isinstance(node[last], dict | list | int) else {"x": 1.5}
            elif change == "removed":
                del node[last]
            yield mutant


def test_mutated_objects_get_the_same_errors_as_against_the_original_schemas(
    staging_objects: list[dict[str, Any]], validators: tuple[Validator, Validator], monkeypatch: pytest.MonkeyPatch
) -> None:
    inlined, original = validators
    with monkeypatch.context() as patch:
        patch.setattr(Inliner, "schema", lambda self, node: node)
        for obj in staging_objects:
            original.object_check(obj["apiVersion"], obj["kind"])  # built now, from the files as they are
    compared = failing = 0
    for obj in staging_objects:
        for mutant in _mutants(obj):
            expected = original.validate_object(mutant)
            assert inlined.validate_object(mutant) == expected, (obj["kind"], mutant)
            compared += 1
            failing += expected.status == "error"
    assert len(staging_objects) >= 20 and compared > 1_000 and failing > compared // 3


def test_a_recursive_definition_keeps_an_absolute_reference() -> None:
    definitions = {
        "$defs": {
            "Props": {
                "description": "a schema of schemas",
                "properties": {"not": {"$ref": "#/$defs/Props"}, "$ref": {"type": "string"}},
            },
            "Holder": {"properties": {"schema": {"$ref": "#/$defs/Props", "description": "doc"}}},
        }
    }
    inliner = Inliner(DEFINITIONS_ID, definitions)
    holder = inliner.schema({"$ref": f"{DEFINITIONS_ID}#/$defs/Holder", "x-kubernetes-map-type": "atomic"})
    props = holder["properties"]["schema"]
    assert props["properties"]["not"] == {"$ref": f"{DEFINITIONS_ID}#/$defs/Props"}
    assert props["properties"]["$ref"] == {"type": "string"}  # a property named $ref is not a reference
    assert "description" not in props and inliner.schema({"$ref": "#/$defs/Props"}) == {"$ref": "#/$defs/Props"}


def test_jsonschema_rs_answers_valid_exactly_when_jsonschema_does(
    staging_objects: list[dict[str, Any]], validators: tuple[Validator, Validator]
) -> None:
    """The fast check (offline.validate.validator.fast_check) decides alone only that an object is valid."""
    inlined, _ = validators
    checks = [inlined.object_check(obj["apiVersion"], obj["kind"]) for obj in staging_objects]
    assert sum(check is not None and check.fast is not None for check in checks) >= len(checks) - 2
    compared = invalid = 0
    for obj, check in zip(staging_objects, checks, strict=True):
        if check is None or check.fast is None or check.validator is None:
            continue
        for mutant in [obj, *_mutants(obj, places=25)]:
            mutant = normalise(mutant)
            valid = not list(check.validator.iter_errors(mutant))
            assert check.fast.is_valid(mutant) is valid, (obj["kind"], mutant)
            compared += 1
            invalid += not valid
    assert compared > 1_500 and invalid > compared // 3


def test_a_schema_with_a_reference_left_is_checked_by_jsonschema_alone() -> None:
    assert fast_check({"properties": {"spec": {"$ref": f"{DEFINITIONS_ID}#/$defs/Props"}}}) is None
    assert fast_check({"properties": {"name": {"type": "string", "pattern": "[a-z]\\Z"}}}) is None
    assert fast_check({"properties": {"name": {"type": "string"}}}) is not None
