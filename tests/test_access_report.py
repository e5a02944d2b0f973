"""access-report.json: who may enter each route, and which identity headers its app receives from where."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import REPO
from helpers import api_entries, run_preview

from offline.access import access_report, client_reachable
from offline.manifests import Manifest


@pytest.fixture(scope="module", params=["staging", "prod", "dev"])
def report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    stack = request.param
    out = tmp_path_factory.mktemp(stack)
    result, printed = run_preview(REPO, out, stack=stack, policy_config=REPO / "policy" / f"{stack}.json")
    assert result.exit_code == 0, printed
    written: dict[str, Any] = json.loads((out / "access-report.json").read_text())
    return written


API_NAMES = {a["name"] for stack in ("staging", "prod", "dev") for a in api_entries(stack)}


def test_every_route_says_who_may_enter(report: dict[str, Any]) -> None:
    routes = {entry["route"]: entry for entry in report["routes"]}
    assert routes and all(entry["access"] != "unprotected" for entry in routes.values())
    served = [e for e in routes.values() if e["access"] != "redirect"]
    assert {e["audience"] for e in served} <= {"staff", "organization", "public"}
    for entry in served:
        if entry["access"] == "sso":  # signed in, then the rules: nobody by default
            assert entry["defaultAction"] == "Deny" and entry["rules"]
    assert routes["envoy-gateway-system/https-redirect"]["access"] == "redirect"
    for entry in routes.values():
        if entry["access"] == "jwt":  # tokens go through rules that deny whatever none allows
            assert entry["defaultAction"] == "Deny" and entry["rules"]
            assert all(rule["scopes"] for rule in entry["rules"] if rule["action"] == "Allow")


def test_every_served_route_sends_its_app_the_correlation_id(report: dict[str, Any]) -> None:
    """Apps (browser ones too), APIs and the login hosts alike: the gateway sets X-Correlation-Id from the
    request id on every route with a backend (routes.correlation_filters); only the redirect has none."""
    missing = [e["route"] for e in report["routes"] if "x-correlation-id" not in e["identityHeaders"]]
    assert missing and all(m.startswith("envoy-gateway-system/") and m.endswith("https-redirect") for m in missing)
    assert {e["access"] for e in report["routes"] if e["route"] in missing} == {"redirect"}
    for entry in report["routes"]:
        if "x-correlation-id" in entry["identityHeaders"]:
            assert entry["identityHeaders"]["x-correlation-id"].startswith("the gateway (route filter")


def test_every_api_route_has_a_rate_limit_and_key_secrets_live_apart(report: dict[str, Any]) -> None:
    """Every API's route is rate limited (gateway/apis.py); an apiKey route's key Secrets are named
    `<namespace>/<name>`, in Envoy Gateway's namespace, never in the route's (a tenant's)."""
    api_routes = [e for e in report["routes"] if e["route"].split("/")[1] in API_NAMES]
    assert api_routes
    for entry in api_routes:
        assert entry["rateLimits"], entry["route"]
        assert all(limit["for"] for limit in entry["rateLimits"])  # whom each limit counts
        if entry["access"] == "apiKey":
            assert entry["keySecrets"]
            assert {s.split("/")[0] for s in entry["keySecrets"]} == {"envoy-gateway-system"}
    partners = {c["name"] for a in api_entries("staging") for c in a.get("m2mClients", [])}
    for entry in api_routes:  # a partner's tier limit names it (issue 20)
        named = {p for limit in entry["rateLimits"] for p in partners if limit["for"] == f"x-client-id = {p}"}
        if entry["route"] == "helpdesk/assets-v1":
            assert named == {"partner-logistics"}


def test_no_identity_header_an_app_receives_can_come_from_the_client(report: dict[str, Any]) -> None:
    """JWT claimToHeaders appends to a client's header and ext_authz replaces only what oauth2-proxy
    returns (see offline/access.py): only the edge's removal, or a route filter's `set`, keeps a forged
    value from an app."""
    received = [h for entry in report["routes"] for h in entry["identityHeaders"]]
    assert received
    assert client_reachable(report) == []


def _manifest(
    kind: str, namespace: str, name: str, spec: dict[str, Any], labels: dict[str, str] | None = None
) -> Manifest:
    obj = {
        "apiVersion": "x/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
    }
    obj["spec"] = spec
    return Manifest(urn=f"urn:{kind}:{name}", obj=obj, redacted=obj)


def test_a_header_the_edge_leaves_in_place_is_reported() -> None:
    route = _manifest(
        "HTTPRoute",
        "shop",
        "api",
        {"hostnames": ["api.example.com"], "rules": [{"backendRefs": [{"name": "api", "port": 80}]}]},
    )
    policy = _manifest(
        "SecurityPolicy",
        "shop",
        "api-jwt",
        {
            "targetRefs": [{"kind": "HTTPRoute", "name": "api"}],
            "jwt": {
                "providers": [{"issuer": "https://id", "claimToHeaders": [{"claim": "sub", "header": "x-user-id"}]}]
            },
            "authorization": {"defaultAction": "Deny", "rules": []},
        },
    )
    edge = _manifest("ClientTrafficPolicy", "gw", "edge", {"headers": {"earlyRequestHeaders": {"remove": ["x-other"]}}})
    report = access_report([route, policy, edge])
    assert report["routes"][0]["identityHeaders"] == {"x-user-id": "verified token claim 'sub'"}
    assert client_reachable(report) == ["shop/api: x-user-id"]
    stripped = access_report(
        [
            route,
            policy,
            _manifest(
                "ClientTrafficPolicy", "gw", "edge", {"headers": {"earlyRequestHeaders": {"remove": ["X-User-Id"]}}}
            ),
        ]
    )
    assert client_reachable(stripped) == []


def test_a_route_without_policy_or_public_label_is_unprotected() -> None:
    route = _manifest("HTTPRoute", "shop", "web", {"rules": [{"backendRefs": [{"name": "web", "port": 80}]}]})
    assert access_report([route])["routes"][0]["access"] == "unprotected"
    public = _manifest(
        "HTTPRoute",
        "shop",
        "web",
        {"rules": [{"backendRefs": [{"name": "web", "port": 80}]}]},
        {"gatehouse.dev/public-route": "true"},
    )
    assert access_report([public])["routes"][0]["access"] == "public"
