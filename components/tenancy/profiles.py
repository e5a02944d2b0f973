"""Permission profiles: what a tenant's people and pipelines may do in its namespaces.

Never the built-in `edit`/`admin` roles: `edit` alone grants NetworkPolicy writes, Secret reads,
ServiceAccount impersonation and token creation. No profile may change the guardrails (quotas, limit
ranges, network policies), RBAC, or its own ServiceAccounts' tokens; `standard` never reads Secrets.

PROFILES is what the tenant's people get; DEPLOYER_PROFILES what Argo CD gets when it syncs the tenant's
repository as the `deployer` ServiceAccount (sync impersonation): the app objects a repository ships.
"""

from __future__ import annotations

from dataclasses import dataclass

from policy import gatehouse_contract as contract

READ = ["get", "list", "watch"]
WRITE = ["create", "update", "patch", "delete"]
DEPLOYER = "deployer"  # the tenant's ServiceAccount Argo CD impersonates, in its main namespace


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
    # run pipelines and restart pods
    _rule(["tekton.dev"], ["pipelineruns", "taskruns"], ["create"]),
    _rule([""], ["pods"], ["delete"]),
    _rule([""], ["configmaps"], READ + WRITE),
]

PROFILES: dict[str, list[Rule]] = {
    "standard": _COMMON,
    "elevated": [
        *_COMMON,
        _rule([""], ["secrets"], READ + WRITE),
        _rule([""], ["services", "persistentvolumeclaims"], WRITE),
        _rule(["apps"], ["deployments", "statefulsets"], WRITE),
        _rule(["batch"], ["jobs", "cronjobs"], WRITE),
        _rule(["tekton.dev"], ["pipelines", "tasks"], WRITE),
    ],
}

# Apply (get, create, patch), replace (update) and prune (delete) of typical app objects; no RBAC, no
# guardrail kinds, no ServiceAccounts (a repository could rewrite `deployer` itself), and Secrets only for
# `elevated` (`standard` gets them from its organization's store through ExternalSecrets).
_DEPLOYS = [
    _rule([""], ["configmaps", "services", "persistentvolumeclaims"], READ + WRITE),
    _rule(["apps"], ["deployments", "statefulsets"], READ + WRITE),
    _rule(["batch"], ["jobs", "cronjobs"], READ + WRITE),
    _rule(["autoscaling"], ["horizontalpodautoscalers"], READ + WRITE),
    _rule(["policy"], ["poddisruptionbudgets"], READ + WRITE),
    _rule(["external-secrets.io"], ["externalsecrets"], READ + WRITE),
]

DEPLOYER_PROFILES: dict[str, list[Rule]] = {
    "standard": _DEPLOYS,
    "elevated": [*_DEPLOYS, _rule([""], ["secrets"], READ + WRITE)],
}

# Verbs and resources no tenant role may ever hold: the ones the policy pack checks.
FORBIDDEN_VERBS = frozenset({"*", *contract.ESCALATION_VERBS})
GUARDRAIL_RESOURCES = frozenset(contract.GUARDRAIL_RESOURCES)
