"""The gateway sets X-Forwarded-For (and X-Real-IP) itself: a client's value never reaches an app.

Upstream facts (envoyproxy/gateway, tag v1.9.0):
- api/v1alpha1/clienttrafficpolicy_types.go, `HeaderSettings.EarlyRequestHeaders`: "early request header
  modification, before envoy performs routing, tracing and built-in header manipulation"; translated by
  internal/xds/translator/listener.go `buildEarlyHeaderMutation` into the HCM's early header mutation.
- the same file, `XForwardedForSettings.DisableXForwardedForAppend`: "stop appending the downstream address";
  it "does not remove or sanitize an incoming X-Forwarded-For header" (hence the early `set`).
- listener.go: any `clientIPDetection` turns `use_remote_address` off and installs the xff (or custom
  header) original-IP detection extension, which with `numTrustedHops: 0` reads the rightmost XFF entry:
  the client's own, unless the gateway has overwritten the header first.
oauth2-proxy (v7.15.3, `reverse_proxy`) reads the client address from `real_client_ip_header`, X-Real-IP by
default: it is set the same way.
"""

from __future__ import annotations

from helpers import preview_objects

from components import config
from components.gateway.edge import FORWARDED_FOR_HEADERS, PEER_ADDRESS, client_traffic_spec
from offline.preview import PreviewResult

DIRECT = config.Edge()
BEHIND_CLOUDFLARE = config.Edge.model_validate(
    {
        "loadBalancer": {"address": "203.0.113.10"},
        "cloudflare": {"zoneId": "0" * 32, "accountId": "1" * 32, "proxied": True},
    }
)


def early(spec: dict) -> dict:
    return spec["headers"]["earlyRequestHeaders"]


def set_values(spec: dict) -> dict[str, str]:
    return {h["name"]: h["value"] for h in early(spec)["set"]}


def test_direct_clients_get_the_peer_address_and_nothing_they_sent() -> None:
    spec = client_traffic_spec(DIRECT)
    values = set_values(spec)
    assert {values[h] for h in FORWARDED_FOR_HEADERS} == {PEER_ADDRESS}
    assert PEER_ADDRESS == "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"
    # XFF detection then reads the header the gateway set, and appends nothing more
    assert spec["clientIPDetection"] == {"xForwardedFor": {"numTrustedHops": 0, "disableXForwardedForAppend": True}}


def test_behind_cloudflare_the_address_cloudflare_saw() -> None:
    spec = client_traffic_spec(BEHIND_CLOUDFLARE)
    values = set_values(spec)
    assert {values[h] for h in FORWARDED_FOR_HEADERS} == {"%REQ(cf-connecting-ip)%"}
    assert spec["clientIPDetection"] == {"customHeader": {"name": "CF-Connecting-IP", "failClosed": True}}


def test_set_not_removed_and_the_identity_headers_still_stripped() -> None:
    for edge in (DIRECT, BEHIND_CLOUDFLARE):
        headers = early(client_traffic_spec(edge))
        assert not set(FORWARDED_FOR_HEADERS) & set(headers["remove"]), "set overwrites every value the client sent"
        assert "x-auth-request-email" in headers["remove"]


def test_the_staging_edge_renders_it(staging_preview: PreviewResult) -> None:
    (policy,) = [
        p for p in preview_objects(staging_preview, "ClientTrafficPolicy") if p["metadata"]["name"] == "public-edge"
    ]
    values = set_values(policy["spec"])
    assert set(FORWARDED_FOR_HEADERS) <= set(values)
