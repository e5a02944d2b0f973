"""Identity plane: Authentik (users), Dex (OIDC broker) and Keycloak (organizations, API tokens)."""

from .identity_stack import IdentityStack, IdentityStackArgs

__all__ = ["IdentityStack", "IdentityStackArgs"]
