"""The deploy-order check: replay an empty cluster in dependency order and prove that every Kubernetes
object and every Helm chart can be created when Pulumi creates it.

Pulumi creates a resource only after every resource in its `dependencies` (explicit `depends_on` and
implicit Output dependencies) is created and ready. So "X exists before Y" means X is in Y's transitive
dependency closure, where a dependency on a local component resource (not custom, not remote) means one
on all of its descendants, and a remote component (a `helm.v4` Chart, a `yaml/v2` ConfigFile or
ConfigGroup) stands for everything it renders.

Rules (`RULES`), each violation naming the object and what is missing:

* `namespace`: a namespaced object's namespace, and a chart's release namespace, is created by a
  Namespace it depends on, is one every cluster has, or is a stated prerequisite's. A chart the facts
  say renders only cluster-scoped objects is exempt, and so is one rendering its own namespace.
* `crd`: a custom resource's CRD is installed by something it depends on: a CustomResourceDefinition
  object, a chart whose facts (given its values) install that kind, a `yaml/v2` ConfigFile of that CRD,
  or a prerequisite's apiGroups.
* `webhook`: an object a chart of the program runs an admission webhook for depends on that chart
  (Pulumi then waits for the chart's workloads to be Ready before sending the object).
* `reads`: the Secrets, ConfigMaps and ServiceAccounts a workload or chart reads are declared by
  something it depends on, or exist in every namespace (ServiceAccount `default`, ConfigMap
  `kube-root-ca.crt`).

Prerequisites: the program may export `prerequisites`, a list of `{what, namespaces, apiGroups}`:
things the stack expects the cluster to already have; they count as present from the start.

The replay also sorts objects and charts into waves: a wave is one more than the highest wave among
what it depends on (0 for none); resources outside the cluster (passwords, keys, DNS records) have no
wave of their own and pass their dependencies' waves on.

Chart facts come from offline/order/chart_facts.py. Patch resources (`...Patch` types) are checked like
objects but declare nothing: they modify objects that must already exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import manifests as mf
from ..records import Registration, reveal
from . import chart_facts
from .chart_facts import Read

RULES = ("namespace", "crd", "webhook", "reads")
DEFAULT_UPSTREAM = Path(__file__).resolve().parents[3] / "shared" / "upstream"

# Namespaces every cluster has (created by the API server itself).
CLUSTER_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
# Objects every namespace has: the ServiceAccount controller creates `default`, the root-CA publisher
# (RootCAConfigMap, on by default since Kubernetes 1.21) the `kube-root-ca.crt` ConfigMap.
IN_EVERY_NAMESPACE = frozenset({("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")})
READ_KINDS = frozenset({"Secret", "ConfigMap", "ServiceAccount"})
# Workload kinds declared directly, and where their pod spec sits.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_YAML_V2 = "kubernetes:yaml/v2:"
# CRD manifest file names: `<plural>.<group>[-v1].yml` (keycloak-k8s-resources) or `<group>_<plural>.yaml`
# (kubebuilder's config/crd/bases).
_CRD_FILE = (
    re.compile(r"^(?P<plural>[a-z0-9-]+)\.(?P<group>[a-z0-9-]+(?:\.[a-z0-9-]+)+)\.ya?ml$"),
    re.compile(r"^(?P<group>[a-z0-9-]+(?:\.[a-z0-9-]+)+)_(?P<plural>[a-z0-9-]+)\.ya?ml$"),
)
_VERSION_SUFFIX = re.compile(r"-v\d+[a-z0-9]*(?=\.ya?ml$)")  # keycloaks.k8s.keycloak.org-v1.yml
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


def check_order(
    registrations: Sequence[Registration],
    manifests: Sequence[mf.Manifest] | None = None,
    charts: Sequence[mf.ChartValues] | None = None,
    schemas: Mapping[str, str] | None = None,
    exports: Mapping[str, Any] | None = None,
    upstream: Path = DEFAULT_UPSTREAM,
) -> OrderReport:
    """The order report of a program's registrations.

    `manifests` and `charts` are those of `registrations` (computed when not given); `schemas` maps an
    object's URN to the schema label its validation used (`crd:...` marks a custom resource; without it
    the vendored CRD catalog decides); `exports` are the stack outputs (for `prerequisites`).
    """
    if manifests is None:
        manifests = [mf.manifest_of(r) for r in registrations if mf.is_kubernetes_object(r)]
    if charts is None:
        charts = [mf.chart_values_of(r) for r in registrations if mf.is_helm_chart(r)]
    return _Replay(registrations, manifests, charts, schemas, prerequisites_of(exports), Path(upstream)).report()


# --- the replay ------------------------------------------------------------------------------------


class _Replay:
    def __init__(
        self,
        registrations: Sequence[Registration],
        manifests: Sequence[mf.Manifest],
        charts: Sequence[mf.ChartValues],
        schemas: Mapping[str, str] | None,
        prerequisites: list[Prerequisite],
        upstream: Path,
    ) -> None:
        self.graph = _Graph(registrations)
        self.manifests = manifests
        self.charts = charts
        self.schemas = schemas
        self.upstream = upstream
        self.prerequisites = prerequisites
        self.ready_namespaces = CLUSTER_NAMESPACES | {n for p in prerequisites for n in p.namespaces}
        self.ready_groups = frozenset(g for p in prerequisites for g in p.api_groups)
        self.violations: list[OrderViolation] = []
        # what each node provides, by node
        self.namespaces: dict[str, list[int]] = {}
        self.crds: dict[tuple[str, str], list[int]] = {}  # (group, kind)
        self.crd_files: dict[tuple[str, str], list[int]] = {}  # (group, plural), from a yaml/v2 file name
        self.declared: dict[tuple[str, str, str], list[int]] = {}  # (kind, namespace, name)
        self.crd_charts: list[tuple[int, chart_facts.Kinds]] = []
        self.webhook_charts: list[tuple[int, chart_facts.Kinds, str]] = []  # node, kinds, release
        self.evaluated: list[tuple[mf.ChartValues, chart_facts.EvaluatedChart]] = []

    def report(self) -> OrderReport:
        self._index()
        for m in self.manifests:
            self._check_object(m)
        for c, facts in self.evaluated:
            self._check_chart(c, facts)
        checked = [self.graph.node(m.urn) for m in self.manifests] + [self.graph.node(c.urn) for c in self.charts]
        waves = self.graph.waves([n for n in checked if n is not None])
        # one violation per urn, rule and missing thing; sorted by urn, then rule (then what is missing)
        unique = {(v.urn, v.rule, v.missing): v for v in self.violations}
        ordered = [unique[k] for k in sorted(unique, key=lambda k: (k[0], RULES.index(k[1]), k[2]))]
        return OrderReport(self.prerequisites, len(self.manifests) + len(self.charts), waves, ordered)

    # --- what each node provides ---

    def _index(self) -> None:
        graph = self.graph
        for m in self.manifests:
            node = graph.node(m.urn)
            if node is None:
                continue
            graph.mark_checked(node)
            if not graph.is_patch(node):  # a patch modifies an object that must exist: it declares none
                self._declare(node, m.obj)
        for c in self.charts:
            node = graph.node(c.urn)
            facts = chart_facts.evaluate(c.chart, c.values, c.namespace, self.upstream)
            self.evaluated.append((c, facts))
            if node is None:
                continue
            graph.mark_checked(node)
            if facts.crds:
                self.crd_charts.append((node, facts.crds))
            if facts.webhooks:
                self.webhook_charts.append((node, facts.webhooks, c.release))
            if facts.creates_namespace and facts.namespace:
                self.namespaces.setdefault(facts.namespace, []).append(node)
        for node, reg in graph.yaml_components():
            self._index_yaml(node, reg)

    def _declare(self, node: int, obj: Mapping[str, Any]) -> None:
        kind = str(obj.get("kind", ""))
        group = str(obj.get("apiVersion", "")).rpartition("/")[0]
        name, namespace = str(_at(obj, "metadata", "name") or ""), str(_at(obj, "metadata", "namespace") or "")
        if group == "" and kind == "Namespace" and name:
            self.namespaces.setdefault(name, []).append(node)
        elif group == "apiextensions.k8s.io" and kind == "CustomResourceDefinition":
            crd = (str(_at(obj, "spec", "group") or ""), str(_at(obj, "spec", "names", "kind") or ""))
            self.crds.setdefault(crd, []).append(node)
        elif group == "" and kind in READ_KINDS and name:
            self.declared.setdefault((kind, namespace, name), []).append(node)

    def _index_yaml(self, node: int, reg: Registration) -> None:
        """A yaml/v2 ConfigFile or ConfigGroup: the CRD its file is named after, and the objects given
        inline (`objs`, `yaml`)."""
        inputs = reveal(reg.inputs)
        files = [inputs.get("file")] + (inputs.get("files") if isinstance(inputs.get("files"), list) else [])
        for file in files:
            if isinstance(file, str) and file:
                base = _VERSION_SUFFIX.sub("", file.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0])
                for pattern in _CRD_FILE:
                    if m := pattern.match(base):
                        self.crd_files.setdefault((m["group"], m["plural"]), []).append(node)
                        break
        objs = inputs.get("objs") if isinstance(inputs.get("objs"), list) else []
        texts = inputs.get("yaml")
        for text in [texts] if isinstance(texts, str) else texts if isinstance(texts, list) else []:
            try:
                objs = [*objs, *(d for d in yaml.load_all(text, Loader=_Loader) if d)]
            except (yaml.YAMLError, TypeError):
                continue
        for obj in objs:
            if isinstance(obj, Mapping):
                self._declare(node, obj)

    # --- the rules ---

    def _check_object(self, m: mf.Manifest) -> None:
        node = self.graph.node(m.urn)
        if node is None:
            return
        urn, kind, namespace = m.urn, m.kind, m.namespace
        what = _describe(kind, namespace, m.name)
        group = m.api_version.rpartition("/")[0]
        if namespace:
            self._need_namespace(node, urn, what, namespace, "is created in")
        if group and self._is_custom_resource(urn, group, kind) and group not in self.ready_groups:
            self._need_crd(node, urn, what, group, kind)
        for chart, kinds, release in self.webhook_charts:
            if kinds.covers(group, kind) and chart != node and not self.graph.reaches(node, chart):
                self._violation(
                    urn,
                    "webhook",
                    what,
                    f"chart {release}",
                    f"{what} is admitted by the webhook chart {release} runs for {kinds.describe(group)}, but does "
                    f"not depend on that chart: it can be sent before the webhook serves, and be refused",
                )
        if kind in POD_SPEC_PATHS or kind == "Cluster":
            for read in _object_reads(m.obj, group, kind):
                self._need_read(node, urn, what, namespace, read)

    def _check_chart(self, c: mf.ChartValues, facts: chart_facts.EvaluatedChart) -> None:
        node = self.graph.node(c.urn)
        if node is None:
            return
        what = f"chart {c.release}"
        if facts.namespace and not facts.cluster_scoped_only and not facts.creates_namespace:
            self._need_namespace(node, c.urn, what, facts.namespace, "installs into")
        for read in facts.reads:
            self._need_read(node, c.urn, what, facts.namespace, read)

    def _need_namespace(self, node: int, urn: str, what: str, namespace: str, verb: str) -> None:
        if namespace in self.ready_namespaces or self._reaches_any(node, self.namespaces.get(namespace)):
            return
        self._violation(
            urn,
            "namespace",
            what,
            f"Namespace {namespace}",
            f"{what} {verb} namespace {namespace}, which nothing it depends on creates: depend on the Namespace "
            f"(use its metadata.name as the namespace), or state it in a prerequisite",
        )

    def _is_custom_resource(self, urn: str, group: str, kind: str) -> bool:
        if (group, kind) in self.crds:
            return True
        if self.schemas is not None and urn in self.schemas:
            return self.schemas[urn].startswith("crd:")
        from ..validate import crd_catalog  # only without validation results (tests, benchmarks)

        return (group, kind) in crd_catalog(self.upstream / "crds")

    def _need_crd(self, node: int, urn: str, what: str, group: str, kind: str) -> None:
        if self._reaches_any(node, self.crds.get((group, kind))):
            return
        if any(kinds.covers(group, kind) and self.graph.reaches(node, c) for c, kinds in self.crd_charts):
            return
        if any(self._reaches_any(node, self.crd_files.get((group, p))) for p in _plurals(kind)):
            return
        self._violation(
            urn,
            "crd",
            what,
            f"CRD {group}/{kind}",
            f"{what} is a custom resource of {group}, but nothing it depends on installs the CRD of {kind}: "
            f"depend on its CustomResourceDefinition or on a chart installing {group} CRDs, or state "
            f"{group} in a prerequisite's apiGroups",
        )

    def _need_read(self, node: int, urn: str, what: str, namespace: str, read: Read) -> None:
        if (read.kind, read.name) in IN_EVERY_NAMESPACE:
            return
        if self._reaches_any(node, self.declared.get((read.kind, namespace, read.name))):
            return
        where = f"{namespace}/{read.name}" if namespace else read.name
        self._violation(
            urn,
            "reads",
            what,
            f"{read.kind} {where}",
            f"{what} reads {read.kind} {read.name} ({read.via}), but nothing it depends on declares "
            f"{read.kind} {where}: declare it and depend on it",
        )

    def _reaches_any(self, node: int, targets: list[int] | None) -> bool:
        return bool(targets) and any(self.graph.reaches(node, t) for t in targets or ())

    def _violation(self, urn: str, rule: str, what: str, missing: str, message: str) -> None:
        self.violations.append(OrderViolation(urn, rule, what, missing, message))


def _describe(kind: str, namespace: str, name: str) -> str:
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _plurals(kind: str) -> tuple[str, ...]:
    """The plural names a CRD of `kind` most likely has (Kubernetes lowercases and pluralises the kind)."""
    k = kind.lower()
    forms = [k + "s", k + "es"]
    if k.endswith("y"):
        forms.append(k[:-1] + "ies")
    return tuple(forms)


# --- what a declared object reads -------------------------------------------------------------------


def _object_reads(obj: Mapping[str, Any], group: str, kind: str) -> list[Read]:
    reads: list[Read] = []
    if group in ("", "apps", "batch") and kind in POD_SPEC_PATHS:
        spec: Any = obj
        for key in POD_SPEC_PATHS[kind]:
            spec = spec.get(key) if isinstance(spec, Mapping) else None
        if isinstance(spec, Mapping):
            reads = list(pod_reads(spec))
    elif group == "postgresql.cnpg.io" and kind == "Cluster":
        # CloudNativePG: the application user's credentials for `initdb` (api/v1/cluster_types.go
        # BootstrapInitDB.Secret, a LocalObjectReference, at v1.30.0)
        secret = _at(obj, "spec", "bootstrap", "initdb", "secret", "name")
        if isinstance(secret, str) and secret:
            reads = [Read("Secret", secret, "spec.bootstrap.initdb.secret")]
    seen: set[tuple[str, str]] = set()
    unique = []
    for r in reads:
        if (r.kind, r.name) not in seen:
            seen.add((r.kind, r.name))
            unique.append(r)
    return unique


def pod_reads(spec: Mapping[str, Any]) -> Iterator[Read]:
    """The Secrets, ConfigMaps and ServiceAccount a pod cannot start without (references marked
    `optional: true` excepted)."""
    yield from chart_facts.volume_reads(spec.get("volumes"), "volume")
    for field_name in ("initContainers", "containers"):
        containers = spec.get(field_name)
        for container in containers if isinstance(containers, list) else []:
            if isinstance(container, Mapping):
                label = f"{field_name} {container.get('name', '')}".rstrip()
                yield from chart_facts.env_reads(container.get("env"), f"{label} env")
                yield from chart_facts.env_from_reads(container.get("envFrom"), f"{label} envFrom")
    account = spec.get("serviceAccountName") or spec.get("serviceAccount")
    if isinstance(account, str) and account:
        yield Read("ServiceAccount", account, "serviceAccountName")


def _at(value: Any, *path: str) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


# --- the dependency graph -----------------------------------------------------------------------------


class _Graph:
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
