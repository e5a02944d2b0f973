"""Permission profiles: what a tenant's people and pipelines may do in its namespaces.

Never the built-in `edit`/`admin` roles: `edit` alone grants NetworkPolicy writes, Secret reads,
ServiceAccount impersonation and token creation. No profile may change the guardrails (quotas, limit
ranges, network policies), RBAC, or its own ServiceAccounts' tokens; `standard` never reads Secrets.

Two upstream facts shape the profiles beyond plain verbs:

- Tekton runs are pods in disguise (tektoncd/pipeline v1.15.0, config/300-crds/300-taskrun.yaml and
  300-pipelinerun.yaml, vendored in ../shared/upstream/tekton): a v1 TaskRun carries its own `taskSpec`
  (any image, any script), `serviceAccountName`, `podTemplate.automountServiceAccountToken` and
  `workspaces[].secret.secretName`; a PipelineRun the same through `pipelineSpec`, `taskRunTemplate` and
  `taskRunSpecs`. Tekton's controller, not the requester, creates the pod, so the requester's own RBAC
  never applies to it: whoever may create a run may run any code as any ServiceAccount of the namespace
  (`deployer` included) with any Secret of the namespace mounted. `standard` therefore sees runs but
  never creates them by hand (runs it needs start on a path outside its own RBAC, such as its
  organization's webhook); `elevated`, which already reads Secrets and writes workloads, keeps
  run-create, and what its runs may do (not run as `deployer`, no token automount) is bound at
  admission, which RBAC cannot do (it never sees a run's fields).
- A Secret of type `kubernetes.io/service-account-token` that names a ServiceAccount in its
  `kubernetes.io/service-account.name` annotation is filled by the token controller with a token that
  never expires (Kubernetes 1.24+ only stopped *auto*-generating them). RBAC cannot look at a Secret's
  type, but it can withhold `create`: no tenant role, people's or deployer's, creates Secrets, and a
  Secret's `type` is immutable on update (core validation, ValidateSecretUpdate), so `update`/`patch` cannot
  turn one into a token Secret; a server-side apply that would create one is authorized as `create`
  too. Tenants' Secrets come from their own store through ExternalSecrets (secret_store.py); what the
  External Secrets controller itself may create (an ExternalSecret's `target.template.type`) is bound
  at admission.

PROFILES is what the tenant's people get; DEPLOYER_PROFILES what Argo CD gets when it syncs the tenant's
repository as the `deployer` ServiceAccount (sync impersonation): the app objects a repository ships.
"""

from __future__ import annotations

from dataclasses import dataclass

from policy import gatehouse_contract as contract

READ = ["get", "list", "watch"]
WRITE = ["create", "update", "patch", "delete"]
DEPLOYER = contract.DEPLOYER_SERVICE_ACCOUNT  # the tenant's ServiceAccount Argo CD impersonates, in its main namespace


@dataclass(frozen=True)
class Rule:
    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...]


def _rule(groups: list[str], resources: list[str], verbs: list[str]) -> Rule:
    return Rule(tuple(groups), tuple(resources), tuple(verbs))


_COMMON = [
    # see what runs, and what the guardrails are (read-only)
    _rule(
        [""],
        [
            "pods",
            "pods/log",
            "services",
            "endpoints",
            "events",
            "persistentvolumeclaims",
            "resourcequotas",
            "limitranges",
            "serviceaccounts",
        ],
        READ,
    ),
    _rule(["apps"], ["deployments", "statefulsets", "replicasets"], READ),
    _rule(["batch"], ["jobs", "cronjobs"], READ),
    _rule(["networking.k8s.io"], ["networkpolicies"], READ),
    _rule(["gateway.networking.k8s.io"], ["httproutes"], READ),
    _rule(["tekton.dev"], ["pipelines", "tasks", "pipelineruns", "taskruns"], READ),
    # restart pods
    _rule([""], ["pods"], ["delete"]),
    _rule([""], ["configmaps"], READ + WRITE),
]

# Never `create` on Secrets (a service-account-token Secret is made by creating one); the rest of WRITE
# keeps the ones the tenant's ExternalSecrets made manageable (delete one to have it synced afresh).
SECRET_VERBS = [*READ, "update", "patch", "delete"]
# Creating a run is creating a pod as any of the namespace's ServiceAccounts with any of its Secrets
# mounted (module docstring): only for a profile that reads Secrets anyway.
RUN_CREATE = _rule(["tekton.dev"], ["pipelineruns", "taskruns"], ["create"])

PROFILES: dict[str, list[Rule]] = {
    "standard": _COMMON,
    "elevated": [
        *_COMMON,
        RUN_CREATE,
        _rule([""], ["secrets"], SECRET_VERBS),
        _rule([""], ["services", "persistentvolumeclaims"], WRITE),
        _rule(["apps"], ["deployments", "statefulsets"], WRITE),
        _rule(["batch"], ["jobs", "cronjobs"], WRITE),
        _rule(["tekton.dev"], ["pipelines", "tasks"], WRITE),
    ],
}

# Apply (get, create, patch), replace (update) and prune (delete) of typical app objects; no RBAC, no
# guardrail kinds, no ServiceAccounts (a repository could rewrite `deployer` itself), and Secrets only for
# `elevated` and never created (both get new ones from their own store through ExternalSecrets).
_DEPLOYS = [
    _rule([""], ["configmaps", "services", "persistentvolumeclaims"], READ + WRITE),
    _rule(["apps"], ["deployments", "statefulsets"], READ + WRITE),
    _rule(["batch"], ["jobs", "cronjobs"], READ + WRITE),
    _rule(["autoscaling"], ["horizontalpodautoscalers"], READ + WRITE),
    _rule(["policy"], ["poddisruptionbudgets"], READ + WRITE),
    _rule(["external-secrets.io"], ["externalsecrets"], READ + WRITE),
    # the Tasks the tenant's Pipeline names (seed 002's `cdktf-deploy`) come from its repository; a Task is
    # only a spec: it runs when the organization's listener starts the Pipeline Gatehouse declares (whose
    # `pipelines` stay Gatehouse's), as `pipeline-runner`, inside the tenant's admission rules
    _rule(["tekton.dev"], ["tasks"], READ + WRITE),
]

DEPLOYER_PROFILES: dict[str, list[Rule]] = {
    "standard": _DEPLOYS,
    "elevated": [*_DEPLOYS, _rule([""], ["secrets"], SECRET_VERBS)],
}

# Verbs and resources no tenant role may ever hold: the ones the policy pack checks.
FORBIDDEN_VERBS = frozenset({"*", *contract.ESCALATION_VERBS})
GUARDRAIL_RESOURCES = frozenset(contract.GUARDRAIL_RESOURCES)
