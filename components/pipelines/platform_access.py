"""What the platform groups may do with Tekton (seed 002's Tekton RBAC model): admins and operators run and
manage pipelines in every namespace, engineering reads them; each with pods and their logs to read, which is
what a run's steps leave. Bound, like the tenants' Roles, to the groups Dex emits for them (`authentik:<group>`,
`<platform-org>:<group>`: endpoints.connector_groups), so the API server's OIDC groups decide.

No `*`: explicit resources and verbs, which the pack's RBAC rules read. Tenants see only their own runs: the
tenant Roles (tenancy/profiles.py) are per namespace.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from .. import meta
from .listener import COMPONENT, policy_rules
from .rbac import READ, Rule

rbac = k8s.rbac.v1
TEKTON_RESOURCES = ("pipelines", "pipelineruns", "tasks", "taskruns", "customruns", "stepactions")
TRIGGERS_RESOURCES = ("eventlisteners", "triggers", "triggerbindings", "triggertemplates", "interceptors")
LOGS = Rule(("",), ("pods", "pods/log"), READ)
ADMIN_RULES = (
    Rule(("tekton.dev",), TEKTON_RESOURCES, (*READ, "create", "update", "patch", "delete")),
    Rule(("triggers.tekton.dev",), TRIGGERS_RESOURCES, READ),
    LOGS,
)
VIEW_RULES = (
    Rule(("tekton.dev",), TEKTON_RESOURCES, READ),
    Rule(("triggers.tekton.dev",), TRIGGERS_RESOURCES, READ),
    LOGS,
)
ROLES = {"gatehouse-tekton-admin": ADMIN_RULES, "gatehouse-tekton-view": VIEW_RULES}


def platform_access(
    admins: Sequence[str], viewers: Sequence[str], opts: pulumi.ResourceOptions
) -> list[k8s.rbac.v1.ClusterRoleBinding]:
    """The two ClusterRoles and their bindings: `admins` and `viewers` are OIDC group names."""
    bindings = []
    for role, groups in (("gatehouse-tekton-admin", admins), ("gatehouse-tekton-view", viewers)):
        rbac.ClusterRole(role, metadata=meta.object_meta(role, COMPONENT), rules=policy_rules(ROLES[role]), opts=opts)
        bindings.append(
            rbac.ClusterRoleBinding(
                role,
                metadata=meta.object_meta(role, COMPONENT),
                role_ref=rbac.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=role),
                subjects=[
                    rbac.SubjectArgs(kind="Group", name=g, api_group="rbac.authorization.k8s.io") for g in groups
                ],
                opts=opts,
            )
        )
    return bindings
