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


def api_key_secret_name(api: str, tier: str) -> str:
    """The Secret holding one key tier's keys, in the API's namespace (its SecurityPolicy reads it)."""
    return f"{api}-apikeys-{tier}"


def api_key_secret_resource(api: str, tier: str) -> str:
    """That Secret's Pulumi resource name."""
    return f"api-{api}-keys-{tier}"


def api_key_resource(api: str, client: str) -> str:
    """The Pulumi resource name of one client's generated key."""
    return f"api-{api}-key-{client}"
