"""What the offline preview records of one resource registration, and how secrets travel in it.

Secret values are kept as `Secret` wrappers inside the recorded inputs/outputs, so that every
consumer decides explicitly whether it sees the value (`reveal`, for validation and policies, in
memory only) or the redacted shape (`redact`, for anything written to disk).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The Pulumi wire encoding of a secret: {SIG_KEY: SECRET_SIG, "value": ...}.
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
REDACTED = "[secret]"
# Exact types of the leaves that hold nothing else (no secret, no unknown, nothing to walk into).
SCALAR_TYPES = frozenset((str, int, float, bool, type(None)))


@dataclass(frozen=True)
class Secret:
    """A value the program marked secret (config secret, generated credential, Output.secret)."""

    value: Any


@dataclass
class Registration:
    """One RegisterResource call, as the engine would have received it."""

    urn: str
    type: str
    name: str
    parent: str  # URN of the parent, "" for none
    custom: bool
    remote: bool
    provider: str  # "<provider urn>::<provider id>", "" for none
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)
    transforms: int = 0  # transforms registered for its children (a chart's); run by the engine, not here

    @property
    def secret_inputs(self) -> list[str]:
        """Top-level input properties that are, or contain, a secret."""
        return sorted(k for k, v in self.inputs.items() if contains_secret(v))


def from_wire(value: Any) -> Any:
    """Turn wire-encoded secrets ({sig: secret, value}) into `Secret` wrappers, recursively."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return Secret(from_wire(value.get("value")))
        return {k: from_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_wire(v) for v in value]
    return value


def to_wire(value: Any) -> Any:
    """The inverse of `from_wire`: the shape the engine sends to providers and analyzers."""
    if isinstance(value, Secret):
        return {SIG_KEY: SECRET_SIG, "value": to_wire(value.value)}
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_wire(v) for v in value]
    return value


def reveal(value: Any) -> Any:
    """The plain value with every secret unwrapped. Keep the result in memory only."""
    if isinstance(value, Secret):
        return reveal(value.value)
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def redact(value: Any, inside_secret: bool = False) -> Any:
    """Every leaf under a secret replaced by REDACTED; maps and lists keep their shape."""
    if isinstance(value, Secret):
        return redact(value.value, True)
    if isinstance(value, dict):
        return {k: redact(v, inside_secret) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, inside_secret) for v in value]
    return REDACTED if inside_secret else value


def contains_secret(value: Any) -> bool:
    if isinstance(value, Secret):
        return True
    if isinstance(value, dict):
        return any(contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secret(v) for v in value)
    return False


def normalize_numbers(value: Any) -> Any:
    """Protobuf carries every number as a double; give integral ones back their integer form."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Secret):
        return Secret(normalize_numbers(value.value))
    if isinstance(value, dict):
        return {k: normalize_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize_numbers(v) for v in value]
    return value
