"""Gateways as config (`gatehouse:gateways`, issue 20): the public gateway and an internal one, each API served
where it names; config errors by path; what staging renders for its internal gateway."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import preview_objects
from test_config import _stack_raw

from components import config
from components.gateway import edge, local_dns
from offline.preview import PreviewResult

DOMAIN = "staging.platform.example.com"
INTERNAL = f"internal.{DOMAIN}"


@pytest.fixture()
def staging() -> dict[str, Any]:
    return copy.deepcopy(_stack_raw("staging"))


def problems(raw: dict[str, Any], base: Path | None = None) -> list[str]:
    with pytest.raises(config.ConfigError) as caught:
        config.parse_raw(raw, base=base)
    return [f"{path}: {message}" for path, message in caught.value.problems]


def _api(raw: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in raw["apis"] if a["name"] == name)


# -- config ----------------------------------------------------------------------------------------------


def test_without_gateways_every_api_is_on_the_public_one(staging: dict[str, Any]) -> None:
    del staging["gateways"]
    _api(staging, "inventory-v1").pop("gateway")
    _api(staging, "inventory-v2").pop("gateway")
    parsed = config.parse_raw(staging)
    assert [(g.name, g.internal, g.capabilities) for g in parsed.gateways] == [
        ("public", False, ["rate-limiting", "auth", "analytics"])
    ]
    assert {a.gateway for a in parsed.apis} == {"public"}


def test_staging_serves_the_inventory_on_its_internal_gateway(staging: dict[str, Any]) -> None:
    parsed = config.parse_raw(staging)
    internal = next(g for g in parsed.gateways if g.internal)
    assert (internal.name, internal.domain(DOMAIN)) == ("internal", INTERNAL)
    assert {a.name: a.gateway for a in parsed.apis if a.name.startswith("inventory")} == {
        "inventory-v1": "internal",
        "inventory-v2": "internal",
    }


def test_an_unknown_gateway_is_named_by_its_path(staging: dict[str, Any]) -> None:
    _api(staging, "tickets-v1")["gateway"] = "partners"
    assert problems(staging) == ["gatehouse:apis[0].gateway: unknown gateway 'partners' (gateways: public, internal)"]


def test_a_capability_the_gateway_lacks_is_named_by_its_path(staging: dict[str, Any]) -> None:
    """Every API is rate limited; a jwt or apiKey API needs `auth`; an SSO app needs the public gateway's."""
    staging["gateways"][1]["capabilities"] = ["analytics"]
    staging["gateways"][0]["capabilities"] = ["rate-limiting"]
    found = problems(staging)
    assert (
        "gatehouse:apis[4].gateway: API 'inventory-v1' (auth: jwt) needs 'rate-limiting', which gateway 'internal' "
        "lacks (gatehouse:gateways[1].capabilities)"
    ) in found
    assert (
        "gatehouse:apis[4].gateway: API 'inventory-v1' (auth: jwt) needs 'auth', which gateway 'internal' lacks "
        "(gatehouse:gateways[1].capabilities)"
    ) in found
    assert (
        "gatehouse:apis[0].gateway: API 'tickets-v1' (auth: jwt) needs 'auth', which gateway 'public' lacks "
        "(gatehouse:gateways[0].capabilities)"
    ) in found
    assert (
        "gatehouse:apps[0].auth: app 'grafana' (auth: sso) needs 'auth', which gateway 'public' lacks "
        "(gatehouse:gateways[0].capabilities)"
    ) in found


def test_the_gateways_own_rules(staging: dict[str, Any]) -> None:
    """Each entry's own rules, then (once every entry is valid) those across entries."""
    staging["gateways"] = [
        {"name": "internal"},
        {"name": "ratelimit", "capabilities": ["auth", "auth"]},
        {"name": "extra", "capabilities": ["billing"]},
    ]
    assert problems(staging) == [
        "gatehouse:gateways[1].capabilities[1]: duplicate capability 'auth' (first at gatehouse:gateways[1]"
        ".capabilities[0])",
        "gatehouse:gateways[1].name: 'ratelimit' is taken: Envoy Gateway's rate limiter Service is envoy-ratelimit",
        "gatehouse:gateways[2].capabilities[0]: must be 'rate-limiting', 'auth' or 'analytics'",
    ]
    staging["gateways"] = [{"name": "internal"}, {"name": "internal"}]
    assert problems(staging) == [
        "gatehouse:gateways: needs the gateway 'public' (the load balancer's: identity hosts and apps are "
        "served there)",
        "gatehouse:gateways[1].name: duplicate gateway 'internal' (first at gatehouse:gateways[0].name)",
    ]


def test_an_internal_gateways_name_is_no_other_hosts_label(staging: dict[str, Any]) -> None:
    """`*.internal.<domain>` is the gateway's: an app or API on `internal.<domain>` would sit above it."""
    _api(staging, "assets-v1")["host"] = "internal"
    assert problems(staging) == [
        "gatehouse:apis[1].host: duplicate host 'internal' (first at gatehouse:gateways[1].name)"
    ]


def test_a_definition_file_names_its_gateway(staging: dict[str, Any], tmp_path: Path) -> None:
    """`data.gateway` in an API definition file: where it is served; an unknown one names the file."""
    (tmp_path / "apis").mkdir()
    staging["apis"] = [a for a in staging["apis"] if a["name"] != "catalog-v2"]  # from the file below instead
    staging["apiDefinitions"] = ["apis/*.yaml"]
    definition = yaml.safe_load((Path(__file__).parents[1] / "apis" / "catalog-v2.yaml").read_text())
    definition["data"]["gateway"] = "internal"
    definition["data"]["host"] = "catalog-next"  # v1 stays on the public gateway's `catalog`
    (tmp_path / "apis" / "catalog-v2.yaml").write_text(yaml.safe_dump(definition))
    parsed = config.parse_raw(staging, base=tmp_path)
    assert next(a for a in parsed.apis if a.name == "catalog-v2").gateway == "internal"
    definition["data"]["host"] = "catalog"  # versions side by side on one host: on one gateway
    (tmp_path / "apis" / "catalog-v2.yaml").write_text(yaml.safe_dump(definition))
    assert problems(staging, base=tmp_path) == [
        "apis/catalog-v2.yaml: data.gateway: host 'catalog' is served by gateway 'public' for gatehouse:apis[2].name"
    ]
    definition["data"].update(gateway="partners", host="catalog-next")
    (tmp_path / "apis" / "catalog-v2.yaml").write_text(yaml.safe_dump(definition))
    assert problems(staging, base=tmp_path) == [
        "apis/catalog-v2.yaml: data.gateway: unknown gateway 'partners' (gateways: public, internal)"
    ]


# -- what staging renders ------------------------------------------------------------------------------------


def one(result: PreviewResult, kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in preview_objects(result, kind) if o["metadata"]["name"] == name]
    return found


def test_each_gateway_has_its_own_proxies_and_the_internal_ones_are_no_load_balancer(
    staging_preview: PreviewResult,
) -> None:
    """envoyproxy/gateway v1.9.0: without mergeGateways each Gateway gets an infrastructure of its own, a
    Deployment and a Service (internal/gatewayapi/translator.go buildIR and IRKey: keyed by namespace/name),
    configured by the EnvoyProxy its `infrastructure.parametersRef` names in its namespace (internal/gatewayapi/
    contexts.go attachEnvoyProxy); `envoyService.type: ClusterIP` renders a ClusterIP Service with neither load
    balancer nor external IPs (internal/infrastructure/kubernetes/proxy/resource_provider.go Service,
    resource/resource.go ExpectedServiceSpec), named by `envoyService.name`."""
    public, internal = one(staging_preview, "Gateway", "public"), one(staging_preview, "Gateway", "internal")
    assert public["spec"]["infrastructure"]["parametersRef"]["name"] == "public-proxy"
    assert internal["spec"]["infrastructure"]["parametersRef"] == {
        "group": "gateway.envoyproxy.io",
        "kind": "EnvoyProxy",
        "name": "internal-proxy",
    }
    service = one(staging_preview, "EnvoyProxy", "internal-proxy")["spec"]["provider"]["kubernetes"]["envoyService"]
    assert service == {"name": "envoy-internal", "type": "ClusterIP"}
    public_service = one(staging_preview, "EnvoyProxy", "public-proxy")["spec"]["provider"]["kubernetes"]
    assert public_service["envoyService"]["type"] == "LoadBalancer"
    assert public_service["envoyService"]["name"] == "envoy-public"


def test_the_internal_gateways_certificate_comes_from_cert_manager_as_the_public_ones(
    staging_preview: PreviewResult,
) -> None:
    """cert-manager v1.21.1 gateway-shim (pkg/controller/certificate-shim/sync.go buildCertificates): per
    listener TLS Secret, a Certificate named after the Secret, for the listener's hostname, owned by that
    Gateway, from its `cert-manager.io/cluster-issuer` annotation; an existing Certificate another Gateway
    controls is left alone, so each Gateway names a Secret of its own. The ACME solver's `dnsZones` selects
    the stack's domain and every name below it (pkg/controller/acmeorders/selectors/dns_zones.go: the zone's
    labels all match), so `*.internal.<domain>` is solved over DNS-01 in the same zone, without an A record."""
    public, internal = one(staging_preview, "Gateway", "public"), one(staging_preview, "Gateway", "internal")
    assert internal["metadata"]["annotations"] == public["metadata"]["annotations"]
    (https,) = [x for x in internal["spec"]["listeners"] if x["name"] == "https"]
    assert https["hostname"] == f"*.{INTERNAL}"
    assert https["tls"]["certificateRefs"] == [{"kind": "Secret", "name": "internal-wildcard-tls"}]
    (public_https,) = [x for x in public["spec"]["listeners"] if x["name"] == "https"]
    assert public_https["tls"]["certificateRefs"] == [{"kind": "Secret", "name": "wildcard-tls"}]
    (solver,) = one(staging_preview, "ClusterIssuer", "letsencrypt")["spec"]["acme"]["solvers"]
    assert INTERNAL.endswith("." + solver["selector"]["dnsZones"][0])


def test_an_api_on_the_internal_gateway_attaches_there_and_gets_no_public_record(
    staging_preview: PreviewResult,
) -> None:
    route = next(r for r in preview_objects(staging_preview, "HTTPRoute") if r["metadata"]["name"] == "inventory-v2")
    assert route["spec"]["hostnames"] == [f"inventory.{INTERNAL}"]
    assert route["spec"]["parentRefs"] == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": "internal",
            "namespace": "envoy-gateway-system",
            "sectionName": "https",
        }
    ]
    assert staging_preview.run is not None
    records = {
        r.inputs["name"] for r in staging_preview.run.registrations if r.type == "cloudflare:index/dnsRecord:DnsRecord"
    }
    assert f"catalog.{DOMAIN}" in records  # the catalog stays public
    assert not [name for name in records if name.endswith(INTERNAL) or name == INTERNAL]
    assert not [h for h in staging_preview.run.exports["publicHosts"] if h.endswith(INTERNAL)]


def test_the_edge_policy_and_the_redirect_cover_both_gateways(staging_preview: PreviewResult) -> None:
    """Each Gateway's proxies run only the ClientTrafficPolicy that targets it, so each has its own: the same
    headers removed, paths normalised, request ids; and its own HTTP-to-HTTPS redirect."""
    public, internal = (
        one(staging_preview, "ClientTrafficPolicy", "public-edge"),
        one(staging_preview, "ClientTrafficPolicy", "internal-edge"),
    )
    assert internal["spec"]["targetRefs"] == [
        {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "internal"}
    ]
    for field in ("path", "clientIPDetection"):
        assert internal["spec"][field] == public["spec"][field], field
    assert internal["spec"]["headers"] == public["spec"]["headers"]
    redirect = one(staging_preview, "HTTPRoute", "internal-https-redirect")
    assert redirect["spec"]["parentRefs"] == [{"name": "internal", "sectionName": "http"}]
    assert redirect["spec"]["rules"] == one(staging_preview, "HTTPRoute", "https-redirect")["spec"]["rules"]


def test_an_internal_gateway_never_trusts_cloudflares_client_header() -> None:
    """Behind Cloudflare's proxy the public gateway reads the client from CF-Connecting-IP; an internal
    gateway's clients are pods connecting to it directly, so it takes the peer, whatever they send."""
    edge_config = config.Edge.model_validate(
        {
            "loadBalancer": {"address": "203.0.113.10"},
            "cloudflare": {"zoneId": "0" * 32, "accountId": "1" * 32, "proxied": True},
        }
    )
    public = edge.client_traffic_spec(edge_config, config.Gateway(name="public"))
    internal = edge.client_traffic_spec(edge_config, config.Gateway(name="internal"))
    assert "customHeader" in public["clientIPDetection"]
    assert internal["clientIPDetection"] == {"xForwardedFor": {"numTrustedHops": 0, "disableXForwardedForAppend": True}}
    assert {h["value"] for h in internal["headers"]["earlyRequestHeaders"]["set"][1:]} == {edge.PEER_ADDRESS}


def test_in_a_laptop_cluster_internal_names_resolve_to_the_internal_service() -> None:
    """CoreDNS v1.12.0 plugin/rewrite/README.md: "the request rewrite follows the line order in the
    configuration" and a `stop` rule is the last applied, so the internal domain's rule comes first."""
    override = local_dns.coredns_override(
        "localtest.me", [config.Gateway(name="public"), config.Gateway(name="internal")]
    )
    services = re.findall(r"(envoy-\w+)\.envoy-gateway-system", override)
    assert services == ["envoy-internal", "envoy-public"]
    assert "internal\\.localtest\\.me" in override.split("rewrite")[1]
    assert local_dns.coredns_override("localtest.me") == local_dns.coredns_override(
        "localtest.me", [config.Gateway(name="public")]
    )
