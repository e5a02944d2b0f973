"""Signing keys over verified TLS: the gateway's JWT providers fetch keys from Keycloak's (and, for whoever
adds a Dex provider, Dex's) in-cluster HTTPS port, trusting the internal CA that signed the served
certificate, on every stack (components/gateway/jwks.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from conftest import REPO

from components import endpoints
from components.gateway import jwks
from offline.manifests import chart_values_of, is_helm_chart, is_kubernetes_object, manifest_of
from offline.records import Registration
from offline.runtime import ProgramRun, run_program
from offline.stack_config import load_stack_config

STACKS = ["staging", "prod", "dev"]


@pytest.fixture(scope="module", params=STACKS)
def run(request: pytest.FixtureRequest) -> ProgramRun:
    found = run_program(REPO, load_stack_config(REPO, request.param))
    assert found.error is None, found.error
    return found


def objects(run: ProgramRun, kind: str) -> list[dict[str, Any]]:
    return [manifest_of(r).obj for r in run.registrations if is_kubernetes_object(r) and r.inputs.get("kind") == kind]


def registration(run: ProgramRun, kind: str, namespace: str, name: str) -> Registration:
    (found,) = [
        r
        for r in run.registrations
        if is_kubernetes_object(r)
        and r.inputs.get("kind") == kind
        and (manifest_of(r).obj["metadata"].get("namespace"), manifest_of(r).obj["metadata"]["name"])
        == (namespace, name)
    ]
    return found


def chart(run: ProgramRun, chart_name: str) -> tuple[Registration, dict[str, Any]]:
    (found,) = [r for r in run.registrations if is_helm_chart(r) and chart_values_of(r).chart == chart_name]
    return found, chart_values_of(found).values


def in_namespace(items: list[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    return [o for o in items if o["metadata"].get("namespace") == namespace]


def jwt_providers(run: ProgramRun) -> list[tuple[str, dict[str, Any]]]:
    """(the SecurityPolicy's namespace, a provider) for every JWT provider of every SecurityPolicy."""
    return [
        (policy["metadata"]["namespace"], provider)
        for policy in objects(run, "SecurityPolicy")
        for provider in policy["spec"].get("jwt", {}).get("providers", [])
    ]


def test_every_jwt_provider_fetches_its_keys_over_verified_tls(run: ProgramRun) -> None:
    """envoyproxy/gateway v1.9.0: a `remoteJWKS` with `backendRefs` is fetched through that backend, whose
    TLS comes only from a BackendTLSPolicy on the Service (internal/gatewayapi/ext_service.go
    `processExtServiceDestination` -> backendtlspolicy.go `applyBackendTLSSetting`): without one the fetch
    is plaintext whatever the URI says, and without `backendRefs` an https URI trusts only the system store.
    The policy must sit in the Service's namespace (backendtlspolicy.go `backendTLSTargetMatched`), name a
    CA (`getCaCertsFromCARefs`, local refs only) and the hostname Envoy sends as SNI and verifies; a
    backendRef to another namespace needs a ReferenceGrant there from `SecurityPolicy`
    (internal/gatewayapi/validate.go `validateExtServiceBackendReference`). Issuer and audiences stay
    pinned per API."""
    providers = jwt_providers(run)
    assert providers  # every stack has a jwt API
    policies, grants = objects(run, "BackendTLSPolicy"), objects(run, "ReferenceGrant")
    for policy_ns, provider in providers:
        assert provider["issuer"] and provider["audiences"], provider
        keys = provider["remoteJWKS"]
        uri = urlparse(keys["uri"])
        assert uri.scheme == "https", keys
        assert keys.get("backendRefs"), keys
        for ref in keys["backendRefs"]:
            assert (ref.get("group", ""), ref.get("kind", "Service")) == ("", "Service"), ref
            service_ns = ref.get("namespace", policy_ns)
            assert uri.hostname == f"{ref['name']}.{service_ns}.svc.cluster.local" and uri.port == ref["port"], keys
            (source,) = [s for s in (jwks.KEYCLOAK, jwks.DEX) if (s.name, s.namespace) == (ref["name"], service_ns)]
            assert ref["port"] == source.port
            target = {"group": "", "kind": "Service", "name": ref["name"], "sectionName": source.port_name}
            covering = [p for p in in_namespace(policies, service_ns) if target in p["spec"]["targetRefs"]]
            assert len(covering) == 1, (service_ns, ref["name"])
            validation = covering[0]["spec"]["validation"]
            assert validation["caCertificateRefs"] and "wellKnownCACertificates" not in validation
            assert validation["hostname"] == uri.hostname
            if service_ns != policy_ns:
                assert any(
                    {"group": "gateway.envoyproxy.io", "kind": "SecurityPolicy", "namespace": policy_ns}
                    in grant["spec"]["from"]
                    and any(
                        (to["group"], to["kind"], to.get("name", ref["name"])) == ("", "Service", ref["name"])
                        for to in grant["spec"]["to"]
                    )
                    for grant in in_namespace(grants, service_ns)
                ), (policy_ns, service_ns, ref["name"])


def test_tls_to_an_identity_service_covers_its_https_port_only(run: ProgramRun) -> None:
    """envoyproxy/gateway v1.9.0: a BackendTLSPolicy whose target names no `sectionName` applies to every
    port of the Service (internal/gatewayapi/backendtlspolicy.go `backendTLSTargetMatched`); a backendRef's
    port is matched by the Service port's name (route.go `getTargetBackendReference`). Keycloak's and Dex's
    login routes send plain HTTP to the same Services (ports 80 and 5556), so each policy names the port
    called `https` (codecentric/helm-charts keycloakx-7.1.11 templates/service-http.yaml, dexidp/helm-charts
    dex-0.24.0 templates/service.yaml), the one the JWKS URIs use."""
    policies = objects(run, "BackendTLSPolicy")
    assert policies
    for policy in policies:
        for target in policy["spec"]["targetRefs"]:
            assert target.get("sectionName") == "https", policy["metadata"]
    covered = {(p["metadata"]["namespace"], t["name"]) for p in policies for t in p["spec"]["targetRefs"]}
    for route in objects(run, "HTTPRoute"):
        for rule in route["spec"]["rules"]:
            for ref in rule.get("backendRefs", []):
                if (route["metadata"]["namespace"], ref["name"]) in covered:
                    assert ref["port"] in (endpoints.KEYCLOAK_HTTP_PORT, endpoints.DEX_HTTP_PORT), ref


def test_the_trusted_ca_is_the_one_that_signed_the_served_certificate(run: ProgramRun) -> None:
    """Each BackendTLSPolicy trusts the Secret of a cert-manager Certificate for that Service's names,
    issued by the internal CA's ClusterIssuer that every stack has (gateway/tls.py). Envoy Gateway reads
    such a Secret at `ca.crt` first (envoyproxy/gateway v1.9.0 internal/gatewayapi/backendtlspolicy.go
    `getCaCertsFromCARefs`, helpers.go `CACertKey`), which cert-manager's CA issuer fills with the CA that
    signed the certificate (cert-manager v1.21.1 pkg/controller/certificaterequests/ca/ca.go)."""
    issuers = {i["metadata"]["name"]: i for i in objects(run, "ClusterIssuer")}
    assert "ca" in issuers[endpoints.INTERNAL_ISSUER]["spec"]
    certificates = objects(run, "Certificate")
    policies = objects(run, "BackendTLSPolicy")
    assert {(p["metadata"]["namespace"], p["spec"]["targetRefs"][0]["name"]) for p in policies} >= {
        (endpoints.KEYCLOAK_NAMESPACE, endpoints.KEYCLOAK_SERVICE)
    }
    for policy in policies:
        namespace = policy["metadata"]["namespace"]
        (ref,) = policy["spec"]["validation"]["caCertificateRefs"]
        assert (ref["group"], ref["kind"]) == ("", "Secret")
        (certificate,) = [c for c in in_namespace(certificates, namespace) if c["spec"]["secretName"] == ref["name"]]
        assert policy["spec"]["validation"]["hostname"] in certificate["spec"]["dnsNames"]
        assert certificate["spec"]["issuerRef"] == {
            "group": "cert-manager.io",
            "kind": "ClusterIssuer",
            "name": endpoints.INTERNAL_ISSUER,
        }


def _secret_mount(volumes: list[dict[str, Any]], mounts: list[dict[str, Any]], secret: str) -> str:
    """Where the pod mounts `secret`, as a volume that is not optional (the pod waits for it)."""
    (volume,) = [v for v in volumes if v.get("secret", {}).get("secretName") == secret]
    assert not volume["secret"].get("optional", False)
    (mount,) = [m for m in mounts if m["name"] == volume["name"]]
    return str(mount["mountPath"])


def test_keycloak_serves_https_with_its_certificate_once_it_exists(run: ProgramRun) -> None:
    """codecentric/helm-charts keycloakx-7.1.11: templates/service-http.yaml adds the Service port `https`
    (`service.httpsPort`) to the container's 8443 (templates/statefulset.yaml), and renders `extraVolumes`,
    `extraVolumeMounts` and `extraEnv` with `tpl`. Keycloak 26.5 serves HTTPS from
    KC_HTTPS_CERTIFICATE_FILE / KC_HTTPS_CERTIFICATE_KEY_FILE, and then its management interface (the
    probes' port 9000) too (keycloak.org "Configuring TLS", "Configuring the Management Interface"),
    hence `http.internalScheme: HTTPS`. The chart waits for the Certificate (Pulumi), and the pod for the
    Secret (a volume that is not optional), so Keycloak never starts without its certificate."""
    chart_reg, values = chart(run, "keycloakx")
    assert values["service"]["httpsPort"] == endpoints.KEYCLOAK_HTTPS_PORT
    assert values["http"]["internalScheme"] == "HTTPS"
    directory = _secret_mount(
        yaml.safe_load(values["extraVolumes"]),
        yaml.safe_load(values["extraVolumeMounts"]),
        endpoints.KEYCLOAK_TLS_SECRET,
    )
    env = {e["name"]: e.get("value") for e in yaml.safe_load(values["extraEnv"])}
    assert env["KC_HTTPS_CERTIFICATE_FILE"] == f"{directory}/tls.crt"
    assert env["KC_HTTPS_CERTIFICATE_KEY_FILE"] == f"{directory}/tls.key"
    certificate = registration(run, "Certificate", endpoints.KEYCLOAK_NAMESPACE, endpoints.KEYCLOAK_TLS_SECRET)
    assert certificate.urn in chart_reg.dependencies


def test_dex_serves_https_with_its_certificate_once_it_exists(run: ProgramRun) -> None:
    """dexidp/helm-charts dex-0.24.0 templates/deployment.yaml and service.yaml: `https.enabled` adds
    `--web-https-addr 0.0.0.0:5554` and the Service port `https` (`service.ports.https.port`); dex v2.44.0
    cmd/dex/config.go refuses an HTTPS address without `web.tlsCert` and `web.tlsKey`, and serve.go
    reloads them (`newTLSReloader`). `dex_remote_jwks` names that port, for a Dex JWT provider."""
    chart_reg, values = chart(run, "dex")
    assert values["https"]["enabled"] is True
    directory = _secret_mount(values["volumes"], values["volumeMounts"], endpoints.DEX_TLS_SECRET)
    (config_secret,) = [
        s for s in in_namespace(objects(run, "Secret"), "identity") if s["metadata"]["name"] == "dex-config"
    ]
    web = yaml.safe_load(config_secret["stringData"]["config.yaml"])["web"]
    assert web == {"tlsCert": f"{directory}/tls.crt", "tlsKey": f"{directory}/tls.key"}
    certificate = registration(run, "Certificate", endpoints.DEX_NAMESPACE, endpoints.DEX_TLS_SECRET)
    assert certificate.urn in chart_reg.dependencies
    keys = jwks.dex_remote_jwks()
    assert keys["uri"] == f"https://dex.identity.svc.cluster.local:{endpoints.DEX_HTTPS_PORT}/keys"
    assert keys["backendRefs"] == [
        {"group": "", "kind": "Service", "name": "dex", "namespace": "identity", "port": endpoints.DEX_HTTPS_PORT}
    ]


def test_a_uri_off_the_service_is_refused() -> None:
    """The BackendTLSPolicy verifies the Service's name only: a `remoteJWKS` whose URI names another host
    or port would fetch from the Service anyway (envoyproxy/gateway v1.9.0 ext_service.go routes by
    `backendRefs`), so the URI and the backend must agree."""
    with pytest.raises(ValueError, match="is not on"):
        jwks.keycloak_remote_jwks("https://keycloak-http.keycloak.svc.cluster.local:80/realms/x/certs")
    keys = jwks.keycloak_remote_jwks(f"{endpoints.keycloak_https_url()}/realms/x/protocol/openid-connect/certs")
    assert keys["backendRefs"][0]["port"] == endpoints.KEYCLOAK_HTTPS_PORT
