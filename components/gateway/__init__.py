"""Edge plane: the authenticating gateway (Envoy Gateway, TLS, DNS, SSO, protected APIs)."""

from .auth_gateway import AuthGateway, AuthGatewayArgs

__all__ = ["AuthGateway", "AuthGatewayArgs"]
