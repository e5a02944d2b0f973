"""Where an API's requests go when its Service is not in the cluster, and how the gateway checks them.

`external`: an HTTPS service on the internet, reached through an Envoy Gateway Backend whose certificate
is verified against the system's CAs for exactly the hostname (gateway/upstreams.py). Hostnames that
name the cluster's own Services or private zones are refused: those are `service`s, never `external`.
`healthCheck`: an active HTTP check the proxies run against the upstream (in-cluster or external).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from .fields import DOMAIN_RE, Model, PathPrefix
from .operations import Duration

# Suffixes of names that resolve inside a cluster or a private network, never an external upstream
PRIVATE_SUFFIXES = (".svc", ".cluster.local", ".local", ".internal", ".localhost", ".home.arpa")


def check_external_hostname(value: str) -> str:
    if not DOMAIN_RE.fullmatch(value):
        raise ValueError("must be a lowercase DNS name such as inventory.partner.example (not an IP address)")
    if value.endswith(PRIVATE_SUFFIXES):
        raise ValueError(f"names a private zone ({', '.join(PRIVATE_SUFFIXES)}): an in-cluster API uses `service`")
    return value


ExternalHostname = Annotated[str, AfterValidator(check_external_hostname)]


class ExternalUpstream(Model):
    hostname: ExternalHostname
    port: int = Field(default=443, ge=1, le=65535)


class HealthCheck(Model):
    """An active HTTP check: GET `path` every `interval`; `unhealthyThreshold` failures in a row take an
    endpoint out, `healthyThreshold` successes bring it back; a status outside `expectedStatuses` fails."""

    path: PathPrefix
    interval: Duration = "10s"
    timeout: Duration = "2s"
    unhealthy_threshold: int = Field(default=3, ge=1, le=10)
    healthy_threshold: int = Field(default=1, ge=1, le=10)
    expected_statuses: list[Annotated[int, Field(ge=100, le=599)]] = Field(default=[200], min_length=1)
