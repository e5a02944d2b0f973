"""Gateways (`gatehouse:gateways`): seed 001's gateway registrations and capabilities, as code.

Each entry is one Gateway with proxies of its own. `public` is the one on the load balancer
(`edge.loadBalancer`), serving `*.<domain>`: the identity hosts, every app and, by default, every API.
Any other entry is internal: its proxies' Service is a ClusterIP, reached from tenants' pods only, never
from the internet, and it serves `*.<name>.<domain>` (no Cloudflare record; components/gateway/edge.py).
An API names where it is served (`apis[].gateway`, default `public`).

A gateway's `capabilities` (seed 001's `rate-limiting`, `auth`, `analytics`; default all three) are
what it may be asked for: every API is rate limited, and an API or app that is not public needs `auth`;
one that needs a capability its gateway lacks is refused at its path. Nothing Gatehouse builds needs
`analytics` yet.

Seed 001's other gateway fields: `id` is the name; `hostname` follows from it (`<domain>`, or
`<name>.<domain>`); `type` (basic, standard) and `status` are not config here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from policy.gatehouse_contract import PUBLIC_GATEWAY

from .fields import DnsLabel, Model
from .problems import Loc, Problem, duplicates, reject

if TYPE_CHECKING:
    from .stack import StackConfig

Capability = Literal["rate-limiting", "auth", "analytics"]
CAPABILITIES: tuple[Capability, ...] = ("rate-limiting", "auth", "analytics")
# A gateway's proxies' Service is `envoy-<name>` in Envoy Gateway's namespace, and their fence
# `allow-envoy-<name>` (network_policies.py): names already taken there.
RESERVED_GATEWAY_NAMES = {
    "gateway": "Envoy Gateway's controller Service is envoy-gateway",
    "ratelimit": "Envoy Gateway's rate limiter Service is envoy-ratelimit",
    "proxy": "the NetworkPolicy allow-envoy-proxy fences every gateway's proxies",
}
# `<name>-wildcard-tls`, the longest object name made from it, stays a DNS label.
MAX_GATEWAY_NAME = 40


class Gateway(Model):
    name: DnsLabel = Field(max_length=MAX_GATEWAY_NAME)
    capabilities: list[Capability] = Field(default_factory=lambda: list(CAPABILITIES))

    @property
    def internal(self) -> bool:
        """Not on the load balancer: reached from inside the cluster only."""
        return self.name != PUBLIC_GATEWAY

    def domain(self, site_domain: str) -> str:
        """Where its hosts live: the stack's domain for the public gateway, `<name>.<domain>` for another."""
        return f"{self.name}.{site_domain}" if self.internal else site_domain

    @model_validator(mode="after")
    def _own_rules(self) -> Gateway:
        at = self.key("capabilities")
        problems = duplicates((((at, c), cap) for c, cap in enumerate(self.capabilities)), "capability")
        if self.name in RESERVED_GATEWAY_NAMES:
            message = f"'{self.name}' is taken: {RESERVED_GATEWAY_NAMES[self.name]}"
            problems.append(Problem(("name",), message))
        reject(problems, "Gateway")
        return self


def default_gateways() -> list[Gateway]:
    return [Gateway(name=PUBLIC_GATEWAY)]


def check(stack: StackConfig) -> list[Problem]:
    """Across entries: the public gateway is there, names are unique, every API's gateway is known and
    offers what the API needs, as the public gateway does for every app."""
    problems = duplicates(((("gateways", g, "name"), gw.name) for g, gw in enumerate(stack.gateways)), "gateway")
    known = {gw.name: g for g, gw in enumerate(stack.gateways)}
    if PUBLIC_GATEWAY not in known:
        message = (
            f"needs the gateway '{PUBLIC_GATEWAY}' (the load balancer's: identity hosts and apps are served there)"
        )
        return [*problems, Problem(("gateways",), message)]
    listed = ", ".join(known)
    for i, api in enumerate(stack.apis):
        at: Loc = ("apis", i, "gateway")
        if api.gateway not in known:
            problems.append(Problem(at, f"unknown gateway '{api.gateway}' (gateways: {listed})"))
            continue
        needs = ["rate-limiting", *([] if api.auth == "public" else ["auth"])]
        problems += _lacking(stack, known[api.gateway], needs, at, f"API '{api.name}' (auth: {api.auth})")
    for i, app in enumerate(stack.apps):
        if app.auth != "public":
            what = f"app '{app.name}' (auth: {app.auth})"
            problems += _lacking(stack, known[PUBLIC_GATEWAY], ["auth"], ("apps", i, "auth"), what)
    return problems


def _lacking(stack: StackConfig, g: int, needs: list[str], at: Loc, what: str) -> list[Problem]:
    gateway = stack.gateways[g]
    return [
        Problem(
            at,
            f"{what} needs '{need}', which gateway '{gateway.name}' lacks ({{other}})",
            ("gateways", g, "capabilities"),
        )
        for need in needs
        if need not in gateway.capabilities
    ]
