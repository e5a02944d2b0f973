"""An organization's Cloudflare tunnel: `https://<org>.<domain>` delivers webhooks into its namespace.

Seed 002: a locally managed tunnel, a proxied CNAME `<org>.<domain>` -> `<tunnel-id>.cfargotunnel.com`,
the tunnel credentials as the Secret `cloudflared-credentials-<org>`, and cloudflared running them.

cloudflared runs as Kubernetes objects Gatehouse declares itself (ServiceAccount, ConfigMap, Deployment),
not through a Helm chart: `pulumi preview` renders every chart on every run, and one chart per
organization made that cost grow with the organizations. One release serving every tunnel was the other
way: one cloudflared process runs one tunnel, so that would be one shared tunnel, its credentials and
ingress rules for every organization in one namespace, reaching into all the others, and one failure
domain for all their webhooks. Declared objects keep each organization's tunnel in its own namespace,
and CrossGuard and the offline preview see every field.

What they carry over from the chart they replace (cloudflare/helm-charts cloudflare-tunnel-0.3.2,
charts/cloudflare-tunnel/templates/): the config file (the tunnel, the credentials file, metrics on
0.0.0.0:2000, no autoupdate, the ingress rules ending in `http_status:404`), its mounts, two replicas
spread over nodes, the liveness probe on `/ready`, UID 65532 without privileges and with a read-only root
filesystem, and a ServiceAccount of its own. What they add: a readiness probe on `/ready`, so a rollout
(and `pulumi up`) waits for a replica connected to Cloudflare's edge; no API token mounted (cloudflared
never calls the Kubernetes API); and digests of the config and the credentials on the pods, which roll
when either changes (cloudflared reads both only at start).

cloudflared (cloudflare/cloudflared at the pinned tag): the image's entrypoint is `cloudflared
--no-autoupdate` and its user `nonroot` of distroless (Dockerfile), so the container gives only `args`;
`tunnel run` with `--config` writes nothing to disk (config/configuration.go creates a default config only
in service mode, without arguments); `/ready` answers 200 only with a live edge connection
(metrics/readiness.go). Its objects get new names, so replacing the chart's is a handover: the new
replicas connect beside the old ones (a tunnel takes several connectors) before Pulumi deletes the chart.
"""

from __future__ import annotations

import hashlib

import pulumi
import pulumi_cloudflare as cloudflare
import pulumi_kubernetes as k8s
import pulumi_random as random
import yaml

from .. import config, meta
from ..charts import SECRETS_CHECKSUM, SecretData, secrets_checksum
from ..versions import IMAGES

COMPONENT = "organization"
NAME = "cloudflared"  # the ServiceAccount, ConfigMap and Deployment in the organization's namespace
POD_LABELS = {"app.kubernetes.io/name": NAME}
CREDENTIALS_KEY = "credentials.json"
CONFIG_KEY = "config.yaml"
CREDENTIALS_DIR = "/etc/cloudflared/creds"
CONFIG_DIR = "/etc/cloudflared/config"
METRICS_PORT = 2000  # the chart's `metrics: 0.0.0.0:2000`; `/ready` is served there
NONROOT_UID = 65532  # distroless `nonroot`, the image's user
REPLICAS = 2  # the chart's `replicaCount`
CONFIG_CHECKSUM = "checksum/config"
RESOURCES = k8s.core.v1.ResourceRequirementsArgs(
    requests={"cpu": "50m", "memory": "64Mi"}, limits={"cpu": "500m", "memory": "256Mi"}
)


def tunnel_name(environment: str, org: config.Organization) -> str:
    return f"gatehouse-{environment}-{org.name}"


def credentials_name(org: config.Organization) -> str:
    return f"cloudflared-credentials-{org.name}"


def cloudflared_config(tunnel_id: str, host: str, origin: str) -> str:
    """cloudflared's config file: the tunnel by ID (no lookup by name), `host` to `origin`, 404 for the rest."""
    document = {
        "tunnel": tunnel_id,
        "credentials-file": f"{CREDENTIALS_DIR}/{CREDENTIALS_KEY}",
        "metrics": f"0.0.0.0:{METRICS_PORT}",
        "no-autoupdate": True,
        "ingress": [{"hostname": host, "service": origin}, {"service": "http_status:404"}],
    }
    return yaml.safe_dump(document, sort_keys=False)


def org_tunnel(
    org: config.Organization,
    stack: config.Site,
    cf: config.Cloudflare,
    namespace: k8s.core.v1.Namespace,
    opts: pulumi.ResourceOptions,
) -> cloudflare.DnsRecord:
    host = stack.host(org.name)
    tunnel_secret = random.RandomBytes(f"{org.name}-tunnel-secret", length=32, opts=opts)
    tunnel = cloudflare.ZeroTrustTunnelCloudflared(
        f"{org.name}-tunnel",
        account_id=cf.account_id,
        name=tunnel_name(stack.environment, org),
        config_src="local",
        tunnel_secret=tunnel_secret.base64,
        opts=opts,
    )
    record = cloudflare.DnsRecord(
        f"{org.name}-webhooks",
        zone_id=cf.zone_id,
        name=host,
        type="CNAME",
        content=tunnel.id.apply(lambda tunnel_id: f"{tunnel_id}.cfargotunnel.com"),
        proxied=True,
        ttl=1,  # "automatic": required for proxied records
        comment=f"gatehouse: webhooks of organization {org.name}",
        opts=opts,
    )
    org_labels = {meta.ORGANIZATION_LABEL: org.name}
    ns = namespace.metadata.name
    credentials_data: dict[str, pulumi.Input[str]] = {
        CREDENTIALS_KEY: pulumi.Output.json_dumps(
            {"AccountTag": cf.account_id, "TunnelID": tunnel.id, "TunnelSecret": tunnel_secret.base64}
        )
    }
    credentials = k8s.core.v1.Secret(
        f"{org.name}-tunnel-credentials",
        metadata=meta.object_meta(credentials_name(org), COMPONENT, ns, org_labels),
        type="Opaque",
        string_data=credentials_data,
        opts=opts,
    )
    service = org.webhook_service
    origin = f"http://{meta.service_host(service.name, org.namespace)}:{service.port}"
    config_text = tunnel.id.apply(lambda tunnel_id: cloudflared_config(tunnel_id, host, origin))
    cloudflared(
        org,
        ns,
        config_text,
        SecretData(credentials_name(org), credentials, credentials_data),
        opts,
    )
    return record


def _probe(failure_threshold: int) -> k8s.core.v1.ProbeArgs:
    ready = k8s.core.v1.HTTPGetActionArgs(path="/ready", port=METRICS_PORT)
    return k8s.core.v1.ProbeArgs(
        http_get=ready, initial_delay_seconds=10, period_seconds=10, failure_threshold=failure_threshold
    )


def cloudflared(
    org: config.Organization,
    namespace: pulumi.Input[str],
    config_text: pulumi.Output[str],
    credentials: SecretData,
    opts: pulumi.ResourceOptions,
) -> k8s.apps.v1.Deployment:
    """The ServiceAccount, the config file's ConfigMap and the Deployment running the tunnel in `namespace`."""
    org_labels = {meta.ORGANIZATION_LABEL: org.name}
    account = k8s.core.v1.ServiceAccount(
        f"{org.name}-cloudflared",
        metadata=meta.object_meta(NAME, COMPONENT, namespace, org_labels),
        automount_service_account_token=False,
        opts=opts,
    )
    config_map = k8s.core.v1.ConfigMap(
        f"{org.name}-cloudflared",
        metadata=meta.object_meta(NAME, COMPONENT, namespace, org_labels),
        data={CONFIG_KEY: config_text},
        opts=opts,
    )
    container = k8s.core.v1.ContainerArgs(
        name=NAME,
        image=IMAGES["cloudflared"].ref,
        image_pull_policy="IfNotPresent",
        # after the image's entrypoint, `cloudflared --no-autoupdate`
        args=["tunnel", "--config", f"{CONFIG_DIR}/{CONFIG_KEY}", "run"],
        ports=[k8s.core.v1.ContainerPortArgs(name="metrics", container_port=METRICS_PORT)],
        liveness_probe=_probe(failure_threshold=1),  # the chart's: no edge connection, restart
        readiness_probe=_probe(failure_threshold=3),
        resources=RESOURCES,
        security_context=k8s.core.v1.SecurityContextArgs(
            allow_privilege_escalation=False,
            capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
            read_only_root_filesystem=True,
        ),
        volume_mounts=[
            k8s.core.v1.VolumeMountArgs(name="config", mount_path=CONFIG_DIR, read_only=True),
            k8s.core.v1.VolumeMountArgs(name="creds", mount_path=CREDENTIALS_DIR, read_only=True),
        ],
    )
    spread = k8s.core.v1.WeightedPodAffinityTermArgs(
        weight=10,
        pod_affinity_term=k8s.core.v1.PodAffinityTermArgs(
            topology_key="kubernetes.io/hostname",
            label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=POD_LABELS),
        ),
    )
    checksums = {
        CONFIG_CHECKSUM: config_text.apply(lambda text: hashlib.sha256(text.encode()).hexdigest()),
        SECRETS_CHECKSUM: secrets_checksum([(credentials.name, CREDENTIALS_KEY)], [credentials]),
    }
    return k8s.apps.v1.Deployment(
        f"{org.name}-cloudflared",
        metadata=meta.object_meta(NAME, COMPONENT, namespace, org_labels),
        spec=k8s.apps.v1.DeploymentSpecArgs(
            replicas=REPLICAS,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=POD_LABELS),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    labels=meta.labels(COMPONENT, {**org_labels, **POD_LABELS}), annotations=checksums
                ),
                spec=k8s.core.v1.PodSpecArgs(
                    service_account_name=account.metadata.name,
                    security_context=k8s.core.v1.PodSecurityContextArgs(
                        run_as_non_root=True,
                        run_as_user=NONROOT_UID,
                        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
                    ),
                    containers=[container],
                    volumes=[
                        k8s.core.v1.VolumeArgs(
                            name="config",
                            config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=config_map.metadata.name),
                        ),
                        k8s.core.v1.VolumeArgs(
                            name="creds",
                            secret=k8s.core.v1.SecretVolumeSourceArgs(secret_name=credentials.resource.metadata.name),
                        ),
                    ],
                    affinity=k8s.core.v1.AffinityArgs(
                        pod_anti_affinity=k8s.core.v1.PodAntiAffinityArgs(
                            preferred_during_scheduling_ignored_during_execution=[spread]
                        )
                    ),
                ),
            ),
        ),
        opts=opts,
    )
