"""The cluster a stack deploys to, and the network ranges its tenants may never reach."""

from __future__ import annotations

from pydantic import Field, field_validator

from .fields import Model, PrivateRange

# Where tenants' pods may never send traffic unless the config says otherwise: RFC 1918, link-local
# (cloud metadata at 169.254.169.254) and RFC 6598 shared space (CGNAT, often the pod range).
DEFAULT_PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"]


class Cluster(Model):
    """The cluster this stack deploys to, by name: a context of the kubeconfig (the secret
    `gatehouse:kubeconfig` when set, the ambient one otherwise). Never the current context."""

    context: str = Field(min_length=1)
    # k3s only (its CoreDNS imports the ConfigMap `coredns-custom`): names under the stack's domain resolve,
    # inside the cluster, to the gateway's Service, for domains that resolve to 127.0.0.1 (localtest.me)
    resolve_domain_to_gateway: bool = False


class Network(Model):
    private_ranges: list[PrivateRange] = Field(default_factory=lambda: list(DEFAULT_PRIVATE_RANGES))

    @field_validator("private_ranges")
    @classmethod
    def _some_range(cls, ranges: list[str]) -> list[str]:
        """An empty list opens every private address (the nodes, the cloud's metadata service) to every tenant."""
        if not ranges:
            raise ValueError(
                "must not be empty: tenants' egress would reach every private address, the cloud's metadata "
                "service included; leave it unset for the defaults"
            )
        return ranges
