"""The dev stack: a laptop cluster (k3d) with no Cloudflare, the stack's own CA, and *.localtest.me."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from conftest import REPO

from offline.manifests import chart_values_of, is_helm_chart, is_kubernetes_object, manifest_of
from offline.records import reveal
from offline.runtime import ProgramRun, run_program
from offline.stack_config import load_stack_config


@pytest.fixture(scope="module")
def dev() -> ProgramRun:
    run = run_program(REPO, load_stack_config(REPO, "dev"))
    assert run.error is None, run.error
    return run


def objects(run: ProgramRun, kind: str) -> list[dict[str, Any]]:
    return [m.obj for m in map(manifest_of, filter(is_kubernetes_object, run.registrations)) if m.kind == kind]


def one(run: ProgramRun, kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in objects(run, kind) if o["metadata"]["name"] == name]
    return found


def values(run: ProgramRun, chart: str) -> dict[str, Any]:
    (found,) = [c.values for c in map(chart_values_of, filter(is_helm_chart, run.registrations)) if c.chart == chart]
    return found


def test_nothing_of_cloudflare(dev: ProgramRun) -> None:
    assert not [r for r in dev.registrations if r.type.startswith(("cloudflare:", "pulumi:providers:cloudflare"))]
    assert not [c for c in map(chart_values_of, filter(is_helm_chart, dev.registrations)) if "cloudflare" in c.chart]
    assert dev.exports["webhookUrls"] == {}
    assert not [s for s in objects(dev, "Secret") if s["metadata"]["name"] == "cloudflare-api-token"]


def test_the_gateway_certificate_comes_from_the_stacks_own_ca(dev: ProgramRun) -> None:
    """Without ACME the Gateway's cert-manager annotation names the CA issuer, and no Let's Encrypt issuer
    (which would need DNS-01 at Cloudflare) exists."""
    gateway = one(dev, "Gateway", "public")
    assert gateway["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "internal-ca"}
    (listener,) = [x for x in gateway["spec"]["listeners"] if x["name"] == "https"]
    assert listener["hostname"] == "*.localtest.me"
    issuers = {i["metadata"]["name"]: i["spec"] for i in objects(dev, "ClusterIssuer")}
    assert issuers == {"internal-ca": {"ca": {"secretName": "gatehouse-internal-ca"}}}
    service = one(dev, "EnvoyProxy", "public-proxy")["spec"]["provider"]["kubernetes"]["envoyService"]
    assert "loadBalancerIP" not in service  # k3d's service load balancer picks the address


def test_in_cluster_names_of_the_domain_reach_the_gateway(dev: ProgramRun) -> None:
    """Every name under localtest.me is 127.0.0.1, inside a pod too, where that is the pod itself. k3s's
    CoreDNS (k3s manifests/coredns.yaml, k3s-io/k3s#4397) imports `*.override` keys of the optional ConfigMap
    `coredns-custom` in kube-system into its main server block; CoreDNS's rewrite plugin (v1.12.0
    plugin/rewrite/README.md) answers a `name regex` match with the named Service's address, and with
    `answer auto` under the name that was asked. The Service is the one the EnvoyProxy names (Envoy Gateway
    v1.9.0 EnvoyProxy `envoyService.name`)."""
    data = one(dev, "ConfigMap", "coredns-custom")
    assert data["metadata"]["namespace"] == "kube-system"
    (override,) = data["data"].values()
    assert override == (
        "rewrite stop {\n"
        "    name regex ^(.+\\.)?localtest\\.me\\.$ envoy-public.envoy-gateway-system.svc.cluster.local answer auto\n"
        "}\n"
    )
    assert list(data["data"]) == ["gatehouse.override"]
    service = one(dev, "EnvoyProxy", "public-proxy")["spec"]["provider"]["kubernetes"]["envoyService"]
    assert service["name"] == "envoy-public"


def test_servers_calling_public_hosts_trust_the_stacks_ca(dev: ProgramRun) -> None:
    """Dex fetches Authentik's issuer (dex v2.44.0 connector/oidc/oidc.go `rootCAs`: file paths added to the
    system pool) and Argo CD Dex's (argo-cd v3.4.4 OIDCConfig `rootCA`, a PEM): both through the gateway,
    whose certificate the stack's own CA signs here."""
    (ca,) = [
        r for r in dev.registrations if r.type == "tls:index/selfSignedCert:SelfSignedCert" and r.name == "internal-ca"
    ]
    pem = reveal(ca.outputs["certPem"])
    dex_config = yaml.safe_load(one(dev, "Secret", "dex-config")["stringData"]["config.yaml"])
    (authentik,) = [c for c in dex_config["connectors"] if c["id"] == "authentik"]
    assert authentik["config"]["rootCAs"] == ["/etc/gatehouse-ca/ca.crt"]
    assert one(dev, "ConfigMap", "gatehouse-ca")["data"] == {"ca.crt": pem}
    dex = values(dev, "dex")
    mount = next(m for m in dex["volumeMounts"] if m["mountPath"] == "/etc/gatehouse-ca")
    assert {"name": mount["name"], "configMap": {"name": "gatehouse-ca"}} in dex["volumes"]
    oidc = yaml.safe_load(values(dev, "argo-cd")["configs"]["cm"]["oidc.config"])
    assert oidc["rootCA"] == pem


def test_a_stack_with_public_certificates_trusts_nothing_more(dev: ProgramRun) -> None:
    staging = run_program(REPO, load_stack_config(REPO, "staging"))
    dex_config = yaml.safe_load(one(staging, "Secret", "dex-config")["stringData"]["config.yaml"])
    assert all("rootCAs" not in c["config"] for c in dex_config["connectors"])
    assert "rootCA" not in yaml.safe_load(values(staging, "argo-cd")["configs"]["cm"]["oidc.config"])
    assert not [c for c in objects(staging, "ConfigMap") if c["metadata"]["name"] in ("gatehouse-ca", "coredns-custom")]
