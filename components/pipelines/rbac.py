"""What an organization's EventListener ServiceAccount may do: a subset of what Tekton Triggers documents.

tektoncd/triggers v0.37.0 docs/eventlisteners.md ("Specifying the Kubernetes service account") and
examples/rbac.yaml bind an EventListener's ServiceAccount to two ClusterRoles of config/200-clusterrole.yaml:
`tekton-triggers-eventlistener-roles` in its namespace (a RoleBinding) and
`tekton-triggers-eventlistener-clusterroles` cluster-wide. `DOCUMENTED` copies their rules, to test against.

Gatehouse grants only what the listener's sink uses, each rule a subset of a documented one:

- in the organization's namespace (`LISTENER_RULES`): read the Triggers objects its informers watch
  (cmd/eventlistenersink/main.go: a listener without `namespaceSelector` is not multi-namespace, so its
  informers are scoped to its own namespace; pkg/adapter/adapter.go lists eventlisteners, triggers,
  triggerbindings, triggertemplates, interceptors), its ConfigMaps, and events;
- cluster-wide (`CLUSTER_RULES`): read ClusterTriggerBindings and ClusterInterceptors, which the sink's
  informers list whatever its namespace (adapter.go: getCertFromInterceptor lists ClusterInterceptors at start,
  fatal after a minute without them);
- in each tenant's main namespace (`RUN_RULES`): create PipelineRuns, which the dispatcher template creates
  there (pkg/resources/create.go: a resource template's own `metadata.namespace` is used).

Left out: `secrets` cluster-wide (the sink reads none: the GitHub interceptor reads the webhook Secret in the
core-interceptors server, pkg/interceptors/github/github.go with its own ServiceAccount), `serviceaccounts
impersonate` (only for a Trigger's `serviceAccountName`, which no Trigger here sets: impersonating any
ServiceAccount of the namespace would be reading every tenant's secrets through `eso-reader-<tenant>`),
`taskruns` and `pipelineresources` create.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...]


READ = ("get", "list", "watch")
TRIGGERS = "triggers.tekton.dev"

# tektoncd/triggers v0.37.0 config/200-clusterrole.yaml, verbatim
DOCUMENTED: dict[str, tuple[Rule, ...]] = {
    "tekton-triggers-eventlistener-roles": (
        Rule((TRIGGERS,), ("eventlisteners", "triggerbindings", "interceptors", "triggertemplates", "triggers"), READ),
        Rule(("",), ("configmaps",), READ),
        Rule(("tekton.dev",), ("pipelineruns", "pipelineresources", "taskruns"), ("create",)),
        Rule(("",), ("serviceaccounts",), ("impersonate",)),
        Rule(("",), ("events",), ("create", "patch")),
    ),
    "tekton-triggers-eventlistener-clusterroles": (
        Rule((TRIGGERS,), ("clustertriggerbindings", "clusterinterceptors"), READ),
        Rule(("",), ("secrets",), READ),
    ),
}

LISTENER_RULES = (
    Rule((TRIGGERS,), ("eventlisteners", "triggerbindings", "interceptors", "triggertemplates", "triggers"), READ),
    Rule(("",), ("configmaps",), READ),
    Rule(("",), ("events",), ("create", "patch")),
)
CLUSTER_RULES = (Rule((TRIGGERS,), ("clustertriggerbindings", "clusterinterceptors"), READ),)
RUN_RULES = (Rule(("tekton.dev",), ("pipelineruns",), ("create",)),)

CLUSTER_ROLE = "gatehouse-eventlistener-cluster-read"  # CLUSTER_RULES, once per cluster
LISTENER_ROLE = "github-listener"  # LISTENER_RULES, in each organization's namespace
RUN_ROLE = "github-listener-runs"  # RUN_RULES, in each tenant's main namespace with a pipeline


def documented(rule: Rule, bindings: tuple[str, ...]) -> bool:
    """Whether every (group, resource, verb) of `rule` is granted by one of the documented ClusterRoles named."""
    return all(
        any(g in d.api_groups and r in d.resources and v in d.verbs for name in bindings for d in DOCUMENTED[name])
        for g in rule.api_groups
        for r in rule.resources
        for v in rule.verbs
    )
