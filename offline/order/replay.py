"""The replay of an empty cluster: index what each object and chart provides, then check every rule
(`RULES`) against the dependency graph, each violation naming the object and what is missing.

* `namespace`: a namespaced object's namespace, and a chart's release namespace, is created by a
  Namespace it depends on, is one every cluster has, or is a stated prerequisite's. A chart the facts
  say renders only cluster-scoped objects is exempt, and so is one rendering its own namespace.
* `crd`: a custom resource's CRD is installed by something it depends on: a CustomResourceDefinition
  object, a chart whose facts (given its values) install that kind, an operator's resource awaited Ready that
  installs it (operator_facts.py), a `yaml/v2` ConfigFile of that CRD, or a prerequisite's apiGroups.
* `webhook`: an object a chart of the program runs an admission webhook for depends on that chart
  (Pulumi then waits for the chart's workloads to be Ready before sending the object); likewise for an
  operator's resource awaited Ready that installs webhooks (operator_facts.py).
* `reads`: the Secrets, ConfigMaps and ServiceAccounts a workload or chart reads are declared by
  something it depends on (a cert-manager Certificate declares its `spec.secretName`), or exist in
  every namespace (ServiceAccount `default`, ConfigMap `kube-root-ca.crt`).

Chart facts come from offline/order/chart_facts/. Patch resources (`...Patch` types) are checked like
objects but declare nothing: they modify objects that must already exist.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from components.yaml_read import SafeLoader

from .. import manifests as mf
from ..records import Registration, reveal
from . import chart_facts, operator_facts
from .graph import DependencyGraph
from .reads import POD_SPEC_PATHS, Read, object_reads, value_at
from .report import RULES, OrderReport, OrderViolation, Prerequisite

# Namespaces every cluster has (created by the API server itself).
CLUSTER_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
# Objects every namespace has: the ServiceAccount controller creates `default`, the root-CA publisher
# (RootCAConfigMap, on by default since Kubernetes 1.21) the `kube-root-ca.crt` ConfigMap.
IN_EVERY_NAMESPACE = frozenset({("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")})
READ_KINDS = frozenset({"Secret", "ConfigMap", "ServiceAccount"})
# CRD manifest file names: `<plural>.<group>[-v1].yml` (keycloak-k8s-resources) or `<group>_<plural>.yaml`
# (kubebuilder's config/crd/bases).
_CRD_FILE = (
    re.compile(r"^(?P<plural>[a-z0-9-]+)\.(?P<group>[a-z0-9-]+(?:\.[a-z0-9-]+)+)\.ya?ml$"),
    re.compile(r"^(?P<group>[a-z0-9-]+(?:\.[a-z0-9-]+)+)_(?P<plural>[a-z0-9-]+)\.ya?ml$"),
)
_VERSION_SUFFIX = re.compile(r"-v\d+[a-z0-9]*(?=\.ya?ml$)")  # keycloaks.k8s.keycloak.org-v1.yml


class Replay:
    """One run of the check: the graph, what each node provides (namespaces, CRDs, declared Secrets,
    ConfigMaps and ServiceAccounts, CRD and webhook charts), and the violations found."""

    def __init__(
        self,
        registrations: Sequence[Registration],
        manifests: Sequence[mf.Manifest],
        charts: Sequence[mf.ChartValues],
        schemas: Mapping[str, str] | None,
        prerequisites: list[Prerequisite],
        upstream: Path,
    ) -> None:
        self.graph = DependencyGraph(registrations)
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
        self.webhook_charts: list[tuple[int, chart_facts.Kinds, str]] = []  # node, kinds, `chart <release>`
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
                self.webhook_charts.append((node, facts.webhooks, f"chart {c.release}"))
            if facts.creates_namespace and facts.namespace:
                self.namespaces.setdefault(facts.namespace, []).append(node)
        for node, reg in graph.yaml_components():
            self._index_yaml(node, reg)

    def _declare(self, node: int, obj: Mapping[str, Any]) -> None:
        kind = str(obj.get("kind", ""))
        group = str(obj.get("apiVersion", "")).rpartition("/")[0]
        name, namespace = (
            str(value_at(obj, "metadata", "name") or ""),
            str(value_at(obj, "metadata", "namespace") or ""),
        )
        if group == "" and kind == "Namespace" and name:
            self.namespaces.setdefault(name, []).append(node)
        elif group == "apiextensions.k8s.io" and kind == "CustomResourceDefinition":
            crd = (str(value_at(obj, "spec", "group") or ""), str(value_at(obj, "spec", "names", "kind") or ""))
            self.crds.setdefault(crd, []).append(node)
        elif group == "" and kind in READ_KINDS and name:
            self.declared.setdefault((kind, namespace, name), []).append(node)
        elif (kinds := operator_facts.installs(obj)) is not None:
            # an operator's resource, awaited Ready: the CRDs and webhooks it installs exist after it
            self.crd_charts.append((node, kinds))
            self.webhook_charts.append((node, kinds, f"{kind} {name}"))
        elif group == "cert-manager.io" and kind == "Certificate":
            # cert-manager creates and manages the Secret `spec.secretName` in the Certificate's namespace
            # (the Certificate CRD, v1.21.1); a pod mounting it waits for it (a volume, not a crash)
            secret = value_at(obj, "spec", "secretName")
            if isinstance(secret, str) and secret:
                self.declared.setdefault(("Secret", namespace, secret), []).append(node)

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
                objs = [*objs, *(d for d in yaml.load_all(text, Loader=SafeLoader) if d)]
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
                    release,
                    f"{what} is admitted by the webhook {release} runs for {kinds.describe(group)}, but does "
                    f"not depend on it: it can be sent before the webhook serves, and be refused",
                )
        if kind in POD_SPEC_PATHS or kind == "Cluster":
            for read in object_reads(m.obj, group, kind):
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
