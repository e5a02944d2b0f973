"""offline.validate: built-in kinds (strict), custom resources (vendored CRDs, strict) and chart values."""

from __future__ import annotations

import copy
import pathlib
from typing import Any

import jsonschema
import pytest
import yaml

from offline.validate import (
    FREE_FORM_VALUE_PATHS,
    MAX_ERRORS,
    UnsupportedKubernetesVersion,
    Validator,
    strict_crd_schema,
)

UPSTREAM = (pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "upstream").resolve()
CORE = "kubernetes-validate 1.33 strict"


@pytest.fixture(scope="module")
def v() -> Validator:
    return Validator("1.33", UPSTREAM)


# --- objects --------------------------------------------------------------------------------------

NAMESPACE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Namespace",
    "metadata": {"name": "team-a", "labels": {"tenant": "a"}},
}
QUOTA: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ResourceQuota",
    "metadata": {"name": "quota", "namespace": "team-a"},
    "spec": {"hard": {"requests.cpu": "4", "limits.memory": "8Gi", "pods": "20"}},
}
NETPOL: dict[str, Any] = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "default-deny", "namespace": "team-a"},
    "spec": {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"tenant": "a"}}}]}],
        "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}], "ports": [{"port": 443}]}],
    },
}
DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "team-a"},
    "spec": {
        "replicas": 2.0,  # Pulumi hands numbers over as floats
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 8080.0, "protocol": "TCP"}]}
                ]
            },
        },
    },
}
HTTPROUTE: dict[str, Any] = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "HTTPRoute",
    "metadata": {"name": "web", "namespace": "team-a"},
    "spec": {
        "parentRefs": [{"name": "public", "namespace": "gateway", "sectionName": "https"}],
        "hostnames": ["web.example.com"],
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                "backendRefs": [{"name": "web", "port": 8080.0}],
            }
        ],
    },
}
CERTIFICATE: dict[str, Any] = {
    "apiVersion": "cert-manager.io/v1",
    "kind": "Certificate",
    "metadata": {"name": "wildcard", "namespace": "gateway"},
    "spec": {
        "secretName": "wildcard-tls",
        "dnsNames": ["*.example.com", "example.com"],
        "duration": "2160h",
        "privateKey": {"algorithm": "ECDSA", "size": 256},
        "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer", "group": "cert-manager.io"},
    },
}
CLUSTER_ISSUER: dict[str, Any] = {
    "apiVersion": "cert-manager.io/v1",
    "kind": "ClusterIssuer",
    "metadata": {"name": "letsencrypt"},
    "spec": {
        "acme": {
            "server": "https://acme-v02.api.letsencrypt.org/directory",
            "email": "ops@example.com",
            "privateKeySecretRef": {"name": "letsencrypt-account"},
            "solvers": [
                {
                    "dns01": {
                        "cloudflare": {"apiTokenSecretRef": {"name": "cloudflare", "key": "token"}},
                    },
                    "selector": {"dnsZones": ["example.com"]},
                }
            ],
        }
    },
}


def changed(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of obj with the dotted `path` set to value (numbers index lists); value None deletes."""
    out = copy.deepcopy(obj)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node: Any = out
    for p in parents:
        node = node[p]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return out


@pytest.mark.parametrize("obj", [NAMESPACE, QUOTA, NETPOL, DEPLOYMENT], ids=lambda o: o["kind"])
def test_valid_core_objects_pass_strictly(v: Validator, obj: dict[str, Any]) -> None:
    assert v.validate_object(obj) == v.validate_object(copy.deepcopy(obj))
    result = v.validate_object(obj)
    assert (result.status, result.errors, result.schema) == ("ok", [], CORE)


def test_network_policy_ip_block_without_cidr_fails_naming_the_path(v: Validator) -> None:
    bad = changed(NETPOL, "spec.egress.0.to.0.ipBlock", {"except": ["10.0.0.0/8"]})
    result = v.validate_object(bad)
    assert result.status == "error"
    assert result.errors == ["spec.egress.0.to.0.ipBlock: 'cidr' is a required property"]


def test_misspelled_container_field_fails_in_strict_mode(v: Validator) -> None:
    bad = changed(DEPLOYMENT, "spec.template.spec.containers.0.ports.0.protocl", "TCP")
    result = v.validate_object(bad)
    assert result.errors == [
        "spec.template.spec.containers.0.ports.0: Additional properties are not allowed ('protocl' was unexpected)"
    ]


def test_integral_floats_count_as_integers_but_fractions_do_not(v: Validator) -> None:
    assert v.validate_object(DEPLOYMENT).status == "ok"  # replicas 2.0, containerPort 8080.0
    result = v.validate_object(changed(DEPLOYMENT, "spec.replicas", 1.5))
    assert result.status == "error"
    assert result.errors[0].startswith("spec.replicas: 1.5 is not of type 'integer'")


def test_the_caller_object_is_not_modified(v: Validator) -> None:
    obj = copy.deepcopy(DEPLOYMENT)
    v.validate_object(obj)
    assert obj == DEPLOYMENT and isinstance(obj["spec"]["replicas"], float)


def test_valid_httproute_passes_against_the_standard_channel_crd(v: Validator) -> None:
    result = v.validate_object(HTTPROUTE)
    assert (result.status, result.errors) == ("ok", [])
    assert result.schema == "crd:crds/gateway.networking.k8s.io/httproute.yaml"


def test_httproute_with_wrong_case_field_fails(v: Validator) -> None:
    bad = copy.deepcopy(HTTPROUTE)
    bad["spec"]["parent_refs"] = bad["spec"].pop("parentRefs")
    result = v.validate_object(bad)
    assert result.status == "error"
    assert result.errors == ["spec: Additional properties are not allowed ('parent_refs' was unexpected)"]


@pytest.mark.parametrize("port", [70000, 70000.0])
def test_port_out_of_range_fails(v: Validator, port: float) -> None:
    result = v.validate_object(changed(HTTPROUTE, "spec.rules.0.backendRefs.0.port", port))
    assert result.errors == ["spec.rules.0.backendRefs.0.port: 70000 is greater than the maximum of 65535"]


def test_errors_are_sorted_with_list_indexes_in_numeric_order(v: Validator) -> None:
    bad = copy.deepcopy(HTTPROUTE)
    rule = bad["spec"]["rules"][0]
    bad["spec"]["rules"] = [copy.deepcopy(rule) for _ in range(12)]
    for i in (10, 2):
        bad["spec"]["rules"][i]["backendRefs"][0]["port"] = 70000
    bad["spec"]["parent_refs"] = []
    result = v.validate_object(bad)
    assert result.errors == [
        "spec: Additional properties are not allowed ('parent_refs' was unexpected)",
        "spec.rules.2.backendRefs.0.port: 70000 is greater than the maximum of 65535",
        "spec.rules.10.backendRefs.0.port: 70000 is greater than the maximum of 65535",
    ]


def test_errors_are_capped_per_object(v: Validator) -> None:
    bad = changed(NAMESPACE, "metadata.labels", {f"k{i}": i for i in range(30)})  # 30 non-string label values
    result = v.validate_object(bad)
    assert result.status == "error"
    assert len(result.errors) == MAX_ERRORS + 1
    assert result.errors[-1] == "(root): 10 more errors not shown"


def test_certificate_valid_and_invalid(v: Validator) -> None:
    ok = v.validate_object(CERTIFICATE)
    assert (ok.status, ok.errors, ok.schema) == ("ok", [], "crd:crds/cert-manager.io/certificate.yaml")
    missing = v.validate_object(changed(CERTIFICATE, "spec.secretName", None))
    assert missing.errors == ["spec: 'secretName' is a required property"]
    wrong_type = v.validate_object(changed(CERTIFICATE, "spec.dnsNames", "example.com"))
    assert wrong_type.errors == ["spec.dnsNames: 'example.com' is not of type 'array'"]
    bad_enum = v.validate_object(changed(CERTIFICATE, "spec.privateKey.algorithm", "DSA"))
    assert bad_enum.status == "error" and bad_enum.errors[0].startswith(
        "spec.privateKey.algorithm: 'DSA' is not one of"
    )


def test_cluster_issuer_valid_and_invalid(v: Validator) -> None:
    ok = v.validate_object(CLUSTER_ISSUER)
    assert (ok.status, ok.errors, ok.schema) == ("ok", [], "crd:crds/cert-manager.io/clusterissuer.yaml")
    no_server = v.validate_object(changed(CLUSTER_ISSUER, "spec.acme.server", None))
    assert no_server.errors == ["spec.acme: 'server' is a required property"]
    typo = v.validate_object(
        changed(CLUSTER_ISSUER, "spec.acme.solvers.0.dns01.cloudflare.apiTokenSecretRef.keys", "x")
    )
    assert typo.errors == [
        "spec.acme.solvers.0.dns01.cloudflare.apiTokenSecretRef: Additional properties are not allowed "
        "('keys' was unexpected)"
    ]


def test_unknown_custom_kind_has_no_schema(v: Validator) -> None:
    result = v.validate_object({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    assert (result.status, result.schema) == ("no-schema", "")
    assert "Widget" in result.errors[0]


def test_builtin_kind_name_in_a_foreign_group_is_not_taken_for_the_builtin(v: Validator) -> None:
    # kubernetes-validate names its file networkpolicy-networking-v1.json for networking.k8s.io only.
    obj = {"apiVersion": "networking.example.com/v1", "kind": "NetworkPolicy", "metadata": {"name": "x"}}
    assert v.validate_object(obj).status == "no-schema"


def test_known_custom_kind_in_an_unserved_version_is_an_error(v: Validator) -> None:
    obj = {"apiVersion": "external-secrets.io/v1beta1", "kind": "ExternalSecret", "metadata": {"name": "x"}}
    result = v.validate_object(obj)
    assert result.status == "error"
    assert result.errors == ["apiVersion: external-secrets.io/v1beta1 is not served by the CRD (served: v1)"]


def test_unknown_metadata_field_on_a_custom_resource_fails(v: Validator) -> None:
    result = v.validate_object(changed(CERTIFICATE, "metadata.labelz", {"a": "b"}))
    assert result.errors == ["metadata: Additional properties are not allowed ('labelz' was unexpected)"]
    result = v.validate_object(changed(CERTIFICATE, "metadata.labels", {"a": 1}))
    assert result.errors == ["metadata.labels.a: 1 is not of type 'string', 'null'"]


@pytest.mark.parametrize(
    ("obj", "rule"),
    [
        (changed(DEPLOYMENT, "metadata.name", "Web_1"), "DNS-1123 subdomain"),
        (changed(CERTIFICATE, "metadata.name", "-wild"), "DNS-1123 subdomain"),
        (changed(DEPLOYMENT, "metadata.name", "a" * 254), "DNS-1123 subdomain"),
        (changed(NAMESPACE, "metadata.name", "team.a"), "DNS-1123 label"),
        (changed(NAMESPACE, "metadata.name", "t" * 64), "DNS-1123 label"),
        ({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web.a"}}, "DNS-1035 label"),
        ({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "1web"}}, "DNS-1035 label"),
    ],
)
def test_bad_names_fail_on_metadata_name(v: Validator, obj: dict[str, Any], rule: str) -> None:
    result = v.validate_object(obj)
    assert result.status == "error"
    assert len(result.errors) == 1
    assert result.errors[0].startswith("metadata.name: ") and rule in result.errors[0]


def test_missing_name_and_bad_namespace_fail(v: Validator) -> None:
    assert v.validate_object(changed(QUOTA, "metadata.name", None)).errors == [
        "metadata.name: required: every object needs a name"
    ]
    result = v.validate_object(changed(QUOTA, "metadata.namespace", "Team_A"))
    assert result.status == "error" and result.errors[0].startswith("metadata.namespace: 'Team_A' is not a valid")


def test_good_names_pass(v: Validator) -> None:
    assert v.validate_object(changed(DEPLOYMENT, "metadata.name", "web.v2-a")).status == "ok"
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "gatehouse:view"}}
    assert v.validate_object(role).status == "ok"  # RBAC names only exclude '/', '%', '.' and '..'


def test_one_compiled_validator_per_kind_is_reused(v: Validator) -> None:
    v.validate_object(DEPLOYMENT)
    first = v.object_check("apps/v1", "Deployment")
    v.validate_object(changed(DEPLOYMENT, "metadata.name", "other"))
    assert first is not None and v.object_check("apps/v1", "Deployment") is first
    v.validate_object(HTTPROUTE)
    route = v.object_check("gateway.networking.k8s.io/v1", "HTTPRoute")
    v.validate_object(changed(HTTPROUTE, "metadata.name", "other"))
    assert route is not None and v.object_check("gateway.networking.k8s.io/v1", "HTTPRoute") is route
    assert route.validator is not first.validator


def test_kubernetes_version_picks_the_newest_shipped_schema_not_newer() -> None:
    assert Validator("1.33.4", UPSTREAM).version_label == "1.33"
    assert Validator("v1.30", UPSTREAM).validate_object(NAMESPACE).schema == "kubernetes-validate 1.30 strict"
    for unsupported in ("1.99", "1.0", "latest"):
        with pytest.raises(UnsupportedKubernetesVersion):
            Validator(unsupported, UPSTREAM)


def test_crd_schema_conversion_follows_openapi_and_strict_field_validation() -> None:
    crd_schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "port": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                    "size": {"type": "integer", "format": "int32", "minimum": 0, "exclusiveMinimum": True},
                    "when": {"type": "string", "format": "date-time", "nullable": True},
                    "mode": {"type": "string", "enum": ["a", "b"], "nullable": True},
                    "raw": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {"a": {}}},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "choice": {
                        "type": "object",
                        "properties": {"x": {"type": "string"}, "y": {"type": "string"}},
                        "oneOf": [{"properties": {"x": {"minLength": 1}}, "required": ["x"]}, {"required": ["y"]}],
                    },
                },
                "x-kubernetes-validations": [{"rule": "self.size > 100"}],  # CEL: not evaluated
            }
        },
    }
    validator = jsonschema.Draft202012Validator(strict_crd_schema(crd_schema))

    def errors(spec: dict[str, Any], **extra: Any) -> list[str]:
        return sorted(
            e.message for e in validator.iter_errors({"apiVersion": "x/v1", "kind": "K", "spec": spec, **extra})
        )

    good = {"port": "http", "size": 1, "when": None, "mode": None, "raw": {"b": {"c": 1}}, "labels": {"k": "v"}}
    assert errors({**good, "choice": {"x": "1"}}) == []
    assert errors({"port": 8080}) == []
    assert errors({"port": 1.5}) != []
    assert errors({"size": 0}) == ["0 is less than or equal to the minimum of 0"]
    assert errors({"mode": "c"}) == ["'c' is not one of ['a', 'b', None]"]
    assert errors({"labels": {"k": 1}}) == ["1 is not of type 'string'"]
    assert errors({"extra": 1}) == ["Additional properties are not allowed ('extra' was unexpected)"]
    assert errors({}, status={}) == ["Additional properties are not allowed ('status' was unexpected)"]
    assert errors({"choice": {"x": "1", "y": "2"}}) != []  # oneOf still applies, and its branches are not closed


# --- chart values ---------------------------------------------------------------------------------


@pytest.mark.parametrize("chart", sorted(p.name for p in (UPSTREAM / "charts").iterdir()))
def test_chart_defaults_alone_are_valid(v: Validator, chart: str) -> None:
    result = v.validate_chart_values(chart, {})
    assert (result.status, result.errors) == ("ok", [])


def test_cert_manager_values_against_its_schema(v: Validator) -> None:
    good = {"crds": {"enabled": True}, "replicaCount": 2.0, "prometheus": {"enabled": False}, "extraArgs": ["--v=2"]}
    result = v.validate_chart_values("cert-manager", good)
    assert (result.status, result.errors) == ("ok", [])
    assert result.schema == "chart:charts/cert-manager/values.schema.json"
    bad = v.validate_chart_values("cert-manager", {"installCRDz": True, "replicaCount": "two"})
    assert bad.status == "error"
    assert bad.errors == [
        "(root): Additional properties are not allowed ('installCRDz' was unexpected)",
        "replicaCount: 'two' is not of type 'number'",
    ]


def test_schema_charts_validate_the_merged_values_like_helm(v: Validator) -> None:
    # keycloakx requires `image`; its default satisfies that, and a user null removes the default.
    assert v.validate_chart_values("keycloakx", {"replicas": 2}).status == "ok"
    assert v.validate_chart_values("keycloakx", {"image": None}).errors == ["(root): 'image' is a required property"]


def test_dex_free_form_config_passes(v: Validator) -> None:
    values = {
        "replicaCount": 2,
        "config": {
            "issuer": "https://dex.example.com",
            "storage": {"type": "kubernetes", "config": {"inCluster": True}},
            "connectors": [{"type": "github", "id": "github", "config": {"clientID": "x"}}],
            "staticClients": [{"id": "oauth2-proxy", "redirectURIs": ["https://a/cb"]}],
        },
        "podAnnotations": {"example.com/anything": "goes"},
        "service": {"ports": {"http": {"port": 5556}}},
        "podDisruptionBudget": {"minAvailable": 1},  # null default: anything goes
    }
    result = v.validate_chart_values("dex", values)
    assert (result.status, result.errors, result.schema) == ("ok", [], "chart:charts/dex/values.yaml")


def test_dex_unknown_key_fails(v: Validator) -> None:
    result = v.validate_chart_values("dex", {"replicaCount": 1, "replicas": 2, "service": {"prots": {}}})
    assert result.status == "error"
    assert result.errors == [
        "replicas: unknown key (not in charts/dex/values.yaml)",
        "service.prots: unknown key (not in charts/dex/values.yaml)",
    ]


def test_dex_type_mismatches_fail(v: Validator) -> None:
    result = v.validate_chart_values("dex", {"image": {"tag": {"v": "2.44"}}, "https": True})
    assert result.status == "error"
    assert result.errors == [
        "https: expected a map (the default in charts/dex/values.yaml is one), got boolean",
        "image.tag: expected a string like the default '' in charts/dex/values.yaml, got a map",
    ]


def test_unknown_chart_has_no_schema(v: Validator) -> None:
    for chart in ("no-such-chart", "../upstream"):
        result = v.validate_chart_values(chart, {"a": 1})
        assert (result.status, result.schema) == ("no-schema", "")


def test_gateway_helm_values_with_placeholders_parse(v: Validator) -> None:
    defaults = yaml.safe_load((UPSTREAM / "charts" / "gateway-helm" / "values.yaml").read_text())
    assert defaults["global"]["images"]["envoyGateway"]["image"] == "${GatewayImage}"
    ok = {"global": {"images": {"envoyGateway": {"image": "docker.io/envoyproxy/gateway:v1.9.0"}}}}
    assert v.validate_chart_values("gateway-helm", ok).status == "ok"
    bad = v.validate_chart_values("gateway-helm", {"global": {"images": {"envoyGateway": {"image": {"tag": "x"}}}}})
    assert bad.errors == [
        "global.images.envoyGateway.image: expected a string like the default '${GatewayImage}' "
        "in charts/gateway-helm/values.yaml, got a map"
    ]


def test_free_form_paths_accept_anything_below(v: Validator) -> None:
    grafana = {"grafana.ini": {"server": {"root_url": "https://g"}, "auth.generic_oauth": {"enabled": True}}}
    assert v.validate_chart_values("grafana", grafana).status == "ok"
    gateway = {"config": {"envoyGateway": {"extensionApis": {"enableBackend": True}, "rateLimit": {"backend": {}}}}}
    assert v.validate_chart_values("gateway-helm", gateway).status == "ok"
    authentik = {"authentik": {"secret_key": "s", "redis": {"host": "valkey"}, "listen": {"trusted_proxy_cidrs": "x"}}}
    assert v.validate_chart_values("authentik", authentik).status == "ok"
    # ...but only below the listed path: a sibling typo is still caught.
    assert v.validate_chart_values("gateway-helm", {"config": {"envoyGateways": {}}}).status == "error"


def test_keys_documented_as_comments_are_known(v: Validator) -> None:
    # grafana's values.yaml documents `# podAnnotations: {}` without a default
    assert v.validate_chart_values("grafana", {"podAnnotations": {"a": "b"}, "adminPassword": "x"}).status == "ok"
    assert v.validate_chart_values("grafana", {"podAnotations": {"a": "b"}}).errors == [
        "podAnotations: unknown key (not in charts/grafana/values.yaml)"
    ]


def _lookup(values: dict[str, Any], dotted: str) -> bool:
    """Whether dotted path exists, where keys may contain dots themselves (grafana.ini, configs.cm keys)."""
    if dotted in values:
        return True
    return any(
        dotted.startswith(key + ".") and isinstance(values[key], dict) and _lookup(values[key], dotted[len(key) + 1 :])
        for key in values
    )


@pytest.mark.parametrize(("chart", "path"), [(c, p) for c, paths in FREE_FORM_VALUE_PATHS.items() for p in paths])
def test_every_free_form_path_exists_in_the_chart_defaults(chart: str, path: str) -> None:
    values = yaml.safe_load((UPSTREAM / "charts" / chart / "values.yaml").read_text())
    assert _lookup(values, path), f"{chart}: {path} is not in values.yaml"
