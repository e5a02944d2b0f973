"""Manifests as YAML text, as `yaml.dump(..., sort_keys=False, default_flow_style=False)` writes them.

PyYAML's fast dumper still represents every node in Python, much of the preview's writing. Most
manifests hold only maps, lists, integers, booleans and short strings without spaces, whose block form
is certain: those are written here directly, each string in the style PyYAML's own emitter analysis
picks for it (worked out once per distinct string). Anything else (a string with a space or a line
break, one that needs double quotes, a float, a long key) and the whole document goes to yaml.dump.
tests/test_yaml_text.py holds the two to the same text.
"""

from __future__ import annotations

import io
from typing import Any

import yaml
from yaml.emitter import Emitter
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter when PyYAML has it
_STR_TAG = "tag:yaml.org,2002:str"
_SIMPLE_KEY_LIMIT = 128  # longer keys are written as "? key" (Emitter.check_simple_key)


class _Unsure(Exception):
    """A value whose text only yaml.dump decides."""


def dump(data: dict[str, Any]) -> str:
    try:
        lines: list[str] = []
        _mapping(data, "", lines)
        return "".join(lines) if lines else "{}\n"
    except _Unsure:
        return yaml.dump(data, Dumper=_DUMPER, sort_keys=False, default_flow_style=False)


def _mapping(value: dict[Any, Any], indent: str, lines: list[str]) -> None:
    for key, item in value.items():
        if type(key) is not str:
            raise _Unsure
        head = f"{indent}{_string(key, simple_key=True)}:"
        if type(item) is dict and item:
            lines.append(head + "\n")
            _mapping(item, indent + "  ", lines)
        elif type(item) is list and item:
            lines.append(head + "\n")
            _sequence(item, indent, lines)  # PyYAML does not indent a list under a key
        else:
            lines.append(f"{head} {_leaf(item)}\n")


def _sequence(value: list[Any], indent: str, lines: list[str]) -> None:
    for item in value:
        if (type(item) is dict or type(item) is list) and item:
            nested: list[str] = []
            if isinstance(item, dict):
                _mapping(item, indent + "  ", nested)
            elif isinstance(item, list):
                _sequence(item, indent + "  ", nested)
            lines.append(f"{indent}- {nested[0][len(indent) + 2 :]}")  # the first line follows the dash
            lines.extend(nested[1:])
        else:
            lines.append(f"{indent}- {_leaf(item)}\n")


def _leaf(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _string(value, simple_key=False)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    if kind is dict and not value:
        return "{}"
    if kind is list and not value:
        return "[]"
    raise _Unsure  # floats, and anything else


_STYLES: dict[tuple[str, bool], str | None] = {}
_EMITTER = Emitter(io.StringIO())  # only its scalar analysis is used
_RESOLVER = Resolver()


def _string(text: str, simple_key: bool) -> str:
    try:
        written = _STYLES[text, simple_key]
    except KeyError:
        written = _STYLES[text, simple_key] = _style(text, simple_key)
    if written is None:
        raise _Unsure
    return written


def _style(text: str, simple_key: bool) -> str | None:
    """The text PyYAML writes for `text` in block context (Emitter.choose_scalar_style), or None when
    it is not certain here: double quotes, or a space or line break where PyYAML may fold the line."""
    if " " in text or (simple_key and len(text) >= _SIMPLE_KEY_LIMIT):
        return None
    analysis = _EMITTER.analyze_scalar(text)
    if analysis.multiline:
        return None
    plain_is_str = _RESOLVER.resolve(ScalarNode, text, (True, False)) == _STR_TAG
    if plain_is_str and analysis.allow_block_plain and not (simple_key and analysis.empty):
        return text
    if analysis.allow_single_quoted:
        return "'" + text.replace("'", "''") + "'"
    return None
