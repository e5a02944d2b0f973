"""Runs the gateway's identity filter (components/gateway/lua/identity.lua) as Envoy would: on LuaJIT
(Envoy's Lua filter is built on LuaJIT), with a stream handle offering what the script calls.

The handle follows Envoy's Lua API (envoy docs, configuration/http/http_filters/lua_filter): `headers()`
with get/replace/remove, `streamInfo():dynamicMetadata():get(namespace)` returning the namespace's
struct as a table (lists as 1-based tables), and `filterContext()` returning the route's filter context.
"""

from __future__ import annotations

from typing import Any

from lupa.luajit21 import LuaRuntime

from components.gateway.identity_filter import script

JWT_METADATA = "envoy.filters.http.jwt_authn"


def _to_lua(lua: LuaRuntime, value: Any) -> Any:
    if isinstance(value, dict):
        return lua.table_from({k: _to_lua(lua, v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return lua.table_from([_to_lua(lua, v) for v in value])
    return value


def run_identity_filter(headers: dict[str, str], context: dict[str, Any] | None, metadata: Any) -> dict[str, str]:
    """The request headers after `envoy_on_request`; `metadata` is the jwt_authn namespace's struct
    (provider name -> verified payload), or whatever a test wants `get` to return."""
    lua = LuaRuntime(unpack_returned_tuples=True)
    lua.execute(script())
    current = {k.lower(): v for k, v in headers.items()}

    class Headers:
        def get(self, _self: Any, name: str) -> str | None:
            return current.get(name.lower())

        def replace(self, _self: Any, name: str, value: str) -> None:
            current[name.lower()] = value

        def remove(self, _self: Any, name: str) -> None:
            current.pop(name.lower(), None)

    found = _to_lua(lua, metadata)
    dynamic = lua.table_from({"get": lambda _self, namespace: found if namespace == JWT_METADATA else None})
    stream_info = lua.table_from({"dynamicMetadata": lambda _self: dynamic})
    header_table = lua.table_from({"get": Headers().get, "replace": Headers().replace, "remove": Headers().remove})
    lua_context = _to_lua(lua, context) if context is not None else None
    handle = lua.table_from(
        {
            "headers": lambda _self: header_table,
            "streamInfo": lambda _self: stream_info,
            "filterContext": lambda _self: lua_context,
        }
    )
    lua.globals().envoy_on_request(handle)
    return current
