"""An organization's Cloudflare tunnel: `https://<org>.<domain>` delivers webhooks into its namespace.

Seed 002: a locally managed tunnel, a proxied CNAME `<org>.<domain>` -> `<tunnel-id>.cfargotunnel.com`,
the tunnel credentials as the Secret `cloudflared-credentials-<org>`, and cloudflared running them
(the upstream cloudflare-tunnel chart).
"""

from __future__ import annotations

import pulumi
import pulumi_cloudflare as cloudflare
import pulumi_kubernetes as k8s
import pulumi_random as random

from .. import config, meta
from ..charts import helm_chart
from ..versions import IMAGES

COMPONENT = "organization"
CREDENTIALS_KEY = "credentials.json"  # the file name the chart's cloudflared config reads
# The chart names its objects `<release>-cloudflare-tunnel`; pinned to what the first shared release name
# gave, so objects keep their names (and URNs) and stay short whatever the organization's length.
CHART_FULLNAME = "cloudflared-cloudflare-tunnel"


def tunnel_name(environment: str, org: config.Organization) -> str:
    return f"gatehouse-{environment}-{org.name}"


def release_name(org: config.Organization) -> str:
    """One Helm release per organization: a shared name would make releases (and values files) collide."""
    return f"cloudflared-{org.name}"


def org_tunnel(
    org: config.Organization,
    stack: config.StackConfig,
    cf: config.Cloudflare,
    namespace: k8s.core.v1.Namespace,
    opts: pulumi.ResourceOptions,
) -> cloudflare.DnsRecord:
    name = tunnel_name(stack.environment, org)
    host = stack.host(org.name)
    tunnel_secret = random.RandomBytes(f"{org.name}-tunnel-secret", length=32, opts=opts)
    tunnel = cloudflare.ZeroTrustTunnelCloudflared(
        f"{org.name}-tunnel",
        account_id=cf.account_id,
        name=name,
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
    credentials = k8s.core.v1.Secret(
        f"{org.name}-tunnel-credentials",
        metadata=meta.object_meta(
            f"cloudflared-credentials-{org.name}",
            COMPONENT,
            namespace.metadata.name,
            {meta.ORGANIZATION_LABEL: org.name},
        ),
        type="Opaque",
        string_data={
            CREDENTIALS_KEY: pulumi.Output.json_dumps(
                {"AccountTag": cf.account_id, "TunnelID": tunnel.id, "TunnelSecret": tunnel_secret.base64}
            )
        },
        opts=opts,
    )
    image = IMAGES["cloudflared"]
    service = org.webhook_service
    helm_chart(
        f"{org.name}-cloudflared",
        "cloudflare-tunnel",
        release_name(org),
        namespace.metadata.name,
        {
            "fullnameOverride": CHART_FULLNAME,
            "cloudflare": {
                "account": cf.account_id,
                "tunnelName": name,
                "tunnelId": tunnel.id,
                "secretName": credentials.metadata.name,
                "ingress": [
                    {
                        "hostname": host,
                        "service": f"http://{meta.service_host(service.name, org.namespace)}:{service.port}",
                    }
                ],
            },
            "image": {"repository": image.repository, "tag": image.tag},
            # the org namespace enforces Pod Security "restricted"
            "podSecurityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65532,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        },
        opts,
    )
    return record
