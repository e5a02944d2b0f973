"""The lazy policy proxies behave exactly like pulumi-policy's eager ones (offline/accel/policy_proxy.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi_policy import proxy as eager
from pulumi_policy.deserialize import serialize_properties

from offline.accel.policy_proxy import unknown_checking_proxy as lazy

pytestmark = pytest.mark.accel(name="policy-proxy")

UNKNOWNS = [eager.UNKNOWN_STRING_VALUE, eager.UNKNOWN_NUMBER_VALUE, eager.UNKNOWN_OBJECT_VALUE]
leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.sampled_from(UNKNOWNS))
trees = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=3), inner, max_size=4)),
    max_leaves=25,
)
properties = st.dictionaries(st.text(max_size=3), trees, max_size=5)


def unknown(exc: eager.UnknownValueError) -> Any:
    return ("unknown", exc.message, tuple(exc.props))


def shallow(value: Any) -> Any:
    if isinstance(value, tuple):  # an item
        return tuple(shallow(v) for v in value)
    if isinstance(value, (Mapping, Sequence)) and not isinstance(value, str):
        return ("map" if isinstance(value, Mapping) else "list", len(value))  # contents: walked by key or index
    return value


def iterated(values: Any) -> list[Any]:
    """What a `for` loop over `values` sees, up to the first unknown."""
    seen = []
    try:
        for value in values:
            seen.append(shallow(value))
    except eager.UnknownValueError as exc:
        seen.append(unknown(exc))
    return seen


def walk(node: Any) -> Any:
    """Read every value through the proxy the way a policy would; unknowns become the error's text."""
    if isinstance(node, Mapping):
        out = {}
        for key in node:
            try:
                out[key] = walk(node[key])
            except eager.UnknownValueError as exc:
                out[key] = unknown(exc)
        return ("map", out, len(node), iterated(node.values()), iterated(node.items()))
    if isinstance(node, Sequence) and not isinstance(node, str):
        out_list = []
        for i in range(-len(node), len(node)):
            try:
                out_list.append(walk(node[i]))
            except eager.UnknownValueError as exc:
                out_list.append(unknown(exc))
        sliced = [walk(v) for v in node[1:]] if len(node) > 1 else None
        return ("list", out_list, len(node), sliced, iterated(node), iterated(reversed(node)))
    return node


@settings(max_examples=300, deadline=None)
@given(properties)
def test_reads_errors_and_serialisation_match_pulumi_policy(props: dict[str, Any]) -> None:
    assert walk(lazy(props)) == walk(eager.unknown_checking_proxy(props))
    assert serialize_properties(lazy(props)) == serialize_properties(eager.unknown_checking_proxy(props))


def test_same_classes_as_pulumi_policy() -> None:
    proxied = lazy({"a": [{"b": 1}]})
    assert isinstance(proxied, eager._DictProxy)
    assert isinstance(proxied["a"], eager._ListProxy)
    assert isinstance(proxied["a"][0], eager._DictProxy)


def test_unknown_value_error_names_the_path() -> None:
    proxied = lazy({"spec": {"rules": [{"host": eager.UNKNOWN_STRING_VALUE}]}})
    with pytest.raises(eager.UnknownValueError) as caught:
        proxied["spec"]["rules"][0]["host"]
    assert caught.value.props == ["spec", "rules", "0", "host"]
    assert caught.value.message == "string value at .spec.rules.0.host can't be known during preview"


def test_writes_stay_in_one_proxy_tree() -> None:
    shared = {"metadata": {"name": "a"}}
    first, second = lazy(shared), lazy(shared)
    first["metadata"]["name"] = "b"
    first["added"] = 1
    assert first["metadata"]["name"] == "b" and first["added"] == 1 and list(first) == ["metadata", "added"]
    assert second["metadata"]["name"] == "a" and list(second) == ["metadata"]
    assert shared == {"metadata": {"name": "a"}}


def test_missing_keys_and_indexes_raise_like_the_containers() -> None:
    proxied = lazy({"items": [1]})
    with pytest.raises(KeyError):
        proxied["nope"]
    with pytest.raises(IndexError):
        proxied["items"][5]
    assert proxied.get("nope") is None and "items" in proxied
