"""The accelerators: every speed-up of the offline preview that replaces, or reads the internals of, the
Pulumi SDK (`pulumi`) or pulumi-policy. The stock path (offline/runtime.py, offline/policy/) runs the SDK
and pulumi-policy as shipped; each accelerator gives the same answers for less work, and the preview's
output is byte for byte the same with or without them (tests/test_accel.py).

`REGISTRY` is the one table of them: the name, the module, what it replaces, and the versions of the
distributions it touches that its equivalence tests ran against (`tested`). The equivalence tests of
an accelerator are the tests marked `@pytest.mark.accel(name=...)`: `pytest -m "accel(name='sdk-wire')"`.
An accelerator is on only where every one of its distributions is at a tested version, and never
with `python -m offline --no-accel` or GATEHOUSE_NO_ACCEL=1 (for CI). GATEHOUSE_ACCEL_IGNORE_RANGE=1
turns every one on whatever the versions: the scheduled canary (.github/workflows/accel-canary.yml)
runs the equivalence tests so against the newest releases and reports which no longer hold.

Only the standard library is imported here: an accelerator's module is imported when it is selected,
so one written against another SDK's internals is never imported outside its range.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from ..versions import first_outside

NO_ACCEL = "GATEHOUSE_NO_ACCEL"
IGNORE_RANGE = "GATEHOUSE_ACCEL_IGNORE_RANGE"
PULUMI_TESTED = ">=3.272.0,<=3.272.0"
POLICY_TESTED = ">=1.21.0,<=1.21.0"


@dataclass(frozen=True)
class Accelerator:
    name: str
    module: str
    replaces: str
    tested: Mapping[str, str]  # distribution -> the versions its equivalence tests passed with (PEP 440)

    @property
    def tests(self) -> str:
        """The pytest marker expression selecting its equivalence tests."""
        return f"accel(name='{self.name}')"


REGISTRY: tuple[Accelerator, ...] = (
    Accelerator(
        "sdk-helpers",
        "offline.accel.sdk_swaps",
        "pulumi: rpc.contains_unknowns, log.debug, resource.collapse_alias_to_urn, runtime.resource.create_urn "
        "and _get_stack_trace; _types.unwrap_type and four more type helpers, rpc._get_list_element_type "
        "(remembered per annotation)",
        {"pulumi": PULUMI_TESTED},
    ),
    Accelerator(
        "sdk-wire",
        "offline.accel.sdk_wire",
        "pulumi: rpc.serialize_property, deserialize_property, deserialize_properties, "
        "translate_output_properties (fast paths for plain values; reads _types and rpc private names)",
        {"pulumi": PULUMI_TESTED},
    ),
    Accelerator(
        "monitor-shortcuts",
        "offline.accel.monitor",
        "pulumi: the monitor's response leaves out outputs equal to the inputs (rpc.resolve_outputs takes "
        "the inputs), is built without rpc.serialize_properties, and monitor calls skip the SDK's thread pool",
        {"pulumi": PULUMI_TESTED},
    ),
    Accelerator(
        "policy-servicer",
        "offline.accel.analyzer",
        "pulumi-policy: _PolicyAnalyzerServicer.Analyze and AnalyzeStack (reads its private attributes)",
        {"pulumi-policy": POLICY_TESTED, "pulumi": PULUMI_TESTED},
    ),
    Accelerator(
        "policy-proxy",
        "offline.accel.policy_proxy",
        "pulumi-policy: proxy.unknown_checking_proxy (lazy subclasses of its private _DictProxy, _ListProxy)",
        {"pulumi-policy": POLICY_TESTED},
    ),
)
BY_NAME = {accelerator.name: accelerator for accelerator in REGISTRY}


@dataclass(frozen=True)
class Selection:
    """Which accelerators a run uses, and why each of the others is off."""

    on: frozenset[str]
    off: Mapping[str, str] = field(default_factory=dict)  # name -> why

    def __contains__(self, name: object) -> bool:
        return name in self.on

    def load(self, name: str) -> ModuleType | None:
        """The accelerator's module when it is on, else None (and nothing is imported)."""
        return importlib.import_module(BY_NAME[name].module) if name in self.on else None

    def describe(self) -> str:
        """One line for the preview's summary: those on, and why the others are off."""
        on = [a.name for a in REGISTRY if a.name in self.on]
        reasons: dict[str, list[str]] = {}
        for a in REGISTRY:
            if a.name in self.off:
                reasons.setdefault(self.off[a.name], []).append(a.name)
        if not on:
            why = (
                "; ".join(reasons)
                if len(reasons) == 1
                else "; ".join(f"{', '.join(n)}: {r}" for r, n in reasons.items())
            )
            return f"none, the SDK and pulumi-policy as shipped ({why})" if why else "none"
        off = "; ".join(f"{', '.join(names)} off: {reason}" for reason, names in reasons.items())
        return ", ".join(on) + (f" ({off})" if off else "")


ALL = Selection(frozenset(BY_NAME))
STOCK = Selection(frozenset())


def select(requested: bool = True, environ: Mapping[str, str] = os.environ) -> Selection:
    """The accelerators to use: none when not `requested` (--no-accel) or with GATEHOUSE_NO_ACCEL set,
    all with GATEHOUSE_ACCEL_IGNORE_RANGE set, else those at tested versions of what they touch."""
    if not requested:
        return Selection(frozenset(), {name: "--no-accel" for name in BY_NAME})
    if environ.get(NO_ACCEL, "") not in ("", "0"):
        return Selection(frozenset(), {name: f"{NO_ACCEL}={environ[NO_ACCEL]}" for name in BY_NAME})
    if environ.get(IGNORE_RANGE, "") not in ("", "0"):
        return ALL
    off = {a.name: reason for a in REGISTRY if (reason := first_outside(a.tested)) is not None}
    return Selection(frozenset(BY_NAME) - set(off), off)


SWAPPING = ("sdk-helpers", "sdk-wire")  # those replacing SDK functions for as long as a program runs


@contextlib.contextmanager
def swapped(module: Any, name: str, value: Any) -> Iterator[None]:
    """`module.name` is `value` inside the block, and what it was before after it."""
    saved = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, saved)


@contextlib.contextmanager
def sdk_swapped(selection: Selection) -> Iterator[None]:
    """The SDK functions the selected accelerators replace (each module's `swaps()`), replaced inside the
    block. Every module is imported before anything is swapped: each keeps the SDK's own functions."""
    modules = [module for name in SWAPPING if (module := selection.load(name)) is not None]
    with contextlib.ExitStack() as stack:
        for module in modules:
            for target, name, value in module.swaps():
                stack.enter_context(swapped(target, name, value))
        yield
