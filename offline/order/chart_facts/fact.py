"""What a chart fact says: the kinds of API groups a chart installs or guards (`Kinds`), and one pinned
chart's facts as functions of its values (`ChartFacts`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..reads import Read
from ..values import Values


@dataclass(frozen=True)
class Kinds:
    """Kinds of API groups: per group every kind (None) or only the kinds named, less `excluded`."""

    groups: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    excluded: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def covers(self, group: str, kind: str) -> bool:
        if group not in self.groups:
            return False
        kinds = self.groups[group]
        return (kinds is None or kind in kinds) and kind not in self.excluded.get(group, frozenset())

    def __bool__(self) -> bool:
        return bool(self.groups)

    def describe(self, group: str) -> str:
        kinds = self.groups.get(group)
        return group if kinds is None else f"{group} ({', '.join(sorted(kinds))})"


NO_KINDS = Kinds()


@dataclass(frozen=True)
class ChartFacts:
    """What one pinned chart does given its values; `source` names project, tag and files read."""

    source: str
    crds: Callable[[Values], Kinds] = lambda v: NO_KINDS
    webhooks: Callable[[Values], Kinds] = lambda v: NO_KINDS  # kinds its admission webhooks guard
    reads: Callable[[Values], list[Read]] = lambda v: []  # besides generic_reads
    cluster_scoped_only: bool = False  # renders no namespaced object: its release namespace is never used
    namespace_override: bool = False  # `namespaceOverride` replaces the release namespace in its objects
    creates_namespace: Callable[[Values], bool] = lambda v: False  # renders its own (effective) namespace


def named_read(kind: str, name: Any, via: str) -> list[Read]:
    """The read of `kind` `name`, or none when the values leave the name empty."""
    return [Read(kind, name, via)] if isinstance(name, str) and name else []
