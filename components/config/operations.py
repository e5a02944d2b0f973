"""An API's operations (seed 001: method, path, request and response policies) and what each may ask.

A policy is `{name, params}`; its name says what Envoy Gateway feature it becomes (gateway/operations.py):

| request policy | params                                                  | becomes                                 |
|----------------|---------------------------------------------------------|-----------------------------------------|
| add-headers    | headers: [{name, value}]                                | the rule's RequestHeaderModifier `add`  |
| set-headers    | headers: [{name, value}]                                | its `set`                               |
| remove-headers | headers: [name]                                         | its `remove`                            |
| cors           | allowOrigins, allowHeaders, exposeHeaders, maxAge,      | the rule's CORS filter (and OPTIONS on  |
|                | allowCredentials                                        | the operation's path)                   |
| rate-limit     | requestsPerMinute                                       | a BackendTrafficPolicy on the rule      |
| timeout        | request, backendRequest                                 | the rule's `timeouts`                   |
| retry          | attempts, codes, backoff                                | the rule's `retry`                      |

Response policies are the three header policies (ResponseHeaderModifier). Any other name is an error
that lists the known ones. Headers the platform sets or trusts for identity (components/headers.py), the
correlation id, `host` and `authorization` are never set or removed by a policy, and a value holds no `%`
(Envoy would read `%REQ(authorization)%` as a command and copy the caller's token).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationError, model_validator

from ..headers import CORRELATION_HEADER, REDIRECT_HEADER, SPOOFABLE
from .fields import Method, Model, OperationPath, Origin, Scope
from .problems import Problem, duplicates, located, reject

# Gateway API's HTTPHeaderName (gateway.networking.k8s.io v1 CRD) and Duration patterns
HEADER_NAME_RE = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,256}")
DURATION_RE = re.compile(r"([0-9]{1,5}(h|m|s|ms)){1,4}")
DURATION_UNITS_MS = {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
# Never a policy's to touch: identity (spoofable, removed at the edge, set only by verified auth), the
# correlation id, the routing host, and credentials (a definition file is no place for a secret).
PROTECTED_HEADERS = frozenset(
    {*SPOOFABLE, CORRELATION_HEADER.lower(), REDIRECT_HEADER, "host", "authorization", "cookie"}
)
IDEMPOTENT_METHODS = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
RETRIABLE_CODES = (502, 503, 504)
MAX_RETRIES = 5


def _header_name(value: str) -> str:
    if not HEADER_NAME_RE.fullmatch(value):
        raise ValueError("must be an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)")
    if value.lower() in PROTECTED_HEADERS:
        raise ValueError(f"'{value}' is the platform's (identity, correlation id, host or credentials): not a policy's")
    return value


def _header_value(value: str) -> str:
    if "%" in value:
        raise ValueError("must not hold '%': Envoy reads it as a command operator (%REQ(...)% copies request headers)")
    if len(value) > 4096 or any(c in value for c in "\r\n\0"):
        raise ValueError("must be one line of at most 4096 characters")
    return value


def duration_ms(value: str) -> int:
    """`1m30s` -> 90000."""
    return sum(int(n) * DURATION_UNITS_MS[unit] for n, unit in re.findall(r"([0-9]+)(h|ms|m|s)", value))


def _duration(value: str) -> str:
    if not DURATION_RE.fullmatch(value) or duration_ms(value) == 0:
        raise ValueError("must be a positive duration such as 500ms, 10s or 1m30s")
    return value


HeaderName = Annotated[str, AfterValidator(_header_name)]
HeaderValue = Annotated[str, AfterValidator(_header_value)]
Duration = Annotated[str, AfterValidator(_duration)]


class Header(Model):
    name: HeaderName
    value: HeaderValue


class HeaderValues(Model):
    headers: list[Header] = Field(min_length=1, max_length=16)  # Gateway API: at most 16 per modifier list


class HeaderNames(Model):
    headers: list[HeaderName] = Field(min_length=1, max_length=16)


class Cors(Model):
    allow_origins: list[Origin] = Field(min_length=1, max_length=64)
    allow_headers: list[HeaderName] = []
    expose_headers: list[HeaderName] = []
    max_age: int = Field(default=3600, ge=1, le=86400)  # seconds a browser may cache the preflight
    allow_credentials: bool = False


class RateLimit(Model):
    requests_per_minute: int = Field(ge=1)


class Timeout(Model):
    request: Duration
    backend_request: Duration | None = None

    @model_validator(mode="after")
    def _within_request(self) -> Timeout:
        if self.backend_request and duration_ms(self.backend_request) > duration_ms(self.request):
            reject([Problem(("backendRequest",), "must not exceed `request` (the whole request's time)")], "Timeout")
        return self


class Retry(Model):
    attempts: int = Field(ge=1, le=MAX_RETRIES)
    codes: list[Annotated[int, Field(ge=500, le=599)]] = list(RETRIABLE_CODES)
    backoff: Duration = "100ms"


PARAMS: dict[str, type[Model]] = {
    "add-headers": HeaderValues,
    "set-headers": HeaderValues,
    "remove-headers": HeaderNames,
    "cors": Cors,
    "rate-limit": RateLimit,
    "timeout": Timeout,
    "retry": Retry,
}
RESPONSE_POLICIES = ("add-headers", "set-headers", "remove-headers")


class Policy(Model):
    """One request or response policy: its name (a key of PARAMS) and its params, which the name's model
    parses (`params` then holds that model)."""

    name: str
    params: Any = None

    @model_validator(mode="after")
    def _known(self) -> Policy:
        if self.name not in PARAMS:
            reject([Problem(("name",), f"unknown policy '{self.name}' (known: {', '.join(PARAMS)})")], "Policy")
        try:
            parsed = PARAMS[self.name].model_validate(self.params or {})
        except ValidationError as exc:
            reject([Problem(("params", *loc), message) for loc, message in located(exc)], "Policy")
        object.__setattr__(self, "params", parsed)  # frozen: set once, here, to the parsed params
        return self


class Operation(Model):
    """One request an API serves (seed 001's operations): the method and the path below the base path, its
    policies, and (Gatehouse's) the scope a jwt API's token needs for it: by default `admin` under the
    admin paths, else `read` for GET and HEAD and `write` for the rest."""

    method: Method
    path: OperationPath
    scope: Scope | None = None
    request_policies: list[Policy] = []
    response_policies: list[Policy] = []

    @model_validator(mode="after")
    def _policies_fit(self) -> Operation:
        """Each policy once per list; response policies are header policies; no retry of a request that
        is not idempotent (a POST tried twice may act twice); CORS answers a preflight, not an OPTIONS
        the API serves."""
        req, resp = self.key("request_policies"), self.key("response_policies")
        problems = duplicates((((req, i, "name"), p.name) for i, p in enumerate(self.request_policies)), "policy")
        problems += duplicates((((resp, i, "name"), p.name) for i, p in enumerate(self.response_policies)), "policy")
        for i, policy in enumerate(self.response_policies):
            if policy.name not in RESPONSE_POLICIES:
                message = f"'{policy.name}' is a request policy (response policies: {', '.join(RESPONSE_POLICIES)})"
                problems.append(Problem((resp, i, "name"), message))
        for i, policy in enumerate(self.request_policies):
            if policy.name == "retry" and self.method not in IDEMPOTENT_METHODS:
                message = f"{self.method} is not idempotent: a retried request could act twice"
                problems.append(Problem((req, i, "name"), message))
            if policy.name == "cors" and self.method == "OPTIONS":
                problems.append(Problem((req, i, "name"), "CORS answers OPTIONS itself: not on an OPTIONS operation"))
        problems += self._headers_once(req, False) + self._headers_once(resp, True)
        reject(problems, "Operation")
        return self

    def _headers_once(self, at: str, response: bool) -> list[Problem]:
        """A header is added, set or removed by one policy, once (Gateway API keys each list by name)."""
        policies = self.response_policies if response else self.request_policies
        named = []
        for i, policy in enumerate(policies):
            if policy.name in RESPONSE_POLICIES:  # the header policies
                names = [h if isinstance(h, str) else h.name for h in policy.params.headers]
                named += [((at, i, "params", "headers", h), name.lower()) for h, name in enumerate(names)]
        return duplicates(named, "header")

    def policy(self, name: str, response: bool = False) -> Any:
        """The params of the operation's policy `name` (None without one)."""
        found = [p.params for p in (self.response_policies if response else self.request_policies) if p.name == name]
        return found[0] if found else None

    def default_scope(self, admin: bool) -> str:
        """The scope this operation needs: its own, or by its place (`admin`: under an admin path) and method."""
        if self.scope:
            return self.scope
        return "admin" if admin else ("read" if self.method in ("GET", "HEAD") else "write")

    @property
    def rule_name(self) -> str:
        """The HTTPRoute rule's name: `get.products.id` for GET /products/{id} (Gateway API rule names are
        DNS subdomains); Api checks no two operations of an API share one."""
        slugs = [
            re.sub(r"[^a-z0-9-]+", "-", s.strip("{}").lower()).strip("-") or "x" for s in self.path.split("/") if s
        ]
        return ".".join([self.method.lower(), *slugs])
