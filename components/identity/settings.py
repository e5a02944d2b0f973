"""What the identity plane reads of the stack config; components/platform.py picks it out.

The plane's modules call it `stack`: the stack as this plane sees it.
"""

from __future__ import annotations

from .. import config


class IdentitySettings(config.Site):
    identity: config.Identity
    network: config.Network = config.Network()  # what its egress to the internet never reaches
    argocd: config.ArgoCd
    apps: list[config.App]  # Grafana's host, for its Dex client's redirect URI
    access: dict[str, config.AppAccess]  # app -> who may enter: organization apps are realm clients
    apis: list[config.Api]  # the jwt APIs' scopes and partners, in the Keycloak realm
    organizations: list[config.Organization]  # the realm's groups and their admins
    tenants: list[config.Tenant]  # the GitHub teams Dex lists
    # no ACME: the gateway's certificate comes from the stack's own CA, which Dex (calling Authentik)
    # and Argo CD (calling Dex) must be told to trust
    uses_private_ca: bool
    # the internal gateways: Dex and Argo CD call public hosts on the public gateway's proxies alone
    internal_gateways: list[str] = []
