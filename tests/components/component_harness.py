"""Building one component under the SDK's mock runtime, without the rest of the program or a preview.

`build(make)` calls `pulumi.runtime.set_mocks`, then runs `make()` (which constructs the component, and
whatever it is handed) inside `pulumi.runtime.test`, the SDK's test decorator, and returns what the
component registered. The mocks are the offline preview's own (offline/mocks.py, offline/monitor.py):
OfflineMocks echoes inputs and fills in what providers compute (auto-names, generated passwords and
keys); RecordingMonitor keeps each registration whole (parent, dependencies, protect, secrets), as the
engine would get it.

No state leaks either way: the SDK keeps its runtime state (settings with the monitor, the root stack
resource, config) in context variables (pulumi 3.272 sdk/python/lib/pulumi/runtime/settings.py and
config.py), and `build` runs in a copy of the caller's context. Inside, it resets the root resource and
config first, as offline/runtime.py's run_program does, so what an earlier preview left is not seen here.

Adding a component's test: tests/components/test_<component>.py calling
`build(lambda: Component("name", ComponentArgs(...)))`; test_harness.py checks every component has one. A
component that reads stack config or secrets (`components.config.secret`) gets them with
`build(make, config={"gatehouse:key": "value"}, secrets={"gatehouse:key"})`; a whole stack's with
`offline.stack_config.load_stack_config(REPO, "staging")`'s `values` and `secret_keys`. Resources it is
handed (a chart to wait for) are created inside `make`; they come back as `Built.handed`.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from offline.manifests import is_kubernetes_object, manifest_of
from offline.mocks import OfflineMocks
from offline.monitor import RecordingMonitor
from offline.records import Registration, Secret

PROJECT = "gatehouse"
STACK = "component-test"


@dataclass
class Built:
    """What building one component registered."""

    component: Registration
    children: list[Registration]  # everything registered below the component, at any depth, in order
    outputs: dict[str, Any]  # what the component gave register_outputs
    handed: list[Registration]  # what `make` registered outside the component (resources it was handed)

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.children if r.type == type_]

    def named(self, name: str, type_: str | None = None) -> Registration:
        """The one child with Pulumi name `name` (and type `type_`: a Secret and its generator may share one)."""
        (found,) = [r for r in self.children if r.name == name and type_ in (None, r.type)]
        return found

    def objects(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The Kubernetes objects among the children (those of `kind`), as plain manifests."""
        manifests = [manifest_of(r).obj for r in self.children if is_kubernetes_object(r)]
        return [m for m in manifests if kind in (None, m.get("kind"))]

    def object(self, kind: str, name: str) -> dict[str, Any]:
        """The one Kubernetes object of `kind` named `name` (in any namespace) among the children."""
        (found,) = [m for m in self.objects(kind) if m["metadata"]["name"] == name]
        return found


def build(
    make: Callable[[], pulumi.ComponentResource],
    config: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
) -> Built:
    """Run `make` under mocks with stack config `config` (its `secrets` keys secret); its exceptions propagate."""
    return contextvars.copy_context().run(_build, make, dict(config or {}), sorted(secrets))


def _build(make: Callable[[], pulumi.ComponentResource], config: dict[str, str], secrets: list[str]) -> Built:
    pulumi.runtime.set_all_config(config, secrets)
    pulumi.runtime.reset_options(project=PROJECT, stack=STACK, preview=False)
    mocks = OfflineMocks()
    monitor = RecordingMonitor(mocks, PROJECT, STACK)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=STACK, preview=False, monitor=monitor)
    urns: list[str] = []

    @pulumi.runtime.test
    def run() -> pulumi.Output[None]:
        return make().urn.apply(urns.append)

    run()
    (urn,) = urns
    registrations = {r.urn: r for r in monitor.registrations}
    below = {urn}
    children = []
    for registration in monitor.registrations:  # a parent registers before its children
        if registration.parent in below:
            below.add(registration.urn)
            children.append(registration)
    handed = [r for r in monitor.registrations if r.urn not in below and r.parent]
    return Built(registrations[urn], children, monitor.component_outputs.get(urn, {}), handed)


def in_clear(value: Any, needles: set[str]) -> bool:
    """Whether a string holding one of `needles` (secret values) lies in `value` outside a secret wrapper."""
    if isinstance(value, Secret):
        return False
    if isinstance(value, dict):
        return any(in_clear(v, needles) for v in value.values())
    if isinstance(value, list):
        return any(in_clear(v, needles) for v in value)
    return isinstance(value, str) and any(n in value for n in needles)
