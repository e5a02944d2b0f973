"""AuthGateway: the one front door of the environment.

Skeleton: the component and its type token exist so that the other planes can depend on it; its
children (Envoy Gateway, cert-manager, DNS, oauth2-proxy, protected routes) come with the gateway issue.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from .. import config


@dataclass(frozen=True)
class AuthGatewayArgs:
    stack: config.StackConfig


class AuthGateway(pulumi.ComponentResource):
    def __init__(self, name: str, args: AuthGatewayArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gatehouse:gateway:AuthGateway", name, None, opts)
        self.domain = args.stack.domain
        self.register_outputs({"domain": self.domain})
