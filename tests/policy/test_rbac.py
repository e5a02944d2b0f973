"""guardrails/rbac.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

import pytest
from guardrails import rbac
from policy_fixtures import (
    CHART,
    CLUSTER_ROLE,
    CLUSTER_ROLE_BINDING,
    CONFIG_MAP,
    DEPLOYER,
    GROUP,
    ROLE,
    ROLE_BINDING,
    SERVICE_ACCOUNT,
    TENANT_URN,
    binding,
    covers,
    meta,
    role,
    tenant_meta,
    tenant_world,
)
from policy_harness import Res, check, stack_violations, urn_for


@covers(rbac.no_cluster_admin_binding)
def test_no_cluster_admin_binding() -> None:
    props = binding([GROUP], role_ref={"kind": "ClusterRole", "name": "cluster-admin"}, metadata=meta("ops"))
    assert check(rbac.no_cluster_admin_binding, CLUSTER_ROLE_BINDING, props) == [
        "ClusterRoleBinding 'ops' grants cluster-admin"
    ]
    assert check(rbac.no_cluster_admin_binding, ROLE_BINDING, binding([GROUP])) == []


@covers(rbac.no_builtin_edit_admin_binding)
@pytest.mark.parametrize("name", ["edit", "admin"])
def test_no_builtin_edit_admin_binding(name: str) -> None:
    props = binding([GROUP], role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name})
    assert check(rbac.no_builtin_edit_admin_binding, ROLE_BINDING, props) == [
        f"RoleBinding 'payments/tenant-developers' binds the built-in ClusterRole '{name}'; "
        "bind a Gatehouse profile Role instead"
    ]
    view = binding([GROUP], role_ref={"kind": "ClusterRole", "name": "view"})
    assert check(rbac.no_builtin_edit_admin_binding, ROLE_BINDING, view) == []


@covers(rbac.no_system_group_bindings)
def test_no_system_group_bindings() -> None:
    props = binding([GROUP, {"kind": "Group", "name": "system:masters"}], metadata=meta("break-glass", "ops"))
    assert check(rbac.no_system_group_bindings, ROLE_BINDING, props) == [
        "RoleBinding 'ops/break-glass' binds 'system:masters'"
    ]
    assert check(rbac.no_system_group_bindings, ROLE_BINDING, binding([GROUP, DEPLOYER])) == []


def test_everyone_and_every_service_account_groups_are_system_groups() -> None:
    subjects = [
        {"kind": "Group", "name": "system:authenticated"},
        {"kind": "Group", "name": "system:serviceaccounts"},
        {"kind": "Group", "name": "system:serviceaccounts:storefront"},
        {"kind": "Group", "name": "system:serviceaccounts:payments-batch"},  # the tenant's own namespace
    ]
    what = "RoleBinding 'payments/tenant-developers'"
    assert check(rbac.no_system_group_bindings, ROLE_BINDING, binding(subjects)) == [
        f"{what} binds 'system:authenticated'",
        f"{what} binds 'system:serviceaccounts'",
        f"{what} binds 'system:serviceaccounts:storefront', every ServiceAccount of a namespace outside tenant "
        "'payments'",
    ]
    # a platform binding may name its own namespace's ServiceAccounts as a group
    platform = binding([{"kind": "Group", "name": "system:serviceaccounts:keycloak"}], metadata=meta("ops", "keycloak"))
    assert check(rbac.no_system_group_bindings, ROLE_BINDING, platform) == []


def test_cluster_role_binding_patch_is_a_binding() -> None:
    """Patch types are the same objects to every resource rule: a patch to cluster-admin is caught."""
    props = binding([GROUP], role_ref={"kind": "ClusterRole", "name": "cluster-admin"}, metadata=meta("ops"))
    assert check(rbac.no_cluster_admin_binding, CLUSTER_ROLE_BINDING + "Patch", props) == [
        "ClusterRoleBindingPatch 'ops' grants cluster-admin"
    ]
    listed = {"items": [props, binding([GROUP], metadata=meta("fine"))]}
    assert check(rbac.no_cluster_admin_binding, CLUSTER_ROLE_BINDING + "List", listed) == [
        "ClusterRoleBinding 'ops' grants cluster-admin"
    ]


@covers(rbac.tenant_binding_subjects)
def test_tenant_binding_subjects() -> None:
    props = binding(
        [
            GROUP,
            DEPLOYER,
            {"kind": "ServiceAccount", "name": "deployer", "namespace": "payments-batch"},
            {"kind": "User", "name": "alice@example.com"},
            {"kind": "Group", "name": "system:authenticated"},
            {"kind": "Group", "name": "globex:storefront"},
            {"kind": "ServiceAccount", "name": "deployer", "namespace": "storefront"},
        ]
    )
    what = "RoleBinding 'payments/tenant-developers'"
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, props) == [
        f"{what} binds the User 'alice@example.com'; tenants bind only their groups and ServiceAccounts",
        f"{what} binds the system group 'system:authenticated'",
        f"{what} binds the group 'globex:storefront', which is not a group of tenant 'payments'",
        f"{what} binds the ServiceAccount 'storefront/deployer' from outside tenant 'payments'",
    ]
    # platform bindings (an organization's secret reader) are not tenant business
    org = binding([{"kind": "ServiceAccount", "name": "eso-secrets-reader", "namespace": "org-acme"}])
    org["metadata"] = meta("eso-secrets-reader", "org-acme", **{"gatehouse.dev/organization": "acme"})
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, org) == []


def test_tenant_binding_found_by_parent_and_group_patterns_configurable() -> None:
    props = binding([{"kind": "Group", "name": "payments-devs"}], metadata=meta("tenant-developers", "payments"))
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, props, parent=TENANT_URN) == [
        "RoleBinding 'payments/tenant-developers' binds the group 'payments-devs', which is not a group of tenant "
        "'payments'"
    ]
    config = {"groupPatterns": ["^{tenant}-devs$"]}
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, props, parent=TENANT_URN, config=config) == []


def test_tenant_binding_nested_below_the_tenant_is_known_from_its_namespace() -> None:
    """Deeper than one level below the Tenant and unlabelled, the binding's tenant is still its namespace's."""
    nested = urn_for("gatehouse:tenancy:TenantAccess", "payments-access", TENANT_URN)
    props = binding([{"kind": "Group", "name": "globex:storefront"}], metadata=meta("tenant-developers", "payments"))
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, props, parent=nested) == [
        "RoleBinding 'payments/tenant-developers' binds the group 'globex:storefront', which is not a group of "
        "tenant 'payments'"
    ]
    labelled = binding([GROUP], metadata=tenant_meta("tenant-developers"))
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, labelled, parent=nested) == []


def test_the_namespace_wins_over_the_label() -> None:
    """A binding in payments' namespace labelled as storefront's does not get to bind storefront's group, with
    or without a Tenant parent: the namespace says whose it is."""
    props = binding(
        [{"kind": "Group", "name": "globex:storefront"}], metadata=tenant_meta("tenant-developers", tenant="storefront")
    )
    expected = [
        "RoleBinding 'payments/tenant-developers' binds the group 'globex:storefront', which is not a group of "
        "tenant 'payments'"
    ]
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, props, parent=TENANT_URN) == expected
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, props) == expected


@covers(rbac.tenant_binding_subjects, rbac.tenant_role_least_privilege, rbac.tenant_serviceaccount_no_automount)
def test_unlabelled_objects_outside_a_tenant_are_the_namespaces_tenants() -> None:
    """Class: objects neither labelled nor under a Tenant component escaped every tenant rule. The tenant is
    known from the namespace Gatehouse declared (its labels), so they are checked as the tenant's."""
    world = tenant_world()
    stray_binding = Res(
        ROLE_BINDING,
        "stray-binding",
        binding([{"kind": "User", "name": "mallory@example.com"}], metadata=meta("stray", "payments-batch")),
    )
    stray_role = Res(
        ROLE,
        "stray-role",
        {
            "metadata": meta("stray", "payments"),
            "rules": [{"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]}],
        },
    )
    stray_account = Res(SERVICE_ACCOUNT, "stray-sa", {"metadata": meta("stray", "payments")})
    resources = [*world, stray_binding, stray_role, stray_account]
    assert stack_violations(rbac.tenant_binding_subjects, resources) == [
        (
            "RoleBinding 'payments-batch/stray' binds the User 'mallory@example.com'; tenants bind only their groups "
            "and ServiceAccounts",
            stray_binding.urn,
        )
    ]
    assert stack_violations(rbac.tenant_role_least_privilege, resources) == [
        ("Role 'payments/stray' rule 1 uses '*' in apiGroups", stray_role.urn)
    ]
    assert stack_violations(rbac.tenant_serviceaccount_no_automount, resources) == [
        ("ServiceAccount 'payments/stray' does not set automountServiceAccountToken: false", stray_account.urn)
    ]


@covers(rbac.standard_profile_no_secret_reads)
def test_a_roles_profile_is_its_namespaces() -> None:
    """Class: a Role's profile was read from its own label. A Role labelled elevated in a standard namespace is a
    standard Role; in an elevated namespace an unlabelled Role is an elevated one."""
    reads = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
    claims_elevated = role("elevated", reads)
    assert check(rbac.standard_profile_no_secret_reads, ROLE, claims_elevated) == [
        "Role 'payments/tenant' (profile 'standard') rule 1 lets the tenant get secrets"
    ]
    in_lab = {"metadata": meta("tenant", "payments-lab"), "rules": reads}
    assert check(rbac.standard_profile_no_secret_reads, ROLE, in_lab) == []


@covers(rbac.tenant_role_least_privilege)
def test_tenant_role_least_privilege() -> None:
    props = role(
        rules=[
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]},
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get"]},
            {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]},
        ]
    )
    assert check(rbac.tenant_role_least_privilege, ROLE, props) == [
        "Role 'payments/tenant' rule 1 uses '*' in verbs",
        "Role 'payments/tenant' rule 2 uses '*' in apiGroups",
        "Role 'payments/tenant' rule 2 uses '*' in resources",
        "Role 'payments/tenant' rule 3 grants 'impersonate'",
    ]
    assert check(rbac.tenant_role_least_privilege, ROLE, role()) == []
    platform = {"metadata": meta("cert-manager-controller"), "rules": [{"resources": ["*"], "verbs": ["*"]}]}
    assert check(rbac.tenant_role_least_privilege, CLUSTER_ROLE, platform) == []


@covers(rbac.tenant_role_no_guardrail_writes)
def test_tenant_role_no_guardrail_writes() -> None:
    props = role(
        "elevated",
        rules=[
            {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ["get", "create", "patch"]},
            {"apiGroups": [""], "resources": ["resourcequotas", "limitranges"], "verbs": ["get", "list"]},
            {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]},
        ],
    )
    assert check(rbac.tenant_role_no_guardrail_writes, ROLE, props) == [
        "Role 'payments/tenant' rule 1 lets the tenant create/patch networkpolicies",
        "Role 'payments/tenant' rule 3 lets the tenant create serviceaccounts/token",
    ]


@covers(rbac.standard_profile_no_secret_reads)
def test_standard_profile_no_secret_reads() -> None:
    rules = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "create"]}]
    assert check(rbac.standard_profile_no_secret_reads, ROLE, role("standard", rules)) == [
        "Role 'payments/tenant' (profile 'standard') rule 1 lets the tenant get/list secrets"
    ]
    elevated = role("elevated", rules)
    elevated["metadata"]["namespace"] = "payments-lab"  # the namespace's profile is what counts
    assert check(rbac.standard_profile_no_secret_reads, ROLE, elevated) == []
    unlabelled = role("standard", rules)
    del unlabelled["metadata"]["labels"]["gatehouse.dev/permission-profile"]
    assert len(check(rbac.standard_profile_no_secret_reads, ROLE, unlabelled)) == 1


@covers(rbac.no_cluster_scoped_tenant_objects)
def test_no_cluster_scoped_tenant_objects() -> None:
    world = tenant_world()
    component = world[0]
    rogue = Res(CLUSTER_ROLE, "payments-clusterwide", {"metadata": meta("payments-clusterwide")}, component)
    labelled = Res(CLUSTER_ROLE_BINDING, "loose", {"metadata": tenant_meta("loose", None)})
    assert stack_violations(rbac.no_cluster_scoped_tenant_objects, [*world, rogue, labelled]) == [
        (
            "ClusterRole 'payments-clusterwide' is cluster-scoped but belongs to tenant 'payments'; only platform "
            "components create cluster-scoped objects",
            rogue.urn,
        ),
        (
            "ClusterRoleBinding 'loose' is cluster-scoped but belongs to tenant 'payments'; only platform "
            "components create cluster-scoped objects",
            labelled.urn,
        ),
    ]


def test_any_namespaceless_object_of_an_unknown_kind_under_a_tenant_is_cluster_scoped() -> None:
    world = tenant_world(extra=())
    component = world[0]
    deep = Res("gatehouse:tenancy:TenantExtras", "payments-extras", parent=component)
    unknown = Res("kubernetes:example.com/v1:Widget", "widget", {"metadata": meta("widget")}, deep)
    issuer = Res("kubernetes:cert-manager.io/v1:ClusterIssuerPatch", "issuer", {"metadata": meta("le")}, component)
    forgot = Res(CONFIG_MAP, "settings", {"metadata": meta("settings")}, component)  # namespaced: lands in default
    placed = Res("kubernetes:example.com/v1:Widget", "placed", {"metadata": meta("placed", "payments")}, component)
    chart = Res(CHART, "payments-chart", {"chart": "x", "version": "1.0.0"}, component)
    resources = [*world, deep, unknown, issuer, forgot, placed, chart]
    assert stack_violations(rbac.no_cluster_scoped_tenant_objects, resources) == [
        (
            "Widget 'widget' has no metadata.namespace and is not a known namespaced kind, so it counts as "
            "cluster-scoped, but it belongs to tenant 'payments'; only platform components create cluster-scoped "
            "objects",
            unknown.urn,
        ),
        (
            "ClusterIssuerPatch 'le' is cluster-scoped but belongs to tenant 'payments'; only platform components "
            "create cluster-scoped objects",
            issuer.urn,
        ),
    ]


@covers(rbac.tenant_serviceaccount_no_automount)
def test_tenant_serviceaccount_no_automount() -> None:
    props = {"metadata": tenant_meta("deployer")}
    assert check(rbac.tenant_serviceaccount_no_automount, SERVICE_ACCOUNT, props) == [
        "ServiceAccount 'payments/deployer' does not set automountServiceAccountToken: false"
    ]
    org = {"metadata": meta("eso-secrets-reader", "org-acme", **{"gatehouse.dev/organization": "acme"})}
    assert len(check(rbac.tenant_serviceaccount_no_automount, SERVICE_ACCOUNT, org)) == 1
    chart_sa = {"metadata": {"name": "cert-manager", "namespace": "cert-manager"}}
    assert check(rbac.tenant_serviceaccount_no_automount, SERVICE_ACCOUNT, chart_sa) == []
    org_urn = urn_for("gatehouse:tenancy:Organization", "acme")
    tunnel_chart = urn_for(CHART, "acme-cloudflared", org_urn)
    cloudflared = {"metadata": {"name": "cloudflared", "namespace": "org-acme"}}
    assert len(check(rbac.tenant_serviceaccount_no_automount, SERVICE_ACCOUNT, cloudflared, parent=org_urn)) == 1
    assert check(rbac.tenant_serviceaccount_no_automount, SERVICE_ACCOUNT, cloudflared, parent=tunnel_chart) == []


LISTENER_RUNS = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "github-listener-runs"}


@covers(rbac.tenant_binding_subjects)
def test_a_tenant_namespace_binds_only_its_own_organizations_listener_to_the_runs_role() -> None:
    """The one outside ServiceAccount a tenant namespace may bind: its organization's webhook listener
    (`org-<org>/github-listener`, components/pipelines/), and only to the Role that creates its PipelineRuns.
    Another organization's listener, or the listener bound to any other Role, is refused (failing fixtures)."""
    own = {"kind": "ServiceAccount", "name": "github-listener", "namespace": "org-acme"}
    props = binding([own], LISTENER_RUNS, metadata=tenant_meta("github-listener-runs"))
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, props) == []
    what = "RoleBinding 'payments/github-listener-runs'"
    other_org = binding(
        [{**own, "namespace": "org-globex"}], LISTENER_RUNS, metadata=tenant_meta("github-listener-runs")
    )
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, other_org) == [
        f"{what} binds the ServiceAccount 'org-globex/github-listener' from outside tenant 'payments'"
    ]
    other_role = binding([own], metadata=tenant_meta("github-listener-runs"))
    assert check(rbac.tenant_binding_subjects, ROLE_BINDING, other_role) == [
        f"{what} binds the ServiceAccount 'org-acme/github-listener' from outside tenant 'payments'"
    ]
    as_cluster_role = binding(
        [own], {**LISTENER_RUNS, "kind": "ClusterRole"}, metadata=tenant_meta("github-listener-runs")
    )
    assert len(check(rbac.tenant_binding_subjects, ROLE_BINDING, as_cluster_role)) == 1


@covers(rbac.tenant_serviceaccount_no_automount)
def test_an_organizations_listener_keeps_its_token() -> None:
    """The EventListener's pod cannot mount a token any other way (tektoncd/triggers v0.37.0
    pkg/apis/triggers/v1beta1/event_listener_validation.go podSpecMask drops volumes and
    automountServiceAccountToken), so its ServiceAccount in `org-<name>` leaves automount alone; the same name
    in a tenant's namespace, or another ServiceAccount of the organization, still may not."""
    org_labels = {"gatehouse.dev/organization": "acme"}
    listener = {"metadata": meta("github-listener", "org-acme", **org_labels)}
    assert check(rbac.tenant_serviceaccount_no_automount, SERVICE_ACCOUNT, listener) == []
    other = {"metadata": meta("eso-reader-payments", "org-acme", **org_labels)}
    assert len(check(rbac.tenant_serviceaccount_no_automount, SERVICE_ACCOUNT, other)) == 1
    in_tenant = {"metadata": tenant_meta("github-listener")}
    assert len(check(rbac.tenant_serviceaccount_no_automount, SERVICE_ACCOUNT, in_tenant)) == 1
