"""The gatehouse-guardrails CrossGuard pack. This file only builds the pack; rules live in guardrails/."""

from guardrails import POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="gatehouse-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
)
