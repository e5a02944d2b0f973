"""guardrails/upstreams.py: a compliant Backend passes, each minimal failing one gives exactly its gap."""

from __future__ import annotations

from typing import Any

from guardrails import upstreams
from policy_fixtures import covers
from policy_harness import check

VERIFIED: dict[str, Any] = {
    "endpoints": [{"fqdn": {"hostname": "inventory.vendor.example", "port": 443}}],
    "tls": {"wellKnownCACertificates": "System", "sni": "inventory.vendor.example"},
}


def _backend(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "vendor", "namespace": "storefront"}, "spec": {**VERIFIED, **spec}}


@covers(upstreams.backend_verified_tls)
def test_backend_verified_tls() -> None:
    policy, kind = upstreams.backend_verified_tls, upstreams.BACKEND_TYPE
    assert check(policy, kind, _backend()) == []
    assert check(policy, kind, _backend(tls={"caCertificateRefs": [{"kind": "ConfigMap", "name": "ca"}]})) == []
    what = "Backend 'storefront/vendor'"
    assert check(policy, kind, _backend(tls={"insecureSkipVerify": True})) == [f"{what}: tls.insecureSkipVerify"]
    assert check(policy, kind, _backend(tls={"sni": "x.example"})) == [f"{what}: tls without CA certificates"]
    assert check(policy, kind, _backend(tls=None)) == [f"{what}: no tls"]
    metadata = {"ip": {"address": "169.254.169.254", "port": 80}}  # the cloud's metadata service
    assert check(policy, kind, _backend(endpoints=[metadata])) == [f"{what}: endpoints[0] is not an fqdn (ip)"]
    dynamic = _backend(type="DynamicResolver", endpoints=None)
    assert check(policy, kind, dynamic) == [f"{what}: type DynamicResolver (it follows the request's Host)"]
