"""What the deploy-order check reports: its rules, the prerequisites it was given, how many objects and
charts it checked and in how many waves, and each violation.

Prerequisites: the program may export `prerequisites`, a list of `{what, namespaces, apiGroups}`:
things the stack expects the cluster to already have; they count as present from the start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..records import reveal

RULES = ("namespace", "crd", "webhook", "reads")


@dataclass(frozen=True)
class Prerequisite:
    what: str
    namespaces: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"what": self.what, "namespaces": list(self.namespaces), "apiGroups": list(self.api_groups)}

    def describe(self) -> str:
        parts = []
        if self.namespaces:
            parts.append(f"namespaces {', '.join(self.namespaces)}")
        if self.api_groups:
            parts.append(f"API groups {', '.join(self.api_groups)}")
        return f"{self.what} ({', '.join(parts)})" if parts else self.what


@dataclass(frozen=True)
class OrderViolation:
    urn: str
    rule: str  # one of RULES
    object: str  # "Kind namespace/name", "Kind name" (cluster-scoped) or "chart <release>"
    missing: str  # what is not there in time: "Namespace x", "CRD group/Kind", "chart r", "Secret ns/name"
    message: str

    def to_json(self) -> dict[str, str]:
        return {
            "urn": self.urn,
            "rule": self.rule,
            "object": self.object,
            "missing": self.missing,
            "message": self.message,
        }


@dataclass
class OrderReport:
    prerequisites: list[Prerequisite] = field(default_factory=list)
    checked: int = 0  # objects and charts
    waves: list[int] = field(default_factory=list)  # objects and charts per wave
    violations: list[OrderViolation] = field(default_factory=list)  # sorted by urn, then rule

    def to_json(self) -> dict[str, Any]:
        return {
            "rules": list(RULES),
            "prerequisites": [p.to_json() for p in self.prerequisites],
            "checked": self.checked,
            "waves": self.waves,
            "violations": [v.to_json() for v in self.violations],
        }


def prerequisites_of(exports: Mapping[str, Any] | None) -> list[Prerequisite]:
    """The `prerequisites` stack output: a list of `{what, namespaces, apiGroups}` (secrets revealed)."""
    exported = reveal((exports or {}).get("prerequisites"))
    found = []
    for item in exported if isinstance(exported, list) else []:
        if not isinstance(item, dict):
            continue
        found.append(
            Prerequisite(
                str(item.get("what", "")),
                tuple(str(n) for n in _strings(item.get("namespaces"))),
                tuple(str(g) for g in _strings(item.get("apiGroups"))),
            )
        )
    return found


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
