"""What a check found, and how the validation report words it: "dotted.path: message", sorted, capped."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

MAX_ERRORS = 20  # per object: past this the report gets unreadable, and the first ones point at the cause
MAX_MESSAGE = 300  # jsonschema quotes whole instances; a bad 2 KB map must not flood the report

Location = tuple[str | int, ...]  # a location inside a document: keys and list indexes
Problem = tuple[Location, str]


@dataclass
class Result:
    status: str  # "ok" | "error" | "no-schema"
    errors: list[str] = field(default_factory=list)  # "path.to.field: message", sorted, at most MAX_ERRORS (+1 note)
    schema: str = ""  # what it was checked against; "" for no-schema


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__


def finish(problems: Iterable[Problem]) -> list[str]:
    """Sorted (list indexes numerically), de-duplicated, capped, as "dotted.path: message"."""
    unique = sorted(set(problems), key=lambda p: (_path_key(p[0]), p[1]))
    lines = [f"{_dotted(path)}: {_shorten(message)}" for path, message in unique[:MAX_ERRORS]]
    if len(unique) > MAX_ERRORS:
        lines.append(f"(root): {len(unique) - MAX_ERRORS} more errors not shown")
    return lines


def _path_key(path: Location) -> tuple[tuple[int, int, str], ...]:
    return tuple((1, 0, p) if isinstance(p, str) else (0, p, "") for p in path)


def _dotted(path: Location) -> str:
    return ".".join(str(p) for p in path) if path else "(root)"


def _shorten(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"
