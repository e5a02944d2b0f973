"""Identity plane: Authentik (users), Dex (OIDC broker) and Keycloak (organizations, API tokens)."""

from .clients import DexClient
from .identity_stack import IdentityStack, IdentityStackArgs

__all__ = ["DexClient", "IdentityStack", "IdentityStackArgs"]
