"""guardrails/secrets.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

from guardrails import secrets
from policy_fixtures import CHART, CONFIG_MAP, DEPLOYMENT, PASSWORD, SECRET, container, covers, deployment, meta
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


# Shapes only: none of these is a real credential.
FAKE_GITHUB = "ghp_" + "Zq3" * 12
FAKE_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
FAKE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
FAKE_RANDOM = "kV9x2Qm7LpR4tZ8wYc3NbH6jD1sF5gA0"


@covers(secrets.no_credential_values_outside_secrets)
def test_credentials_under_unremarkable_keys() -> None:
    """Class: credentials under keys that do not say so (ConfigMap data, chart values, annotations, env
    literals) passed. Found by what the value looks like; the message never repeats it."""
    config_map = {
        "metadata": {**meta("settings", "payments"), "annotations": {"ci/deploy": FAKE_JWT}},
        "data": {"notes": f"token {FAKE_GITHUB}", "tls.pem": FAKE_KEY, "upstream": FAKE_RANDOM},
    }
    found = check(secrets.no_credential_values_outside_secrets, CONFIG_MAP, config_map)
    assert found == [
        "ConfigMap 'payments/settings' holds a JSON Web Token in metadata.annotations.ci/deploy; credentials belong "
        "in a Secret (the value is not shown)",
        "ConfigMap 'payments/settings' holds a GitHub token in data.notes; credentials belong in a Secret (the value "
        "is not shown)",
        "ConfigMap 'payments/settings' holds a PEM private key in data.tls.pem; credentials belong in a Secret (the "
        "value is not shown)",
        "ConfigMap 'payments/settings' holds a high-entropy string in data.upstream; credentials belong in a Secret "
        "(the value is not shown)",
    ]
    assert not any(value in message for message in found for value in (FAKE_GITHUB, FAKE_JWT, FAKE_RANDOM))
    chart = {"chart": "grafana", "version": "10.1.0", "values": {"extra": [{"header": FAKE_RANDOM}]}}
    assert check(secrets.no_credential_values_outside_secrets, CHART, chart, name="grafana") == [
        "Chart 'grafana' holds a high-entropy string in values.extra[0].header; credentials belong in a Secret (the "
        "value is not shown)"
    ]
    pod = deployment([container(env=[{"name": "UPSTREAM", "value": FAKE_GITHUB}])])
    assert check(secrets.no_credential_values_outside_secrets, DEPLOYMENT, pod) == [
        "Deployment 'payments/payments-api' holds a GitHub token in containers[app].env[UPSTREAM].value; "
        "credentials belong in a Secret (the value is not shown)"
    ]
    # in a Secret it belongs; ordinary configuration, digests, URLs and certificates are not credentials
    assert check(secrets.no_credential_values_outside_secrets, SECRET, {**config_map, "stringData": {}}) == []
    ordinary = {
        "metadata": meta("settings", "payments"),
        "data": {
            "image": "ghcr.io/acme-corp/payments@sha256:" + "ab12" * 16,
            "url": "https://github.com/acme-corp/payments-service/blob/main/README.md",
            "ca.crt": "-----BEGIN CERTIFICATE-----\n" + FAKE_RANDOM * 3 + "\n-----END CERTIFICATE-----\n",
            "greeting": "Hello, tenants of Gatehouse: welcome to the platform",
        },
    }
    assert check(secrets.no_credential_values_outside_secrets, CONFIG_MAP, ordinary) == []


@covers(secrets.clustersecretstore_namespace_conditions)
def test_clustersecretstore_namespace_conditions() -> None:
    """Class: a ClusterSecretStore without namespace conditions passed (External Secrets v2.9.0: no conditions,
    every namespace may use it; an empty selector matches every namespace; regexes match unanchored)."""
    store_type = "kubernetes:external-secrets.io/v1:ClusterSecretStore"
    provider = {"kubernetes": {"remoteNamespace": "org-acme"}}
    bare = {"metadata": meta("org-acme-store"), "spec": {"provider": provider}}
    assert check(secrets.clustersecretstore_namespace_conditions, store_type, bare) == [
        "ClusterSecretStore 'org-acme-store' has no namespace conditions: ExternalSecrets of every namespace may "
        "read through it"
    ]
    loose = {
        "metadata": meta("org-acme-store"),
        "spec": {"provider": provider, "conditions": [{"namespaceSelector": {}}, {"namespaceRegexes": ["acme"]}]},
    }
    assert check(secrets.clustersecretstore_namespace_conditions, store_type, loose) == [
        "ClusterSecretStore 'org-acme-store' condition 1 has an empty namespaceSelector, which matches every namespace",
        "ClusterSecretStore 'org-acme-store' condition 2 regex 'acme' is not anchored (^...$): it matches every "
        "namespace that contains it",
    ]
    scoped = {
        "metadata": meta("org-acme-store"),
        "spec": {
            "provider": provider,
            "conditions": [{"namespaceSelector": {"matchLabels": {"gatehouse.dev/organization": "acme"}}}],
        },
    }
    assert check(secrets.clustersecretstore_namespace_conditions, store_type, scoped) == []
