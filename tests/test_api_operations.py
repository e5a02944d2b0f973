"""An API that lists its operations is routed for exactly them: method and path, a `{name}` segment any
one segment; everything else on its host finds no route (404).

`routed` matches as Gateway API and Envoy Gateway v1.9.0 do: a match needs its method (when given) and
its path, compared without the query; Exact is the whole path, RegularExpression a full match of it
(envoyproxy/gateway internal/xds/translator/route.go: `path` and `safe_regex` route matches); PathPrefix
whole segments.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from components import config
from components.gateway import api_routes

API = config.Api(
    name="catalog-v2",
    namespace="storefront",
    service=config.ServiceRef(name="catalog-api-v2", port=8080),
    auth="apiKey",
    scopes=["read"],
    api_key_tiers=[config.ApiKeyTier(name="free", requests_per_minute=60, clients=["acme"])],
    base_path="/catalog/v2",
    operations=[
        config.Operation(method="GET", path="/products"),
        config.Operation(method="GET", path="/products/{id}"),
        config.Operation(method="HEAD", path="/"),
    ],
)


def routed(matches: list[dict[str, Any]] | None, method: str, target: str) -> bool:
    path = target.split("?", 1)[0]
    for match in matches or [{"path": {"type": "PathPrefix", "value": "/"}}]:
        if "method" in match and match["method"] != method:
            continue
        kind, value = match["path"]["type"], match["path"]["value"]
        if kind == "Exact" and path == value:
            return True
        if kind == "RegularExpression" and re.fullmatch(value, path):
            return True
        if kind == "PathPrefix" and (path == value or path.startswith(value.rstrip("/") + "/")):
            return True
    return False


CASES = [
    ("GET", "/catalog/v2/products", True),
    ("GET", "/catalog/v2/products?page=2", True),
    ("GET", "/catalog/v2/products/42", True),
    ("GET", "/catalog/v2/products/42/reviews", False),  # one segment only
    ("GET", "/catalog/v2/products/", False),  # an empty segment is none
    ("POST", "/catalog/v2/products", False),  # not a declared method
    ("GET", "/catalog/v2/secret", False),  # not a declared path
    ("GET", "/catalog/v1/products", False),  # another version's
    ("HEAD", "/catalog/v2", True),  # `/`: the base path itself
    ("GET", "/catalog/v2", False),
]


@pytest.mark.parametrize(("method", "target", "expected"), CASES, ids=[f"{m} {t}" for m, t, _ in CASES])
def test_only_the_declared_operations_are_routed(method: str, target: str, expected: bool) -> None:
    assert routed(api_routes.route_matches(API), method, target) is expected


def test_without_operations_the_whole_base_path_is_routed() -> None:
    whole = API.model_copy(update={"operations": []})
    assert routed(api_routes.route_matches(whole), "GET", "/catalog/v2/anything/at/all")
    assert not routed(api_routes.route_matches(whole), "POST", "/catalog/v2/x")  # read-only: reads only


def test_staging_s_definition_file_routes_its_operations(staging_preview: Any) -> None:
    """apis/catalog-v2.yaml lists three GET operations: the rendered route matches those and nothing else."""
    (route,) = [
        m.obj for m in staging_preview.manifests if m.kind == "HTTPRoute" and m.obj["metadata"]["name"] == "catalog-v2"
    ]
    matches = [m for rule in route["spec"]["rules"] for m in rule["matches"]]
    assert routed(matches, "GET", "/catalog/v2/products/7")
    assert not routed(matches, "GET", "/catalog/v2/admin")
    # GET only, and the OPTIONS preflight of the product list, whose CORS policy answers it
    assert {(m["method"], m["path"]["value"]) for m in matches if m["method"] != "GET"} == {
        ("OPTIONS", "/catalog/v2/products")
    }


@pytest.mark.parametrize(
    ("operations", "where", "message"),
    [
        ([{"method": "GET", "path": "/a"}, {"method": "GET", "path": "/a"}], ("operations", 1), "duplicate"),
        ([{"method": "POST", "path": "/a"}], ("operations", 0, "method"), "serves reads only"),
        ([{"method": "GET", "path": "/a/{id"}], ("operations", 0, "path"), "template"),
        ([{"method": "GET", "path": "/a/../b"}], ("operations", 0, "path"), "'..'"),
        ([{"method": "FETCH", "path": "/a"}], ("operations", 0, "method"), "GET"),
    ],
)
def test_bad_operations_are_config_errors(
    operations: list[dict[str, str]], where: tuple[Any, ...], message: str
) -> None:
    raw = {**API.model_dump(by_alias=True, exclude={"operations"}), "operations": operations}
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        config.Api.model_validate(raw)
    assert ".".join(str(p) for p in where).split(".")[0] in str(caught.value)
