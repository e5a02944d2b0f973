"""What the gateway plane reads of the stack config, and of the identity plane; components/platform.py
picks it out.

The plane's modules call it `stack`: the stack as this plane sees it.
"""

from __future__ import annotations

from pydantic import Field

from .. import config
from ..endpoints import IdentityEndpoints


class GatewaySettings(config.Site):
    edge: config.Edge
    network: config.Network  # oauth2-proxy trusts forwarded headers from these ranges only
    # k3s only: names under the domain resolve, inside the cluster, to the gateway (`cluster` section)
    resolve_domain_to_gateway: bool
    apps: list[config.App]
    access: dict[str, config.AppAccess]  # app -> who may enter (audience, groups or organizations)
    apis: list[config.Api]
    partner_tiers: list[config.PartnerTier] = []  # the m2m clients' rate limits (apis[].m2mClients[].tier)
    identity: IdentityEndpoints  # the issuers, sign-in hosts and portal origin the identity plane serves
    # the public gateway and the internal ones (config/gateways.py); every API names one
    gateways: list[config.Gateway] = Field(default_factory=config.gateways.default_gateways)

    def gateway(self, name: str) -> config.Gateway:
        (found,) = [g for g in self.gateways if g.name == name]  # config checks every API's gateway exists
        return found

    def api_host(self, api: config.Api) -> str:
        """The API's host, under its gateway's domain: `tickets.<domain>`, `catalog.internal.<domain>`."""
        return f"{api.host_label}.{self.gateway(api.gateway).domain(self.domain)}"

    @property
    def public_apis(self) -> list[config.Api]:
        """The APIs the public gateway serves (each gets a public DNS record)."""
        return [a for a in self.apis if not self.gateway(a.gateway).internal]
