"""Edge plane: the authenticating gateway (Envoy Gateway, TLS, DNS, SSO, protected APIs).

Where each rendered object comes from (AuthGateway in auth_gateway.py composes them):

- edge.py: the Envoy Gateway charts (CRDs, controller), EnvoyProxy, GatewayClass, the shared Gateway, the
  HTTP-to-HTTPS redirect and the ClientTrafficPolicy; control_plane_tls.py the controller's TLS Secrets
- tls.py: cert-manager's chart, its ClusterIssuers (Let's Encrypt, the stack's own CA) and their Secrets;
  cert_manager_check.py the start-up check Job the issuers wait for
- dns.py: the Cloudflare records; local_dns.py the laptop cluster's CoreDNS rewrite
- sso.py: oauth2-proxy, its Valkey, its route and the SecurityPolicy of every SSO app
- auth_gateway.py: each app's HTTPRoute and the ReferenceGrants; grafana.py the Grafana chart, its Secret
  and NetworkPolicy
- apis.py: each API's HTTPRoute, SecurityPolicies, rate limits and key Secrets
- routes.py builds every HTTPRoute; names.py names what an app or API gets (components/headers.py: the identity headers)
"""

from .auth_gateway import AuthGateway, AuthGatewayArgs

__all__ = ["AuthGateway", "AuthGatewayArgs"]
