"""cloudflared: each organization's tunnel runs as objects Gatehouse declares, not as a Helm chart.

Upstream facts are cloudflare/helm-charts at `cloudflare-tunnel-0.3.2` (charts/cloudflare-tunnel/
templates/), the chart these objects replace, and cloudflare/cloudflared at the pinned image tag.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO
from helpers import program_with_stack, run_stack, stack_config

from components.tenancy import tunnel
from components.versions import CHARTS, IMAGES
from offline.manifests import is_kubernetes_object, manifest_of
from offline.records import Registration, Secret
from offline.runtime import ProgramRun

CHART = "kubernetes:helm.sh/v4:Chart"
ORGANIZATION = "gatehouse:tenancy:Organization"


@pytest.fixture(scope="module")
def staging() -> ProgramRun:
    return run_stack(REPO, "staging")


def _organizations(stack: str = "staging") -> list[str]:
    return [o["name"] for o in stack_config(stack)["gatehouse:organizations"]]


def _registration(run: ProgramRun, kind: str, namespace: str, name: str = tunnel.NAME) -> Registration:
    (found,) = [
        r
        for r in run.registrations
        if is_kubernetes_object(r)
        and (obj := manifest_of(r).obj)["kind"] == kind
        and obj["metadata"].get("namespace") == namespace
        and obj["metadata"]["name"] == name
    ]
    return found


def _object(run: ProgramRun, kind: str, namespace: str, name: str = tunnel.NAME) -> dict[str, Any]:
    return manifest_of(_registration(run, kind, namespace, name)).obj


def _pod(run: ProgramRun, namespace: str) -> dict[str, Any]:
    return dict(_object(run, "Deployment", namespace)["spec"]["template"])


def _config(run: ProgramRun, namespace: str) -> dict[str, Any]:
    return dict(yaml.safe_load(_object(run, "ConfigMap", namespace)["data"][tunnel.CONFIG_KEY]))


def test_charts_per_preview_do_not_grow_with_organizations(staging: ProgramRun, tmp_path: Path) -> None:
    """`pulumi preview` renders every Helm chart on every run: organizations add objects, never a chart."""
    config = stack_config("staging")
    config["gatehouse:organizations"] += [
        {"name": f"extra{i}", "displayName": f"Extra {i}", "adminUsers": [f"admin@extra{i}.example.com"]}
        for i in range(4)
    ]
    bigger = run_stack(program_with_stack(tmp_path, "staging", config), "staging")
    charts = [r.urn for r in staging.registrations if r.type == CHART]
    assert [r.urn for r in bigger.registrations if r.type == CHART] == charts
    assert "cloudflare-tunnel" not in CHARTS
    for i in range(4):
        assert _object(bigger, "Deployment", f"org-extra{i}")["spec"]["replicas"] == tunnel.REPLICAS


def test_each_organization_runs_its_own_tunnel_in_its_namespace(staging: ProgramRun) -> None:
    for org in _organizations():
        namespace = f"org-{org}"
        deployment = _registration(staging, "Deployment", namespace)
        owner = next(r for r in staging.registrations if r.type == ORGANIZATION and r.name == org)
        assert deployment.parent == owner.urn
        pod = _pod(staging, namespace)
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        assert volumes["creds"]["secret"]["secretName"] == f"cloudflared-credentials-{org}"
        assert volumes["config"]["configMap"]["name"] == tunnel.NAME
        assert pod["spec"]["serviceAccountName"] == tunnel.NAME
        # what it reads exists before it: Pulumi creates the Deployment after these
        read = {
            _registration(staging, "Secret", namespace, f"cloudflared-credentials-{org}").urn,
            _registration(staging, "ConfigMap", namespace).urn,
            _registration(staging, "ServiceAccount", namespace).urn,
        }
        assert read <= set(deployment.dependencies)


def test_the_service_account_mounts_no_api_token(staging: ProgramRun) -> None:
    """The chart's ServiceAccount (templates/serviceaccount.yaml) exists so cloudflared does not run as
    `default`; cloudflared never calls the Kubernetes API, so no token is mounted either."""
    for org in _organizations():
        assert _object(staging, "ServiceAccount", f"org-{org}")["automountServiceAccountToken"] is False


def test_the_config_file_routes_the_webhook_host_to_its_origin_and_nothing_else(staging: ProgramRun) -> None:
    """templates/configmap.yaml: `credentials-file`, `metrics: 0.0.0.0:2000`, `no-autoupdate: true` and the
    ingress list closed by `http_status:404`; cloudflared ingress/ingress.go refuses a last rule that does
    not match everything. The tunnel is named by ID: cmd/cloudflared/tunnel/subcommand_context.go `findID`
    takes a UUID as is, where a name is looked up in the credentials file or through Cloudflare's API."""
    for org in _organizations():
        namespace = f"org-{org}"
        config = _config(staging, namespace)
        credentials_secret = _object(staging, "Secret", namespace, f"cloudflared-credentials-{org}")
        credentials = json.loads(credentials_secret["stringData"][tunnel.CREDENTIALS_KEY])
        assert config["tunnel"] == credentials["TunnelID"]
        assert config["credentials-file"] == f"{tunnel.CREDENTIALS_DIR}/{tunnel.CREDENTIALS_KEY}"
        assert config["metrics"] == f"0.0.0.0:{tunnel.METRICS_PORT}"
        assert config["no-autoupdate"] is True
        assert config["ingress"] == [
            {
                "hostname": f"{org}.staging.platform.example.com",
                "service": f"http://el-github-listener.{namespace}.svc.cluster.local:8080",
            },
            {"service": "http_status:404"},
        ]
        record = next(r for r in staging.registrations if r.name == f"{org}-webhooks")
        assert record.inputs["content"] == f"{config['tunnel']}.cfargotunnel.com"


def test_the_container_runs_the_tunnel_as_the_images_nonroot_user_read_only(staging: ProgramRun) -> None:
    """cloudflared Dockerfile: `ENTRYPOINT ["cloudflared", "--no-autoupdate"]`, `USER nonroot` of
    distroless (UID 65532): the container gives `args` only, after the entrypoint, as the chart's
    templates/deployment.yaml does. `tunnel run` with `--config` writes nothing: config/configuration.go
    `FindOrCreateConfigPath` creates a default config only in service mode (cmd/cloudflared/main.go
    `handleServiceMode`, cloudflared without arguments), and pid, log and trace files only when asked
    for; so the root filesystem is read-only with no writable volume, as the chart's `securityContext`."""
    assert IMAGES["cloudflared"].tag == "2024.8.3"  # the tag these facts were read at
    for org in _organizations():
        pod = _pod(staging, f"org-{org}")["spec"]
        (container,) = pod["containers"]
        assert "command" not in container
        assert container["args"] == ["tunnel", "--config", f"{tunnel.CONFIG_DIR}/{tunnel.CONFIG_KEY}", "run"]
        assert container["image"] == IMAGES["cloudflared"].ref
        assert pod["securityContext"]["runAsUser"] == 65532 and pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert all(m["readOnly"] for m in container["volumeMounts"])
        assert not [v for v in pod["volumes"] if "emptyDir" in v]


def test_probes_ask_for_a_live_edge_connection(staging: ProgramRun) -> None:
    """cloudflared metrics/readiness.go: `/ready` on the metrics server answers 200 only while a
    connection to Cloudflare's edge is up. Liveness as the chart's (failureThreshold 1); readiness too,
    so a rollout waits for a connected replica."""
    for org in _organizations():
        (container,) = _pod(staging, f"org-{org}")["spec"]["containers"]
        for probe in (container["livenessProbe"], container["readinessProbe"]):
            assert probe["httpGet"] == {"path": "/ready", "port": tunnel.METRICS_PORT}
        assert container["livenessProbe"]["failureThreshold"] == 1
        assert container["ports"] == [{"name": "metrics", "containerPort": tunnel.METRICS_PORT}]


def test_pods_roll_when_the_config_or_the_credentials_change(staging: ProgramRun) -> None:
    """cloudflared reads its config and credentials once, at start: their digests are in the pod template
    (the chart's `checksum/configmap` and `checksum/secret`)."""
    for org in _organizations():
        namespace = f"org-{org}"
        text = _object(staging, "ConfigMap", namespace)["data"][tunnel.CONFIG_KEY]
        annotations = _pod(staging, namespace)["metadata"]["annotations"]
        assert annotations[tunnel.CONFIG_CHECKSUM] == hashlib.sha256(text.encode()).hexdigest()
        inputs = _registration(staging, "Deployment", namespace).inputs
        assert isinstance(inputs["spec"]["template"]["metadata"]["annotations"]["checksum/secrets"], Secret)


def test_the_organization_fence_lets_cloudflared_do_what_it_needs(staging: ProgramRun) -> None:
    """cloudflared dials Cloudflare's edge on port 7844, TCP (HTTP/2) or UDP (QUIC) (supervisor/tunnel.go),
    finds it through DNS (SRV `_v2-origintunneld._tcp.argotunnel.com`, falling back to DNS over TLS at
    1.1.1.1:853, edgediscovery/allregions/discovery.go), and reaches the webhook origin in its own
    namespace. The organization namespace's fence (components/network_policies.py) allows all of that."""
    pod_labels = _pod(staging, "org-acme")["metadata"]["labels"]
    for org in _organizations():
        namespace = f"org-{org}"
        allowed: set[tuple[str, int, str]] = set()  # (peer kind, port, protocol)
        for r in staging.registrations:
            if not is_kubernetes_object(r):
                continue
            policy = manifest_of(r).obj
            if policy["kind"] != "NetworkPolicy" or policy["metadata"].get("namespace") != namespace:
                continue
            spec = policy["spec"]
            if not spec.get("podSelector", {}).get("matchLabels", {}).items() <= pod_labels.items():
                continue
            for rule in spec.get("egress", []):
                for peer in rule["to"]:
                    if "ipBlock" in peer:
                        kind = "public" if peer["ipBlock"]["cidr"] == "0.0.0.0/0" else "other"
                    elif peer.get("namespaceSelector", {}).get("matchLabels") == {
                        "kubernetes.io/metadata.name": namespace
                    }:
                        kind = "own namespace"
                    else:
                        kind = peer.get("podSelector", {}).get("matchLabels", {}).get("k8s-app", "other")
                    allowed |= {(kind, p["port"], p["protocol"]) for p in rule["ports"]}
        assert {
            ("public", 7844, "TCP"),
            ("public", 7844, "UDP"),
            ("public", 853, "TCP"),
            ("kube-dns", 53, "UDP"),
            ("kube-dns", 53, "TCP"),
            ("own namespace", 8080, "TCP"),  # the webhook Service's port (config/tenancy.py)
        } <= allowed, namespace


def test_a_stack_without_cloudflare_runs_no_cloudflared() -> None:
    dev = run_stack(REPO, "dev")
    names = [manifest_of(r).obj["metadata"]["name"] for r in dev.registrations if is_kubernetes_object(r)]
    assert tunnel.NAME not in names and not [n for n in names if n.startswith("cloudflared-")]
