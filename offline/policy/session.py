"""Run a CrossGuard (pulumi-policy) pack in-process, the way `pulumi preview --policy-pack` would.

There is no Pulumi engine or CLI here, so this module plays the engine's part against the pack's
analyzer servicer:

1. the pack is loaded with `PolicyPack` recorded instead of served (pack.py);
2. its config is reconciled like the engine does (config.py);
3. the servicer is configured, `Analyze` is called once per resource (inputs) and `AnalyzeStack` once
   (outputs), with the same protobuf messages the engine sends (messages.py), and the diagnostics
   become a sorted `PolicyReport` (report.py).

The servicer is pulumi-policy's own, or, with the `policy-servicer` accelerator, one that makes the
same calls on policies for less (offline/accel/analyzer.py). Nothing here is written to disk.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import proto

from .. import accel
from ..records import Registration
from .config import effective_config, read_user_config
from .messages import analyze_request, configure, provider_of, stack_resource, struct, violations
from .pack import LoadedPack, StockServicer, load_pack
from .report import PolicyReport, Violation, report_order

STACK_TYPE = "pulumi:pulumi:Stack"


def servicer_for(pack: LoadedPack, accelerators: accel.Selection, remember_properties: bool = True) -> Any:
    """A fresh servicer for `pack`: pulumi-policy's own, or the `policy-servicer` accelerator's (with
    the `policy-proxy` accelerator's proxies when that is on, else pulumi-policy's)."""
    fast = accelerators.load("policy-servicer")
    if fast is None:
        return pack.servicer(StockServicer)
    lazy = accelerators.load("policy-proxy")
    proxy = lazy.unknown_checking_proxy if lazy is not None else fast.eager_proxy
    return pack.servicer(fast.OfflineAnalyzerServicer, proxy=proxy, remember_properties=remember_properties)


class PolicySession:
    """A pack loaded and configured like the engine's analyzer plugin, for one preview: `analyze` as
    resources arrive (in as many parts as convenient), `analyze_stack` once they all have, `report`.

    Raises PolicyConfigError for an unreadable or invalid policy config, PolicyPackLoadError for a pack
    that cannot be loaded; an exception raised by a policy propagates (with a note naming the resource),
    as it fails `pulumi preview` too. The pack's directory is importable only while its policies run.
    """

    def __init__(
        self,
        pack_dir: Path,
        config_file: Path | None,
        stack_tags: dict[str, str] | None = None,
        accelerators: accel.Selection | None = None,  # default: accel.select()
        remember_properties: bool = True,  # for AnalyzeStack: see OfflineAnalyzerServicer._values
    ) -> None:
        self.pack = load_pack(pack_dir)
        self.config = effective_config(self.pack, read_user_config(config_file))
        self.servicer = servicer_for(
            self.pack, accel.select() if accelerators is None else accelerators, remember_properties
        )
        configure(self.servicer, self.config)
        self.servicer.ConfigureStack(proto.AnalyzerStackConfigureRequest(tags=dict(stack_tags or {})), None)

    def analyze(
        self,
        registrations: list[Registration],
        by_urn: dict[str, Registration],
        analyzed: Callable[[int], bool] = lambda index: True,
        for_stack: bool = True,
    ) -> tuple[list[Violation], list[proto.AnalyzerResource]]:
        """`Analyze` for each resource whose position `analyzed` accepts (its inputs); the violations,
        and, `for_stack`, every resource as `AnalyzeStack` will see it (outputs). `by_urn` holds at
        least the providers the resources name."""
        # one message for every resource of a provider, and one for outputs that are the inputs
        provider = functools.cache(lambda reference: provider_of(reference, by_urn))
        found: list[Violation] = []
        stack_resources = []
        with self.pack.importable():
            for index, reg in enumerate(registrations):
                if reg.type == STACK_TYPE or not (for_stack or analyzed(index)):
                    continue
                inputs, its_provider = struct(reg.inputs), provider(reg.provider)
                if analyzed(index):
                    found.extend(self._analyze(reg, inputs, its_provider))
                if for_stack:
                    outputs = inputs if reg.outputs is reg.inputs or not reg.outputs else struct(reg.outputs)
                    stack_resources.append(stack_resource(reg, outputs, its_provider))
        return found, stack_resources

    def _analyze(
        self, reg: Registration, inputs: struct_pb2.Struct, provider: proto.AnalyzerProviderResource | None
    ) -> list[Violation]:
        request = analyze_request(reg, inputs, provider)
        try:
            response = self.servicer.Analyze(request, None)
        except Exception as exc:
            exc.add_note(f"while policy pack {self.pack.name!r} analyzed {reg.urn}")
            raise
        return violations(response, reg.urn)

    def analyze_stack(self, resources: list[proto.AnalyzerResource]) -> list[Violation]:
        """`AnalyzeStack` over every resource, sorted by URN (as the preview's registrations come),
        whatever the order or the parts they were analyzed in."""
        request = proto.AnalyzeStackRequest(resources=sorted(resources, key=lambda r: r.urn))
        with self.pack.importable():
            try:
                response = self.servicer.AnalyzeStack(request, None)
            except Exception as exc:
                exc.add_note(f"while policy pack {self.pack.name!r} analyzed the stack")
                raise
        return violations(response, None)

    def report(self, found: list[Violation]) -> PolicyReport:
        return PolicyReport(
            pack=self.pack.name,
            version=self.pack.version,
            policies_run=sorted(name for name, cfg in self.config.items() if cfg["enforcementLevel"] != "disabled"),
            violations=sorted(found, key=report_order),
        )


def run_policies(
    pack_dir: Path,
    config_file: Path | None,
    registrations: list[Registration],
    stack_tags: dict[str, str] | None = None,
    analyzed: Callable[[int], bool] = lambda index: True,
    accelerators: accel.Selection | None = None,
) -> PolicyReport:
    """Load the pack, configure it like the engine, analyze every resource (or those whose position
    `analyzed` accepts: `analyze_resources` may do the others elsewhere) and the stack; report.

    Raises as `PolicySession` does. Safe to call repeatedly: every call loads the pack afresh and
    builds a fresh servicer.
    """
    session = PolicySession(pack_dir, config_file, stack_tags, accelerators)
    by_urn = {r.urn: r for r in registrations}  # providers may come after the resources they serve
    found, stack_resources = session.analyze(registrations, by_urn, analyzed)
    return session.report(found + session.analyze_stack(stack_resources))


def analyze_resources(
    pack_dir: Path,
    config_file: Path | None,
    registrations: list[Registration],
    stack_tags: dict[str, str] | None,
    analyzed: Callable[[int], bool],
    accelerators: accel.Selection | None = None,
) -> list[Violation]:
    """The resource policies' violations for the resources whose position `analyzed` accepts, and
    nothing else: the share of a `run_policies` run done in another process. Raises as it does."""
    session = PolicySession(pack_dir, config_file, stack_tags, accelerators, remember_properties=False)
    by_urn = {r.urn: r for r in registrations}
    return session.analyze(registrations, by_urn, analyzed, for_stack=False)[0]
