"""Argo CD signs in with Dex, platform groups map to its built-in roles, and syncs impersonate.

Argo CD's own install creates `argocd-cm` and `argocd-rbac-cm`; we server-side-apply only the keys we
set (ConfigMapPatch), and no labels. The argo-cd chart renders some of those keys itself (`policy.csv`,
`application.sync.impersonation.enabled`), so its field manager owns them and a plain apply would fail
with a conflict: `pulumi.com/patchForce` takes them over. The install must then stop rendering them
(README, "Identity"), or each of its upgrades takes them back. Keys that would only repeat Argo CD's
defaults (`policy.default: ""`, `scopes: [groups]`, the OIDC `requestedScopes`) are left out.

The client secret lives in a Secret of our own that Argo CD reads through `$<secret>:<key>` (it must be
labelled part-of argocd).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import yaml

from .. import config, endpoints, meta
from .clients import DexClient
from .common import COMPONENT

NAMESPACE = meta.ARGOCD_NAMESPACE
OIDC_SECRET = "argocd-dex-oidc"
OIDC_SECRET_KEY = "clientSecret"
# take over the keys the Argo CD install rendered (its field manager owns them)
PATCH_ANNOTATIONS = {"pulumi.com/patchForce": "true"}


def connector_groups(stack: config.StackConfig, group: str) -> list[str]:
    """A platform group as each Dex connector names it: `authentik:<group>`, `<github-org>:<team>`."""
    names = [f"authentik:{group}"]
    github = stack.identity.connectors.github
    if github:
        names += [f"{org.name}:{group}" for org in sorted(github.orgs, key=lambda o: o.name)]
    return names


def policy_csv(stack: config.StackConfig) -> str:
    groups = stack.identity.platform_groups
    roles = {groups.admins: "role:admin", groups.operators: "role:readonly", groups.engineering: "role:readonly"}
    lines = [f"g, {name}, {role}" for group, role in roles.items() for name in connector_groups(stack, group)]
    return "\n".join(lines) + "\n"


def argocd_cm(stack: config.StackConfig, client: DexClient) -> dict[str, str]:
    oidc = {
        "name": "Platform SSO",
        "issuer": endpoints.dex_issuer(stack),
        "clientID": client.id,
        "clientSecret": f"${OIDC_SECRET}:{OIDC_SECRET_KEY}",
        # requestedScopes left out: Argo CD's default, openid profile email groups, is what Dex needs
    }
    return {
        "url": endpoints.https(stack, stack.identity.hosts.argocd),  # Argo CD appends /auth/callback
        "oidc.config": yaml.safe_dump(oidc, sort_keys=False),
        # tenant AppProjects name a destination ServiceAccount; without this Argo CD ignores it and syncs
        # with its own cluster-wide controller account
        "application.sync.impersonation.enabled": "true",
    }


def argocd_rbac_cm(stack: config.StackConfig) -> dict[str, str]:
    # `policy.default` ("": no role) and `scopes` ([groups]) are Argo CD's defaults
    return {"policy.csv": policy_csv(stack)}


def argocd_sso(stack: config.StackConfig, client: DexClient, opts: pulumi.ResourceOptions) -> None:
    k8s.core.v1.Secret(
        f"{NAMESPACE}-{OIDC_SECRET}",
        metadata=meta.object_meta(OIDC_SECRET, COMPONENT, NAMESPACE, {"app.kubernetes.io/part-of": "argocd"}),
        type="Opaque",
        string_data={OIDC_SECRET_KEY: client.secret},
        opts=opts,
    )
    for name, data in (("argocd-cm", argocd_cm(stack, client)), ("argocd-rbac-cm", argocd_rbac_cm(stack))):
        k8s.core.v1.ConfigMapPatch(
            f"{NAMESPACE}-{name}",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(name=name, namespace=NAMESPACE, annotations=PATCH_ANNOTATIONS),
            data=data,
            opts=opts,
        )
