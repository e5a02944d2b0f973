"""The authenticating gateway: edge, TLS, DNS, single sign-on and protected APIs."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from helpers import api_entries, program_with_stack, run_preview, stack_config

from components import config
from components.gateway import api_rules
from components.headers import SPOOFABLE
from offline.preview import PreviewResult
from offline.records import Secret, redact

GATEWAY_REF = ("public", "envoy-gateway-system", "https")


@pytest.fixture(scope="module", params=["staging", "prod"])
def preview(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, PreviewResult]:
    stack = request.param
    result, printed = run_preview(
        REPO, tmp_path_factory.mktemp(stack), stack=stack, policy_config=REPO / "policy" / f"{stack}.json"
    )
    assert result.exit_code == 0, printed
    return stack, result


def objects(result: PreviewResult, kind: str) -> list[dict[str, Any]]:
    return [m.obj for m in result.manifests if m.kind == kind]


def one(result: PreviewResult, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    found = [
        o
        for o in objects(result, kind)
        if o["metadata"]["name"] == name and (namespace is None or o["metadata"].get("namespace") == namespace)
    ]
    assert len(found) == 1, (kind, name, namespace, len(found))
    return found[0]


def dns_names(result: PreviewResult) -> dict[str, dict[str, Any]]:
    assert result.run is not None
    return {
        r.inputs["name"]: r.inputs for r in result.run.registrations if r.type == "cloudflare:index/dnsRecord:DnsRecord"
    }


def attached_to_public_https(route: dict[str, Any]) -> bool:
    return any(
        (ref.get("name"), ref.get("namespace"), ref.get("sectionName")) == GATEWAY_REF
        for ref in route["spec"]["parentRefs"]
    )


def _on_a_rule(policy: dict[str, Any]) -> bool:
    """Whether a policy targets one rule of a route (an operation's: `sectionName`), not the whole of it."""
    return any("sectionName" in t for t in policy["spec"]["targetRefs"])


def policies_for(result: PreviewResult, kind: str, route: dict[str, Any]) -> list[dict[str, Any]]:
    ns, name = route["metadata"]["namespace"], route["metadata"]["name"]
    return [
        p
        for p in objects(result, kind)
        if p["metadata"]["namespace"] == ns
        and any(t["kind"] == "HTTPRoute" and t["name"] == name for t in p["spec"]["targetRefs"])
    ]


def test_edge_gateway_and_proxy(preview) -> None:
    stack, result = preview
    config = stack_config(stack)
    gateway = one(result, "Gateway", "public", "envoy-gateway-system")
    assert gateway["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
    listeners = {x["name"]: x for x in gateway["spec"]["listeners"]}
    assert listeners["http"]["port"] == 80 and listeners["https"]["port"] == 443
    assert listeners["https"]["hostname"] == "*." + config["gatehouse:domain"]
    assert listeners["https"]["tls"]["mode"] == "Terminate"
    assert listeners["https"]["allowedRoutes"]["namespaces"]["from"] == "Selector"
    redirect = one(result, "HTTPRoute", "https-redirect", "envoy-gateway-system")
    assert redirect["spec"]["rules"][0]["filters"][0]["requestRedirect"] == {"scheme": "https", "statusCode": 301}
    proxy = one(result, "EnvoyProxy", "public-proxy", "envoy-gateway-system")
    service = proxy["spec"]["provider"]["kubernetes"]["envoyService"]
    assert service["type"] == "LoadBalancer"
    assert service["loadBalancerIP"] == config["gatehouse:edge"]["loadBalancer"]["address"]
    assert service["annotations"] == config["gatehouse:edge"]["loadBalancer"]["annotations"]
    assert (
        one(result, "GatewayClass", "gatehouse")["spec"]["controllerName"]
        == "gateway.envoyproxy.io/gatewayclass-controller"
    )


def test_edge_strips_every_identity_header_first(preview) -> None:
    _, result = preview
    policy = one(result, "ClientTrafficPolicy", "public-edge", "envoy-gateway-system")
    headers = policy["spec"]["headers"]
    assert headers["requestID"] == "PreserveOrGenerate"
    removed = set(headers["earlyRequestHeaders"]["remove"])
    assert removed >= {
        "x-auth-request-user",
        "x-auth-request-email",
        "x-user-id",
        "x-user-email",
        "x-org-slug",
        "x-org-roles",
        "x-forwarded-uri",
        # names oauth2-proxy, Grafana and REMOTE_USER-style apps trust
        "x-forwarded-user",
        "x-forwarded-email",
        "x-forwarded-groups",
        "x-forwarded-preferred-username",
        "x-forwarded-access-token",
        "x-webauth-user",
        "remote-user",
    }
    assert not removed & {"x-forwarded-for", "x-forwarded-proto"}, "Envoy's own forwarding headers stay"
    assert removed == set(SPOOFABLE)
    redirect, *forwarded = headers["earlyRequestHeaders"]["set"]
    assert redirect == {"name": "x-auth-request-redirect", "value": "https://%REQ(:authority)%%REQ(:path)%"}
    assert {h["name"] for h in forwarded} == {"x-forwarded-for", "x-real-ip"}
    assert policy["spec"]["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public"}]


def test_tls_issuers_and_cloudflare_token(preview) -> None:
    stack, result = preview
    config = stack_config(stack)
    letsencrypt = one(result, "ClusterIssuer", "letsencrypt")["spec"]["acme"]
    assert letsencrypt["server"] == "https://acme-v02.api.letsencrypt.org/directory"
    (solver,) = letsencrypt["solvers"]
    assert solver["selector"]["dnsZones"] == [config["gatehouse:domain"]]
    assert solver["dns01"]["cloudflare"]["apiTokenSecretRef"] == {"name": "cloudflare-api-token", "key": "api-token"}
    token = one(result, "Secret", "cloudflare-api-token", "cert-manager")
    assert set(token["stringData"]) == {"api-token"}
    assert one(result, "ClusterIssuer", "internal-ca")["spec"] == {"ca": {"secretName": "gatehouse-internal-ca"}}
    assert result.run is not None
    token_reg = next(r for r in result.run.registrations if r.urn.endswith("Secret::cloudflare-api-token"))
    ca_reg = next(r for r in result.run.registrations if r.urn.endswith("Secret::internal-ca"))
    assert isinstance(token_reg.inputs["stringData"], Secret) and isinstance(ca_reg.inputs["stringData"], Secret)
    charts = {c.chart: c for c in result.charts}
    assert charts["cert-manager"].values["config"]["gatewayAPI"] == {"enabled": True}
    assert charts["cert-manager"].values["crds"] == {"enabled": True}


def test_chart_containers_without_default_resources_get_them(preview) -> None:
    """What chart-workload-hygiene (mandatory) would find missing in the pinned charts' defaults."""
    _, result = preview
    values = {c.release: c.values for c in result.charts}
    one_shot = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}}
    cert_manager = values["cert-manager"]
    assert cert_manager["resources"] == {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}
    assert cert_manager["cainjector"] == {
        "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}
    }
    assert cert_manager["webhook"] == {
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}}
    }
    # a hook helm.v4.Chart drops; it runs as Gatehouse's own Job instead (tests/test_gateway_certs.py)
    assert cert_manager["startupapicheck"] == {"enabled": False}
    assert values["envoy-gateway"]["certgen"] == {"job": {"resources": one_shot}}
    for release in ("ratelimit-redis", "oauth2-proxy-redis"):
        assert values[release]["initResources"] == one_shot, release
    assert values["grafana"]["testFramework"] == {"enabled": False}
    assert values["grafana"]["initChownData"] == {"enabled": False}


def test_custom_resources_wait_for_their_crds(preview) -> None:
    _, result = preview
    assert result.run is not None
    regs = result.run.registrations
    charts = {r.name: r for r in regs if r.type == "kubernetes:helm.sh/v4:Chart"}
    crds, cert_manager = charts["gateway-crds"].urn, charts["cert-manager"].urn
    for reg in regs:
        group = reg.type.split(":")[1].split("/")[0] if reg.type.startswith("kubernetes:") else ""
        if group in ("gateway.networking.k8s.io", "gateway.envoyproxy.io"):
            assert crds in reg.dependencies, reg.urn
        if group == "cert-manager.io":
            assert cert_manager in reg.dependencies, reg.urn
    # cert-manager ignores Gateways for good if the Gateway API CRDs arrive after it starts
    assert crds in charts["cert-manager"].dependencies
    # one owner of the CRDs: the controller's chart leaves them to the CRDs chart, and installs after it
    assert charts["envoy-gateway"].inputs["values"]["crds"] == {"enabled": False}
    assert crds in charts["envoy-gateway"].dependencies
    assert charts["gateway-crds"].inputs["values"]["crds"] == {
        "gatewayAPI": {"enabled": True, "channel": "experimental"},
        "envoyGateway": {"enabled": True},
    }


def valkey_service(chart: Any) -> str:
    """The Service name the valkey chart renders (`valkey.fullname` in its templates/_helpers.tpl)."""
    if chart.values.get("fullnameOverride"):
        return str(chart.values["fullnameOverride"])[:63].rstrip("-")
    name = chart.values.get("nameOverride") or "valkey"
    return (chart.release if name in chart.release else f"{chart.release}-{name}")[:63].rstrip("-")


def test_redis_urls_name_the_services_the_valkey_charts_create(preview) -> None:
    _, result = preview
    services = {
        f"{valkey_service(c)}.{c.namespace}.svc.cluster.local:{c.values.get('service', {}).get('port', 6379)}"
        for c in result.charts
        if c.chart == "valkey"
    }
    envoy = next(c for c in result.charts if c.chart == "gateway-helm").values
    proxy = next(c for c in result.charts if c.chart == "oauth2-proxy").values
    urls = {
        "rate limits": envoy["config"]["envoyGateway"]["rateLimit"]["backend"]["redis"]["url"],
        "sso sessions": proxy["sessionStorage"]["redis"]["standalone"]["connectionUrl"].removeprefix("redis://"),
    }
    assert urls == {
        "rate limits": "ratelimit-redis.envoy-gateway-system.svc.cluster.local:6379",
        "sso sessions": "oauth2-proxy-redis.oauth2-proxy.svc.cluster.local:6379",
    }
    assert set(urls.values()) <= services, services


def test_oauth2_proxy_is_the_dex_client_for_every_domain(preview) -> None:
    stack, result = preview
    domain = stack_config(stack)["gatehouse:domain"]
    values = next(c for c in result.charts if c.chart == "oauth2-proxy").values
    settings = dict(re.findall(r"^(\w+) = (.+)$", values["config"]["configFile"], re.M))
    assert settings["oidc_issuer_url"] == f'"https://dex.{domain}"'
    assert settings["redirect_url"] == f'"https://auth.{domain}/oauth2/callback"'
    assert settings["upstreams"] == '["static://200"]'
    assert settings["reverse_proxy"] == settings["set_xauthrequest"] == settings["skip_provider_button"] == "true"
    assert settings["code_challenge_method"] == '"S256"'
    assert settings["cookie_domains"] == settings["whitelist_domains"] == f'[".{domain}"]'
    assert not settings["cookie_name"].startswith('"__Host-')
    assert values["config"]["existingSecret"] == "oauth2-proxy-credentials"
    assert values["sessionStorage"]["type"] == "redis"
    credentials = one(result, "Secret", "oauth2-proxy-credentials", "oauth2-proxy")
    assert set(credentials["stringData"]) == {"client-id", "client-secret", "cookie-secret"}
    assert len(credentials["stringData"]["cookie-secret"]) == 32
    login = one(result, "HTTPRoute", "oauth2-proxy", "oauth2-proxy")
    assert login["spec"]["hostnames"] == [f"auth.{domain}"]
    assert login["metadata"]["labels"]["gatehouse.dev/public-route"] == "true"


def test_oauth2_proxy_starts_without_reaching_dex(preview) -> None:
    """oauth2-proxy v7.15.3, pkg/providers/oidc/provider.go and main.go: with discovery on, it fetches
    `<issuer>/.well-known/openid-configuration` once at start and exits on failure, before the gateway,
    DNS and certificate serve Dex on a first `pulumi up`. With `skip_oidc_discovery`
    (pkg/apis/options/legacy_options.go) nothing is fetched at start; it then needs the login and redeem
    URLs and the JWKS URL (pkg/providers/oidc/provider_verifier.go). The server-side calls go to Dex's
    in-cluster Service; the issuer string is still what tokens are checked against."""
    stack, result = preview
    domain = stack_config(stack)["gatehouse:domain"]
    values = next(c for c in result.charts if c.chart == "oauth2-proxy").values
    settings = dict(re.findall(r"^(\w+) = (.+)$", values["config"]["configFile"], re.M))
    dex = "http://dex.identity.svc.cluster.local:5556"
    assert settings["skip_oidc_discovery"] == "true"
    assert settings["login_url"] == f'"https://dex.{domain}/auth"'
    assert settings["redeem_url"] == f'"{dex}/token"'
    assert settings["oidc_jwks_url"] == f'"{dex}/keys"'
    service = one(result, "HTTPRoute", "dex", "identity")["spec"]["rules"][0]["backendRefs"][0]
    assert (service["name"], service["port"]) == ("dex", 5556)


def test_oauth2_proxy_waits_for_its_session_store(preview) -> None:
    """oauth2-proxy v7.15.3 pkg/middleware/readynesscheck.go: its readiness answers only once the session
    store's VerifyConnection (a Redis PING, pkg/sessions/redis/redis_store.go) succeeds, and Pulumi waits
    for its Deployment to be Ready: its Valkey is installed first."""
    _, result = preview
    assert result.run is not None
    charts = {r.name: r for r in result.run.registrations if r.type == "kubernetes:helm.sh/v4:Chart"}
    assert charts["oauth2-proxy-redis"].urn in charts["oauth2-proxy"].dependencies


def test_oauth2_proxy_rolls_when_a_secret_it_reads_changes(preview) -> None:
    _, result = preview
    assert result.run is not None
    values = next(c for c in result.charts if c.chart == "oauth2-proxy").values
    credentials = one(result, "Secret", "oauth2-proxy-credentials", "oauth2-proxy")["stringData"]
    redis = one(result, "Secret", "oauth2-proxy-redis-users", "oauth2-proxy")["stringData"]
    # the client id is in that Secret too, but it is no secret: only the three values are hashed
    read = {
        "oauth2-proxy-credentials": {k: credentials[k] for k in ("client-secret", "cookie-secret")},
        "oauth2-proxy-redis-users": {"default": redis["default"]},
    }
    expected = hashlib.sha256(json.dumps(read, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert values["podAnnotations"] == {"checksum/secrets": expected}
    chart = next(
        r for r in result.run.registrations if r.type == "kubernetes:helm.sh/v4:Chart" and r.name == "oauth2-proxy"
    )
    assert redact(chart.inputs["values"])["podAnnotations"]["checksum/secrets"] == "[secret]"  # a Pulumi secret
    # the digest comes from the Secrets, not (as a credential would) straight from the generators
    types = {r.urn: r.type for r in result.run.registrations}
    sources = {types[urn] for urn in chart.property_dependencies["values"]}
    assert "kubernetes:core/v1:Secret" in sources and not sources & {"random:index/randomPassword:RandomPassword"}
    secrets = {
        urn.rsplit("::", 1)[1] for urn in chart.property_dependencies["values"] if types[urn].endswith(":Secret")
    }
    assert secrets == {"oauth2-proxy-credentials", "oauth2-proxy-redis"}  # resource names of the two Secrets


def test_seed_004_every_sso_app_is_reachable_only_through_login(preview) -> None:
    """Public URL -> DNS -> TLS listener -> route -> extAuth to oauth2-proxy -> app trusting forwarded identity."""
    stack, result = preview
    config = stack_config(stack)
    domain = config["gatehouse:domain"]
    address = config["gatehouse:edge"]["loadBalancer"]["address"]
    records = dns_names(result)
    gateway = one(result, "Gateway", "public", "envoy-gateway-system")
    https = next(x for x in gateway["spec"]["listeners"] if x["name"] == "https")
    stripped = set(
        one(result, "ClientTrafficPolicy", "public-edge", "envoy-gateway-system")["spec"]["headers"][
            "earlyRequestHeaders"
        ]["remove"]
    )
    tenant_namespaces = {ns for t in config["gatehouse:tenants"] for ns in [t["name"]]}
    sso_apps = [
        a
        for a in config["gatehouse:apps"]
        if a.get("auth", "sso") == "sso"
        and a.get("audience", "staff" if a["namespace"] not in tenant_namespaces else "organization") == "staff"
    ]
    assert sso_apps
    for app in sso_apps:
        host = f"{app.get('host', app['name'])}.{domain}"
        assert records[host]["content"] == address and records[host]["type"] == "A"
        assert auth_record_present(records, domain)
        assert fnmatch.fnmatchcase(host, https["hostname"]) and host.count(".") == https["hostname"].count(".")
        route = one(result, "HTTPRoute", app["name"], app["namespace"])
        assert attached_to_public_https(route) and route["spec"]["hostnames"] == [host]
        namespace = next(o for o in objects(result, "Namespace") if o["metadata"]["name"] == app["namespace"])
        assert namespace["metadata"]["labels"]["gatehouse.dev/gateway-access"] == "true"
        (policy,) = policies_for(result, "SecurityPolicy", route)
        ext = policy["spec"]["extAuth"]
        assert ext["failOpen"] is False
        assert ext["http"]["backendRefs"] == [{"name": "oauth2-proxy", "namespace": "oauth2-proxy", "port": 80}]
        assert ext["http"]["path"] == "/_extauth"
        assert {"cookie", "x-auth-request-redirect"} <= set(ext["headersToExtAuth"])
        forwarded = set(ext["http"]["headersToBackend"])
        removed = set(route["spec"]["rules"][0]["filters"][0]["requestHeaderModifier"]["remove"])
        assert forwarded - removed <= stripped, "a header the app trusts could come from the client"
        assert "authorization" in removed  # the Dex ID token the gateway checked stays at the gateway
        grant = one(result, "ReferenceGrant", f"sso-from-{app['namespace']}", "oauth2-proxy")["spec"]
        assert grant["from"] == [
            {"group": "gateway.envoyproxy.io", "kind": "SecurityPolicy", "namespace": app["namespace"]}
        ]
        assert grant["to"] == [{"group": "", "kind": "Service", "name": "oauth2-proxy"}]
        if app["name"] == "grafana":
            ini = next(c for c in result.charts if c.chart == "grafana").values["grafana.ini"]
            proxy = ini["auth.proxy"]
            assert proxy["enabled"] is True
            assert proxy["header_name"].lower() in forwarded
            trusted = {h.split(":")[1].lower() for h in proxy["headers"].split()}
            assert trusted <= stripped
            assert ini["server"]["root_url"] == f"https://{host}"
            netpol = one(result, "NetworkPolicy", "grafana-from-gateway-only", app["namespace"])
            peer = netpol["spec"]["ingress"][0]["from"][0]
            assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "envoy-gateway-system"}


def auth_record_present(records: dict[str, dict[str, Any]], domain: str) -> bool:
    return f"auth.{domain}" in records


def test_every_public_route_is_protected_or_public_on_purpose(preview) -> None:
    _, result = preview
    routes = [r for r in objects(result, "HTTPRoute") if attached_to_public_https(r)]
    assert routes
    for route in routes:
        guards = policies_for(result, "SecurityPolicy", route)
        protected = any({"extAuth", "jwt", "apiKeyAuth"} & set(p["spec"]) for p in guards)
        public = route["metadata"].get("labels", {}).get("gatehouse.dev/public-route") == "true"
        assert protected != public, route["metadata"]


def test_every_public_host_has_dns_and_tls(preview) -> None:
    stack, result = preview
    domain = stack_config(stack)["gatehouse:domain"]
    records = dns_names(result)
    for route in objects(result, "HTTPRoute"):
        if attached_to_public_https(route):
            for host in route["spec"]["hostnames"]:
                assert host in records, host
                assert host.endswith("." + domain) and host.count(".") == domain.count(".") + 1


def api_name(stack: str, name: str) -> str:
    """Seed 000's APIs: `gatehouse:apis` entries in prod, definition files (apis/<name>-v1.yaml) in staging."""
    return f"{name}-v1" if stack == "staging" else name


def test_jwt_api_scopes_and_claims(preview) -> None:
    stack, result = preview
    domain = stack_config(stack)["gatehouse:domain"]
    route = one(result, "HTTPRoute", api_name(stack, "tickets"), "helpdesk")
    (policy,) = policies_for(result, "SecurityPolicy", route)
    spec = policy["spec"]
    (provider,) = spec["jwt"]["providers"]
    assert provider["issuer"] == f"https://sso.{domain}/realms/tenants"
    assert provider["audiences"] == ["tickets-api"]
    assert provider["remoteJWKS"]["uri"].startswith("https://keycloak-http.keycloak.svc.cluster.local:8443/")
    assert {c["header"] for c in provider["claimToHeaders"]} == {
        "x-user-id",
        "x-user-email",
        "x-org-slug",
        "x-client-id",
    }
    rules = {r["name"]: r for r in spec["authorization"]["rules"]}
    assert spec["authorization"]["defaultAction"] == "Deny"
    if stack == "staging":  # organization-scoped there: per organization, see test_api_access.py
        orgs = sorted(o["name"] for o in stack_config(stack)["gatehouse:organizations"])
        assert [r["name"] for r in spec["authorization"]["rules"]] == [
            "path-parameters",
            *(f"org:{o}:admin" for o in orgs),
            "admin-paths",
            *(f"org:{o}:write" for o in orgs),
            *(f"org:{o}:read" for o in orgs),
        ]
    else:
        assert [r["name"] for r in spec["authorization"]["rules"]] == ["path-parameters", "admin", "write", "read"]
        assert rules["admin"]["principal"]["jwt"]["scopes"] == ["tickets:admin"]
        assert re.match(rules["admin"]["operation"]["path"]["value"], "/admin/users")
        assert not re.match(rules["admin"]["operation"]["path"]["value"], "/administrators")
        assert rules["write"]["operation"]["methods"] == ["POST", "PUT", "PATCH", "DELETE"]
        assert rules["write"]["operation"]["path"]["invert"] is True
        assert rules["read"]["operation"]["methods"] == ["GET", "HEAD"]
        assert rules["read"]["principal"]["jwt"]["scopes"] == ["tickets:read"]
    assets = policies_for(result, "SecurityPolicy", one(result, "HTTPRoute", api_name(stack, "assets"), "helpdesk"))[0]
    # staging's assets lists its operations: a rule each, exact paths first (api_rules.operation_rules)
    expected = ["op:get", "op:post", "op:get.id", "op:put.id"] if stack == "staging" else ["write", "read"]
    assert [r["name"] for r in assets["spec"]["authorization"]["rules"]] == ["path-parameters", *expected]


@pytest.mark.parametrize(
    ("path", "admin"),
    [
        ("/admin", True),
        ("/admin/users", True),
        ("/admin?page=2", True),
        ("/admin;jsessionid=1", True),
        ("/admin#top", True),
        ("/administrators", False),
        ("/v1/admin", False),
        ("/ADMIN", True),
        ("/Admin/users", True),
    ],
)
def test_a_query_or_parameter_does_not_take_a_path_out_of_the_admin_rule(path: str, admin: bool) -> None:
    """envoyproxy/gateway v1.9.0 internal/xds/translator/authorization.go `buildPathPredicate`: a
    RegularExpression `operation.path` is matched, unchanged, against `:path`, which carries the query
    (Envoy matches the whole string). The admin rule must hold `/admin?x` as `/admin` does, or the inverted
    read rule lets `GET /admin?x` through with the read scope alone."""
    api = config.Api(name="tickets", namespace="helpdesk", service=config.ServiceRef(name="t", port=80), auth="jwt")
    rules = {r["name"]: r["operation"] for r in api_rules.authorization_rules(api, ["acme"])}
    admin_path = rules["admin"]["path"]
    assert admin_path["type"] == "RegularExpression"
    assert bool(re.fullmatch(admin_path["value"], path)) is admin
    read_path = rules["read"]["path"]  # the same expression, inverted
    assert (read_path["value"], read_path["invert"]) == (admin_path["value"], True)


CORS_HEADERS = ["authorization", "content-type", "x-correlation-id"]


def test_jwt_apis_answer_the_portals_preflight(preview) -> None:
    """The portal calls JWT APIs cross-origin: CORS (before jwt in Envoy) answers the token-less preflight."""
    stack, result = preview
    domain = stack_config(stack)["gatehouse:domain"]
    for name, namespace in (("tickets", "helpdesk"), ("assets", "helpdesk")):
        route = one(result, "HTTPRoute", api_name(stack, name), namespace)
        (policy,) = policies_for(result, "SecurityPolicy", route)
        assert policy["spec"]["cors"] == {
            "allowOrigins": [f"https://app.{domain}"],
            "allowMethods": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            "allowHeaders": CORS_HEADERS,
            "exposeHeaders": ["x-correlation-id"],
            "maxAge": "1h",
        }
        # everything else still needs a token with a scope
        authorization = policy["spec"]["authorization"]
        assert authorization["defaultAction"] == "Deny"
        allowed = [rule for rule in authorization["rules"] if rule["action"] == "Allow"]
        assert allowed and all(rule["principal"]["jwt"]["scopes"] for rule in allowed)
        # the route takes every method, or OPTIONS on every path it serves (its `preflight` rule), so an
        # OPTIONS preflight reaches the route's CORS policy
        matches = [m for rule in route["spec"]["rules"] for m in rule.get("matches", [{}])]
        paths = {m["path"]["value"] for m in matches if "path" in m}
        assert all("matches" not in rule for rule in route["spec"]["rules"]) or paths == {
            m["path"]["value"] for m in matches if m.get("method") == "OPTIONS"
        }


def test_cors_origins_from_config_and_methods_from_scopes(tmp_path: Path) -> None:
    config = stack_config("staging")
    config.setdefault("gatehouse:apis", []).append(
        {
            "name": "reports",
            "namespace": "helpdesk",
            "service": {"name": "reports", "port": 8080},
            "auth": "jwt",
            "scopes": ["read"],
            "corsOrigins": ["https://console.example.org", "https://*.partners.example.org"],
        }
    )
    result, printed = run_preview(program_with_stack(tmp_path, "staging", config), tmp_path / "out", stack="staging")
    assert result.exit_code == 0, printed
    (policy,) = policies_for(result, "SecurityPolicy", one(result, "HTTPRoute", "reports", "helpdesk"))
    cors = policy["spec"]["cors"]
    assert cors["allowOrigins"] == ["https://console.example.org", "https://*.partners.example.org"]
    assert cors["allowMethods"] == ["GET", "HEAD"]
    assert cors["allowHeaders"] == CORS_HEADERS


def test_correlation_id_on_request_and_response(preview) -> None:
    stack, result = preview
    for name, ns in (("tickets", "helpdesk"), ("catalog", "storefront")):
        filters = {
            f["type"]: f for f in one(result, "HTTPRoute", api_name(stack, name), ns)["spec"]["rules"][0]["filters"]
        }
        request = filters["RequestHeaderModifier"]["requestHeaderModifier"]["set"]
        response = filters["ResponseHeaderModifier"]["responseHeaderModifier"]["set"]
        assert request == response == [{"name": "X-Correlation-Id", "value": "%REQ(x-request-id)%"}]


CORRELATION = [{"name": "X-Correlation-Id", "value": "%REQ(x-request-id)%"}]


def _carries_correlation_id(where: str, rule: dict[str, Any]) -> None:
    """One RequestHeaderModifier and one ResponseHeaderModifier (Gateway API: at most one filter of each type
    per rule), both setting the correlation id from the request id first (an operation's header policies
    follow it)."""
    filters = rule.get("filters", [])
    types = [f["type"] for f in filters]
    assert types.count("RequestHeaderModifier") == types.count("ResponseHeaderModifier") == 1, (where, types)
    by_type = {f["type"]: f for f in filters}
    assert by_type["RequestHeaderModifier"]["requestHeaderModifier"]["set"][:1] == CORRELATION, where
    assert by_type["ResponseHeaderModifier"]["responseHeaderModifier"]["set"][:1] == CORRELATION, where


def test_every_route_to_a_backend_carries_the_correlation_id(preview) -> None:
    """Apps (browser ones included), APIs, the login hosts (Keycloak, Dex, Argo CD), oauth2-proxy's and
    Authentik's (rendered by its chart from `server.route.main.filters`, goauthentik/helm 2026.8.0
    charts/authentik/templates/server/route.yaml): every rule with a backend sets X-Correlation-Id on request
    and response. A rule without a backend (the HTTP-to-HTTPS redirect) only redirects."""
    stack, result = preview
    routes = objects(result, "HTTPRoute")
    names = {(r["metadata"]["namespace"], r["metadata"]["name"]) for r in routes}
    assert {("oauth2-proxy", "oauth2-proxy"), ("identity", "dex"), ("helpdesk", api_name(stack, "tickets"))} <= names
    for route in routes:
        for rule in route["spec"]["rules"]:
            where = f"{route['metadata']['namespace']}/{route['metadata']['name']}"
            if rule.get("backendRefs"):
                _carries_correlation_id(where, rule)
            else:
                assert [f["type"] for f in rule["filters"]] == ["RequestRedirect"], where
    (authentik,) = [c for c in result.charts if c.chart == "authentik"]
    _carries_correlation_id("authentik", authentik.values["server"]["route"]["main"])
    # oauth2-proxy's login host alone keeps the edge's redirect header; every other route removes it
    login = one(result, "HTTPRoute", "oauth2-proxy", "oauth2-proxy")["spec"]["rules"][0]["filters"][0]
    assert "x-auth-request-redirect" not in login["requestHeaderModifier"].get("remove", [])
    dex = one(result, "HTTPRoute", "dex", "identity")["spec"]["rules"][0]["filters"][0]
    assert "x-auth-request-redirect" in dex["requestHeaderModifier"]["remove"]


def test_api_keys_per_tier_with_rate_limits(preview) -> None:
    stack, result = preview
    api = next(a for a in api_entries(stack) if a["auth"] == "apiKey")
    route = one(result, "HTTPRoute", api["name"], api["namespace"])
    methods = {m["method"] for rule in route["spec"]["rules"] for m in rule["matches"]}
    assert methods == {"GET", "HEAD"} if "operations" not in api else methods <= {"GET", "HEAD", "OPTIONS"}
    (policy,) = policies_for(result, "SecurityPolicy", route)
    auth = policy["spec"]["apiKeyAuth"]
    assert auth["forwardClientIDHeader"] == "x-api-client" and auth["sanitize"] is True
    assert auth["extractFrom"] == [{"headers": ["x-api-key"]}]
    assert {c["name"] for c in auth["credentialRefs"]} == {
        f"{api['name']}-apikeys-{t['name']}" for t in api["apiKeyTiers"]
    }
    assert result.run is not None
    for tier in api["apiKeyTiers"]:
        # in Envoy Gateway's namespace, out of the tenant's reach, never in the API's
        secret = one(result, "Secret", f"{api['name']}-apikeys-{tier['name']}", "envoy-gateway-system")
        assert not [
            o
            for o in objects(result, "Secret")
            if o["metadata"]["name"] == secret["metadata"]["name"] and o["metadata"]["namespace"] == api["namespace"]
        ]
        assert set(secret["stringData"]) == set(tier["clients"])
        assert all(len(v) == 40 for v in secret["stringData"].values())
        reg = next(
            r for r in result.run.registrations if r.urn.endswith(f"Secret::api-{api['name']}-keys-{tier['name']}")
        )
        assert isinstance(reg.inputs["stringData"], Secret)
    (limits,) = policies_for(result, "BackendTrafficPolicy", route)
    rules = limits["spec"]["rateLimit"]["global"]["rules"]
    assert [r["limit"] for r in rules] == [
        {"requests": t["requestsPerMinute"], "unit": "Minute"} for t in api["apiKeyTiers"]
    ]
    for rule, tier in zip(rules, api["apiKeyTiers"], strict=True):
        distinct, only_tier = rule["clientSelectors"][0]["headers"]
        assert distinct == {"name": "x-api-client", "type": "Distinct"}
        assert all(re.match(only_tier["value"], c) for c in tier["clients"])
        others = [c for t in api["apiKeyTiers"] if t is not tier for c in t["clients"]]
        assert not any(re.match(only_tier["value"], c) for c in others)
    envoy = next(c for c in result.charts if c.chart == "gateway-helm").values
    assert envoy["config"]["envoyGateway"]["rateLimit"]["backend"]["type"] == "Redis"
    (grant,) = [g for g in objects(result, "ReferenceGrant") if g["metadata"]["name"] == f"{api['name']}-apikeys"]
    assert grant["metadata"]["namespace"] == "envoy-gateway-system"
    assert grant["spec"]["from"] == [
        {"group": "gateway.envoyproxy.io", "kind": "SecurityPolicy", "namespace": api["namespace"]}
    ]
    assert {t["name"] for t in grant["spec"]["to"]} == {c["name"] for c in auth["credentialRefs"]}


def test_every_api_has_a_rate_limit(preview) -> None:
    """A jwt or public API gets the default per client address, and a jwt API's partners their tiers'
    limits (issue 20; tests/test_partner_tiers.py counts requests against them)."""
    stack, result = preview
    for api in api_entries(stack):
        route = one(result, "HTTPRoute", api["name"], api["namespace"])
        (limits,) = [p for p in policies_for(result, "BackendTrafficPolicy", route) if not _on_a_rule(p)]
        rules = limits["spec"]["rateLimit"]["global"]["rules"]
        assert rules, api["name"]
        if api["auth"] != "apiKey":
            by_address = [r for r in rules if "sourceCIDR" in r["clientSelectors"][0]]
            assert {r["clientSelectors"][0]["sourceCIDR"]["value"] for r in by_address} == {"0.0.0.0/0", "::/0"}
            partners = [r["clientSelectors"][0]["headers"][0]["value"] for r in rules if r not in by_address]
            assert partners == [c["name"] for c in api.get("m2mClients", [])]


def test_public_api_is_marked_public(tmp_path: Path) -> None:
    config = stack_config("staging")
    config.setdefault("gatehouse:apis", []).append(
        {"name": "status", "namespace": "storefront", "service": {"name": "status", "port": 8080}, "auth": "public"}
    )
    result, printed = run_preview(program_with_stack(tmp_path, "staging", config), tmp_path / "out", stack="staging")
    assert result.exit_code == 0, printed
    route = one(result, "HTTPRoute", "status", "storefront")
    assert route["metadata"]["labels"]["gatehouse.dev/public-route"] == "true"
    assert policies_for(result, "SecurityPolicy", route) == []


def test_sso_apps_in_many_namespaces_each_get_their_own_grant(tmp_path: Path) -> None:
    """A ReferenceGrant's `from` holds at most 16 entries: one grant per app namespace never overflows."""
    config = stack_config("staging")
    tenants = [
        {"name": f"team{i:02d}", "organization": "acme", "repo": f"acme-corp/team{i:02d}", "profile": "standard"}
        for i in range(20)
    ]
    config["gatehouse:tenants"] += [{**t, "size": "small"} for t in tenants]
    config["gatehouse:apps"] += [
        {"name": f"web{i:02d}", "namespace": t["name"], "service": {"name": "web", "port": 8080}, "audience": "staff"}
        for i, t in enumerate(tenants)
    ]
    result, printed = run_preview(program_with_stack(tmp_path, "staging", config), tmp_path / "out", stack="staging")
    assert result.exit_code == 0, printed
    for tenant in tenants:
        grant = one(result, "ReferenceGrant", f"sso-from-{tenant['name']}", "oauth2-proxy")
        assert [f["namespace"] for f in grant["spec"]["from"]] == [tenant["name"]]
