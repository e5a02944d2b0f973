"""API definition files (seed 001's API configuration, Gatehouse's fields under `data:`): the mapping of
each field to the Api, the problems a bad file reports (its file and field path), two versions side by
side, and the base path in the route and in the authorization rules (evaluated as Envoy Gateway does)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO
from test_api_access import API, CASES, PARTNER, Token, admin, decide, member
from test_config import _stack_raw

from components import config
from components.gateway import api_routes, api_rules, names

ORGS = ["acme", "globex"]


def _definition(**data: Any) -> dict[str, Any]:
    """A valid jwt definition in the helpdesk namespace; `data` overrides fields of `data:` (None drops one)."""
    base: dict[str, Any] = {
        "name": "tickets",
        "version": "v2",
        "context": "/tickets",
        "upstream": [{"url": "http://tickets-api-v2.helpdesk.svc:8080"}],
        "operations": [{"method": "GET", "path": "/orgs/{org}/tickets"}],
        "namespace": "helpdesk",
        "auth": "jwt",
    }
    base.update(data)
    return {
        "version": "api-platform.wso2.com/v1",
        "kind": "http/rest",
        "data": {k: v for k, v in base.items() if v is not None},
    }


@pytest.fixture(scope="module")
def staging_raw() -> dict[str, Any]:
    return _stack_raw("staging")


def _parse(staging_raw: dict[str, Any], tmp_path: Path, files: dict[str, Any], **extra: Any) -> config.StackConfig:
    """The staging config with `files` (name -> document, or text) as its only definition files."""
    (tmp_path / "apis").mkdir(exist_ok=True)
    for name, document in files.items():
        text = document if isinstance(document, str) else yaml.safe_dump(document)
        (tmp_path / "apis" / name).write_text(text)
    raw = {**copy.deepcopy(staging_raw), "apiDefinitions": ["apis/*.yaml"], **extra}
    return config.parse_raw(raw, base=tmp_path)


def _problems(staging_raw: dict[str, Any], tmp_path: Path, files: dict[str, Any], **extra: Any) -> list[str]:
    with pytest.raises(config.ConfigError) as caught:
        _parse(staging_raw, tmp_path, files, **extra)
    return [f"{path}: {message}" for path, message in caught.value.problems]


def _api(stack: config.StackConfig, name: str) -> config.Api:
    return next(a for a in stack.apis if a.name == name)


def test_the_staging_stack_has_catalog_v2_from_its_file() -> None:
    raw = _stack_raw("staging", expand=False)
    assert raw["apiDefinitions"] == ["apis/*.yaml"]
    stack = config.parse_raw(raw, base=REPO)
    v2 = _api(stack, "catalog-v2")
    assert v2.service is not None
    assert (v2.base_path, v2.namespace, v2.service.name, v2.auth) == (
        "/catalog/v2",
        "storefront",
        "catalog-api-v2",
        "apiKey",
    )
    v1 = _api(stack, "catalog-v1")  # seed 000's public read endpoints, beside it on the same host
    assert (v1.base_path, v1.host_label, v2.host_label) == ("/catalog/v1", "catalog", "catalog")


# Each seed field and each Gatehouse field: (data overrides, Api attribute, expected value)
MAPPING = [
    ({}, "name", "tickets-v2"),  # data.name + data.version
    ({"version": "v3"}, "name", "tickets-v3"),
    ({}, "base_path", "/tickets/v2"),  # data.context + data.version
    ({"context": "support/tickets"}, "base_path", "/support/tickets/v2"),  # a leading slash is optional
    ({}, "service", config.ServiceRef(name="tickets-api-v2", port=8080)),  # data.upstream[0].url
    (
        {"upstream": [{"url": "http://t.helpdesk.svc.cluster.local:9000/"}]},
        "service",
        config.ServiceRef(name="t", port=9000),
    ),
    ({}, "namespace", "helpdesk"),
    ({}, "host_label", "tickets-v2"),  # the default host: the API's name
    ({"host": "support"}, "host", "support"),
    ({}, "auth", "jwt"),
    ({"scopes": ["read"]}, "scopes", ["read"]),
    ({"adminPaths": ["/manage"]}, "admin_paths", ["/manage"]),
    ({"corsOrigins": ["https://app.example.com"]}, "cors_origins", ["https://app.example.com"]),
    ({"organizationScoped": True}, "organization_scoped", True),
    (
        {"m2mClients": [{"name": "partner-logistics", "scopes": ["write"], "tier": "standard"}]},
        "m2m_clients",
        [config.M2MClient(name="partner-logistics", scopes=["write"], tier="standard")],
    ),
    (
        {
            "m2mClients": [{"name": "partner-logistics", "scopes": ["write"], "tier": "standard"}],
            "partnerOnlyScopes": ["write"],
        },
        "partner_only_scopes",
        ["write"],
    ),
    (
        {
            "auth": "apiKey",
            "scopes": ["read"],
            "apiKeyTiers": [{"name": "free", "requestsPerMinute": 5, "clients": ["c1"]}],
        },
        "api_key_tiers",
        [config.ApiKeyTier(name="free", requests_per_minute=5, clients=["c1"])],
    ),
    ({"auth": "public"}, "auth", "public"),
    ({"tokenName": "support"}, "audience", "support-api"),  # scopes and audience after tokenName
    ({}, "audience", "tickets-v2-api"),  # else after the name
    ({"upstream": [{"url": "https://tickets.vendor.example"}]}, "service", None),  # an external upstream
    (
        {"upstream": [{"url": "https://tickets.vendor.example:8443/"}]},
        "external",
        config.ExternalUpstream(hostname="tickets.vendor.example", port=8443),
    ),
    (
        {"upstream": [{"url": "http://tickets-api-v2.helpdesk.svc:8080", "healthCheck": {"path": "/healthz"}}]},
        "health_check",
        config.HealthCheck(path="/healthz"),
    ),
]


@pytest.mark.parametrize(("data", "attribute", "expected"), MAPPING, ids=[f"{m[1]}-{i}" for i, m in enumerate(MAPPING)])
def test_each_field_maps_to_the_api(
    staging_raw: dict[str, Any], tmp_path: Path, data: dict[str, Any], attribute: str, expected: Any
) -> None:
    stack = _parse(staging_raw, tmp_path, {"tickets.yaml": _definition(**data)})
    name = "tickets-" + data.get("version", "v2")
    assert getattr(_api(stack, name), attribute) == expected


BAD = [
    # (what, document or text, the problem expected, as `<file>: <path>: <message start>`)
    (
        "the format's version",
        {**_definition(), "version": "v2"},
        "apis/t.yaml: version: must be 'api-platform.wso2.com/v1'",
    ),
    ("the kind", {**_definition(), "kind": "graphql"}, "apis/t.yaml: kind: must be 'http/rest'"),
    ("no name", _definition(name=None), "apis/t.yaml: data.name: is required"),
    ("a name not a DNS label", _definition(name="Tickets"), "apis/t.yaml: data.name: must be"),
    ("a version with a dot", _definition(version="1.0"), "apis/t.yaml: data.version: must be lowercase"),
    ("a context with ..", _definition(context="/a/../admin"), "apis/t.yaml: data.context: must be a path"),
    ("no upstream", _definition(upstream=[]), "apis/t.yaml: data.upstream: needs at least 1 entry"),
    (
        "an external upstream without TLS",
        _definition(upstream=[{"url": "http://api.example.com"}]),
        "apis/t.yaml: data.upstream[0].url: must be an in-cluster Service URL",
    ),
    (
        "an external upstream with a path",
        _definition(upstream=[{"url": "https://api.example.com/v1"}]),
        "apis/t.yaml: data.upstream[0].url: must be an in-cluster Service URL",
    ),
    (
        "an external upstream in a private zone",
        _definition(upstream=[{"url": "https://tickets.helpdesk.svc.cluster.local"}]),
        "apis/t.yaml: data.upstream[0].url: names a private zone",
    ),
    (
        "a health check's threshold",
        _definition(
            upstream=[{"url": "https://api.example.com", "healthCheck": {"path": "/healthz", "healthyThreshold": 0}}]
        ),
        "apis/t.yaml: data.upstream[0].healthCheck.healthyThreshold: must be greater than or equal to 1",
    ),
    (
        "an upstream in another namespace",
        _definition(upstream=[{"url": "http://x.storefront.svc:80"}]),
        "apis/t.yaml: data.upstream[0].url: the Service is in 'storefront'",
    ),
    (
        "an operation's method",
        _definition(
            operations=[
                {"method": "GET", "path": "/a"},
                {"method": "GET", "path": "/b"},
                {"method": "FETCH", "path": "/c"},
            ]
        ),
        "apis/t.yaml: data.operations[2].method: must be 'GET'",
    ),
    (
        "an operation's path",
        _definition(operations=[{"method": "GET", "path": "a"}]),
        "apis/t.yaml: data.operations[0].path: must be",
    ),
    (
        "a request policy's name",
        _definition(operations=[{"method": "GET", "path": "/a", "requestPolicies": [{"name": "throttle"}]}]),
        "apis/t.yaml: data.operations[0].requestPolicies[0].name: unknown policy 'throttle' (known: add-headers,",
    ),
    (
        "a request policy's params",
        _definition(operations=[{"method": "GET", "path": "/a", "requestPolicies": [{"name": "timeout"}]}]),
        "apis/t.yaml: data.operations[0].requestPolicies[0].params.request: is required",
    ),
    (
        "a retried POST",
        _definition(
            operations=[
                {"method": "POST", "path": "/a", "requestPolicies": [{"name": "retry", "params": {"attempts": 2}}]}
            ]
        ),
        "apis/t.yaml: data.operations[0].requestPolicies[0].name: POST is not idempotent",
    ),
    ("an unknown field", _definition(gateways=["internal"]), "apis/t.yaml: data.gateways: unknown field"),
    ("an auth", _definition(auth="basic"), "apis/t.yaml: data.auth: must be"),
    ("a scope", _definition(scopes=["read", "delete"]), "apis/t.yaml: data.scopes[1]: must be"),
    (
        "an apiKey API without tiers",
        _definition(auth="apiKey"),
        "apis/t.yaml: data.apiKeyTiers: an apiKey API needs at least one tier",
    ),
    (
        "a partner's unknown tier (a rule across entries)",
        _definition(m2mClients=[{"name": "partner-x", "scopes": ["read"], "tier": "gold"}]),
        "apis/t.yaml: data.m2mClients[0].tier:",
    ),
    (
        "a namespace of no tenant (a rule across entries)",
        _definition(namespace="nowhere", upstream=[{"url": "http://a.nowhere.svc:80"}]),
        "apis/t.yaml: data.namespace: 'nowhere' is neither",
    ),
    (
        "a key given twice",
        "version: api-platform.wso2.com/v1\nversion: x\n",
        "apis/t.yaml: line 2: duplicate key 'version'",
    ),
    (
        "an alias bomb",
        "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
        + "".join(
            f"{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
            for p, n in zip("abcdef", "bcdefg", strict=True)
        ),
        "apis/t.yaml: line",
    ),
    ("not a mapping", "- a\n", "apis/t.yaml: expected a mapping at the top level"),
]


@pytest.mark.parametrize(("what", "document", "expected"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_definition_names_its_file_and_field(
    staging_raw: dict[str, Any], tmp_path: Path, what: str, document: Any, expected: str
) -> None:
    problems = _problems(staging_raw, tmp_path, {"t.yaml": document})
    assert any(p.startswith(expected) for p in problems), problems


# Each operation field (seed 001's method, path, requestPolicies, responsePolicies): what the Api holds
OPERATION = {"method": "GET", "path": "/orgs/{org}/tickets/{id}"}
OPERATION_MAPPING = [
    (OPERATION, lambda op: (op.method, op.path, op.scope), ("GET", "/orgs/{org}/tickets/{id}", None)),
    (
        {**OPERATION, "requestPolicies": [{"name": "timeout", "params": {"request": "5s"}}]},
        lambda op: op.policy("timeout").request,
        "5s",
    ),
    (
        {**OPERATION, "responsePolicies": [{"name": "remove-headers", "params": {"headers": ["server"]}}]},
        lambda op: op.policy("remove-headers", response=True).headers,
        ["server"],
    ),
]


@pytest.mark.parametrize(
    ("operation", "read", "expected"), OPERATION_MAPPING, ids=["method, path", "requestPolicies", "responsePolicies"]
)
def test_each_operation_field_maps(
    staging_raw: dict[str, Any], tmp_path: Path, operation: dict[str, Any], read: Any, expected: Any
) -> None:
    stack = _parse(staging_raw, tmp_path, {"t.yaml": _definition(operations=[operation])})
    (op,) = _api(stack, "tickets-v2").operations
    assert read(op) == expected


def test_an_operation_s_scope_maps(staging_raw: dict[str, Any], tmp_path: Path) -> None:
    operations = [{"method": "GET", "path": "/reports", "scope": "write"}]
    stack = _parse(staging_raw, tmp_path, {"t.yaml": _definition(operations=operations, organizationScoped=False)})
    (op,) = _api(stack, "tickets-v2").operations
    assert op.scope == "write" and op.default_scope(admin=False) == "write"


def test_a_bad_file_registers_nothing_of_the_good_ones(staging_raw: dict[str, Any], tmp_path: Path) -> None:
    """One bad file: the error lists it, and no API of any file joins the stack (it is not built at all)."""
    problems = _problems(
        staging_raw, tmp_path, {"good.yaml": _definition(), "bad.yaml": _definition(name="x", auth="?")}
    )
    assert problems == ["apis/bad.yaml: data.auth: must be 'jwt', 'apiKey' or 'public'"]


def test_a_name_defined_both_ways_is_an_error(staging_raw: dict[str, Any], tmp_path: Path) -> None:
    raw = copy.deepcopy(staging_raw)
    entry = {"name": "tickets-v2", "namespace": "helpdesk", "service": {"name": "t", "port": 80}, "auth": "jwt"}
    problems = _problems(staging_raw, tmp_path, {"t.yaml": _definition()}, apis=[*raw["apis"], entry])
    index = len(raw["apis"])
    assert problems == [f"apis/t.yaml: data.name: API 'tickets-v2' is also defined at gatehouse:apis[{index}].name"]


def test_a_name_in_two_files_is_an_error(staging_raw: dict[str, Any], tmp_path: Path) -> None:
    problems = _problems(staging_raw, tmp_path, {"a.yaml": _definition(), "b.yaml": _definition(host="other")})
    assert problems == ["apis/b.yaml: data.name: API 'tickets-v2' is also defined in apis/a.yaml"]


def test_a_glob_that_matches_nothing_is_an_error(staging_raw: dict[str, Any], tmp_path: Path) -> None:
    problems = _problems(staging_raw, tmp_path, {}, apiDefinitions=["apis/*.yml"])
    assert problems == ["gatehouse:apiDefinitions[0]: 'apis/*.yml' matches no file"]
    problems = _problems(staging_raw, tmp_path, {}, apiDefinitions=["../elsewhere/*.yaml"])
    assert problems == ["gatehouse:apiDefinitions[0]: must be a glob relative to the project, such as apis/*.yaml"]


def test_two_versions_side_by_side(staging_raw: dict[str, Any], tmp_path: Path) -> None:
    v9 = _definition(version="v9", upstream=[{"url": "http://tickets-api.helpdesk.svc:8080"}])
    stack = _parse(staging_raw, tmp_path, {"tickets-v9.yaml": v9, "tickets-v2.yaml": _definition()})
    one, two = _api(stack, "tickets-v9"), _api(stack, "tickets-v2")
    assert names.route_name(one.name) != names.route_name(two.name)
    assert (one.base_path, two.base_path) == ("/tickets/v9", "/tickets/v2")
    assert (one.host_label, two.host_label) == ("tickets-v9", "tickets-v2")
    assert one.service is not None and two.service is not None
    assert (one.service.name, two.service.name) == ("tickets-api", "tickets-api-v2")
    # each routes its own operations under its own prefix (tests/test_api_operations.py: the matching)
    assert [m["path"]["value"] for m in api_routes.route_matches(one) or []] == ["^/tickets/v9/orgs/[^/]+/tickets$"]
    assert [m["path"]["value"] for m in api_routes.route_matches(two) or []] == ["^/tickets/v2/orgs/[^/]+/tickets$"]
    unlisted = one.model_copy(update={"operations": []})
    assert api_routes.route_matches(unlisted) == [{"path": {"type": "PathPrefix", "value": "/tickets/v9"}}]


def test_the_route_matches_only_under_the_base_path() -> None:
    assert api_routes.route_matches(API) is None  # no base path: the whole host, as before
    reads = API.model_copy(update={"auth": "apiKey", "scopes": ["read"], "base_path": "/catalog/v2"})
    assert api_routes.route_matches(reads) == [
        {"method": "GET", "path": {"type": "PathPrefix", "value": "/catalog/v2"}},
        {"method": "HEAD", "path": {"type": "PathPrefix", "value": "/catalog/v2"}},
    ]


BASE = "/tickets/v2"
VERSIONED = API.model_copy(update={"base_path": BASE})


@pytest.mark.parametrize(("who", "token", "method", "path", "expected"), CASES, ids=[c[0] for c in CASES])
def test_an_organization_scoped_api_under_a_base_path_decides_as_without_one(
    who: str, token: Token | None, method: str, path: str, expected: str
) -> None:
    """Every case of test_api_access, its path under the base path: the same decision."""
    assert decide(api_rules.authorization_rules(VERSIONED, ORGS), method, BASE + path, token) == expected


@pytest.mark.parametrize(
    ("token", "method", "path"),
    [
        (member("acme"), "GET", "/orgs/acme/tickets"),  # the organization's path, but not under the base path
        (admin("acme"), "DELETE", "/orgs/acme/admin/users/7"),
        (PARTNER, "GET", "/orgs/globex/tickets"),
        (admin("acme"), "GET", "/tickets/v1/orgs/acme/tickets"),  # another version's path
        (admin("acme"), "GET", BASE + "/orgs/acme/ADMIN"),  # an admin path in another case needs the admin rule
        (member("acme"), "GET", BASE + "/orgs/acme/Admin;x"),
        (member("acme"), "GET", BASE + ";x/orgs/acme/tickets"),  # path parameters, anywhere
    ],
)
def test_a_base_path_takes_nothing_outside_it(token: Token, method: str, path: str) -> None:
    rules = api_rules.authorization_rules(VERSIONED, ORGS)
    expected = "Allow" if path == BASE + "/orgs/acme/ADMIN" else "Deny"
    assert decide(rules, method, path, token) == expected


def test_a_platform_wide_api_under_a_base_path() -> None:
    platform = VERSIONED.model_copy(update={"organization_scoped": False})
    rules = api_rules.authorization_rules(platform, ORGS)
    assert decide(rules, "GET", BASE + "/tickets/1", member("globex")) == "Allow"
    assert decide(rules, "GET", BASE + "/admin?x=1", member("globex")) == "Deny"
    assert decide(rules, "GET", BASE + "/ADMIN/x", member("globex")) == "Deny"
    assert decide(rules, "GET", BASE + "/admin?x=1", admin("globex")) == "Allow"
    assert decide(rules, "GET", BASE + "/admin", admin("globex", ())) == "Deny"
    assert decide(rules, "GET", BASE + ";a/admin", admin("globex")) == "Deny"


def test_a_config_entry_may_carry_a_base_path(staging_raw: dict[str, Any], tmp_path: Path) -> None:
    raw = copy.deepcopy(staging_raw)
    raw["apis"][0]["basePath"] = "/support/v1"
    assert config.parse_raw(raw).apis[0].base_path == "/support/v1"
    raw["apis"][0]["basePath"] = "/support/"
    with pytest.raises(config.ConfigError) as caught:
        config.parse_raw(raw, base=REPO)
    assert [p for p, _ in caught.value.problems] == ["gatehouse:apis[0].basePath"]


def test_the_staging_file_previews_as_a_versioned_route() -> None:
    """apis/catalog-v2.yaml, as the staging stack reads it, becomes catalog-v2 under /catalog/v2."""
    document = yaml.safe_load((REPO / "apis" / "catalog-v2.yaml").read_text())
    stack = config.parse_raw(_stack_raw("staging"), base=REPO)
    v2 = _api(stack, "catalog-v2")
    declared = [(op["method"], op["path"]) for op in document["data"]["operations"]]
    assert [(op.method, op.path) for op in v2.operations] == declared  # the route matches exactly these
    assert api_routes.route_matches(v2) == [api_routes.operation_match(v2, op) for op in v2.operations]
