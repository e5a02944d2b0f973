"""TenantAdmission: the tenancy rules enforced by the API server, on whatever reaches a tenant namespace.

Tenants deploy through Argo CD, which the policy pack never sees; the API server does. Each rule of
policy/admission_rules.py becomes a ValidatingAdmissionPolicy (CEL, run in the API server: no webhook to
keep alive) and a binding that denies, in the tenant namespaces of the rule's profiles (the namespaces'
`permission-profile` label, set by Gatehouse, which tenants may not change: tenancy/profiles.py).

Kubernetes facts (admissionregistration.k8s.io/v1, GA in 1.30): a policy without a binding does nothing; a
binding's `matchResources.namespaceSelector` narrows where it applies; `failurePolicy: Fail` denies a
request whose expression errors; `variables` are evaluated lazily, in order, as `variables.<name>`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from policy import admission_rules as rules

from .. import meta

COMPONENT = "tenant-admission"
OPERATIONS = ["CREATE", "UPDATE"]


def policy_name(rule: rules.AdmissionRule) -> str:
    return f"gatehouse-{rule.name}"


def resource_rules(rule: rules.AdmissionRule) -> list[k8s.admissionregistration.v1.NamedRuleWithOperationsArgs]:
    """One rule per API group and version, with its resources (a pod's ephemeral containers arrive through
    their own subresource)."""
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for group, version, resource in rule.resources:
        grouped[(group, version)].append(resource)
        if resource == "pods":
            grouped[(group, version)].append("pods/ephemeralcontainers")
    return [
        k8s.admissionregistration.v1.NamedRuleWithOperationsArgs(
            api_groups=[group], api_versions=[version], operations=OPERATIONS, resources=resources
        )
        for (group, version), resources in grouped.items()
    ]


def policy_spec(rule: rules.AdmissionRule) -> k8s.admissionregistration.v1.ValidatingAdmissionPolicySpecArgs:
    return k8s.admissionregistration.v1.ValidatingAdmissionPolicySpecArgs(
        failure_policy="Fail",
        match_constraints=k8s.admissionregistration.v1.MatchResourcesArgs(resource_rules=resource_rules(rule)),
        variables=[
            k8s.admissionregistration.v1.VariableArgs(name=name, expression=expression)
            for name, expression in rule.variables
        ]
        or None,
        validations=[k8s.admissionregistration.v1.ValidationArgs(expression=rule.expression, message=rule.message)],
    )


def binding_spec(rule: rules.AdmissionRule) -> k8s.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpecArgs:
    """Deny, in the tenant namespaces of the rule's profiles (every tenant namespace carries its profile)."""
    profiles = k8s.meta.v1.LabelSelectorRequirementArgs(
        key=meta.PROFILE_LABEL, operator="In", values=list(rule.profiles)
    )
    return k8s.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpecArgs(
        policy_name=policy_name(rule),
        validation_actions=["Deny"],
        match_resources=k8s.admissionregistration.v1.MatchResourcesArgs(
            namespace_selector=k8s.meta.v1.LabelSelectorArgs(match_expressions=[profiles])
        ),
    )


@dataclass(frozen=True)
class TenantAdmissionArgs:
    rules: tuple[rules.AdmissionRule, ...] = tuple(rules.RULES)


class TenantAdmission(pulumi.ComponentResource):
    """Every admission rule as a ValidatingAdmissionPolicy and its binding (cluster-scoped, once per cluster)."""

    def __init__(self, name: str, args: TenantAdmissionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gatehouse:tenancy:TenantAdmission", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.policy_names: list[str] = []
        for rule in args.rules:
            name_ = policy_name(rule)
            policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
                name_,
                metadata=meta.object_meta(name_, COMPONENT, annotations={"gatehouse.dev/rule": rule.description}),
                spec=policy_spec(rule),
                opts=child,
            )
            k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
                f"{name_}-binding",
                metadata=meta.object_meta(name_, COMPONENT),
                spec=binding_spec(rule),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
            )
            self.policy_names.append(name_)
        self.register_outputs({"policies": self.policy_names})
