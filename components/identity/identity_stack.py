"""IdentityStack: who you are.

Skeleton: the component and its type token; Authentik, Dex, Keycloak and their databases come with
the identity issue.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from .. import config


@dataclass(frozen=True)
class IdentityStackArgs:
    stack: config.StackConfig


class IdentityStack(pulumi.ComponentResource):
    def __init__(self, name: str, args: IdentityStackArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gatehouse:identity:IdentityStack", name, None, opts)
        self.issuer = f"https://{args.stack.host(args.stack.identity.hosts.dex)}"
        self.register_outputs({"issuer": self.issuer})
