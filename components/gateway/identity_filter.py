"""The identity filter: a Lua EnvoyExtensionPolicy on every single-sign-on route.

It runs after the gateway has verified the user's token (Envoy Gateway v1.9.0 orders Lua after ext_authz,
oauth2 and jwt_authn: internal/xds/translator/httpfilters.go) and does what no SecurityPolicy field can:
- removes the gateway's own session cookies, so no app ever holds a session valid elsewhere (oauth2-proxy's
  is domain-wide; the OIDC filter keeps its token cookies in the request, Envoy oauth2 filter.cc);
- sets headers from the verified token's arrays, which `claimToHeaders` skips (Envoy jwt_authn only copies
  string, number and boolean claims) and ext_authz collapses (it keeps only the last of oauth2-proxy's
  repeated X-Auth-Request-Groups lines, envoyproxy/envoy#32420): the staff's groups, a role from them,
  an organization member's X-Org-Slug and X-Org-Roles.

One script (lua/identity.lua) for every route; each route's settings are its filter context. Lua is off in
Envoy Gateway until `extensionApis.enableLua` (edge.py turns it on).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .. import meta
from .routes import route_target

COMPONENT = "sso"
SCRIPT = Path(__file__).with_name("lua") / "identity.lua"


@cache
def script() -> str:
    return SCRIPT.read_text()


def extension_policy_spec(route: str, context: dict[str, Any]) -> dict[str, Any]:
    return {
        "targetRefs": [route_target(route)],
        "lua": [{"type": "Inline", "inline": script(), "filterContext": context}],
    }


def identity_filter(
    route: str, namespace: str, context: dict[str, Any], opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    return meta.custom_resource(
        f"{namespace}-{route}-identity",
        "gateway.envoyproxy.io/v1alpha1",
        "EnvoyExtensionPolicy",
        meta.object_meta(f"{route}-identity", COMPONENT, namespace),
        extension_policy_spec(route, context),
        opts,
    )
