"""One test per stack that fails if the planes drift apart: issuers, client ids, secrets, redirect
URIs and audiences must agree across Dex, oauth2-proxy, Grafana, Argo CD, Keycloak and the gateway, and
every namespace and route has the shape its one builder gives it."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlparse

import gatehouse_contract as contract
import pytest
import yaml
from conftest import REPO

from components.gateway.edge import redirect_route_name
from components.gateway.routes import gateway_parent_ref
from offline.manifests import chart_values_of, is_helm_chart, is_kubernetes_object, manifest_of
from offline.runtime import ProgramRun, run_program
from offline.stack_config import load_stack_config


@pytest.fixture(scope="module", params=["staging", "prod"])
def run(request: pytest.FixtureRequest) -> ProgramRun:
    result = run_program(REPO, load_stack_config(REPO, request.param))
    assert result.error is None, result.error
    return result


def objects(run: ProgramRun, kind: str) -> list[dict[str, Any]]:
    return [m.obj for m in map(manifest_of, filter(is_kubernetes_object, run.registrations)) if m.kind == kind]


def one(run: ProgramRun, kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in objects(run, kind) if o["metadata"]["name"] == name]
    return found


def realm(run: ProgramRun) -> dict[str, Any]:
    """The realm keycloak-config-cli applies."""
    return json.loads(one(run, "ConfigMap", "keycloak-realm")["data"]["realm.json"])


def values(run: ProgramRun, chart: str) -> dict[str, Any]:
    (found,) = [c.values for c in map(chart_values_of, filter(is_helm_chart, run.registrations)) if c.chart == chart]
    return found


def test_every_pair_of_planes_agrees(run: ProgramRun) -> None:
    dex = yaml.safe_load(one(run, "Secret", "dex-config")["stringData"]["config.yaml"])
    clients = {c["id"]: c for c in dex["staticClients"]}
    dex_secrets = one(run, "Secret", "dex-clients")["stringData"]

    # oauth2-proxy <-> Dex: issuer, client id, client secret, redirect URI
    proxy = dict(re.findall(r'^(\w+) = "?([^"\n]*)"?$', values(run, "oauth2-proxy")["config"]["configFile"], re.M))
    credentials = one(run, "Secret", "oauth2-proxy-credentials")["stringData"]
    assert proxy["oidc_issuer_url"] == dex["issuer"]
    assert credentials["client-id"] in clients
    assert credentials["client-secret"] == dex_secrets[credentials["client-id"]]
    assert proxy["redirect_url"] in clients[credentials["client-id"]]["redirectURIs"]
    assert urlparse(proxy["redirect_url"]).hostname in one(run, "HTTPRoute", "oauth2-proxy")["spec"]["hostnames"]

    # Grafana <-> Dex and the gateway: its public URL is where its Dex client may return to
    grafana = values(run, "grafana")["grafana.ini"]["server"]["root_url"]
    assert all(uri.startswith(grafana + "/") for uri in clients["grafana"]["redirectURIs"])
    assert urlparse(grafana).hostname in one(run, "HTTPRoute", "grafana")["spec"]["hostnames"]

    # Argo CD <-> Dex
    argocd = values(run, "argo-cd")["configs"]["cm"]
    oidc = yaml.safe_load(argocd["oidc.config"])
    assert oidc["issuer"] == dex["issuer"]
    assert f"{argocd['url']}/auth/callback" in clients[oidc["clientID"]]["redirectURIs"]

    # the gateway's JWT providers <-> Keycloak: issuer, JWKS service, audiences
    keycloak = values(run, "keycloakx")
    hostname = next(e["value"] for e in yaml.safe_load(keycloak["extraEnv"]) if e["name"] == "KC_HOSTNAME")
    tenants = realm(run)
    issuer = f"{hostname}/realms/{tenants['realm']}"
    audiences = {
        mapper["config"]["included.custom.audience"]
        for scope in tenants["clientScopes"]
        for mapper in scope.get("protocolMappers", [])
        if mapper["protocolMapper"] == "oidc-audience-mapper"
    }
    scopes = {scope["name"] for scope in tenants["clientScopes"]}
    mappers = {m["name"]: m for s in tenants["clientScopes"] for m in s.get("protocolMappers", [])}
    assert mappers["org_memberships"]["config"]["claim.name"] == "org_memberships"
    groups = {sub["path"] for org in tenants["groups"][0]["subGroups"] for sub in org["subGroups"]}
    realm_claim_values = {"org_memberships": groups, "azp": {c["clientId"] for c in tenants["clients"]}}
    # `amr` lists the references the realm's sign-in steps carry, through the amr mapper
    assert mappers["amr"]["protocolMapper"] == "oidc-amr-mapper" and mappers["amr"]["config"]["claim.name"] == "amr"
    references = {c["config"].get("default.reference.value") for c in tenants["authenticatorConfig"]}
    realm_claim_values["amr"] = references - {None}
    # keycloakx templates/service-http.yaml: `<fullname>-http`, in the release's namespace
    (chart,) = [c for c in map(chart_values_of, filter(is_helm_chart, run.registrations)) if c.chart == "keycloakx"]
    service = f"{keycloak['fullnameOverride']}-http.{chart.namespace}.svc.cluster.local"
    jwt_policies = api_policies(run)
    assert jwt_policies
    for policy in jwt_policies:
        (provider,) = policy["spec"]["jwt"]["providers"]
        assert provider["issuer"] == issuer
        assert urlparse(provider["remoteJWKS"]["uri"]).hostname == service
        assert set(provider["audiences"]) <= audiences
        for rule in policy["spec"]["authorization"]["rules"]:
            if "jwt" not in rule["principal"]:  # a Deny for everyone (an organization-scoped API's admin paths)
                assert rule["action"] == "Deny"
                continue
            assert set(rule["principal"]["jwt"]["scopes"]) <= scopes
            for claim in rule["principal"]["jwt"].get("claims", []):  # the groups and clients the realm has
                assert set(claim["values"]) <= realm_claim_values[claim["name"]], claim


def api_policies(run: ProgramRun) -> list[dict[str, Any]]:
    """The APIs' SecurityPolicies: bearer tokens only (an app's also signs in, through oauth2-proxy or OIDC)."""
    return [
        p for p in objects(run, "SecurityPolicy") if "jwt" in p["spec"] and not {"extAuth", "oidc"} & set(p["spec"])
    ]


def test_app_policies_check_tokens_of_their_own_issuer_and_client(run: ProgramRun) -> None:
    """A staff app's policy verifies Dex ID tokens issued to oauth2-proxy; an organization app's, Keycloak
    ID tokens issued to the app's own realm client, whose redirect URI is the policy's callback."""
    proxy = dict(re.findall(r'^(\w+) = "?([^"\n]*)"?$', values(run, "oauth2-proxy")["config"]["configFile"], re.M))
    client_id = one(run, "Secret", "oauth2-proxy-credentials")["stringData"]["client-id"]
    clients = {c["clientId"]: c for c in realm(run)["clients"]}
    keycloak = yaml.safe_load(values(run, "keycloakx")["extraEnv"])
    issuer = next(e["value"] for e in keycloak if e["name"] == "KC_HOSTNAME") + f"/realms/{realm(run)['realm']}"
    apps = [p for p in objects(run, "SecurityPolicy") if {"extAuth", "oidc"} & set(p["spec"])]
    assert {"extAuth" in p["spec"] for p in apps} == {True, False}  # both kinds on this stack
    for policy in apps:
        (provider,) = policy["spec"]["jwt"]["providers"]
        if "extAuth" in policy["spec"]:
            assert provider["issuer"] == proxy["oidc_issuer_url"]
            assert provider["audiences"] == [client_id]
            continue
        oidc = policy["spec"]["oidc"]
        client = clients[oidc["clientID"]]
        assert provider["issuer"] == oidc["provider"]["issuer"] == issuer
        assert provider["audiences"] == [oidc["clientID"]]
        assert client["redirectUris"] == [oidc["redirectURL"]]
        assert client["standardFlowEnabled"] is True and client["publicClient"] is False


def test_apis_accept_the_portal_origin_keycloak_issues_tokens_to(run: ProgramRun) -> None:
    (portal,) = [c for c in realm(run)["clients"] if c["clientId"] == "portal"]
    jwt_policies = api_policies(run)
    assert jwt_policies
    for policy in jwt_policies:  # neither stack sets corsOrigins: the default is the portal
        assert policy["spec"]["cors"]["allowOrigins"] == portal["webOrigins"]


def test_every_sign_in_host_is_served_here_or_by_its_own_install(run: ProgramRun) -> None:
    """Redirect URIs and web origins name hosts: the gateway's (DNS + route), or the one the README lists
    as served by its own install (the portal)."""
    (listener,) = [x for x in one(run, "Gateway", "public")["spec"]["listeners"] if x["name"] == "https"]
    domain = listener["hostname"].removeprefix("*.")
    records = {r.inputs["name"] for r in run.registrations if r.type == "cloudflare:index/dnsRecord:DnsRecord"}
    routed = {h for route in objects(run, "HTTPRoute") for h in route["spec"].get("hostnames", [])}
    dex = yaml.safe_load(one(run, "Secret", "dex-config")["stringData"]["config.yaml"])
    clients = realm(run)["clients"]
    urls = [u for c in dex["staticClients"] for u in c["redirectURIs"]]
    urls += [u for c in clients for u in c.get("redirectUris", [])]
    urls += [u for c in clients for u in c.get("webOrigins", [])]
    hosts = {urlparse(u).hostname for u in urls}
    external = {f"app.{domain}"}  # the Tekton dashboard's host is the gateway's since issue 21
    assert hosts - (records & routed) == external
    assert not external & (records | routed), "a host served elsewhere must not also point at the gateway"


def test_every_tenant_group_is_one_dex_emits(run: ProgramRun) -> None:
    """Groups bound to tenants (RoleBindings, AppProject roles) must reach a token: Dex's GitHub connector
    emits `<org>:<team>` only for the orgs and teams it lists (an org listing none: all its teams)."""
    dex = yaml.safe_load(one(run, "Secret", "dex-config")["stringData"]["config.yaml"])
    (github,) = [c["config"] for c in dex["connectors"] if c["type"] == "github"]
    listed = {org["name"]: set(org["teams"]) for org in github["orgs"]}
    bound = {
        subject["name"]
        for binding in objects(run, "RoleBinding")
        if binding["metadata"]["name"].endswith("-developers")
        for subject in binding["subjects"]
        if subject["kind"] == "Group"
    }
    projects = {p["metadata"]["name"]: p for p in objects(run, "AppProject")}
    assert projects
    for project in projects.values():
        for role in project["spec"]["roles"]:
            bound |= set(role["groups"])
    assert bound  # the stacks bind no explicit groups: each is `<repo org>:<tenant>`
    for group in bound:
        org, team = group.split(":")
        assert org in listed and (not listed[org] or team in listed[org]), group
    assert projects["payments"]["spec"]["roles"][0]["groups"] == ["acme-corp:payments"]
    assert projects["storefront"]["spec"]["roles"][0]["groups"] == ["globex:storefront"]


def test_every_namespace_has_the_pod_security_labels_of_its_kind(run: ProgramRun) -> None:
    """One builder (components/meta.py `namespace`) writes the Pod Security labels of every namespace a
    plane declares: the platform's and organizations' enforce restricted, a tenant's its profile's level
    and warns and audits at restricted, all at the latest policy version."""
    namespaces = objects(run, "Namespace")
    assert namespaces
    prefix = "pod-security.kubernetes.io/"
    for namespace in namespaces:
        labels = namespace["metadata"]["labels"]
        pod_security = {k.removeprefix(prefix): v for k, v in labels.items() if k.startswith(prefix)}
        expected = {"enforce": "restricted", "enforce-version": "latest"}
        if contract.TENANT_LABEL in labels:
            level = contract.POD_SECURITY_BY_PROFILE[labels[contract.PROFILE_LABEL]]
            expected = {"enforce": level, "enforce-version": "latest", "warn": "restricted", "audit": "restricted"}
        assert pod_security == expected, namespace["metadata"]["name"]


def test_every_route_but_the_redirect_serves_one_host_on_the_https_listener(run: ProgramRun) -> None:
    """components/gateway/routes.py builds every HTTPRoute: one host on one Gateway's HTTPS listener (the
    public one's unless an API names another), one backend; only each Gateway's redirect sits on its plain
    listener, whose name the pack's httproute-hostnames allows to omit hosts."""
    gateways = {g["metadata"]["name"]: g for g in objects(run, "Gateway")}
    assert contract.PUBLIC_GATEWAY in gateways
    routes = {route["metadata"]["name"]: route["spec"] for route in objects(run, "HTTPRoute")}
    for name, gateway in gateways.items():
        listeners = {x["name"]: x["protocol"] for x in gateway["spec"]["listeners"]}
        assert listeners[contract.HTTP_LISTENER] == "HTTP"
        assert listeners[gateway_parent_ref(name)["sectionName"]] == "HTTPS"
        redirect = routes.pop(redirect_route_name(name))
        assert redirect["parentRefs"] == [{"name": name, "sectionName": contract.HTTP_LISTENER}]
    assert routes
    for name, spec in routes.items():
        assert spec["parentRefs"] in ([gateway_parent_ref(g)] for g in gateways), name
        assert len(spec["hostnames"]) == 1, name
        for rule in spec["rules"]:  # an API's operations may have rules of their own (gateway/api_routes.py)
            assert len(rule["backendRefs"]) == 1, name
