"""Grafana, the first app behind single sign-on: it logs in whoever oauth2-proxy vouched for.

`auth.proxy` trusts the `X-Auth-Request-Email` header, so only the gateway's proxies may reach
Grafana (a NetworkPolicy), and the edge strips that header from every client request.

Its role comes from the platform groups: the identity filter sets `X-Gatehouse-Role` from the verified Dex
token's groups (platform admins: Admin, operators: Editor, anyone else the app admits: Viewer), which
`auth.proxy` reads as the `Role` field (grafana/grafana pkg/services/authn/clients/proxy.go, `proxyFieldRole`)
and syncs on every login and every `sync_ttl` minutes. Groups reach it comma-separated, as it splits them.
Admin is the organization's role: auth.proxy sets no server-admin flag (clients/utils.go `getRoles`).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from .. import config, meta
from ..charts import helm_chart, resources
from ..endpoints import IdentityEndpoints
from ..versions import IMAGES
from .settings import GatewaySettings

COMPONENT = "grafana"
ADMIN_SECRET = "grafana-admin"
HTTP_PORT = 3000  # Grafana's container port
# The header Grafana logs users in by; it must be one oauth2-proxy sets and the gateway forwards.
LOGIN_HEADER = "X-Auth-Request-Email"
ROLE_HEADER = "X-Gatehouse-Role"  # headers.STAFF_ROLE_HEADER, as Grafana's config spells it
DEFAULT_ROLE = "Viewer"


def role_context(identity: IdentityEndpoints) -> dict[str, Any]:
    """The identity filter's role setting for Grafana: the first of these roles whose groups the user is in."""
    roles = [(identity.admin_group, "Admin"), (identity.operator_group, "Editor")]
    return {
        "roleHeader": ROLE_HEADER.lower(),
        "roles": [{"groups": identity.staff_groups[group], "role": role} for group, role in roles],
        "defaultRole": DEFAULT_ROLE,
    }


def grafana_values(stack: GatewaySettings, app: config.App) -> dict[str, Any]:
    image = IMAGES["grafana"]
    return {
        "image": {"repository": image.repository, "tag": image.tag},
        "admin": {"existingSecret": ADMIN_SECRET, "userKey": "admin-user", "passwordKey": "admin-password"},
        "service": {"type": "ClusterIP", "port": app.service.port},
        "grafana.ini": {
            "server": {"root_url": f"https://{stack.host(app.host_label)}"},
            "auth": {"disable_login_form": True, "disable_signout_menu": True},
            "auth.proxy": {
                "enabled": True,
                "header_name": LOGIN_HEADER,
                "header_property": "email",
                "auto_sign_up": True,
                "sync_ttl": 15,
                "headers": "Name:X-Auth-Request-Preferred-Username Email:X-Auth-Request-Email "
                f"Groups:X-Auth-Request-Groups Role:{ROLE_HEADER}",
                "enable_login_token": False,
            },
            "users": {"allow_sign_up": False, "auto_assign_org": True, "auto_assign_org_role": DEFAULT_ROLE},
        },
        "resources": resources("100m", "128Mi", "512Mi"),
        # the chart's test Pod has no security context or resources, and its init container that
        # chowns the data volume runs as root with CHOWN: neither may render
        "testFramework": {"enabled": False},
        "initChownData": {"enabled": False},
    }


def grafana(
    stack: GatewaySettings, app: config.App, namespace: k8s.core.v1.Namespace, opts: pulumi.ResourceOptions
) -> None:
    ns = namespace.metadata.name
    password = random.RandomPassword("grafana-admin", length=32, special=False, opts=opts)
    admin = k8s.core.v1.Secret(
        "grafana-admin",
        metadata=meta.object_meta(ADMIN_SECRET, COMPONENT, ns),
        type="Opaque",
        string_data={"admin-user": "admin", "admin-password": password.result},
        opts=opts,
    )
    chart_opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[admin]))  # it reads it
    helm_chart("grafana", "grafana", app.service.name, ns, grafana_values(stack, app), chart_opts)
    k8s.networking.v1.NetworkPolicy(
        "grafana-from-gateway-only",
        metadata=meta.object_meta("grafana-from-gateway-only", COMPONENT, ns),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"app.kubernetes.io/name": "grafana"}),
            policy_types=["Ingress"],
            ingress=[
                k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                    from_=[
                        k8s.networking.v1.NetworkPolicyPeerArgs(
                            namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                                match_labels={meta.NAMESPACE_NAME_LABEL: meta.ENVOY_GATEWAY_NAMESPACE}
                            ),
                            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=meta.ENVOY_PROXY_POD_LABELS),
                        )
                    ],
                    ports=[k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=HTTP_PORT)],
                )
            ],
        ),
        opts=opts,
    )
