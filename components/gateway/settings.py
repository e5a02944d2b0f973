"""What the gateway plane reads of the stack config, and of the identity plane; components/platform.py
picks it out.

The plane's modules call it `stack`: the stack as this plane sees it.
"""

from __future__ import annotations

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
