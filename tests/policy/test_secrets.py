"""guardrails/secrets.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

from guardrails import secrets
from policy_fixtures import CHART, CONFIG_MAP, PASSWORD, SECRET, covers, meta
from policy_harness import Res, check, stack_violations
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE


@covers(secrets.generated_credentials_only_in_secrets)
def test_generated_credentials_only_in_secrets() -> None:
    password = Res(PASSWORD, "grafana-admin", {"length": 32})
    secret = Res(
        SECRET,
        "grafana-admin",
        {"metadata": meta("grafana-admin", "monitoring")},
        property_dependencies={"stringData": [password]},
    )
    leak = Res(
        CONFIG_MAP,
        "grafana-env",
        {"metadata": meta("grafana-env", "monitoring")},
        property_dependencies={"data": [password]},
    )
    chart = Res(CHART, "grafana", {"chart": "grafana", "version": "1"}, property_dependencies={"values": [password]})
    assert stack_violations(secrets.generated_credentials_only_in_secrets, [password, secret, leak, chart]) == [
        (
            "ConfigMap 'monitoring/grafana-env' takes 'data' from the generated credential RandomPassword "
            "'grafana-admin'; generated credentials reach Kubernetes only in a Secret",
            leak.urn,
        ),
        (
            "Chart 'grafana' takes 'values' from the generated credential RandomPassword 'grafana-admin'; generated "
            "credentials reach Kubernetes only in a Secret",
            chart.urn,
        ),
    ]


@covers(secrets.no_credentials_in_configmaps)
def test_no_credentials_in_configmaps() -> None:
    props = {
        "metadata": meta("app-config", "payments"),
        "data": {"LOG_LEVEL": "info", "DB_PASSWORD": "hunter2", "api-token": "x"},
    }
    assert check(secrets.no_credentials_in_configmaps, CONFIG_MAP, props) == [
        "ConfigMap 'payments/app-config' holds 'DB_PASSWORD' in data; credentials belong in a Secret",
        "ConfigMap 'payments/app-config' holds 'api-token' in data; credentials belong in a Secret",
    ]


def test_configmap_patches_and_lists_hold_no_credentials() -> None:
    patch = {"metadata": {"name": "app-config", "namespace": "payments"}, "data": {"DB_PASSWORD": "hunter2"}}
    assert check(secrets.no_credentials_in_configmaps, CONFIG_MAP + "Patch", patch) == [
        "ConfigMapPatch 'payments/app-config' holds 'DB_PASSWORD' in data; credentials belong in a Secret"
    ]
    assert check(secrets.no_credentials_in_configmaps, CONFIG_MAP + "List", {"items": [patch]}) == [
        "ConfigMap 'payments/app-config' holds 'DB_PASSWORD' in data; credentials belong in a Secret"
    ]


@covers(secrets.no_literal_credentials_in_chart_values)
def test_no_literal_credentials_in_chart_values() -> None:
    values = {
        "admin": {"existingSecret": "grafana-admin", "passwordKey": "admin-password", "password": "hunter2"},
        "auth": {"enabled": True, "usersExistingSecret": "redis-users"},
        "oauth": {"clientSecret": "s3cr3t", "tokenUrl": "https://idp/token"},
        "extraEnv": [
            {"name": "X", "apiKey": "k-123"},
            {"name": "DB_PASSWORD", "value": "hunter2"},
            {"name": "DB_TOKEN", "valueFrom": {"secretKeyRef": {"name": "db", "key": "token"}}},
        ],
        "grafana.ini": {"auth.proxy": {"enable_login_token": False}},
        "empty": {"password": ""},
    }
    messages = check(
        secrets.no_literal_credentials_in_chart_values, CHART, {"chart": "grafana", "values": values}, name="grafana"
    )
    assert messages == [
        "Chart 'grafana' sets values.admin.password to a literal; pass credentials through an existing Secret "
        "(existingSecret and the like), never in chart values",
        "Chart 'grafana' sets values.extraEnv[0].apiKey to a literal; pass credentials through an existing Secret "
        "(existingSecret and the like), never in chart values",
        "Chart 'grafana' sets values.extraEnv[1].value to a literal; pass credentials through an existing Secret "
        "(existingSecret and the like), never in chart values",
        "Chart 'grafana' sets values.oauth.clientSecret to a literal; pass credentials through an existing Secret "
        "(existingSecret and the like), never in chart values",
    ]
    assert not any("hunter2" in m or "s3cr3t" in m for m in messages)  # the report never repeats the value


def test_chart_values_walk_skips_preview_unknowns() -> None:
    values = {"cloudflare": {"tunnelId": UNKNOWN_STRING_VALUE, "secretName": "creds"}, "password": UNKNOWN_STRING_VALUE}
    assert check(secrets.no_literal_credentials_in_chart_values, CHART, {"chart": "x", "values": values}) == []
