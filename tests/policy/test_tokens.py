"""guardrails/tokens.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

from guardrails import tokens
from policy_fixtures import DEPLOYMENT, SECRET, covers, deployment, tenant_meta
from policy_harness import check


@covers(tokens.workload_no_token_automount)
def test_workload_no_token_automount() -> None:
    props = deployment(automountServiceAccountToken=True)
    assert check(tokens.workload_no_token_automount, DEPLOYMENT, props) == [
        "Deployment 'payments/payments-api' mounts its service account's token (automountServiceAccountToken: true)"
    ]
    assert check(tokens.workload_no_token_automount, DEPLOYMENT, deployment(automountServiceAccountToken=False)) == []
    assert check(tokens.workload_no_token_automount, DEPLOYMENT, deployment()) == []


@covers(tokens.no_service_account_token_secrets)
def test_no_service_account_token_secrets() -> None:
    token = {
        "metadata": {
            **tenant_meta("deployer-token"),
            "annotations": {"kubernetes.io/service-account.name": "deployer"},
        },
        "type": "kubernetes.io/service-account-token",
    }
    assert check(tokens.no_service_account_token_secrets, SECRET, token) == [
        "Secret 'payments/deployer-token' is a kubernetes.io/service-account-token Secret: a token that never expires"
    ]
    assert check(tokens.no_service_account_token_secrets, SECRET, {**token, "type": "Opaque"}) == []


@covers(tokens.workload_not_as_deployer)
def test_workload_not_as_deployer() -> None:
    assert check(tokens.workload_not_as_deployer, DEPLOYMENT, deployment(serviceAccountName="deployer")) == [
        "Deployment 'payments/payments-api' runs as the ServiceAccount 'deployer' Argo CD syncs as"
    ]
    assert check(tokens.workload_not_as_deployer, DEPLOYMENT, deployment(serviceAccountName="api")) == []
