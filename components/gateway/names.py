"""Names the gateway gives what it builds for an app or API, joined from config names with '-'.

Two config entries can meet on one joined name (API `a-keys-b` with tier `c`, API `a` with tier
`b-keys-c`); the stack config's rules build the same names here to refuse such a config by path.
Plain strings in and out: the config package imports this module.
"""

from __future__ import annotations


def namespaced(namespace: str, name: str) -> str:
    """A namespaced object's identity in the cluster: `<namespace>/<name>`."""
    return f"{namespace}/{name}"


def route_name(app_or_api: str) -> str:
    """An app's or API's HTTPRoute, in its namespace: named after it (its policies target that name)."""
    return app_or_api


# Where every API's key Secrets live: Envoy Gateway's own namespace, which no tenant role reaches (the
# API's namespace is a tenant's, whose people would read partners' keys there and add their own). The
# API's SecurityPolicy reads them across namespaces through a ReferenceGrant (gateway/apis.py). Equal to
# meta.ENVOY_GATEWAY_NAMESPACE (a test holds it): this module imports nothing.
API_KEYS_NAMESPACE = "envoy-gateway-system"


def api_key_secret_name(api: str, tier: str) -> str:
    """The Secret holding one key tier's keys, in API_KEYS_NAMESPACE (the API's SecurityPolicy reads it)."""
    return f"{api}-apikeys-{tier}"


def api_key_grant_name(api: str) -> str:
    """The ReferenceGrant, in API_KEYS_NAMESPACE, that lets the API's SecurityPolicy read its key Secrets."""
    return f"{api}-apikeys"


def api_key_secret_resource(api: str, tier: str) -> str:
    """That Secret's Pulumi resource name."""
    return f"api-{api}-keys-{tier}"


def api_key_resource(api: str, client: str) -> str:
    """The Pulumi resource name of one client's generated key."""
    return f"api-{api}-key-{client}"
