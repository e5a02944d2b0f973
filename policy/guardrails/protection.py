"""Production protection: things whose replacement or deletion loses data are protected."""

from __future__ import annotations

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy, Severity

from ._util import NAMESPACE_TYPE, Report, for_types, is_organization_namespace, is_tenant_namespace


@for_types(NAMESPACE_TYPE)
def _namespace_protected(args: ResourceValidationArgs, report: Report) -> None:
    if not (is_tenant_namespace(args.props) or is_organization_namespace(args.props)):
        return
    if not args.opts.protect:
        report(f"Namespace '{args.name}' is not protected; a replace or delete would remove everything in it")


protected_namespaces = ResourceValidationPolicy(
    name="protected-namespaces",
    description="Tenant and organization namespaces are protected (enforced in prod, disabled in staging).",
    validate=_namespace_protected,
    severity=Severity.CRITICAL,
)

POLICIES = [protected_namespaces]
