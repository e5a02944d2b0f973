"""Problems named by config path, and the error that lists them all.

Field types report through pydantic. Rules across fields report `Problem`s from a model validator
(`reject`), which pydantic folds into the same validation error, each at its place under the model
that checked it; `problems_in` turns them all into `gatehouse:tenants[2].name: <message>` lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

NAMESPACE = "gatehouse"

Loc = tuple[str | int, ...]

RULE = "config_rule"  # the pydantic error type of a Problem


@dataclass(frozen=True)
class Problem:
    """What a rule found at `loc`, relative to the model whose validator checks it. The message may
    name a second place, `other` (relative too), as `{other}`: it becomes that place's config path."""

    loc: Loc
    message: str
    other: Loc | None = None


def reject(problems: list[Problem], model: str) -> None:
    """Raise the problems as one pydantic error, so they are reported with every field error beside them."""
    if problems:
        raise ValidationError.from_exception_data(
            model,
            [
                InitErrorDetails(
                    type=PydanticCustomError(RULE, "{message}", {"message": p.message, "at": p.loc, "other": p.other}),
                    loc=p.loc,
                    input=None,
                )
                for p in problems
            ],
        )


def duplicates(items: Iterable[tuple[Loc, str]], what: str) -> list[Problem]:
    """Every later occurrence of a value already seen, at its own place."""
    seen: dict[str, Loc] = {}
    problems = []
    for loc, value in items:
        if value in seen:
            problems.append(Problem(loc, f"duplicate {what} '{value}' (first at {{other}})", seen[value]))
        else:
            seen[value] = loc
    return problems


def clashes(items: Iterable[tuple[Loc, object, str]], what: str) -> list[Problem]:
    """Like `duplicates`, for names built from several config names, and only between different owners."""
    seen: dict[str, tuple[Loc, object]] = {}
    problems = []
    for loc, owner, name in items:
        if name not in seen:
            seen[name] = (loc, owner)
        elif seen[name][1] != owner:
            problems.append(Problem(loc, f"{what} '{name}' clashes with the one made for {{other}}", seen[name][0]))
    return problems


def config_path(loc: Iterable[Any]) -> str:
    """('tenants', 2, 'name') -> 'gatehouse:tenants[2].name'."""
    path = NAMESPACE + ":"
    for i, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += part if i == 0 else f".{part}"
    return path


class ConfigError(pulumi.RunError):
    """Bad stack configuration. A RunError, so Pulumi prints the message without a traceback."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = sorted(set(problems), key=_problem_sort_key)
        lines = [f"  {path}: {message}" for path, message in self.problems]
        count = len(self.problems)
        header = f"invalid stack configuration ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n".join([header, *lines]))


def _problem_sort_key(problem: tuple[str, str]) -> tuple[Any, ...]:
    # Natural order so tenants[10] comes after tenants[9].
    parts = re.split(r"(\d+)", problem[0])
    return tuple(int(p) if p.isdigit() else p for p in parts), problem[1]


def problems_in(error: ValidationError) -> list[tuple[str, str]]:
    """(config path, message) for every field error and rule problem."""
    return [(config_path(e["loc"]), _message(e)) for e in error.errors()]


def located(error: ValidationError) -> list[tuple[Loc, str]]:
    """(location, message) for every field error and rule problem: for places given relative to a model."""
    return [(tuple(e["loc"]), _message(e)) for e in error.errors()]


def _rule_message(error: Mapping[str, Any]) -> str:
    ctx = error["ctx"]
    if ctx["other"] is None:
        return str(ctx["message"])
    loc = tuple(error["loc"])
    model_loc = loc[: len(loc) - len(ctx["at"])]  # where the checking model sits in the config
    return str(ctx["message"]).replace("{other}", config_path(model_loc + tuple(ctx["other"])))


_PYDANTIC_MESSAGES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    RULE: _rule_message,
    "missing": lambda e: "is required",
    "extra_forbidden": lambda e: "unknown field",
    "literal_error": lambda e: "must be " + e["ctx"]["expected"],
    "too_short": lambda e: (
        f"needs at least {e['ctx']['min_length']} entr" + ("y" if e["ctx"]["min_length"] == 1 else "ies")
    ),
    "string_too_long": lambda e: f"must be at most {e['ctx']['max_length']} characters",
    "string_too_short": lambda e: "must not be empty",
}


def _message(error: Mapping[str, Any]) -> str:
    render = _PYDANTIC_MESSAGES.get(error["type"])
    if render is not None:
        return render(error)
    return str(error["msg"]).removeprefix("Value error, ").replace("Input should be", "must be")
