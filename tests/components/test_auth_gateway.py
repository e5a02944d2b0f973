"""AuthGateway (components/gateway/auth_gateway.py) built alone from an AuthGatewayArgs: what each app and API
entry, the edge settings and the identity endpoints it is handed turn into.

tests/test_gateway.py and tests/test_gateway_certs.py test the staging and prod stacks' gateway through the
offline preview (the policies' specs, oauth2-proxy's chart, the control-plane certificates); here one
AuthGateway is built from the small settings below, each auth kind once, with identity endpoints made up so
that only the ones it is handed can appear in what it builds.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from component_harness import Built, build, in_clear

from components import config, meta
from components.config.fields import Environment
from components.endpoints import IdentityEndpoints
from components.gateway import AuthGateway, AuthGatewayArgs, names, traffic
from components.gateway.settings import GatewaySettings
from offline.records import Secret, reveal

DOMAIN = "example.test"
IDENTITY = IdentityEndpoints(
    dex_issuer="https://login.example.test",
    keycloak_issuer="https://accounts.example.test/realms/customers",
    keycloak_jwks_uri="https://keycloak-http.keycloak.svc.cluster.local:8443/realms/customers/certs",
    keycloak_token_endpoint="https://keycloak-http.keycloak.svc.cluster.local:8443/realms/customers/token",
    portal_origin="https://portal.example.test",
    oauth2_proxy_host="sso-proxy.example.test",
    oauth2_proxy_redirect_uri="https://sso-proxy.example.test/oauth2/callback",
    public_hosts=["login.example.test", "accounts.example.test"],
    staff_groups={"platform-admins": ["authentik:platform-admins"], "platform-operators": ["authentik:ops"]},
    admin_group="platform-admins",
    operator_group="platform-operators",
)


def service(name: str) -> config.ServiceRef:
    return config.ServiceRef(name=name, port=8080)


APPS = [
    config.App(name="shop", namespace="storefront", service=service("shop-web")),
    config.App(name="status", host="health", namespace="storefront", service=service("status"), auth="public"),
    config.App(name="wiki", namespace="docs", service=service("wiki")),
    config.App(name="grafana", namespace="monitoring", service=config.ServiceRef(name="grafana", port=80)),
    config.App(name="landing", namespace="marketing", service=service("landing"), auth="public"),
]
APIS = [
    config.Api(name="tickets", namespace="helpdesk", service=service("tickets-api"), auth="jwt"),
    config.Api(
        name="catalog",
        namespace="storefront",
        service=service("catalog-api"),
        auth="apiKey",
        scopes=["read"],
        api_key_tiers=[
            config.ApiKeyTier(name="free", requests_per_minute=60, clients=["acme", "globex"]),
            config.ApiKeyTier(name="partner", requests_per_minute=600, clients=["initech"]),
        ],
    ),
    config.Api(name="weather", namespace="docs", service=service("weather-api"), auth="public"),
]
ENTRIES: list[config.App | config.Api] = [*APPS, *APIS]
STAFF = config.AppAccess(audience="staff", staff_groups=("platform-admins",))
ACCESS = {
    "shop": config.AppAccess(audience="organization", organizations=("acme",), roles=("ORG_USER",)),
    "status": config.AppAccess(audience="public"),
    "wiki": STAFF,
    "grafana": STAFF,
    "landing": config.AppAccess(audience="public"),
}
APP_CLIENT_SECRET = "shop-client-canary"
TENANT_NAMESPACES = ("storefront", "docs", "helpdesk", "marketing")  # monitoring: the gateway's own
ADDRESS = "203.0.113.10"
CLOUDFLARE = config.Edge(
    load_balancer=config.LoadBalancer(address=ADDRESS),
    cloudflare=config.Cloudflare(zone_id="a" * 32, account_id="b" * 32),
    acme=config.Acme(email="certs@example.test"),
)
LAPTOP = config.Edge()  # no Cloudflare, no ACME: the stack's own CA
TOKEN = "cf-token-canary"
CLIENT_SECRET = "oauth2-proxy-canary"
SECURITY_POLICY = "kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy"
DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord"
PASSWORD = "random:index/randomPassword:RandomPassword"


def settings(edge: config.Edge = CLOUDFLARE, environment: Environment = "staging", **changes: Any) -> GatewaySettings:
    return GatewaySettings(
        environment=environment,
        domain=DOMAIN,
        edge=edge,
        network=config.Network(private_ranges=["10.0.0.0/8"]),
        resolve_domain_to_gateway=False,
        apps=APPS,
        access=ACCESS,
        apis=APIS,
        identity=IDENTITY,
    ).model_copy(update=changes)


def build_gateway(stack: GatewaySettings | None = None, namespaces: tuple[str, ...] = TENANT_NAMESPACES) -> Built:
    stack = stack or settings()

    def make() -> AuthGateway:
        handed = {ns: k8s.core.v1.Namespace(ns) for ns in namespaces}  # stand in for the tenants' namespaces
        token = pulumi.Output.secret(TOKEN) if stack.edge.cloudflare else None
        secrets = {config.app_client_id("shop"): pulumi.Output.secret(APP_CLIENT_SECRET)}
        args = AuthGatewayArgs(stack, token, pulumi.Output.secret(CLIENT_SECRET), handed, secrets)
        return AuthGateway("gateway", args)

    return build(make)


@pytest.fixture(scope="module")
def gateway() -> Built:
    return build_gateway()


def identities(objects: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(namespace, name) of each object."""
    return {(o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in objects}


def test_everything_is_a_direct_child_and_only_platform_namespaces_are_its_own(gateway: Built) -> None:
    assert gateway.component.type == "gatehouse:gateway:AuthGateway"
    assert gateway.children and all(r.parent == gateway.component.urn for r in gateway.children)
    namespaces = {n["metadata"]["name"]: n["metadata"]["labels"] for n in gateway.objects("Namespace")}
    # the tenants' namespaces it is handed are not its own; `monitoring` is, since an app lives there
    assert set(namespaces) == {"envoy-gateway-system", "cert-manager", "oauth2-proxy", "monitoring"}
    routed = {n for n, labels in namespaces.items() if labels.get("gatehouse.dev/gateway-access") == "true"}
    assert routed == {"oauth2-proxy", "monitoring"}
    without_monitoring = build_gateway(settings(apps=[a for a in APPS if a.namespace != "monitoring"]))
    assert "monitoring" not in {n["metadata"]["name"] for n in without_monitoring.objects("Namespace")}


@pytest.mark.parametrize(
    ("edge", "issuer"), [(CLOUDFLARE, "letsencrypt"), (LAPTOP, "internal-ca")], ids=["acme", "laptop"]
)
def test_the_gateway_serves_the_domain_with_a_certificate_from_the_edges_issuer(edge: config.Edge, issuer: str) -> None:
    built = build_gateway(settings(edge))
    gateway = built.object("Gateway", "public")
    assert gateway["metadata"]["namespace"] == "envoy-gateway-system"
    assert gateway["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": issuer}
    listeners = {x["name"]: (x["protocol"], x["port"], x.get("hostname")) for x in gateway["spec"]["listeners"]}
    assert listeners == {"http": ("HTTP", 80, None), "https": ("HTTPS", 443, "*.example.test")}
    issuers = {i["metadata"]["name"] for i in built.objects("ClusterIssuer")}
    assert issuers == ({"letsencrypt", "internal-ca"} if edge.acme else {"internal-ca"})
    token_secrets = [s for s in built.objects("Secret") if s["metadata"]["name"] == "cloudflare-api-token"]
    assert len(token_secrets) == (1 if edge.acme else 0)


def test_lets_encrypt_solves_dns01_for_the_domain_with_the_token_it_is_handed(gateway: Built) -> None:
    acme = gateway.object("ClusterIssuer", "letsencrypt")["spec"]["acme"]
    assert (acme["email"], acme["server"]) == ("certs@example.test", "https://acme-v02.api.letsencrypt.org/directory")
    (solver,) = acme["solvers"]
    assert solver["selector"] == {"dnsZones": [DOMAIN]}
    token = gateway.named("cloudflare-api-token", "kubernetes:core/v1:Secret")
    assert isinstance(token.inputs["stringData"], Secret) and reveal(token.inputs["stringData"]) == {"api-token": TOKEN}


def test_each_app_and_api_gets_its_route_named_after_it_on_its_host(gateway: Built) -> None:
    routes = {(r["metadata"]["namespace"], r["metadata"]["name"]): r for r in gateway.objects("HTTPRoute")}
    for entry in ENTRIES:
        route = routes[(entry.namespace, names.route_name(entry.name))]
        assert route["spec"]["hostnames"] == [f"{entry.host_label}.{DOMAIN}"], entry.name
        (rule,) = route["spec"]["rules"]
        assert rule["backendRefs"] == [{"name": entry.service.name, "port": entry.service.port}], entry.name
        public = route["metadata"]["labels"].get("gatehouse.dev/public-route") == "true"
        assert public is (entry.auth == "public"), entry.name
    # besides them: oauth2-proxy's sign-in host, and the redirect to HTTPS
    others = set(routes) - {(e.namespace, names.route_name(e.name)) for e in ENTRIES}
    assert others == {("oauth2-proxy", "oauth2-proxy"), ("envoy-gateway-system", "https-redirect")}
    (catalog,) = routes[("storefront", "catalog")]["spec"]["rules"]
    assert {m["method"] for m in catalog["matches"]} == {"GET", "HEAD"}  # a read-only key API: reads only


def test_each_auth_kind_gets_its_own_policies_and_public_ones_none(gateway: Built) -> None:
    policies = {
        (o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]): o
        for o in gateway.objects()
        if o["kind"] in ("SecurityPolicy", "BackendTrafficPolicy")
    }
    assert set(policies) == {
        ("SecurityPolicy", "storefront", "shop-sso"),
        ("SecurityPolicy", "docs", "wiki-sso"),
        ("SecurityPolicy", "monitoring", "grafana-sso"),
        ("SecurityPolicy", "helpdesk", "tickets-jwt"),
        ("SecurityPolicy", "storefront", "catalog-apikey"),
        # every API has a rate limit (apis.py), a public one too
        ("BackendTrafficPolicy", "storefront", "catalog-ratelimit"),
        ("BackendTrafficPolicy", "helpdesk", "tickets-ratelimit"),
        ("BackendTrafficPolicy", "docs", "weather-ratelimit"),
    }
    for (_, _, name), policy in policies.items():
        route = name.rsplit("-", 1)[0]
        assert policy["spec"]["targetRefs"] == [
            {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": names.route_name(route)}
        ]
    jwt = policies[("SecurityPolicy", "helpdesk", "tickets-jwt")]["spec"]
    (provider,) = jwt["jwt"]["providers"]
    assert (provider["issuer"], provider["remoteJWKS"]["uri"]) == (IDENTITY.keycloak_issuer, IDENTITY.keycloak_jwks_uri)
    assert jwt["cors"]["allowOrigins"] == [IDENTITY.portal_origin]  # the portal's, as none is configured
    key_policy = policies[("SecurityPolicy", "storefront", "catalog-apikey")]["spec"]["apiKeyAuth"]
    secrets = [names.api_key_secret_name("catalog", tier) for tier in ("free", "partner")]
    assert [ref["name"] for ref in key_policy["credentialRefs"]] == secrets
    assert {ref["namespace"] for ref in key_policy["credentialRefs"]} == {"envoy-gateway-system"}


def test_each_key_tier_is_one_secret_with_a_generated_key_per_client(gateway: Built) -> None:
    tiers = {"free": ["acme", "globex"], "partner": ["initech"]}
    for tier, clients in tiers.items():
        secret = gateway.named(names.api_key_secret_resource("catalog", tier))
        metadata = reveal(secret.inputs["metadata"])
        # in Envoy Gateway's namespace, never in the API's (a tenant's): its people would read the keys there
        assert (metadata["namespace"], metadata["name"]) == (
            "envoy-gateway-system",
            names.api_key_secret_name("catalog", tier),
        )
        assert gateway.named("envoy-gateway-system").urn in secret.dependencies
        keys = {c: gateway.named(names.api_key_resource("catalog", c), PASSWORD).outputs["result"] for c in clients}
        assert reveal(secret.inputs["stringData"]) == reveal(keys)
        assert isinstance(secret.inputs["stringData"], Secret)


def test_the_key_secrets_are_granted_to_their_apis_policies_only(gateway: Built) -> None:
    """Envoy Gateway v1.9.0 reads `apiKeyAuth.credentialRefs` across namespaces when a ReferenceGrant in the
    Secret's namespace allows it (internal/gatewayapi/securitypolicy.go buildAPIKeyAuth: validateSecretRef
    with allowCrossNamespace true; helpers.go isCrossNamespaceReferencePermitted matches from namespace,
    group and kind, and the `to` name): one grant per apiKey API, from SecurityPolicies of its namespace to
    its tiers' Secrets by name."""
    assert names.API_KEYS_NAMESPACE == meta.ENVOY_GATEWAY_NAMESPACE
    grants = [g for g in gateway.objects("ReferenceGrant") if g["metadata"]["namespace"] == "envoy-gateway-system"]
    assert identities(grants) == {("envoy-gateway-system", "catalog-apikeys")}
    (grant,) = grants
    assert grant["spec"] == {
        "from": [{"group": "gateway.envoyproxy.io", "kind": "SecurityPolicy", "namespace": "storefront"}],
        "to": [
            {"group": "", "kind": "Secret", "name": names.api_key_secret_name("catalog", tier)}
            for tier in ("free", "partner")
        ],
    }
    registration = gateway.named("api-catalog-apikeys-grant")
    assert {gateway.named("gateway-crds").urn, gateway.named("envoy-gateway-system").urn} <= set(
        registration.dependencies
    )
    # nothing of the keys is left in the API's namespace
    assert not [
        o
        for o in gateway.objects("Secret")
        if o["metadata"].get("namespace") == "storefront" and "apikeys" in o["metadata"]["name"]
    ]


def test_an_api_that_names_no_clients_is_limited_per_client_address(gateway: Built) -> None:
    """jwt and public APIs: DEFAULT_REQUESTS_PER_MINUTE per source IP, IPv4 and IPv6 (envoyproxy/gateway
    v1.9.0 api/v1alpha1/ratelimit_types.go: a `Distinct` SourceMatch is one bucket per address)."""
    limits = {o["metadata"]["name"]: o["spec"] for o in gateway.objects("BackendTrafficPolicy")}
    for api in ("tickets", "weather"):
        spec = limits[f"{api}-ratelimit"]
        assert spec["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": api}]
        assert spec["rateLimit"]["global"]["rules"] == [
            {
                "clientSelectors": [{"sourceCIDR": {"type": "Distinct", "value": cidr}}],
                "limit": {"requests": traffic.DEFAULT_REQUESTS_PER_MINUTE, "unit": "Minute"},
            }
            for cidr in ("0.0.0.0/0", "::/0")
        ]


def test_one_reference_grant_per_namespace_with_an_sso_app(gateway: Built) -> None:
    """Staff apps' namespaces only: `docs` holds a public entry too; `storefront`'s SSO app is for an
    organization (no oauth2-proxy), `marketing` has only a public app. (The jwt API's namespace gets one
    for Keycloak's keys, test_jwks.py.)"""
    grants = [g for g in gateway.objects("ReferenceGrant") if g["metadata"]["namespace"] == "oauth2-proxy"]
    assert identities(grants) == {("oauth2-proxy", f"sso-from-{ns}") for ns in ("docs", "monitoring")}
    for grant in grants:
        (source,) = grant["spec"]["from"]
        assert f"sso-from-{source['namespace']}" == grant["metadata"]["name"]


def test_what_lives_in_a_handed_namespace_waits_for_it_and_custom_resources_for_the_crds(gateway: Built) -> None:
    crds = gateway.named("gateway-crds").urn
    handed = {r.name: r.urn for r in gateway.handed}
    assert set(handed) == set(TENANT_NAMESPACES)
    placed = 0
    for registration in gateway.children:
        namespace = reveal((registration.inputs.get("metadata") or {}).get("namespace"))
        if namespace in handed:
            placed += 1
            assert handed[namespace] in registration.dependencies, registration.urn
            custom = registration.type.startswith("kubernetes:gateway.")
            assert (crds in registration.dependencies) is custom, registration.urn
    # 7 routes, 4 security policies, 2 identity filters, shop's realm-client Secret, the rate limit, 2 key Secrets
    assert placed == 17


def test_grafana_needs_its_namespace_made_by_the_gateway_or_handed_to_it() -> None:
    """Grafana's chart installs into the Namespace resource: an app namespace nobody makes stops the build."""
    moved = [a.model_copy(update={"namespace": "dashboards"}) if a.name == "grafana" else a for a in APPS]
    with pytest.raises(KeyError, match="dashboards"):
        build_gateway(settings(apps=moved))
    handed = build_gateway(settings(apps=moved), (*TENANT_NAMESPACES, "dashboards"))
    (dashboards,) = [r for r in handed.handed if r.name == "dashboards"]
    assert dashboards.urn in handed.named("grafana", "kubernetes:helm.sh/v4:Chart").dependencies


@pytest.mark.parametrize("proxied", [True, False])
def test_with_cloudflare_every_public_host_gets_a_record_to_the_reserved_address(proxied: bool) -> None:
    account = config.Cloudflare(zone_id="a" * 32, account_id="b" * 32, proxied=proxied)
    built = build_gateway(settings(CLOUDFLARE.model_copy(update={"cloudflare": account})))
    records = {r.inputs["name"]: r.inputs for r in built.of_type(DNS_RECORD)}
    assert sorted(records) == built.outputs["publicHosts"]
    for record in records.values():
        assert (record["type"], record["content"], record["zoneId"]) == ("A", ADDRESS, "a" * 32)
        assert (record["proxied"], record["ttl"]) == (proxied, 1 if proxied else 300)  # proxied: "automatic"


def test_public_hosts_are_every_app_api_and_identity_host(gateway: Built) -> None:
    identity = ["sso-proxy", "login", "accounts"]  # from the endpoints it is handed
    hosts = [*identity, "shop", "health", "wiki", "grafana", "landing", "tickets", "catalog", "weather"]
    assert gateway.outputs == {"publicHosts": sorted(f"{h}.{DOMAIN}" for h in hosts), "address": ADDRESS}


@pytest.mark.parametrize(
    "edge", [config.Edge(load_balancer=config.LoadBalancer(address=ADDRESS)), LAPTOP], ids=["address", "laptop"]
)
def test_without_cloudflare_no_host_gets_a_record(gateway: Built, edge: config.Edge) -> None:
    built = build_gateway(settings(edge))
    assert not [r.urn for r in built.children if r.type.startswith("cloudflare:")]
    expected = {"publicHosts": gateway.outputs["publicHosts"]}
    if edge.load_balancer.address:  # a None output reaches the engine as null, which the recording leaves out
        expected["address"] = ADDRESS
    assert built.outputs == expected


def test_oauth2_proxy_signs_in_at_the_issuer_it_is_handed_with_the_secret_it_is_handed(gateway: Built) -> None:
    (chart,) = [r for r in gateway.of_type("kubernetes:helm.sh/v4:Chart") if r.name == "oauth2-proxy"]
    config_file = reveal(chart.inputs["values"])["config"]["configFile"]
    assert f'oidc_issuer_url = "{IDENTITY.dex_issuer}"' in config_file
    assert f'redirect_url = "{IDENTITY.oauth2_proxy_redirect_uri}"' in config_file
    assert 'cookie_domains = [".example.test"]' in config_file and 'trusted_proxy_ips = ["10.0.0.0/8"]' in config_file
    credentials = gateway.named("oauth2-proxy-credentials", "kubernetes:core/v1:Secret")
    assert reveal(credentials.inputs["stringData"])["client-secret"] == CLIENT_SECRET
    assert not [r.urn for r in gateway.children if in_clear(r.inputs, {CLIENT_SECRET, TOKEN})]


@pytest.mark.parametrize("resolve", [True, False])
def test_only_a_k3s_cluster_resolves_the_domain_to_the_gateway_inside(resolve: bool) -> None:
    built = build_gateway(settings(LAPTOP, resolve_domain_to_gateway=resolve))
    overrides = [c for c in built.objects("ConfigMap") if c["metadata"]["name"] == "coredns-custom"]
    assert identities(overrides) == ({("kube-system", "coredns-custom")} if resolve else set())


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_in_production_namespaces_and_control_plane_keys_are_kept_and_nothing_else(environment: Environment) -> None:
    built = build_gateway(settings(environment=environment))
    production = environment == "prod"
    kept = {"envoy-gateway-system", "cert-manager", "oauth2-proxy", "monitoring"}
    kept |= {"eg-ca", "eg-envoy-gateway", "eg-envoy", "eg-envoy-rate-limit", "eg-envoy-oidc-hmac"}  # keys, Secrets
    protected = {r.name for r in built.children if r.protect}
    assert protected == (kept if production else set())
    assert {r.name for r in built.children if r.retain_on_delete} == protected
    transforming = {r.name for r in built.of_type("kubernetes:helm.sh/v4:Chart") if r.transforms}
    assert transforming == ({"gateway-crds", "cert-manager"} if production else set())  # the CRD-bearing charts


def test_acme_without_the_cloudflare_token_is_refused() -> None:
    """The Gateway would ask for the Let's Encrypt ClusterIssuer, which tls.issuers only makes with the
    DNS-01 token: no certificate would ever be issued."""
    with pytest.raises(ValueError, match="edge.acme needs cloudflare_token"):
        AuthGatewayArgs(settings(), None, pulumi.Output.secret(CLIENT_SECRET))
