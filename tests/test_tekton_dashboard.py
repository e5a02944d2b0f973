"""The Tekton Dashboard behind staff single sign-on on the `tekton` host (issue 21), as staging renders it.

Upstream: tektoncd/operator v0.81.1 components.yaml pins tektoncd/dashboard v0.71.0, whose config/300-service.yaml
is the Service `tekton-dashboard` on port 9097 and config/300-deployment.yaml its pods (`app: tekton-dashboard`,
containerPort 9097); the operator installs them in the TektonConfig's `targetNamespace`
(pkg/reconciler/kubernetes/tektondashboard/transform.go, `tekton-pipelines` here). Seed 002's Tekton RBAC model
gives Tekton access to the platform groups (admins, and engineering read-only) and to nobody else.
Who gets in, persona by persona, is in tests/test_personas.py; this file holds the route, the policy's groups
and the network path.
"""

from __future__ import annotations

from typing import Any

from helpers import preview_objects

from offline.preview import PreviewResult

HOST = "tekton.staging.platform.example.com"
NAMESPACE = "tekton-pipelines"
GROUPS = {
    f"{source}:platform-{group}"
    for source in ("authentik", "example-org")
    for group in ("admins", "operators", "engineering")
}


def _named(result: PreviewResult, kind: str, name: str, namespace: str) -> dict[str, Any]:
    (found,) = [
        o
        for o in preview_objects(result, kind)
        if o["metadata"]["name"] == name and o["metadata"].get("namespace") == namespace
    ]
    return found


def test_the_tekton_host_routes_to_the_dashboard_service_in_its_namespace(staging_preview: PreviewResult) -> None:
    route = _named(staging_preview, "HTTPRoute", "tekton-dashboard", NAMESPACE)
    assert route["spec"]["hostnames"] == [HOST]
    backends = [b for rule in route["spec"]["rules"] for b in rule["backendRefs"]]
    assert [(b["name"], b["port"]) for b in backends] == [("tekton-dashboard", 9097)]
    (namespace,) = [n for n in preview_objects(staging_preview, "Namespace") if n["metadata"]["name"] == NAMESPACE]
    labels = namespace["metadata"]["labels"]  # Gatehouse's, which the operator adopts as its target namespace
    assert (labels["gatehouse.dev/gateway-access"], labels["pod-security.kubernetes.io/enforce"]) == (
        "true",
        "restricted",
    )


def test_only_the_platform_groups_pass_the_dashboards_sign_in(staging_preview: PreviewResult) -> None:
    policy = _named(staging_preview, "SecurityPolicy", "tekton-dashboard-sso", NAMESPACE)
    assert policy["spec"]["extAuth"]["failOpen"] is False
    authorization = policy["spec"]["authorization"]
    assert authorization["defaultAction"] == "Deny"
    (rule,) = authorization["rules"]  # no Google Workspace rule: seed 002 gives those users no Tekton access
    (claim,) = rule["principal"]["jwt"]["claims"]
    assert (rule["action"], claim["name"], set(claim["values"])) == ("Allow", "groups", GROUPS)


def test_only_the_public_proxies_reach_the_dashboard_pods(staging_preview: PreviewResult) -> None:
    policy = _named(staging_preview, "NetworkPolicy", "allow-tekton-dashboard", NAMESPACE)
    spec = policy["spec"]
    assert spec["podSelector"]["matchLabels"] == {"app": "tekton-dashboard"}
    (ingress,) = spec["ingress"]
    (peer,) = ingress["from"]
    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "envoy-gateway-system"}
    assert peer["podSelector"]["matchLabels"]["gateway.envoyproxy.io/owning-gateway-name"] == "public"
    assert ingress["ports"] == [{"protocol": "TCP", "port": 9097}]
