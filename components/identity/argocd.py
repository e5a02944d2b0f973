"""Argo CD signs in with the platform Dex, platform groups map to its built-in roles, and syncs impersonate.

Gatehouse installs Argo CD (the argo-cd chart, argo-helm argo-cd-10.1.1, Argo CD v3.4.4) in `argocd`, with
its CRDs, so a fresh cluster has what every tenant's AppProject needs. Facts from that chart: its own Dex is
off (`dex.enabled`); `configs.cm`, `configs.rbac` and `configs.params` become argocd-cm, argocd-rbac-cm and
argocd-cmd-params-cm; `server.insecure` lets TLS end at the gateway (the server then serves plain HTTP on
the `argocd-server` Service's port 80). Its Redis password Secret `argocd-redis` (key `auth`) is made by a
pre-install hook Job (templates/redis-secret-init), which helm.v4.Chart never runs, and the Redis
Deployment requires it: Gatehouse makes that Secret itself and turns the hook off.

An existing install can opt out (`argocd.install: false`): Gatehouse then server-side-applies only the keys
it owns into that install's ConfigMaps (ConfigMapPatch, taking them over with `pulumi.com/patchForce`), and
the preview states the prerequisite. Keys that would only repeat Argo CD's defaults (`policy.default: ""`,
`scopes: [groups]`, the OIDC `requestedScopes`) are left out of the patch.

The OIDC client secret lives in a Secret of our own that Argo CD reads through `$<secret>:<key>`; Argo CD
resolves such references only in Secrets labelled `app.kubernetes.io/part-of: argocd`
(util/settings/settings.go).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from policy import gatehouse_contract as contract

from .. import endpoints, meta
from ..charts import helm_chart, resources
from ..versions import IMAGES
from .clients import DexClient
from .common import COMPONENT, Home, login_route, password, secret
from .settings import IdentitySettings

NAMESPACE = meta.ARGOCD_NAMESPACE
RELEASE = "argocd"  # with the chart's nameOverride `argocd`, every object is `argocd-<component>`
SERVER_SERVICE = "argocd-server"
SERVER_PORT = 80  # plain HTTP with `server.insecure`
REDIS_SECRET = "argocd-redis"
OIDC_SECRET = "argocd-dex-oidc"
OIDC_SECRET_KEY = "clientSecret"
PART_OF_ARGOCD = {"app.kubernetes.io/part-of": "argocd"}
# take over the keys an existing install rendered (its field manager owns them)
PATCH_ANNOTATIONS = {"pulumi.com/patchForce": "true"}
# The prerequisite an existing install stands for (stack output `prerequisites`).
PREREQUISITE = {"what": "Argo CD", "namespaces": [NAMESPACE], "apiGroups": ["argoproj.io"]}


def policy_csv(stack: IdentitySettings) -> str:
    groups = stack.identity.platform_groups
    roles = {groups.admins: contract.ADMIN_ROLE, groups.operators: "role:readonly", groups.engineering: "role:readonly"}
    lines = [f"g, {name}, {role}" for group, role in roles.items() for name in endpoints.connector_groups(stack, group)]
    return "\n".join(lines) + "\n"


def oidc_config(stack: IdentitySettings, client: DexClient, root_ca: pulumi.Input[str] | None) -> pulumi.Output[str]:
    """`oidc.config`; `root_ca`: the CA Dex's certificate chains to, when it is not publicly trusted."""
    oidc: dict[str, Any] = {
        "name": "Platform SSO",
        "issuer": endpoints.dex_issuer(stack),
        "clientID": client.id,
        "clientSecret": f"${OIDC_SECRET}:{OIDC_SECRET_KEY}",
        # requestedScopes left out: Argo CD's default, openid profile email groups, is what Dex needs
    }
    if root_ca is None:
        return pulumi.Output.from_input(yaml.safe_dump(oidc, sort_keys=False))
    return pulumi.Output.from_input(root_ca).apply(lambda pem: yaml.safe_dump({**oidc, "rootCA": pem}, sort_keys=False))


def argocd_cm(
    stack: IdentitySettings, client: DexClient, root_ca: pulumi.Input[str] | None
) -> dict[str, pulumi.Input[str]]:
    return {
        "url": endpoints.https(stack, stack.identity.hosts.argocd),  # Argo CD appends /auth/callback
        "oidc.config": oidc_config(stack, client, root_ca),
        # tenant AppProjects name a destination ServiceAccount; without this Argo CD ignores it and syncs
        # with its own cluster-wide controller account
        "application.sync.impersonation.enabled": "true",
    }


def argocd_rbac_cm(stack: IdentitySettings) -> dict[str, str]:
    # `policy.default` ("": no role) and `scopes` ([groups]) are Argo CD's defaults
    return {"policy.csv": policy_csv(stack)}


def oidc_secret(home: Home | None, client: DexClient, opts: pulumi.ResourceOptions) -> k8s.core.v1.Secret:
    """`home`: the namespace Gatehouse made for Argo CD, if it did (else it is the install's)."""
    return k8s.core.v1.Secret(
        f"{NAMESPACE}-{OIDC_SECRET}",
        metadata=meta.object_meta(OIDC_SECRET, COMPONENT, home.ref if home else NAMESPACE, PART_OF_ARGOCD),
        type="Opaque",
        string_data={OIDC_SECRET_KEY: client.secret},
        opts=opts,
    )


def argocd_values(stack: IdentitySettings, client: DexClient, root_ca: pulumi.Input[str] | None) -> dict[str, Any]:
    image, redis = IMAGES["argocd"], IMAGES["argocd-redis"]
    small = resources("50m", "128Mi", "512Mi")
    return {
        "global": {
            "domain": stack.host(stack.identity.hosts.argocd),
            "image": {"repository": image.repository, "tag": image.tag},
        },
        "crds": {"install": True},
        "dex": {"enabled": False},  # the platform Dex instead
        "notifications": {"enabled": False},
        "redisSecretInit": {"enabled": False},  # a hook: `argocd-redis` is made here instead
        "configs": {
            "cm": {
                **argocd_cm(stack, client, root_ca),
                "admin.enabled": False,  # platform people sign in through Dex; no shared local password
            },
            "rbac": {**argocd_rbac_cm(stack), "policy.default": "", "scopes": "[groups]"},
            "params": {"server.insecure": True},  # TLS ends at the gateway
        },
        "controller": {"resources": resources("250m", "512Mi", "2Gi")},
        "repoServer": {"resources": resources("100m", "256Mi", "1Gi")},
        "server": {"resources": small},
        "applicationSet": {"resources": small},
        "redis": {
            "image": {"repository": redis.repository, "tag": redis.tag},
            "resources": resources("50m", "64Mi", "256Mi"),
        },
    }


def install(
    stack: IdentitySettings,
    home: Home,
    client: DexClient,
    root_ca: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions,
    route_opts: pulumi.ResourceOptions,
) -> k8s.helm.v4.Chart:
    redis = secret(home, REDIS_SECRET, {"auth": password("argocd-redis", opts)}, opts)
    oidc = oidc_secret(home, client, opts)
    chart = helm_chart(
        "argocd",
        contract.ARGOCD_CHART,
        RELEASE,
        home.ref,
        argocd_values(stack, client, root_ca),
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[redis.resource, oidc])),
        stack.is_production,  # carries the argoproj.io CRDs
    )
    host = stack.host(stack.identity.hosts.argocd)
    login_route(home, RELEASE, host, (SERVER_SERVICE, SERVER_PORT), route_opts)  # its own login, through Dex
    return chart


def patch_existing(
    stack: IdentitySettings, client: DexClient, root_ca: pulumi.Input[str] | None, opts: pulumi.ResourceOptions
) -> None:
    """Only the keys Gatehouse owns, applied to an install's ConfigMaps."""
    oidc_secret(None, client, opts)
    patches: list[tuple[str, Mapping[str, pulumi.Input[str]]]] = [
        (contract.ARGOCD_CONFIG_MAP, argocd_cm(stack, client, root_ca)),
        (contract.ARGOCD_RBAC_CONFIG_MAP, argocd_rbac_cm(stack)),
    ]
    for name, data in patches:
        k8s.core.v1.ConfigMapPatch(
            f"{NAMESPACE}-{name}",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(name=name, namespace=NAMESPACE, annotations=PATCH_ANNOTATIONS),
            data=data,
            opts=opts,
        )
