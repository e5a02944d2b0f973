"""The whole stack configuration, and the site (environment and domain) every plane builds on."""

from __future__ import annotations

from pydantic import Field, model_validator

from . import rules
from .apps import Api, App, PartnerTier
from .cluster import Cluster, Network
from .edge import Edge
from .fields import Domain, Environment, KubernetesVersion, Model
from .gateways import Gateway, default_gateways
from .identity import ArgoCd, Identity
from .problems import reject
from .tenancy import Organization, Tenant


class Site(Model):
    """Where a plane builds: the environment and the domain its hosts live under."""

    environment: Environment
    domain: Domain

    @property
    def is_production(self) -> bool:
        return self.environment == "prod"

    def host(self, label: str) -> str:
        return f"{label}.{self.domain}"


class StackConfig(Model):
    """Every `gatehouse:*` key. components/platform.py hands each plane the sections it reads."""

    environment: Environment
    domain: Domain
    kubernetes_version: KubernetesVersion = "1.33"
    cluster: Cluster
    edge: Edge
    network: Network = Network()
    identity: Identity
    argocd: ArgoCd = ArgoCd()
    apps: list[App] = []
    apis: list[Api] = []
    # globs of API definition files relative to the project (config/definitions.py): their APIs join `apis`
    api_definitions: list[str] = []
    partner_tiers: list[PartnerTier] = []  # m2m clients' subscription tiers (apis[].m2mClients[].tier)
    organizations: list[Organization] = Field(min_length=1)
    tenants: list[Tenant] = []
    # where APIs are served: the public gateway, and internal ones (config/gateways.py)
    gateways: list[Gateway] = Field(default_factory=default_gateways)

    @model_validator(mode="after")
    def _rules_across_entries(self) -> StackConfig:
        reject(rules.check(self), "StackConfig")
        return self

    @property
    def site(self) -> Site:
        return Site(environment=self.environment, domain=self.domain)

    @property
    def uses_private_ca(self) -> bool:
        """No ACME: the gateway's certificate comes from the stack's own CA, which in-cluster clients of
        the public hosts (Dex of Authentik, Argo CD of Dex) must be told to trust."""
        return self.edge.acme is None
