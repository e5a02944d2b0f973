"""The whole stack configuration, parsed once at start into typed models.

Every key lives under the project namespace (`gatehouse:<key>`) in `Pulumi.<stack>.yaml`. A bad value
stops the program before any resource is registered, with one message that names every bad field
by its config path (`gatehouse:tenants[2].name: must be a DNS label ...`).
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, Literal

import pulumi
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

NAMESPACE = "gatehouse"

# Seed validation rules (seed 002: Organization and Namespace validation). Always used with
# fullmatch: `$` would accept a trailing newline ("helpdesk\n").
DNS_LABEL_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DISPLAY_NAME_RE = re.compile(r"[a-zA-Z0-9\s\-\.]+")
EMAIL_RE = re.compile(r"[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}")
REPO_PART_RE = re.compile(r"[a-z0-9-]+")
DOMAIN_RE = re.compile(r"(?=.{1,253}\Z)([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}")
CLOUDFLARE_ID_RE = re.compile(r"[0-9a-f]{32}")
K8S_VERSION_RE = re.compile(r"1\.([0-9]+)")  # not \d: it takes any Unicode digit
# A browser origin allowed to call an API cross-origin: https, a host (or `*.` and a domain), a port.
ORIGIN_RE = re.compile(r"https://(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}(:[0-9]{1,5})?")
# An OIDC group as Dex's connectors emit them: `<org>:<team>` (GitHub), `authentik:<group>`.
GROUP_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-a-z0-9]*[a-z0-9])?")
CIDR_SUFFIX_RE = re.compile(r"[^/]+/[0-9]{1,3}")  # a prefix length, not a netmask (Kubernetes takes no other)

# Namespaces no tenant or organization may take: Kubernetes' own and the platform's.
RESERVED_NAMESPACES = frozenset(
    {
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "argocd",
        "cert-manager",
        "envoy-gateway-system",
        "external-secrets",
        "cnpg-system",
        "gatehouse-system",
        "identity",
        "keycloak",
        "monitoring",
        "oauth2-proxy",
        "pipeline-system",
        "tekton-pipelines",
        "cloudflared",
    }
)
RESERVED_PREFIXES = ("kube-", "org-", "openshift-")

# Client ids the Keycloak realm already has (Keycloak's own; `organizations` and `portal` from
# components/identity), and the Google secret's key in the client-secrets Secret, which also holds one
# key per partner: no m2m client may take one.
RESERVED_CLIENT_IDS = frozenset(
    {
        "account",
        "account-console",
        "admin-cli",
        "broker",
        "realm-management",
        "security-admin-console",
        "organizations",
        "portal",
        "google-client-secret",
    }
)

# Platform namespaces apps and APIs may live in (besides tenants' namespaces); the gateway creates them.
APP_PLATFORM_NAMESPACES = ("monitoring",)

# Where tenants' pods may never send traffic unless the config says otherwise: RFC 1918, link-local
# (cloud metadata at 169.254.169.254) and RFC 6598 shared space (CGNAT, often the pod range).
DEFAULT_PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"]

# Secret config keys: always read as secrets, never in clear text in a stack file. `kubeconfig` is
# optional (the cluster's kubeconfig itself, instead of the ambient file).
SECRET_KEYS = ("cloudflareApiToken", "githubClientSecret", "googleClientSecret", "kubeconfig")


# --- field checks -----------------------------------------------------------------------------


def _dns_label(value: str) -> str:
    if len(value) > 63 or not DNS_LABEL_RE.fullmatch(value):
        raise ValueError(
            "must be a DNS label (lowercase letters, digits and '-', starting and ending with a "
            "letter or digit, at most 63 characters)"
        )
    return value


def _display_name(value: str) -> str:
    if not DISPLAY_NAME_RE.fullmatch(value):
        raise ValueError("may contain only letters, digits, spaces, '-' and '.'")
    if value.isspace():  # the seed requires a display name: spaces alone are none
        raise ValueError("must contain a letter, digit, '-' or '.', not only spaces")
    return value


def _email(value: str) -> str:
    if not EMAIL_RE.fullmatch(value):
        raise ValueError("must be an e-mail address")
    return value


def _domain(value: str) -> str:
    if not DOMAIN_RE.fullmatch(value):
        raise ValueError("must be a lowercase DNS domain such as staging.example.com")
    return value


def _repo(value: str) -> str:
    parts = value.split("/")
    # each part also becomes a label value, hence at most 63 characters; the org also starts the
    # tenant's default group `<org>:<tenant>`, and GitHub org names never start or end with '-'
    if len(parts) != 2 or not all(REPO_PART_RE.fullmatch(p) and len(p) <= 63 for p in parts):
        raise ValueError("must be '<github-org>/<repository>', each part matching ^[a-z0-9-]+$ (at most 63 characters)")
    if not DNS_LABEL_RE.fullmatch(parts[0]):
        raise ValueError("the GitHub organization must start and end with a letter or digit")
    return value


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"must be a CIDR block ({exc})") from None
    if not CIDR_SUFFIX_RE.fullmatch(value):
        raise ValueError("must be a CIDR block with a prefix length, such as 10.0.0.0/8")
    return value


def _private_range(value: str) -> str:
    # the tenants' internet egress is ipBlock 0.0.0.0/0 except these: each must lie strictly inside it
    network = ipaddress.ip_network(_cidr(value))
    if network.version != 4 or network.prefixlen == 0:
        raise ValueError("must be an IPv4 CIDR block inside 0.0.0.0/0 (and not 0.0.0.0/0 itself), such as 10.0.0.0/8")
    return value


def _ipv4(value: str) -> str:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        raise ValueError("must be an IPv4 address") from None
    return value


def _cloudflare_id(value: str) -> str:
    if not CLOUDFLARE_ID_RE.fullmatch(value):
        raise ValueError("must be a Cloudflare id (32 lowercase hex characters)")
    return value


def _kubernetes_version(value: str) -> str:
    match = K8S_VERSION_RE.fullmatch(value)
    if not match or int(match.group(1)) < 30:
        raise ValueError("must be a Kubernetes minor version such as 1.33 (1.30 or newer)")
    return value


def _m2m_scope(value: Any) -> Any:
    if value == "admin":
        raise ValueError(
            "machine clients never get 'admin': admin scopes go only to organization admins, "
            "who sign in with a second factor"
        )
    return value


def _origin(value: str) -> str:
    if not ORIGIN_RE.fullmatch(value):
        raise ValueError("must be an https origin such as https://app.example.com (no path)")
    return value


def _group(value: str) -> str:
    if not GROUP_RE.fullmatch(value):
        raise ValueError("must be an OIDC group '<org>:<team>' such as acme-corp:payments")
    return value


def _path_prefix(value: str) -> str:
    if not value.startswith("/") or any(c.isspace() for c in value):
        raise ValueError("must be an absolute URL path such as /admin")
    return value


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
DisplayName = Annotated[str, AfterValidator(_display_name)]
Email = Annotated[str, AfterValidator(_email)]
Domain = Annotated[str, AfterValidator(_domain)]
Repo = Annotated[str, AfterValidator(_repo)]
Cidr = Annotated[str, AfterValidator(_cidr)]
PrivateRange = Annotated[str, AfterValidator(_private_range)]
IPv4 = Annotated[str, AfterValidator(_ipv4)]
CloudflareId = Annotated[str, AfterValidator(_cloudflare_id)]
PathPrefix = Annotated[str, AfterValidator(_path_prefix)]
Origin = Annotated[str, AfterValidator(_origin)]
Group = Annotated[str, AfterValidator(_group)]
KubernetesVersion = Annotated[str, AfterValidator(_kubernetes_version)]
Scope = Literal["read", "write", "admin"]
M2MScope = Annotated[Literal["read", "write"], BeforeValidator(_m2m_scope)]  # before: a clearer message


class Model(BaseModel):
    """camelCase keys in YAML, snake_case in Python; unknown keys are errors, models immutable."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


# --- sections ---------------------------------------------------------------------------------


class Cluster(Model):
    """The cluster this stack deploys to, by name: a context of the kubeconfig (the secret
    `gatehouse:kubeconfig` when set, the ambient one otherwise). Never the current context."""

    context: str = Field(min_length=1)
    # k3s only (its CoreDNS imports the ConfigMap `coredns-custom`): names under the stack's domain resolve,
    # inside the cluster, to the gateway's Service, for domains that resolve to 127.0.0.1 (localtest.me)
    resolve_domain_to_gateway: bool = False


class LoadBalancer(Model):
    # reserved IP: DNS records point at it and never wait on, or flap with, the Service (required with
    # Cloudflare DNS; a laptop cluster's load balancer picks its own)
    address: IPv4 | None = None
    annotations: dict[str, str] = {}
    source_ranges: list[Cidr] = []


class Cloudflare(Model):
    zone_id: CloudflareId
    account_id: CloudflareId
    proxied: bool = False


class Acme(Model):
    email: Email
    server: Literal[
        "https://acme-v02.api.letsencrypt.org/directory",
        "https://acme-staging-v02.api.letsencrypt.org/directory",
    ] = "https://acme-v02.api.letsencrypt.org/directory"


class Edge(Model):
    load_balancer: LoadBalancer = LoadBalancer()
    cloudflare: Cloudflare | None = None  # no Cloudflare: no DNS records, no webhook tunnels
    acme: Acme | None = None  # no ACME: the gateway's certificate comes from the stack's own CA


class Network(Model):
    private_ranges: list[PrivateRange] = Field(default_factory=lambda: list(DEFAULT_PRIVATE_RANGES))


class IdentityHosts(Model):
    """Host labels under the environment's domain (`<label>.<domain>`)."""

    dex: DnsLabel = "dex"
    authentik: DnsLabel = "authentik"
    keycloak: DnsLabel = "sso"
    oauth2_proxy: DnsLabel = "auth"
    argocd: DnsLabel = "argocd"
    portal: DnsLabel = "app"  # origin of the tenants' single-page app (Keycloak PKCE client)
    tekton: DnsLabel = "tekton"  # the Tekton dashboard, behind its own oauth2-proxy (a Dex client)


class GitHubOrg(Model):
    name: DnsLabel
    teams: list[DnsLabel] = []


class GitHubConnector(Model):
    client_id: str = Field(min_length=1)
    orgs: list[GitHubOrg] = Field(min_length=1)


class GoogleConnector(Model):
    client_id: str = Field(min_length=1)
    hosted_domains: list[Domain] = Field(min_length=1)


class Connectors(Model):
    github: GitHubConnector | None = None
    google: GoogleConnector | None = None


class PlatformGroups(Model):
    admins: DnsLabel = "platform-admins"
    operators: DnsLabel = "platform-operators"
    engineering: DnsLabel = "platform-engineering"


class ArgoCd(Model):
    # false: an Argo CD the cluster already has, in namespace `argocd` (the preview states the prerequisite)
    install: bool = True


class Identity(Model):
    admin_email: Email
    hosts: IdentityHosts = IdentityHosts()
    connectors: Connectors = Connectors()
    platform_groups: PlatformGroups = PlatformGroups()
    realm: DnsLabel = "tenants"


class ServiceRef(Model):
    name: DnsLabel
    port: int = Field(ge=1, le=65535)


class App(Model):
    """A browser app behind single sign-on (or explicitly public)."""

    name: DnsLabel
    host: DnsLabel | None = None  # defaults to the name
    namespace: DnsLabel
    service: ServiceRef
    auth: Literal["sso", "public"] = "sso"

    @property
    def host_label(self) -> str:
        return self.host or self.name


class M2MClient(Model):
    """A partner system using client_credentials."""

    name: DnsLabel
    scopes: list[M2MScope] = Field(min_length=1)


class ApiKeyTier(Model):
    name: DnsLabel
    requests_per_minute: int = Field(ge=1)
    clients: list[DnsLabel] = Field(min_length=1)


class Api(Model):
    name: DnsLabel
    host: DnsLabel | None = None
    namespace: DnsLabel
    service: ServiceRef
    auth: Literal["jwt", "apiKey", "public"]
    scopes: list[Scope] = ["read", "write", "admin"]
    admin_paths: list[PathPrefix] = ["/admin"]
    m2m_clients: list[M2MClient] = Field(default=[], alias="m2mClients")
    api_key_tiers: list[ApiKeyTier] = []
    cors_origins: list[Origin] = []  # jwt APIs only; default: the portal's origin

    @property
    def host_label(self) -> str:
        return self.host or self.name

    @property
    def audience(self) -> str:
        """The `aud` Keycloak puts in tokens for this API, and the gateway requires."""
        return f"{self.name}-api"

    def scope_name(self, scope: str) -> str:
        """`read` -> `tickets:read`: the OAuth scope as Keycloak issues it."""
        return f"{self.name}:{scope}"


class Organization(Model):
    # its tunnel's Helm release `cloudflared-<name>` must fit Helm's 53 characters, hence 41
    name: DnsLabel = Field(max_length=41)
    display_name: DisplayName
    admin_users: list[Email] = Field(min_length=1)
    plan: Literal["free", "pro", "enterprise"] = "free"
    features: list[DnsLabel] = []
    # where the organization's tunnel (`<name>.<domain>`) delivers webhooks, in its namespace
    webhook_service: ServiceRef = ServiceRef(name="el-github-listener", port=8080)

    @property
    def namespace(self) -> str:
        return f"org-{self.name}"

    @property
    def org_id(self) -> str:
        """A stable id derived from the immutable slug (never from the display name)."""
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{self.name}.organizations.gatehouse"))


class Tenant(Model):
    name: DnsLabel
    organization: DnsLabel
    repo: Repo
    profile: Literal["standard", "elevated"]
    size: Literal["small", "medium", "large"]
    namespaces: list[DnsLabel] = []  # extra namespaces, each `<name>-<suffix>`
    groups: list[Group] = []  # OIDC groups bound to the tenant role; default in `oidc_groups`

    @property
    def repo_url(self) -> str:
        return f"https://github.com/{self.repo}"

    @property
    def namespace_names(self) -> list[str]:
        return [self.name, *(f"{self.name}-{suffix}" for suffix in self.namespaces)]

    @property
    def oidc_groups(self) -> list[str]:
        """Explicit `groups`, or `<repo's GitHub org>:<name>`: the group Dex's GitHub connector emits for
        the team named after the tenant in the org owning its repo (Dex lists that team, see dex.py)."""
        return self.groups or [f"{self.repo.split('/', 1)[0]}:{self.name}"]


class StackConfig(Model):
    environment: Literal["dev", "staging", "prod"]
    domain: Domain
    kubernetes_version: KubernetesVersion = "1.33"
    cluster: Cluster
    edge: Edge
    network: Network = Network()
    identity: Identity
    argocd: ArgoCd = ArgoCd()
    apps: list[App] = []
    apis: list[Api] = []
    organizations: list[Organization] = Field(min_length=1)
    tenants: list[Tenant] = []

    @property
    def is_production(self) -> bool:
        return self.environment == "prod"

    @property
    def uses_private_ca(self) -> bool:
        """No ACME: the gateway's certificate comes from the stack's own CA, which in-cluster clients of
        the public hosts (Dex of Authentik, Argo CD of Dex) must be told to trust."""
        return self.edge.acme is None

    def host(self, label: str) -> str:
        return f"{label}.{self.domain}"

    def organization(self, name: str) -> Organization:
        return next(o for o in self.organizations if o.name == name)


def secret(key: str) -> pulumi.Output[str]:
    """A secret config value; `load` has already checked it is set, and set as a secret."""
    return pulumi.Config(NAMESPACE).require_secret(key)


def optional_secret(key: str) -> pulumi.Output[str] | None:
    """A secret config value that may be unset; `load` has checked it is a secret when set."""
    return pulumi.Config(NAMESPACE).get_secret(key)


# --- loading ----------------------------------------------------------------------------------


class ConfigError(pulumi.RunError):
    """Bad stack configuration. A RunError, so Pulumi prints the message without a traceback."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = sorted(set(problems), key=_problem_sort_key)
        lines = [f"  {path}: {message}" for path, message in self.problems]
        count = len(self.problems)
        header = f"invalid stack configuration ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n".join([header, *lines]))


def _problem_sort_key(problem: tuple[str, str]) -> tuple[Any, ...]:
    # Natural order so tenants[10] comes after tenants[9].
    parts = re.split(r"(\d+)", problem[0])
    return tuple(int(p) if p.isdigit() else p for p in parts), problem[1]


def config_path(loc: Iterable[Any]) -> str:
    """('tenants', 2, 'name') -> 'gatehouse:tenants[2].name'."""
    path = NAMESPACE + ":"
    for i, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += part if i == 0 else f".{part}"
    return path


_PYDANTIC_MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda e: "is required",
    "extra_forbidden": lambda e: "unknown field",
    "literal_error": lambda e: "must be " + e["ctx"]["expected"],
    "too_short": lambda e: (
        f"needs at least {e['ctx']['min_length']} entr" + ("y" if e["ctx"]["min_length"] == 1 else "ies")
    ),
    "string_too_long": lambda e: f"must be at most {e['ctx']['max_length']} characters",
    "string_too_short": lambda e: "must not be empty",
}


def _message(error: Mapping[str, Any]) -> str:
    render = _PYDANTIC_MESSAGES.get(error["type"])
    if render is not None:
        return render(dict(error))
    return str(error["msg"]).removeprefix("Value error, ").replace("Input should be", "must be")


# Root keys whose values are plain strings; every other key is structured (JSON from the engine).
SCALAR_KEYS = frozenset({"environment", "domain", "kubernetesVersion"})


def _root_keys() -> set[str]:
    return {field.alias or name for name, field in StackConfig.model_fields.items()}


def _present_keys() -> set[str]:
    """Every `gatehouse:*` key the engine handed to the program (explicit config and env)."""
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    prefix = NAMESPACE + ":"
    return {k[len(prefix) :] for k in keys if k.startswith(prefix)}


def parse_raw(raw: Mapping[str, Any]) -> StackConfig:
    """Validate already-decoded config values (root key -> value); raise ConfigError if bad."""
    problems: list[tuple[str, str]] = []
    try:
        parsed = StackConfig.model_validate(dict(raw))
    except ValidationError as exc:
        parsed = None
        problems += [(config_path(e["loc"]), _message(e)) for e in exc.errors()]
    problems += cross_checks(raw)
    if problems:
        raise ConfigError(problems)
    assert parsed is not None
    return parsed


def load(config: pulumi.Config | None = None) -> StackConfig:
    """Read every `gatehouse:*` key from the Pulumi config and validate the whole of it."""
    config = config or pulumi.Config(NAMESPACE)
    raw: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    known = _root_keys()
    for key in sorted(_present_keys()):
        if key in SECRET_KEYS:
            continue
        if key not in known:
            problems.append((config_path([key]), "unknown configuration key"))
            continue
        value = config.get(key)
        if value is None or key in SCALAR_KEYS:
            raw[key] = value
            continue
        try:
            raw[key] = json.loads(value)
        except json.JSONDecodeError as exc:
            problems.append((config_path([key]), f"is not valid structured config ({exc.msg})"))
    problems += _missing_secrets(raw)
    try:
        parsed = parse_raw(raw)
    except ConfigError as exc:
        raise ConfigError(problems + exc.problems) from None
    if problems:
        raise ConfigError(problems)
    return parsed


def _missing_secrets(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    connectors = _as_dict(_as_dict(raw.get("identity")).get("connectors"))
    needed = ["cloudflareApiToken"] if _as_dict(raw.get("edge")).get("cloudflare") else []
    needed += ["githubClientSecret"] if connectors.get("github") else []
    needed += ["googleClientSecret"] if connectors.get("google") else []
    problems = []
    for key in SECRET_KEYS:
        # runtime.get_config, not config.get: reading a secret in clear would log a warning
        if pulumi.runtime.get_config(f"{NAMESPACE}:{key}") is None:
            if key in needed:
                problems.append((config_path([key]), f"is required: pulumi config set --secret {NAMESPACE}:{key}"))
        elif not pulumi.runtime.is_config_secret(f"{NAMESPACE}:{key}"):
            problems.append((config_path([key]), f"must be a secret: pulumi config set --secret {NAMESPACE}:{key}"))
    return problems


# --- cross-field rules (work on raw data, so they report alongside field errors) ---------------


def _as_list(value: Any) -> list[Any]:
    """Raw config may be any shape; the field checks report that, these checks skip it."""
    return value if isinstance(value, list) else []


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _entries(raw: Mapping[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    return [(i, e) for i, e in enumerate(_as_list(raw.get(key))) if isinstance(e, dict)]


def _duplicates(items: Iterable[tuple[tuple[Any, ...], Any]], what: str) -> list[tuple[str, str]]:
    """Report every later occurrence of a value already seen, at its own path."""
    seen: dict[Any, tuple[Any, ...]] = {}
    problems = []
    for loc, value in items:
        if not isinstance(value, str):
            continue
        if value in seen:
            first = config_path(seen[value])
            problems.append((config_path(loc), f"duplicate {what} '{value}' (first at {first})"))
        else:
            seen[value] = loc
    return problems


def cross_checks(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    orgs = _entries(raw, "organizations")
    tenants = _entries(raw, "tenants")
    org_names = {o.get("name") for _, o in orgs}

    problems += _duplicates(((("organizations", i, "name"), o.get("name")) for i, o in orgs), "organization")
    problems += _duplicates(((("tenants", i, "name"), t.get("name")) for i, t in tenants), "tenant")
    for section in ("apps", "apis"):
        entries = _entries(raw, section)
        problems += _duplicates((((section, i, "name"), e.get("name")) for i, e in entries), section[:-1])

    for i, tenant in tenants:
        org = tenant.get("organization")
        if isinstance(org, str) and org not in org_names:
            known = ", ".join(sorted(n for n in org_names if isinstance(n, str))) or "none"
            problems.append(
                (config_path(("tenants", i, "organization")), f"unknown organization '{org}' (known: {known})")
            )

    problems += _namespace_checks(orgs, tenants)
    problems += _workload_namespace_checks(raw, tenants)
    problems += _edge_checks(raw)
    problems += _host_checks(raw)
    problems += _api_checks(raw)
    problems += _object_name_checks(raw)
    return problems


def _namespace_checks(
    orgs: list[tuple[int, dict[str, Any]]], tenants: list[tuple[int, dict[str, Any]]]
) -> list[tuple[str, str]]:
    problems = []
    claimed: list[tuple[tuple[Any, ...], Any]] = []
    for i, org in orgs:
        if isinstance(org.get("name"), str):
            claimed.append((("organizations", i, "name"), f"org-{org['name']}"))
    for i, tenant in tenants:
        name = tenant.get("name")
        if not isinstance(name, str):
            continue
        loc = ("tenants", i, "name")
        # its AppProject may deploy to `<name>-*` as well as `<name>`
        reached = _reserved_reach(name, with_glob=True)
        if reached:
            problems.append(
                (
                    config_path(loc),
                    f"tenant '{name}' (namespaces '{name}', '{name}-*') would reach {_reserved(reached)}",
                )
            )
        claimed.append((loc, name))
        suffixes = tenant.get("namespaces")
        for j, suffix in enumerate(_as_list(suffixes)):
            full = f"{name}-{suffix}"
            sloc = ("tenants", i, "namespaces", j)
            if len(full) > 63:
                problems.append((config_path(sloc), f"namespace '{full}' is longer than 63 characters"))
            reached = _reserved_reach(full, with_glob=False)  # `<full>-*` is inside the tenant's glob
            if isinstance(suffix, str) and reached:
                problems.append((config_path(sloc), f"namespace '{full}' would be {_reserved(reached)}"))
            claimed.append((sloc, full))
    problems += _duplicates(claimed, "namespace")
    # An AppProject may deploy to `<tenant>-*`: no other tenant may live under that glob.
    names: dict[str, int] = {t["name"]: i for i, t in tenants if isinstance(t.get("name"), str)}
    for name, i in names.items():
        for other in names:
            if other != name and name.startswith(f"{other}-"):
                problems.append(
                    (
                        config_path(("tenants", i, "name")),
                        f"'{name}' falls under tenant '{other}''s namespaces ({other}-*)",
                    )
                )
    return problems


def _reserved_reach(namespace: str, with_glob: bool) -> list[str]:
    """Reserved namespaces and `<prefix>*` globs that `namespace` (and, with_glob, `<namespace>-*`) reaches."""
    under = f"{namespace}-"
    prefixes = tuple(p for p in RESERVED_PREFIXES if namespace.startswith(p) or (with_glob and p.startswith(under)))
    names = [
        n
        for n in sorted(RESERVED_NAMESPACES)
        if n == namespace or (with_glob and n.startswith(under) and not n.startswith(prefixes))
    ]
    return names + [f"{p}*" for p in prefixes]


def _reserved(reached: list[str]) -> str:
    quoted = ", ".join(f"'{n}'" for n in reached)
    return f"the reserved namespace{'s' if len(reached) > 1 else ''} {quoted}"


def _workload_namespace_checks(
    raw: Mapping[str, Any], tenants: list[tuple[int, dict[str, Any]]]
) -> list[tuple[str, str]]:
    """Apps and APIs live in a tenant's namespace, or in a platform namespace the gateway creates."""
    allowed = set(APP_PLATFORM_NAMESPACES)
    for _, tenant in tenants:
        name = str(tenant.get("name"))
        allowed |= {name, *(f"{name}-{s}" for s in _as_list(tenant.get("namespaces")))}
    problems = []
    for section in ("apps", "apis"):
        for i, entry in _entries(raw, section):
            namespace = entry.get("namespace")
            if isinstance(namespace, str) and namespace not in allowed:
                problems.append(
                    (
                        config_path((section, i, "namespace")),
                        f"'{namespace}' is neither a tenant namespace nor one of {', '.join(APP_PLATFORM_NAMESPACES)}",
                    )
                )
    return problems


def _edge_checks(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Let's Encrypt certificates come through DNS-01 at Cloudflare, and Cloudflare's records point at the
    load balancer's reserved address."""
    edge = _as_dict(raw.get("edge"))
    problems = []
    if edge.get("acme") and not edge.get("cloudflare"):
        problems.append(
            (config_path(("edge", "acme")), "needs edge.cloudflare: certificates are issued through DNS-01 there")
        )
    if edge.get("cloudflare") and not _as_dict(edge.get("loadBalancer")).get("address"):
        problems.append(
            (config_path(("edge", "loadBalancer", "address")), "is required with edge.cloudflare: DNS points at it")
        )
    return problems


def _host_checks(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    hosts: list[tuple[tuple[Any, ...], Any]] = []
    configured = _as_dict(_as_dict(raw.get("identity")).get("hosts"))
    for field, default in IdentityHosts().model_dump(by_alias=True).items():
        hosts.append((("identity", "hosts", field), configured.get(field, default)))
    for section in ("apps", "apis"):
        for i, entry in _entries(raw, section):
            hosts.append(((section, i, "host"), entry.get("host") or entry.get("name")))
    for i, org in _entries(raw, "organizations"):
        hosts.append((("organizations", i, "name"), org.get("name")))
    return _duplicates(hosts, "host")


def _api_checks(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems = []
    for i, api in _entries(raw, "apis"):
        auth = api.get("auth")
        if auth == "apiKey" and not api.get("apiKeyTiers"):
            problems.append((config_path(("apis", i, "apiKeyTiers")), "an apiKey API needs at least one tier"))
        if auth != "apiKey" and api.get("apiKeyTiers"):
            problems.append((config_path(("apis", i, "apiKeyTiers")), "only apiKey APIs have key tiers"))
        if auth != "jwt" and api.get("m2mClients"):
            problems.append((config_path(("apis", i, "m2mClients")), "only jwt APIs have client_credentials clients"))
        if auth != "jwt" and api.get("corsOrigins"):
            problems.append((config_path(("apis", i, "corsOrigins")), "only jwt APIs have CORS origins"))
        tiers = list(enumerate(map(_as_dict, _as_list(api.get("apiKeyTiers")))))
        problems += _duplicates(
            ((("apis", i, "apiKeyTiers", t, "name"), tier.get("name")) for t, tier in tiers), "API key tier"
        )
        clients = [
            (("apis", i, "apiKeyTiers", t, "clients", c), client)
            for t, tier in tiers
            for c, client in enumerate(_as_list(tier.get("clients")))
        ]
        problems += _duplicates(clients, "API key client")
        # Across APIs a partner's entries are one Keycloak client (identity/realm.py m2m_clients merges them).
        m2m = list(enumerate(map(_as_dict, _as_list(api.get("m2mClients")))))
        problems += _duplicates(((("apis", i, "m2mClients", m, "name"), c.get("name")) for m, c in m2m), "m2m client")
        scopes = _as_list(api.get("scopes", ["read", "write", "admin"]))
        for m, client in m2m:
            name = client.get("name")
            if isinstance(name, str) and name in RESERVED_CLIENT_IDS:
                problems.append(
                    (
                        config_path(("apis", i, "m2mClients", m, "name")),
                        f"'{name}' is taken in the Keycloak realm (reserved: {', '.join(sorted(RESERVED_CLIENT_IDS))})",
                    )
                )
            for s, scope in enumerate(_as_list(client.get("scopes"))):
                if scope != "admin" and scope not in scopes:  # admin: the field check says why not
                    problems.append(
                        (
                            config_path(("apis", i, "m2mClients", m, "scopes", s)),
                            f"scope '{scope}' is not one of the API's scopes",
                        )
                    )
    return problems


def _object_name_checks(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Names components/gateway joins from two config names with '-', so two entries can meet on one.

    HTTPRoutes `<namespace>/<app or api>`; per API key tier the Secret `<namespace>/<api>-apikeys-<tier>`
    (resource `api-<api>-keys-<tier>`); per API key client the resource `api-<api>-key-<client>`.
    Clashes within one entry are reported above as duplicate names.
    """
    Named = tuple[tuple[Any, ...], Any, tuple[Any, ...]]  # config path, owner, the name's parts
    routes: list[Named] = []
    secrets: list[Named] = []
    secret_resources: list[Named] = []
    key_resources: list[Named] = []
    for section in ("apps", "apis"):
        for i, entry in _entries(raw, section):
            routes.append(((section, i, "name"), section, (entry.get("namespace"), "/", entry.get("name"))))
    for i, api in _entries(raw, "apis"):
        name, namespace = api.get("name"), api.get("namespace")
        for t, tier in enumerate(map(_as_dict, _as_list(api.get("apiKeyTiers")))):
            loc = ("apis", i, "apiKeyTiers", t, "name")
            secrets.append((loc, i, (namespace, "/", name, "-apikeys-", tier.get("name"))))
            secret_resources.append((loc, i, ("api-", name, "-keys-", tier.get("name"))))
            for c, client in enumerate(_as_list(tier.get("clients"))):
                key_loc = ("apis", i, "apiKeyTiers", t, "clients", c)
                key_resources.append((key_loc, i, ("api-", name, "-key-", client)))
    return (
        _clashes(routes, "HTTPRoute")
        + _clashes(secrets, "API key Secret")
        + _clashes(secret_resources, "Secret resource name")
        + _clashes(key_resources, "RandomPassword resource name")
    )


def _clashes(items: Iterable[tuple[tuple[Any, ...], Any, tuple[Any, ...]]], what: str) -> list[tuple[str, str]]:
    """Like _duplicates, for names built from parts, and only between different owners."""
    seen: dict[str, tuple[tuple[Any, ...], Any]] = {}
    problems = []
    for loc, owner, parts in items:
        if not all(isinstance(p, str) for p in parts):
            continue
        value = "".join(parts)
        if value not in seen:
            seen[value] = (loc, owner)
        elif seen[value][1] != owner:
            first = config_path(seen[value][0])
            problems.append((config_path(loc), f"{what} '{value}' clashes with the one made for {first}"))
    return problems
