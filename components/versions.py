"""Every chart, image and CRD bundle Gatehouse deploys, pinned in one place.

Chart versions match the upstream files vendored in ../shared/upstream (see its SOURCES.md), which
the offline preview validates chart values against.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChartPin:
    chart: str  # chart name, or an oci:// reference
    version: str
    repo: str | None = None  # Helm repository URL (None for oci://)


CHARTS: dict[str, ChartPin] = {
    "envoy-gateway": ChartPin("oci://docker.io/envoyproxy/gateway-helm", "v1.9.0"),
    "gateway-crds": ChartPin("oci://docker.io/envoyproxy/gateway-crds-helm", "v1.9.0"),
    "cert-manager": ChartPin("cert-manager", "v1.21.1", "https://charts.jetstack.io"),
    "oauth2-proxy": ChartPin("oauth2-proxy", "10.7.0", "https://oauth2-proxy.github.io/manifests"),
    "grafana": ChartPin("grafana", "12.11.1", "https://grafana-community.github.io/helm-charts"),
    "dex": ChartPin("dex", "0.24.0", "https://charts.dexidp.io"),
    "authentik": ChartPin("authentik", "2026.8.0", "https://charts.goauthentik.io"),
    "cloudnative-pg": ChartPin("cloudnative-pg", "0.29.0", "https://cloudnative-pg.github.io/charts"),
    "external-secrets": ChartPin("external-secrets", "2.9.0", "https://charts.external-secrets.io"),
    "valkey": ChartPin("valkey", "0.11.0", "https://valkey.io/valkey-helm/"),
    "keycloakx": ChartPin("keycloakx", "7.1.11", "https://codecentric.github.io/helm-charts"),
    "argo-cd": ChartPin("argo-cd", "10.1.1", "https://argoproj.github.io/argo-helm"),
    # tektoncd/operator v0.81.1's chart, as its release workflow (.github/workflows/helm-release.yaml) pushes it:
    # `helm push` to oci://ghcr.io/tektoncd/operator/charts, chart version the tag without its `v`. The operator
    # installs Tekton Pipelines v1.15.0 and Triggers v0.37.0 (TEKTON below) from a TektonConfig.
    "tekton-operator": ChartPin("oci://ghcr.io/tektoncd/operator/charts/tekton-operator", "0.81.1"),
}

# What the pinned operator installs (tektoncd/operator v0.81.1 `components.yaml`), which the vendored Tekton CRDs
# (../shared/upstream/tekton/crds) and the facts read in tektoncd/pipeline and tektoncd/triggers are at.
TEKTON = {"pipeline": "v1.15.0", "triggers": "v0.37.0", "operator": "v0.81.1"}


@dataclass(frozen=True)
class ImagePin:
    repository: str
    tag: str

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.tag}"


IMAGES: dict[str, ImagePin] = {
    "oauth2-proxy": ImagePin("quay.io/oauth2-proxy/oauth2-proxy", "v7.15.3"),
    # run as Gatehouse's own objects (tenancy/tunnel.py); the release the cloudflare-tunnel chart 0.3.2
    # shipped, whose source (Dockerfile, metrics/, config/) those objects were checked against
    "cloudflared": ImagePin("docker.io/cloudflare/cloudflared", "2024.8.3"),
    "postgresql": ImagePin("ghcr.io/cloudnative-pg/postgresql", "17.6"),
    "keycloak": ImagePin("quay.io/keycloak/keycloak", "26.5.6"),  # the keycloakx chart's appVersion
    # the release built and tested against Keycloak 26.5 (its pom.xml and CI matrix: 26.5.4)
    "keycloak-config-cli": ImagePin("docker.io/adorsys/keycloak-config-cli", "6.5.0-26.5.4"),
    "argocd": ImagePin("quay.io/argoproj/argocd", "v3.4.4"),  # the argo-cd chart's appVersion
    # the argo-cd chart's Redis (its `redis.image.tag`), from Docker Hub's official image rather than the
    # chart's ECR Public mirror, which `workload-image-registry` does not allow
    "argocd-redis": ImagePin("docker.io/library/redis", "8.2.3-alpine"),
    "envoy-gateway": ImagePin("docker.io/envoyproxy/gateway", "v1.9.0"),
    "valkey": ImagePin("docker.io/valkey/valkey", "9.1.1"),
    "grafana": ImagePin("docker.io/grafana/grafana", "13.2.0"),
    # run outside its chart (gateway/cert_manager_check.py), at the chart's version as the chart runs it
    "cert-manager-startupapicheck": ImagePin(
        "quay.io/jetstack/cert-manager-startupapicheck", CHARTS["cert-manager"].version
    ),
}
