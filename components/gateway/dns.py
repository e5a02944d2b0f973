"""DNS: one Cloudflare record per public host, pointing at the gateway's reserved address."""

from __future__ import annotations

import pulumi
import pulumi_cloudflare as cloudflare

from .. import config


def dns_records(
    stack: config.StackConfig, hosts: list[str], opts: pulumi.ResourceOptions
) -> dict[str, cloudflare.DnsRecord]:
    cf = stack.edge.cloudflare
    return {
        host: cloudflare.DnsRecord(
            f"dns-{host.removesuffix('.' + stack.domain)}",
            zone_id=cf.zone_id,
            name=host,
            type="A",
            content=stack.edge.load_balancer.address,
            proxied=cf.proxied,
            ttl=1 if cf.proxied else 300,  # proxied records must use "automatic"
            comment="gatehouse: served by the shared gateway",
            opts=opts,
        )
        for host in sorted(set(hosts))
    }
