"""IdentityStack: who you are.

Platform people sign in through Dex (Authentik, GitHub, Google behind one issuer); tenants through
Keycloak, whose realm is generated from the organizations and APIs in config and reconciled on every
change. Authentik, Dex and Keycloak each keep their data in a CloudNativePG cluster. Argo CD is
installed here too (or an existing one configured), signing in through Dex.

Pod Security: every namespace of the plane enforces `restricted`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from .. import endpoints, meta, network_policies
from ..endpoints import IdentityEndpoints
from . import argocd
from .authentik import authentik
from .clients import DexClient, dex_clients
from .common import CNPG_NAMESPACE, COMPONENT, IDENTITY_NAMESPACE, KEYCLOAK_NAMESPACE, Home, password
from .databases import database, operator
from .dex import connector_secret, dex
from .keycloak import admin_secret, keycloak
from .realm import app_clients
from .realm_sync import realm_sync
from .settings import IdentitySettings


@dataclass(frozen=True)
class IdentityStackArgs:
    settings: IdentitySettings  # what the plane reads of the stack config
    # What installs the Gateway API CRDs (the gateway's CRDs chart): the routes wait for it. An
    # Output is fine, so the gateway may be built after this plane (`pulumi.deferred_output()`).
    gateway_crds: pulumi.Input[Sequence[pulumi.Resource]] = field(default_factory=tuple)
    # The stack's own CA (PEM), for a stack whose gateway certificate it signs (`settings.uses_private_ca`):
    # Dex and Argo CD, which call public hosts, trust it. May also be an Output resolved later.
    private_ca: pulumi.Input[str] | None = None
    # What installs cert-manager and checks its webhook (the gateway's): Keycloak's and Dex's serving
    # Certificates (from the internal CA's ClusterIssuer, on every stack) wait for it. An Output is fine.
    cert_manager: pulumi.Input[Sequence[pulumi.Resource]] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        # One fact, two fields: Dex would mount a CA ConfigMap nothing creates, or Argo CD alone trust it.
        if self.settings.uses_private_ca != (self.private_ca is not None):
            raise ValueError("IdentityStackArgs: private_ca must be given exactly when settings.uses_private_ca")


class IdentityStack(pulumi.ComponentResource):
    endpoints: IdentityEndpoints  # what the gateway needs of this plane
    issuer: str
    clients: dict[str, DexClient]
    keycloak_issuer: str
    keycloak_jwks_uri: str
    public_hosts: list[str]
    namespaces: dict[str, k8s.core.v1.Namespace]  # the plane's namespaces the gateway puts objects in

    def __init__(self, name: str, args: IdentityStackArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gatehouse:identity:IdentityStack", name, None, opts)
        stack = args.settings
        production = stack.is_production
        child = pulumi.ResourceOptions(parent=self)
        routes = pulumi.ResourceOptions(parent=self, depends_on=args.gateway_crds)

        def home(ns: str, gateway_access: bool) -> Home:
            namespace = meta.platform_namespace(ns, COMPONENT, production, child, gateway_access)
            return Home(ns, namespace)

        cnpg = home(CNPG_NAMESPACE, gateway_access=False)
        identity_ns = home(IDENTITY_NAMESPACE, gateway_access=True)
        keycloak_ns = home(KEYCLOAK_NAMESPACE, gateway_access=True)
        fenced = [cnpg, identity_ns, keycloak_ns]

        postgres = operator(cnpg, production, child)
        authentik_db = database("authentik", identity_ns, production, child, postgres)
        dex_db = database("dex", identity_ns, production, child, postgres)
        keycloak_db = database("keycloak", keycloak_ns, production, child, postgres)

        self.clients = dex_clients(stack, child)
        connectors = connector_secret(stack, identity_ns, password("authentik-dex-client", child), child)
        authentik(stack, identity_ns, authentik_db, connectors, child, routes)  # it renders a route
        dex(stack, identity_ns, dex_db, self.clients, connectors, args.private_ca, child, routes, args.cert_manager)

        keycloak_admin = admin_secret(keycloak_ns, production, child)
        keycloak(stack, keycloak_ns, keycloak_db, keycloak_admin, child, routes, args.cert_manager)
        # organization apps' realm clients: the realm and the gateway's OIDC filter share these secrets
        self.app_client_secrets = {
            client_id: password(f"keycloak-app-{client_id}", child) for client_id in app_clients(stack)
        }
        realm_sync(stack, keycloak_ns, keycloak_admin, self.app_client_secrets, child)  # it waits for Keycloak

        # what tenants' AppProjects wait for: the Argo CD install (its CRDs), or None for an existing one
        self.argocd: pulumi.Resource | None = None
        if stack.argocd.install:
            argocd_ns = home(argocd.NAMESPACE, gateway_access=True)
            fenced.append(argocd_ns)
            self.argocd = argocd.install(stack, argocd_ns, self.clients["argocd"], args.private_ca, child, routes)
        else:
            argocd.patch_existing(stack, self.clients["argocd"], args.private_ca, child)

        topology = network_policies.Topology(
            tuple(stack.network.private_ranges), internal_gateways=tuple(stack.internal_gateways)
        )
        network_policies.fence_all({h.name: h.namespace for h in fenced}, topology, child)

        # the signing keys' BackendTLSPolicies and ReferenceGrants (gateway/jwks.py) live beside the Services
        self.namespaces = {h.name: h.namespace for h in (identity_ns, keycloak_ns)}
        self.endpoints = endpoints.identity_endpoints(stack)
        self.issuer = self.endpoints.dex_issuer
        self.keycloak_issuer = self.endpoints.keycloak_issuer
        self.keycloak_jwks_uri = self.endpoints.keycloak_jwks_uri
        self.public_hosts = self.endpoints.public_hosts
        self.register_outputs(
            {
                "issuer": self.issuer,
                "keycloakIssuer": self.keycloak_issuer,
                "keycloakJwksUri": self.keycloak_jwks_uri,
                "publicHosts": self.public_hosts,
                "clients": {c.id: c.redirect_uris for c in self.clients.values()},
            }
        )
