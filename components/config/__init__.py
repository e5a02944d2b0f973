"""The stack configuration, parsed once at start into typed models.

A bad value stops the program before any resource is registered, with one message that names every
bad field by its config path (`gatehouse:tenants[2].name: must be a DNS label ...`).

- `fields`: the field types (a DNS label, a domain, a CIDR block ...), each with its validator.
- `cluster`, `edge`, `gateways`, `identity`, `apps`, `tenancy`: the sections, one model per key; a rule within one
  entry (an API's key tiers and partners, a tenant's namespaces) is that model's validator.
- `stack`: `StackConfig`, every key, and `Site` (environment and domain); `rules`: the rules across
  entries, run on the typed StackConfig.
- `access`: who may enter each app (`AppAccess`), the audience defaults filled in, for both planes.
- `problems`: config paths, and `ConfigError`, which lists every problem at once.
- `loading`: `load` from Pulumi's config, and the secrets.

Field errors and each entry's own rules are all reported together; the rules across entries run once
those pass (see `rules`).
"""

from .access import AppAccess, app_client_id, organization_apps
from .access import access as app_access
from .apps import APP_PLATFORM_NAMESPACES, Api, ApiKeyTier, App, M2MClient, PartnerTier, ServiceRef
from .cluster import DEFAULT_PRIVATE_RANGES, Cluster, Network
from .edge import Acme, Cloudflare, Edge, LoadBalancer
from .gateways import CAPABILITIES, Gateway
from .identity import (
    AUTHENTIK_GROUP_PREFIX,
    PUBLIC_EMAIL_DOMAINS,
    RESERVED_CLIENT_IDS,
    ArgoCd,
    Connectors,
    GitHubConnector,
    GitHubOrg,
    GoogleConnector,
    Identity,
    IdentityHosts,
    PlatformGroups,
)
from .loading import SCALAR_KEYS, SECRET_KEYS, load, optional_secret, parse_raw, secret, webhook_secret
from .operations import Operation
from .problems import NAMESPACE, ConfigError, config_path
from .stack import Site, StackConfig
from .tenancy import RESERVED_NAMESPACES, RESERVED_PREFIXES, Organization, Tenant
from .upstreams import ExternalUpstream, HealthCheck

__all__ = [
    "APP_PLATFORM_NAMESPACES",
    "AUTHENTIK_GROUP_PREFIX",
    "CAPABILITIES",
    "DEFAULT_PRIVATE_RANGES",
    "NAMESPACE",
    "PUBLIC_EMAIL_DOMAINS",
    "RESERVED_CLIENT_IDS",
    "RESERVED_NAMESPACES",
    "RESERVED_PREFIXES",
    "SCALAR_KEYS",
    "SECRET_KEYS",
    "Acme",
    "Api",
    "ApiKeyTier",
    "App",
    "AppAccess",
    "ArgoCd",
    "Cloudflare",
    "Cluster",
    "ConfigError",
    "Connectors",
    "Edge",
    "ExternalUpstream",
    "Gateway",
    "GitHubConnector",
    "GitHubOrg",
    "GoogleConnector",
    "HealthCheck",
    "Identity",
    "IdentityHosts",
    "LoadBalancer",
    "M2MClient",
    "PartnerTier",
    "Network",
    "Operation",
    "Organization",
    "PlatformGroups",
    "ServiceRef",
    "Site",
    "StackConfig",
    "Tenant",
    "app_access",
    "app_client_id",
    "config_path",
    "load",
    "optional_secret",
    "organization_apps",
    "parse_raw",
    "secret",
    "webhook_secret",
]
