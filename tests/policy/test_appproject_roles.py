"""guardrails/appproject_roles.py: per policy, a compliant fixture passes and a minimal failing fixture gives
exactly its violation."""

from __future__ import annotations

from guardrails import appproject_roles
from policy_fixtures import APP_PROJECT, IN_CLUSTER, app_project, covers
from policy_harness import check


@covers(appproject_roles.appproject_scoped_roles)
def test_appproject_scoped_roles() -> None:
    props = app_project(
        roles=[
            {
                "name": "developers",
                "policies": [
                    "p, proj:payments:developers, applications, *, payments/*, allow",
                    "p, proj:payments:developers, applications, *, storefront/*, allow",
                    "p, proj:storefront:developers, applications, get, payments/*, allow",
                ],
                "groups": ["acme:payments", "platform-admins"],
            }
        ],
        sourceNamespaces=["payments", "argocd"],
        destinationServiceAccounts=[
            {"server": IN_CLUSTER, "namespace": "payments", "defaultServiceAccount": "deployer"},
            {"server": IN_CLUSTER, "namespace": "*", "defaultServiceAccount": "deployer"},
        ],
    )
    what = "AppProject 'argocd/payments'"
    assert check(appproject_roles.appproject_scoped_roles, APP_PROJECT, props) == [
        f"{what} role 'developers' has a policy outside its project: "
        "'p, proj:payments:developers, applications, *, storefront/*, allow'",
        f"{what} role 'developers' has a policy outside its project: "
        "'p, proj:storefront:developers, applications, get, payments/*, allow'",
        f"{what} role 'developers' grants the group 'platform-admins', which is not a group of 'payments'",
        f"{what} accepts Applications from namespace 'argocd' outside tenant 'payments'",
        f"{what} syncs as a ServiceAccount for namespace '*' outside tenant 'payments'",
    ]


@covers(appproject_roles.appproject_scoped_roles)
def test_an_appproject_never_syncs_as_a_cluster_wide_account() -> None:
    """Class: an AppProject syncing as a cluster-wide ServiceAccount (`<namespace>:<name>` of a namespace not the
    tenant's: Argo CD v3.4.4 controller/sync.go impersonates exactly that account) passed."""
    props = app_project(
        destinationServiceAccounts=[
            {"server": IN_CLUSTER, "namespace": "payments", "defaultServiceAccount": "payments:deployer"},
            {
                "server": IN_CLUSTER,
                "namespace": "payments-*",
                "defaultServiceAccount": "argocd:argocd-application-controller",
            },
        ]
    )
    assert check(appproject_roles.appproject_scoped_roles, APP_PROJECT, props) == [
        "AppProject 'argocd/payments' syncs as the ServiceAccount 'argocd:argocd-application-controller' of "
        "namespace 'argocd' outside tenant 'payments' (a cluster-wide account would apply whatever the repository "
        "holds)"
    ]
