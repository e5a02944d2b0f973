"""Who acts through a tenant's AppProject: its roles, scoped to the project and granted to the tenant's groups;
the namespaces its Applications may live in and the ServiceAccounts it syncs as, all the tenant's own.

Anchors: Argo CD v3.4.4 docs/user-guide/projects.md (project roles "bound to OIDC groups and/or JWT tokens"),
docs/operator-manual/app-any-namespace.md (sourceNamespaces) and controller/sync.go
`deriveServiceAccountToImpersonate` (the first destinationServiceAccounts entry whose server and namespace globs
match is used; `<namespace>:<name>` names the account's namespace, a bare name means the destination namespace).
"""

from __future__ import annotations

import re

from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import (
    APP_PROJECT_TYPE,
    Report,
    belongs_to_tenant_namespace,
    config_value,
    describe,
    for_types,
    mapping,
    object_name,
    object_spec,
    require_tenant,
    sequence,
    string_list,
)
from .appproject_destinations import namespace_allowed
from .rbac import GROUP_PATTERNS


@for_types(APP_PROJECT_TYPE)
def _scoped_roles(args: ResourceValidationArgs, report: Report) -> None:
    tenant = require_tenant(args, report)
    if not tenant:
        return
    what = describe(args.resource_type, args.props, args.name)
    project = object_name(args.props) or tenant
    spec = object_spec(args.props)
    patterns = [
        re.compile(p.replace("{tenant}", re.escape(tenant)))
        for p in config_value(args, "groupPatterns", GROUP_PATTERNS)
    ]
    for role in (mapping(r) for r in sequence(spec.get("roles"))):
        role_name = str(role.get("name") or "")
        for line in sequence(role.get("policies")):
            fields = [f.strip() for f in str(line).split(",")]
            subject = fields[1] if len(fields) > 1 else ""
            obj = fields[4] if len(fields) > 4 else ""
            if subject != f"proj:{project}:{role_name}" or not obj.startswith(f"{project}/"):
                report(f"{what} role '{role_name}' has a policy outside its project: '{line}'")
        for group in sequence(role.get("groups")):
            if not any(p.match(str(group)) for p in patterns):
                report(f"{what} role '{role_name}' grants the group '{group}', which is not a group of '{tenant}'")
    for namespace in sequence(spec.get("sourceNamespaces")):
        if not namespace_allowed(str(namespace), tenant) or str(namespace).startswith("!"):
            report(f"{what} accepts Applications from namespace '{namespace}' outside tenant '{tenant}'")
    for account in (mapping(a) for a in sequence(spec.get("destinationServiceAccounts"))):
        namespace = str(account.get("namespace") or "")
        if not namespace_allowed(namespace, tenant) or namespace.startswith("!"):
            report(f"{what} syncs as a ServiceAccount for namespace '{namespace}' outside tenant '{tenant}'")
        # `<namespace>:<name>` names the account's namespace; a bare name is in the destination namespace
        # (Argo CD v3.4.4 controller/sync.go deriveServiceAccountToImpersonate)
        account_name = str(account.get("defaultServiceAccount") or "").strip()
        home, _, _ = account_name.rpartition(":")
        if home and not belongs_to_tenant_namespace(home, tenant):
            report(
                f"{what} syncs as the ServiceAccount '{account_name}' of namespace '{home}' outside tenant "
                f"'{tenant}' (a cluster-wide account would apply whatever the repository holds)"
            )


appproject_scoped_roles = ResourceValidationPolicy(
    name="appproject-scoped-roles",
    description="A tenant AppProject's roles are scoped to the project and granted to the tenant's groups; "
    "its source namespaces and sync ServiceAccounts are the tenant's own (never argocd).",
    validate=_scoped_roles,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="Argo CD", reference="projects.md: roles; app-any-namespace.md"),
    config_schema=PolicyConfigSchema(properties={"groupPatterns": string_list(GROUP_PATTERNS, min_items=1)}),
)

POLICIES = [appproject_scoped_roles]
