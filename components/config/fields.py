"""Field types every section reuses: a string type per kind of value, each checked by one validator.

Every pattern is used with fullmatch: `$` would accept a trailing newline ("helpdesk\\n").
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel

# Seed validation rules (seed 002: Organization and Namespace validation).
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


BASE_PATH_RE = re.compile(r"(/[A-Za-z0-9._~-]+)+")


def _path_prefix(value: str) -> str:
    if not value.startswith("/") or any(c.isspace() for c in value):
        raise ValueError("must be an absolute URL path such as /admin")
    return value


def _base_path(value: str) -> str:
    if not BASE_PATH_RE.fullmatch(value):
        raise ValueError(
            "must be an absolute path of one or more segments of letters, digits, '.', '_', '~' or '-',"
            " without a trailing slash, such as /catalog/v2"
        )
    if any(segment in (".", "..") for segment in value.split("/")):
        raise ValueError("must not hold '.' or '..' segments")
    return value


# An operation's path below its API's base path: segments of unreserved characters, or a `{name}`
# template standing for one whole segment (seed 001's `/products/{id}`); `/` alone is the base path.
OPERATION_SEGMENT_RE = re.compile(r"[A-Za-z0-9._~-]+|\{[A-Za-z_][A-Za-z0-9_]*\}")


def _operation_path(value: str) -> str:
    segments = value.split("/")[1:] if value != "/" else []
    if not value.startswith("/") or not all(OPERATION_SEGMENT_RE.fullmatch(s) for s in segments):
        raise ValueError(
            "must be / or an absolute path of segments of letters, digits, '.', '_', '~', '-', or one {name}"
            " template each, such as /products/{id}"
        )
    if any(segment in (".", "..") for segment in segments):
        raise ValueError("must not hold '.' or '..' segments")
    return value


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
BasePath = Annotated[str, AfterValidator(_base_path)]
DisplayName = Annotated[str, AfterValidator(_display_name)]
Email = Annotated[str, AfterValidator(_email)]
Domain = Annotated[str, AfterValidator(_domain)]
Repo = Annotated[str, AfterValidator(_repo)]
Cidr = Annotated[str, AfterValidator(_cidr)]
PrivateRange = Annotated[str, AfterValidator(_private_range)]
IPv4 = Annotated[str, AfterValidator(_ipv4)]
CloudflareId = Annotated[str, AfterValidator(_cloudflare_id)]
PathPrefix = Annotated[str, AfterValidator(_path_prefix)]
OperationPath = Annotated[str, AfterValidator(_operation_path)]
Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
Origin = Annotated[str, AfterValidator(_origin)]
Group = Annotated[str, AfterValidator(_group)]
KubernetesVersion = Annotated[str, AfterValidator(_kubernetes_version)]
Environment = Literal["dev", "staging", "prod"]
Scope = Literal["read", "write", "admin"]
M2MScope = Annotated[Literal["read", "write"], BeforeValidator(_m2m_scope)]  # before: a clearer message


class Model(BaseModel):
    """camelCase keys in YAML, snake_case in Python; unknown keys are errors, models immutable."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    @classmethod
    def key(cls, field: str) -> str:
        """The key a field has in the stack file (`api_key_tiers` -> `apiKeyTiers`), for config paths."""
        return cls.model_fields[field].alias or field
