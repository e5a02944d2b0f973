"""What a policy run reports: its violations, sorted, and the errors that stop it before it runs."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Violation:
    policy: str
    enforcement: str  # "advisory" | "mandatory" | "remediate" | "disabled"
    urn: str  # resource URN ("" if a stack policy reported none)
    message: str  # the policy's report text (the servicer's description prefix removed)


def report_order(violation: Violation) -> tuple[str, str, str]:
    return violation.policy, violation.urn, violation.message


@dataclass
class PolicyReport:
    pack: str
    version: str
    policies_run: list[str]  # policies whose effective level is not disabled, sorted
    violations: list[Violation]  # sorted by (policy, urn, message)

    def to_json(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "version": self.version,
            "policies_run": list(self.policies_run),
            "violations": [asdict(v) for v in self.violations],
        }

    def with_violations(self, more: list[Violation]) -> PolicyReport:
        """This report with `more` violations (found by another process), in the report's order."""
        violations = sorted([*self.violations, *more], key=report_order)
        return PolicyReport(self.pack, self.version, self.policies_run, violations)

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement == "mandatory"]


class PolicyConfigError(Exception):
    """The policy config (defaults + initial_config + user file) is invalid; lists every problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))

    def __reduce__(self) -> tuple[Any, ...]:  # pickled whole (notes too): the preview runs policies in a fork
        return PolicyConfigError, (self.errors,), self.__dict__


class PolicyPackLoadError(Exception):
    """The pack's __main__.py could not be run, or built no usable PolicyPack (only the first one counts)."""
