"""Dex's static clients: who may ask Dex for a token, and where Dex may send it.

The ids and redirect URIs are computed once here; Dex's config, Argo CD's `argocd-cm` and the
gateway (through `IdentityStack.clients`) all read them from this one place, so they cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from .. import endpoints
from .common import password
from .settings import IdentitySettings

GRAFANA_APP = "grafana"  # the app entry whose host Grafana is served on (default host label: grafana)


@dataclass(frozen=True)
class DexClient:
    id: str
    secret: pulumi.Output[str]  # a Pulumi secret, generated once
    redirect_uris: list[str]

    @property
    def secret_env(self) -> str:
        """The variable Dex reads this client's secret from (`staticClients[].secretEnv`)."""
        return "DEX_CLIENT_" + self.id.upper().replace("-", "_") + "_SECRET"


def grafana_host(stack: IdentitySettings) -> str:
    app = next((a for a in stack.apps if a.name == GRAFANA_APP), None)
    return stack.host(app.host_label if app else GRAFANA_APP)


def redirect_uris(stack: IdentitySettings) -> dict[str, list[str]]:
    """Client id -> redirect URIs, exactly as each consumer sends them."""
    argocd = endpoints.https(stack, stack.identity.hosts.argocd)
    return {
        "argocd": [f"{argocd}/auth/callback"],
        # Grafana's generic_oauth login, for when it is not behind the central SSO proxy
        "grafana": [f"https://{grafana_host(stack)}/login/generic_oauth"],
        "oauth2-proxy": [endpoints.oauth2_proxy_redirect_uri(stack)],
    }


def dex_clients(stack: IdentitySettings, opts: pulumi.ResourceOptions) -> dict[str, DexClient]:
    """Every static client with a generated secret. Rotating one means replacing its RandomPassword: Dex and
    oauth2-proxy then roll by themselves (`checksum/secrets`); clients outside Gatehouse do not (README)."""
    return {
        client_id: DexClient(client_id, password(f"dex-client-{client_id}", opts), uris)
        for client_id, uris in redirect_uris(stack).items()
    }
