"""The edge: the load balancer's address, Cloudflare DNS and Let's Encrypt certificates."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from .fields import Cidr, CloudflareId, Email, IPv4, Model
from .problems import Problem, reject


class LoadBalancer(Model):
    # reserved IP: DNS records point at it and never wait on, or flap with, the Service (required with
    # Cloudflare DNS; a laptop cluster's load balancer picks its own)
    address: IPv4 | None = None
    annotations: dict[str, str] = {}
    source_ranges: list[Cidr] = []


class Cloudflare(Model):
    zone_id: CloudflareId
    account_id: CloudflareId
    proxied: bool = False


class Acme(Model):
    email: Email
    server: Literal[
        "https://acme-v02.api.letsencrypt.org/directory",
        "https://acme-staging-v02.api.letsencrypt.org/directory",
    ] = "https://acme-v02.api.letsencrypt.org/directory"


class Edge(Model):
    load_balancer: LoadBalancer = LoadBalancer()
    cloudflare: Cloudflare | None = None  # no Cloudflare: no DNS records, no webhook tunnels
    acme: Acme | None = None  # no ACME: the gateway's certificate comes from the stack's own CA

    @model_validator(mode="after")
    def _cloudflare_needs(self) -> Edge:
        """Let's Encrypt certificates come through DNS-01 at Cloudflare, and Cloudflare's records point at
        the load balancer's reserved address."""
        problems = []
        if self.acme and not self.cloudflare:
            problems.append(Problem(("acme",), "needs edge.cloudflare: certificates are issued through DNS-01 there"))
        if self.cloudflare and not self.load_balancer.address:
            address = (self.key("load_balancer"), "address")
            problems.append(Problem(address, "is required with edge.cloudflare: DNS points at it"))
        reject(problems, "Edge")
        return self
