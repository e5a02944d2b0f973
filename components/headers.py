"""Identity headers: what the gateway forwards to apps, and therefore never takes from a client.

Apps trust these headers (Grafana's auth.proxy logs in whoever `X-Auth-Request-Email` names), so the
edge removes every one of them from client requests before any auth filter runs; only oauth2-proxy
(ext_authz `headersToBackend`), API keys (`forwardClientIDHeader`) and JWT claims (`claimToHeaders`)
may set them afterwards.
"""

from __future__ import annotations

GROUPS_HEADER = "x-auth-request-groups"  # oauth2-proxy's last group only; the identity filter's: all of them
# Set by oauth2-proxy (`set_xauthrequest`) on an allowed check, copied to the app.
SSO_HEADERS = [
    "x-auth-request-user",
    "x-auth-request-email",
    "x-auth-request-preferred-username",
    GROUPS_HEADER,
]
# Set from JWT claims for APIs.
JWT_CLAIM_HEADERS = {
    "sub": "x-user-id",
    "email": "x-user-email",
    "preferred_org": "x-org-slug",
    "azp": "x-client-id",
}
PARTNER_CLIENT_HEADER = JWT_CLAIM_HEADERS["azp"]  # the client a token was issued to: partners' rate limits key on it
USER_CLAIMS = ("sub", "email")  # what every signed-in app learns of its user from the verified token


def user_claim_headers() -> list[dict[str, str]]:
    """`claimToHeaders` for an app's jwt provider: X-User-Id and X-User-Email from the verified token."""
    return [{"claim": claim, "header": JWT_CLAIM_HEADERS[claim]} for claim in USER_CLAIMS]


API_CLIENT_HEADER = "x-api-client"  # the API key's client id
# Set by the identity filter (identity_filter.py) from the verified token
ORG_HEADERS = ["x-org-slug", "x-org-roles"]  # seed 003: the organization the request is for, the roles there
STAFF_ROLE_HEADER = "x-gatehouse-role"  # a staff app's role for the user, from their platform groups
REDIRECT_HEADER = "x-auth-request-redirect"  # where oauth2-proxy returns after login
CORRELATION_HEADER = "X-Correlation-Id"

# Names other tools trust for identity: nothing here sets them, so a value can only be a forgery.
TRUSTED_ELSEWHERE = [
    # oauth2-proxy's upstream headers (pass_user_headers, pass_access_token)
    "x-forwarded-user",
    "x-forwarded-email",
    "x-forwarded-groups",
    "x-forwarded-preferred-username",
    "x-forwarded-access-token",
    "x-webauth-user",  # Grafana's default auth.proxy header
    "x-webauth-role",
    "remote-user",  # CGI-style REMOTE_USER, trusted by many apps' header auth
]

# Everything a client could spoof to claim an identity (seed 003's headers included). Not the
# standard X-Forwarded-For/-Proto: Envoy sets those itself (client IP detection, scheme).
SPOOFABLE = sorted(
    {
        *SSO_HEADERS,
        *JWT_CLAIM_HEADERS.values(),
        *TRUSTED_ELSEWHERE,
        API_CLIENT_HEADER,
        *ORG_HEADERS,
        STAFF_ROLE_HEADER,
        "x-auth-request-access-token",
        "x-forwarded-uri",  # oauth2-proxy GHSA-7x63-xv5r-3p2x
        "x-forwarded-host",  # Envoy never sets it; oauth2-proxy (reverse_proxy) builds redirects from it
    }
)
