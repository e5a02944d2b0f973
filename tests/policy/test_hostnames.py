"""guardrails/hostnames.py: per policy, a compliant fixture passes and a minimal failing fixture gives exactly its
violation."""

from __future__ import annotations

from edge_fixtures import INTERNAL_DOMAIN, dns, edge_world, envoy_proxy, internal_world, redirect_route, route
from guardrails import hostnames
from policy_fixtures import DNS, DOMAIN, ENVOY_PROXY, ROUTE, covers, named, without
from policy_harness import Res, check, stack_violations


@covers(hostnames.httproute_hostnames)
def test_httproute_hostnames() -> None:
    config = {"domains": [DOMAIN]}
    props = route(hosts=[f"*.{DOMAIN}", "shop.evil.example.org", f"shop.{DOMAIN}"])
    assert check(hostnames.httproute_hostnames, ROUTE, props, config=config) == [
        f"HTTPRoute 'storefront/shop' claims the wildcard hostname '*.{DOMAIN}'",
        f"HTTPRoute 'storefront/shop' hostname 'shop.evil.example.org' is outside the allowed domains ({DOMAIN})",
    ]
    assert check(hostnames.httproute_hostnames, ROUTE, route(hosts=[]), config=config) == [
        "HTTPRoute 'storefront/shop' declares no hostnames, so it takes every host of its listener"
    ]
    assert check(hostnames.httproute_hostnames, ROUTE, redirect_route(), config=config) == []
    sneaky = redirect_route()
    sneaky["spec"]["rules"].append({"backendRefs": [{"name": "x", "port": 80}]})
    assert len(check(hostnames.httproute_hostnames, ROUTE, sneaky, config=config)) == 1


@covers(hostnames.httproute_unique_host_path)
def test_httproute_unique_host_path() -> None:
    world = edge_world()
    shadow = Res(ROUTE, "shadow", route("shop", "payments"))
    admin = Res(ROUTE, "tickets-admin", route("tickets", "payments"))
    admin.props["spec"]["rules"][0]["matches"] = [{"path": {"type": "PathPrefix", "value": "/admin"}}]
    assert stack_violations(hostnames.httproute_unique_host_path, [*world, shadow, admin]) == [
        (
            f"HTTPRoute 'payments/shop' claims shop.{DOMAIN} PathPrefix /, already routed by HTTPRoute "
            "'storefront/shop'",
            shadow.urn,
        )
    ]


@covers(hostnames.route_host_dns_and_tls)
def test_route_host_dns_and_tls() -> None:
    world = without(edge_world(), "dns-tickets")
    deep = Res(ROUTE, "deep", route("deep", "storefront", hosts=[f"a.b.{DOMAIN}"]))
    deep_dns = Res(DNS, "dns-deep", dns(f"a.b.{DOMAIN}"))
    tickets = named(world, "api-tickets")
    assert stack_violations(hostnames.route_host_dns_and_tls, [*world, deep, deep_dns]) == [
        (f"HTTPRoute 'helpdesk/tickets' hostname 'tickets.{DOMAIN}' has no Cloudflare DNS record", tickets.urn),
        (
            f"HTTPRoute 'storefront/deep' hostname 'a.b.{DOMAIN}' is not covered by a TLS listener hostname of "
            "Gateway 'envoy-gateway-system/public'",
            deep.urn,
        ),
    ]


def test_an_internal_gateways_hosts_need_no_dns_record() -> None:
    """The catalog API on the internal Gateway (its EnvoyProxy's Service a ClusterIP) has no DNS record and
    needs none; were its proxies behind a load balancer, it would."""
    world = internal_world()
    assert stack_violations(hostnames.route_host_dns_and_tls, world) == []
    exposed = [*without(world, "internal-proxy"), Res(ENVOY_PROXY, "internal-proxy", envoy_proxy("internal"))]
    assert stack_violations(hostnames.route_host_dns_and_tls, exposed) == [
        (
            f"HTTPRoute 'storefront/catalog' hostname 'catalog.{INTERNAL_DOMAIN}' has no Cloudflare DNS record",
            named(world, "api-catalog").urn,
        )
    ]


@covers(hostnames.internal_hosts_unpublished)
def test_internal_hosts_unpublished() -> None:
    world = internal_world()
    assert stack_violations(hostnames.internal_hosts_unpublished, world) == []
    published = [*world, Res(DNS, "dns-catalog", dns(f"catalog.{INTERNAL_DOMAIN}"))]
    assert stack_violations(hostnames.internal_hosts_unpublished, published) == [
        (
            f"HTTPRoute 'storefront/catalog' hostname 'catalog.{INTERNAL_DOMAIN}' is served only by internal "
            "Gateways but has a public Cloudflare DNS record",
            named(world, "api-catalog").urn,
        )
    ]
    # a public Gateway's hosts are published as always
    assert stack_violations(hostnames.internal_hosts_unpublished, edge_world()) == []


@covers(hostnames.dns_record_in_allowed_zone)
def test_dns_record_in_allowed_zone() -> None:
    config = {"domains": [DOMAIN]}
    assert check(
        hostnames.dns_record_in_allowed_zone, DNS, dns("shop.example.org"), name="dns-shop", config=config
    ) == [f"DNS record 'dns-shop' (shop.example.org) is outside the allowed domains ({DOMAIN})"]
    assert check(hostnames.dns_record_in_allowed_zone, DNS, dns(f"shop.{DOMAIN}"), config=config) == []
    assert check(hostnames.dns_record_in_allowed_zone, DNS, dns("shop.example.org")) == []  # no domains configured
