"""The dependency graph of the deploy-order check: what Pulumi has created before it creates a resource.

Pulumi creates a resource only after every resource in its `dependencies` (explicit `depends_on` and
implicit Output dependencies) is created and ready. So "X exists before Y" means X is in Y's transitive
dependency closure, where a dependency on a local component resource (not custom, not remote) means one
on all of its descendants, and a remote component (a `helm.v4` Chart, a `yaml/v2` ConfigFile or
ConfigGroup) stands for everything it renders.

The graph also sorts objects and charts into waves: a wave is one more than the highest wave among
what it depends on (0 for none); resources outside the cluster (passwords, keys, DNS records) have no
wave of their own and pass their dependencies' waves on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from .. import manifests as mf
from ..records import Registration

_YAML_V2 = "kubernetes:yaml/v2:"


class DependencyGraph:
    """Registrations as nodes; a dependency on a local component is one on each of its descendants.

    `reaches(a, b)`: b is in a's transitive dependency closure. Closures are computed once per node
    (iteratively, in post-order), as sets of node numbers.
    """

    def __init__(self, registrations: Sequence[Registration]) -> None:
        self.regs = registrations
        self.index = {r.urn: i for i, r in enumerate(registrations)}
        count = len(registrations)
        self.component = [not r.custom and not r.remote and not mf.is_helm_chart(r) for r in registrations]
        self.children: dict[int, list[int]] = {}
        for i, r in enumerate(registrations):
            parent = self.index.get(r.parent) if r.parent else None
            if parent is not None:
                self.children.setdefault(parent, []).append(i)
        self._expanded: dict[int, tuple[int, ...]] = {}  # component -> its descendants that are not components
        self._deps: list[tuple[int, ...] | None] = [None] * count
        self._closure: list[frozenset[int] | None] = [None] * count
        self.checked = [False] * count

    def node(self, urn: str) -> int | None:
        return self.index.get(urn)

    def is_patch(self, node: int) -> bool:
        return self.regs[node].type.endswith("Patch")

    def mark_checked(self, node: int) -> None:
        self.checked[node] = True

    def yaml_components(self) -> Iterator[tuple[int, Registration]]:
        for i, r in enumerate(self.regs):
            if r.type.startswith(_YAML_V2):
                yield i, r

    def deps(self, node: int) -> tuple[int, ...]:
        found = self._deps[node]
        if found is None:
            out: list[int] = []
            for urn in self.regs[node].dependencies:
                d = self.index.get(urn)
                if d is None or d == node:
                    continue
                if not self.component[d]:
                    out.append(d)  # a resource, or a chart (which stands for what it renders)
                if not self.regs[d].custom and d in self.children:
                    out.extend(self._descendants(d))  # a component's, or a helm.v3 Chart's, children
            found = self._deps[node] = tuple(dict.fromkeys(out))
        return found

    def _descendants(self, component: int) -> tuple[int, ...]:
        found = self._expanded.get(component)
        if found is None:
            out: list[int] = []
            stack = list(self.children.get(component, ()))
            while stack:
                child = stack.pop()
                if not self.component[child]:
                    out.append(child)
                stack.extend(self.children.get(child, ()))
            found = self._expanded[component] = tuple(out)
        return found

    def closure(self, node: int) -> frozenset[int]:
        found = self._closure[node]
        if found is not None:
            return found
        in_progress: set[int] = set()
        stack: list[tuple[int, bool]] = [(node, False)]
        while stack:
            n, expanded = stack.pop()
            if self._closure[n] is not None or (not expanded and n in in_progress):
                continue  # done, or a cycle's back edge (the engine refuses cycles)
            deps = self.deps(n)
            if not expanded:
                in_progress.add(n)
                stack.append((n, True))
                stack.extend((d, False) for d in deps if self._closure[d] is None and d not in in_progress)
                continue
            reach: set[int] = set(deps)
            for d in deps:
                reach |= self._closure[d] or frozenset()  # None only on a cycle, which the engine refuses
            self._closure[n] = frozenset(reach)
            in_progress.discard(n)
        return self._closure[node] or frozenset()

    def reaches(self, node: int, target: int) -> bool:
        # most objects depend on what they need directly (their namespace): no closure needed for those
        return target in self.deps(node) or target in self.closure(node)

    def waves(self, checked: Iterable[int]) -> list[int]:
        """Objects and charts per wave: 1 + the highest wave among what they depend on, 0 for none.
        Other resources (not objects or charts) pass the highest wave below them on."""
        top: dict[int, int] = {}  # node -> its wave (checked) or the highest wave below it (others), -1 for none
        counts: dict[int, int] = {}
        in_progress: set[int] = set()
        for node in checked:
            stack: list[tuple[int, bool]] = [(node, False)]
            while stack:
                n, expanded = stack.pop()
                if n in top or (not expanded and n in in_progress):
                    continue
                deps = self.deps(n)
                if not expanded:
                    in_progress.add(n)
                    stack.append((n, True))
                    stack.extend((d, False) for d in deps if d not in top and d not in in_progress)
                    continue
                below = max((top.get(d, -1) for d in deps), default=-1)  # a cycle's back edge counts as none
                top[n] = below + 1 if self.checked[n] else below
                in_progress.discard(n)
            if self.checked[node]:
                counts[top[node]] = counts.get(top[node], 0) + 1
        return [counts.get(w, 0) for w in range(max(counts) + 1)] if counts else []
