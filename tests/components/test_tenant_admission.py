"""TenantAdmission (components/tenancy/admission.py) built alone: a ValidatingAdmissionPolicy and a denying
binding per rule of policy/admission_rules.py, each binding on the tenant namespaces of the rule's profiles."""

from __future__ import annotations

import pytest
from component_harness import Built, build

from components.meta import PROFILE_LABEL
from components.tenancy import TenantAdmission, TenantAdmissionArgs
from policy import admission_rules as rules

POLICY = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"


@pytest.fixture(scope="module")
def admission() -> Built:
    return build(lambda: TenantAdmission("tenant-admission", TenantAdmissionArgs()))


def test_each_rule_is_a_policy_with_its_cel_and_a_binding_that_denies(admission: Built) -> None:
    policies = {p["metadata"]["name"]: p for p in admission.objects("ValidatingAdmissionPolicy")}
    bindings = {b["spec"]["policyName"]: b for b in admission.objects("ValidatingAdmissionPolicyBinding")}
    assert set(policies) == set(bindings) == {f"gatehouse-{r.name}" for r in rules.RULES}
    for rule in rules.RULES:
        policy, binding = policies[f"gatehouse-{rule.name}"]["spec"], bindings[f"gatehouse-{rule.name}"]["spec"]
        assert policy["failurePolicy"] == "Fail"  # an expression that errors denies
        assert policy["validations"] == [{"expression": rule.expression, "message": rule.message}]
        assert [(v["name"], v["expression"]) for v in policy.get("variables", [])] == list(rule.variables)
        matched = {
            (g, v, r)
            for x in policy["matchConstraints"]["resourceRules"]
            for g in x["apiGroups"]
            for v in x["apiVersions"]
            for r in x["resources"]
        }
        assert set(rule.resources) <= matched
        assert all(x["operations"] == ["CREATE", "UPDATE"] for x in policy["matchConstraints"]["resourceRules"])
        assert binding["validationActions"] == ["Deny"]
        (selector,) = binding["matchResources"]["namespaceSelector"]["matchExpressions"]
        assert selector == {"key": PROFILE_LABEL, "operator": "In", "values": list(rule.profiles)}


def test_a_binding_waits_for_its_policy_and_everything_is_the_component_s(admission: Built) -> None:
    """A binding naming a policy not yet there matches nothing; it is created after it."""
    policies = {r.name: r.urn for r in admission.of_type(POLICY)}
    for binding in admission.of_type(BINDING):
        assert policies[binding.name.removesuffix("-binding")] in binding.dependencies
    assert all(r.parent == admission.component.urn for r in admission.children)
    assert admission.outputs == {"policies": [f"gatehouse-{r.name}" for r in rules.RULES]}
