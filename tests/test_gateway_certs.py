"""What Helm hooks would have done, done by Gatehouse: helm.v4.Chart installs no hook resources.

Envoy Gateway's `certgen` pre-install Job (its control-plane Secrets) and cert-manager's
`startupapicheck` post-install Job (the issuers wait for the webhook) are replaced by resources of ours.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from helpers import run_preview

from components.gateway.control_plane_tls import controller_dns_names
from offline.preview import PreviewResult
from offline.records import Registration, Secret

NS = "envoy-gateway-system"
TLS_KEYS = {"ca.crt", "tls.crt", "tls.key"}
# certgen v1.9 (internal/provider/kubernetes/secrets.go CertsToSecret)
EXPECTED_SECRETS = {
    "envoy-gateway": ("kubernetes.io/tls", TLS_KEYS),
    "envoy": ("kubernetes.io/tls", TLS_KEYS),
    "envoy-rate-limit": ("kubernetes.io/tls", TLS_KEYS),
    "envoy-oidc-hmac": ("Opaque", {"hmac-secret"}),
}
# certgen v1.9 (internal/crypto/certgen.go GenerateCerts), the chart's Service `envoy-gateway`
EXPECTED_SUBJECTS = {
    "eg-envoy-gateway": (
        "envoy-gateway",
        [
            "envoy-gateway",
            "envoy-gateway.envoy-gateway-system",
            "envoy-gateway.envoy-gateway-system.svc",
            "envoy-gateway.envoy-gateway-system.svc.cluster.local",
        ],
    ),
    "eg-envoy": ("*", ["*.envoy-gateway-system"]),
    "eg-envoy-rate-limit": ("*", ["*.envoy-gateway-system"]),
}


@pytest.fixture(scope="module", params=["staging", "prod"])
def preview(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, PreviewResult, Path]:
    stack = request.param
    out = tmp_path_factory.mktemp(stack)
    result, printed = run_preview(REPO, out, stack=stack, policy_config=REPO / "policy" / f"{stack}.json")
    assert result.exit_code == 0, printed
    return stack, result, out


def registrations(result: PreviewResult) -> list[Registration]:
    assert result.run is not None
    return result.run.registrations


def reg(result: PreviewResult, type_: str, name: str) -> Registration:
    (found,) = [r for r in registrations(result) if r.type == type_ and r.name == name]
    return found


def control_plane_secrets(result: PreviewResult) -> dict[str, dict[str, Any]]:
    return {
        m.obj["metadata"]["name"]: m.obj
        for m in result.manifests
        if m.kind == "Secret" and m.obj["metadata"].get("labels", {}).get("control-plane") == "envoy-gateway"
    }


def test_secrets_have_certgens_names_types_and_keys(preview) -> None:
    _, result, _ = preview
    secrets = control_plane_secrets(result)
    assert set(secrets) == set(EXPECTED_SECRETS)
    for name, (type_, keys) in EXPECTED_SECRETS.items():
        secret = secrets[name]
        assert secret["metadata"]["namespace"] == NS, name
        assert secret["type"] == type_, name
        assert set(secret.get("stringData") or secret.get("data")) == keys, name
    # each leaf Secret carries the one CA that signed it
    cas = {secrets[n]["stringData"]["ca.crt"] for n in ("envoy-gateway", "envoy", "envoy-rate-limit")}
    assert cas == {reg(result, "tls:index/selfSignedCert:SelfSignedCert", "eg-ca").outputs["certPem"]}


def test_certificate_subjects_and_sans_match_the_chart(preview) -> None:
    _, result, _ = preview
    for name, (common_name, dns_names) in EXPECTED_SUBJECTS.items():
        request = reg(result, "tls:index/certRequest:CertRequest", name)
        assert request.inputs["subject"] == {"commonName": common_name}, name
        assert request.inputs["dnsNames"] == dns_names, name
    values = next(c.values for c in result.charts if c.release == "envoy-gateway")
    assert values["kubernetesClusterDomain"] == "cluster.local"  # what certgen and the controller assume
    assert values["topologyInjector"] == {"enabled": False}  # its webhook is a hook, never installed


def test_controller_sans_follow_namespace_and_cluster_domain() -> None:
    assert controller_dns_names("eg", "corp.internal") == [
        "envoy-gateway",
        "envoy-gateway.eg",
        "envoy-gateway.eg.svc",
        "envoy-gateway.eg.svc.corp.internal",
    ]


def test_chain_validity_and_early_renewal(preview) -> None:
    _, result, _ = preview
    ca = reg(result, "tls:index/selfSignedCert:SelfSignedCert", "eg-ca").inputs
    assert ca["isCaCertificate"] is True
    assert set(ca["allowedUses"]) == {"cert_signing", "key_encipherment", "digital_signature"}
    assert (ca["validityPeriodHours"], ca["earlyRenewalHours"]) == (87600, 17520)
    ca_key = reg(result, "tls:index/privateKey:PrivateKey", "eg-ca")
    assert (ca_key.inputs["algorithm"], ca_key.inputs["rsaBits"]) == ("RSA", 2048)
    for name in EXPECTED_SUBJECTS:
        leaf = reg(result, "tls:index/locallySignedCert:LocallySignedCert", name)
        assert (leaf.inputs["validityPeriodHours"], leaf.inputs["earlyRenewalHours"]) == (17520, 4320), name
        # a leaf never outlives its CA: the CA renews at least a leaf's lifetime before it expires
        assert leaf.inputs["validityPeriodHours"] <= ca["earlyRenewalHours"]
        assert leaf.inputs["allowedUses"] == [
            "digital_signature",
            "data_encipherment",
            "key_encipherment",
            "content_commitment",
        ]
        ca_urns = {r.urn for r in registrations(result) if r.name == "eg-ca"}
        assert ca_urns <= set(leaf.dependencies), name


def test_private_keys_and_hmac_stay_secret(preview) -> None:
    _, result, out = preview
    recorded = {(r["type"], r["name"]): r for r in json.loads((out / "resources.json").read_text())}
    secret_type = "kubernetes:core/v1:Secret"
    for name in ("eg-envoy-gateway", "eg-envoy", "eg-envoy-rate-limit"):
        assert recorded[(secret_type, name)]["secret_inputs"] == ["stringData"], name
        assert recorded[(secret_type, name)]["inputs"]["stringData"] == dict.fromkeys(TLS_KEYS, "[secret]"), name
        assert isinstance(reg(result, secret_type, name).inputs["stringData"], Secret), name
        request = recorded[("tls:index/certRequest:CertRequest", name)]
        assert request["secret_inputs"] == ["privateKeyPem"], name
        assert recorded[("tls:index/locallySignedCert:LocallySignedCert", name)]["secret_inputs"] == ["caPrivateKeyPem"]
    hmac = recorded[(secret_type, "eg-envoy-oidc-hmac")]
    assert hmac["secret_inputs"] == ["data"] and hmac["inputs"]["data"] == {"hmac-secret": "[secret]"}
    hmac_reg = reg(result, secret_type, "eg-envoy-oidc-hmac")
    assert isinstance(hmac_reg.inputs["data"], Secret)
    # the raw 32 bytes certgen makes, base64 in `data`
    assert reg(result, "random:index/randomBytes:RandomBytes", "eg-envoy-oidc-hmac").inputs["length"] == 32
    assert recorded[("tls:index/selfSignedCert:SelfSignedCert", "eg-ca")]["secret_inputs"] == ["privateKeyPem"]


def test_secrets_are_made_beside_the_chart_in_its_namespace(preview) -> None:
    """kubelet holds the controller's pod until its Secret volumes exist: waiting would only lengthen
    `pulumi up`'s critical path (the chain test in test_stacks.py)."""
    _, result, _ = preview
    chart = reg(result, "kubernetes:helm.sh/v4:Chart", "envoy-gateway")
    secret_urns = {
        r.urn for r in registrations(result) if r.type == "kubernetes:core/v1:Secret" and r.name.startswith("eg-")
    }
    assert len(secret_urns) == 4
    assert not secret_urns & set(chart.dependencies)
    assert reg(result, "kubernetes:helm.sh/v4:Chart", "gateway-crds").urn in chart.dependencies
    namespace = reg(result, "kubernetes:core/v1:Namespace", NS)
    for urn in secret_urns:
        assert namespace.urn in next(r for r in registrations(result) if r.urn == urn).dependencies


def test_keys_and_secrets_protected_in_prod_certificates_renewable(preview) -> None:
    stack, result, _ = preview
    for r in registrations(result):
        if not r.name.startswith("eg-"):
            continue
        renewable = r.type in (
            "tls:index/selfSignedCert:SelfSignedCert",
            "tls:index/locallySignedCert:LocallySignedCert",
        )
        # a protected certificate could not be replaced by its renewal
        expected = stack == "prod" and not renewable and r.type != "tls:index/certRequest:CertRequest"
        assert r.protect is expected, r.urn


def test_issuers_wait_for_cert_managers_api_check(preview) -> None:
    """The check's Role grants what `check api` does: cert-manager v1.21.1 creates dry-run
    CertificateRequests (pkg/util/cmapichecker/cmapichecker.go; deploy/charts/cert-manager/templates/
    startupapicheck-rbac.yaml grants `create` on `certificaterequests`). With `certificates` only, the
    Job is forbidden on every attempt and the ClusterIssuers that wait for it are never created."""
    _, result, _ = preview
    values = next(c.values for c in result.charts if c.release == "cert-manager")
    assert values["startupapicheck"] == {"enabled": False}  # its hook Job would never run
    job_reg = reg(result, "kubernetes:batch/v1:Job", "cert-manager-startupapicheck")
    chart = reg(result, "kubernetes:helm.sh/v4:Chart", "cert-manager")
    assert chart.urn in job_reg.dependencies
    for kind in ("core/v1:ServiceAccount", "rbac.authorization.k8s.io/v1:Role"):
        rbac = reg(result, f"kubernetes:{kind}", "cert-manager-startupapicheck")
        assert rbac.urn in job_reg.dependencies and chart.urn not in rbac.dependencies  # made beside the chart
    for issuer in ("letsencrypt", "internal-ca-issuer"):
        assert job_reg.urn in reg(result, "kubernetes:cert-manager.io/v1:ClusterIssuer", issuer).dependencies
    job = next(m.obj for m in result.manifests if m.kind == "Job")
    assert job["metadata"]["namespace"] == "cert-manager"
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "quay.io/jetstack/cert-manager-startupapicheck:v1.21.1"
    assert container["args"][:2] == ["check", "api"]
    assert pod["serviceAccountName"] == "cert-manager-startupapicheck"
    role = next(
        m.obj for m in result.manifests if m.kind == "Role" and m.obj["metadata"]["namespace"] == "cert-manager"
    )
    assert role["rules"] == [
        {"apiGroups": ["cert-manager.io"], "resources": ["certificaterequests"], "verbs": ["create"]}
    ]


def test_each_leaf_is_signed_from_its_own_request(preview) -> None:
    _, result, _ = preview
    by_urn = {r.urn: r for r in registrations(result)}
    leaves = [r for r in registrations(result) if r.type == "tls:index/locallySignedCert:LocallySignedCert"]
    assert len(leaves) == 3
    for leaf in leaves:
        request = next(by_urn[d] for d in leaf.dependencies if by_urn[d].type == "tls:index/certRequest:CertRequest")
        assert leaf.inputs["certRequestPem"] == request.outputs["certRequestPem"]
        assert leaf.inputs["certRequestPem"].startswith("-----BEGIN CERTIFICATE REQUEST-----\n")
