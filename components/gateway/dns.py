"""DNS: one Cloudflare record per public host, pointing at the gateway's reserved address (none
without Cloudflare: a laptop cluster's domain, such as localtest.me, already resolves)."""

from __future__ import annotations

import pulumi
import pulumi_cloudflare as cloudflare

from .settings import GatewaySettings


def dns_records(
    stack: GatewaySettings, hosts: list[str], opts: pulumi.ResourceOptions
) -> dict[str, cloudflare.DnsRecord]:
    cf, address = stack.edge.cloudflare, stack.edge.load_balancer.address
    if cf is None or address is None:  # config requires the address with Cloudflare
        return {}
    return {
        host: cloudflare.DnsRecord(
            f"dns-{host.removesuffix('.' + stack.domain)}",
            zone_id=cf.zone_id,
            name=host,
            type="A",
            content=address,
            proxied=cf.proxied,
            ttl=1 if cf.proxied else 300,  # proxied records must use "automatic"
            comment="gatehouse: served by the shared gateway",
            opts=opts,
        )
        for host in sorted(set(hosts))
    }
