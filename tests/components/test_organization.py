"""Organization (components/tenancy/organization.py) built alone from an OrganizationArgs: its namespace, its
webhook secret, its secret store waiting for the operator it is handed, and the Cloudflare tunnel only when
it is handed Cloudflare.

tests/test_tenancy.py and tests/test_tunnel.py test the staging stack's organizations as the whole program
builds them (the store's spec, the tunnel's credentials, cloudflared's pod); here each argument is varied.
"""

from __future__ import annotations

from typing import Any

import pulumi_kubernetes as k8s
import pytest
import yaml
from component_harness import Built, build, in_clear

from components import config
from components.config.fields import Environment
from components.tenancy import Organization, OrganizationArgs
from offline.records import Secret, reveal

ACME = config.Organization(
    name="acme",
    display_name="ACME Corporation",
    admin_users=["ops@acme.example"],
    webhook_service=config.ServiceRef(name="hooks", port=9000),
)
STAGING = config.Site(environment="staging", domain="example.test")
CLOUDFLARE = config.Cloudflare(zone_id="a" * 32, account_id="b" * 32)
# two tenants of acme (one with an extra namespace) and one of another organization, which acme ignores
TENANTS = [
    config.Tenant(name="shop", organization="acme", repo="acme/shop", profile="standard", size="small"),
    config.Tenant(
        name="billing", organization="acme", repo="acme/billing", profile="elevated", size="small", namespaces=["jobs"]
    ),
    config.Tenant(name="other", organization="globex", repo="globex/other", profile="standard", size="small"),
]
NAMESPACE = "kubernetes:core/v1:Namespace"
STORE = "kubernetes:external-secrets.io/v1:ClusterSecretStore"
# (kind, name) of the objects every organization has: its namespace, webhook secret and, per tenant of
# its own, a secret store with the ServiceAccount it reads as
OWN = {
    ("Namespace", "org-acme"),
    ("Secret", "github-webhook-secret"),
    *(
        (kind, name)
        for tenant in ("shop", "billing")
        for kind, name in (
            ("ClusterSecretStore", f"tenant-{tenant}-store"),
            ("ServiceAccount", f"eso-reader-{tenant}"),
            ("Role", f"eso-reader-{tenant}"),
            ("RoleBinding", f"eso-reader-{tenant}"),
        )
    ),
    # its fence (components/network_policies.py): the webhook listener may call the API server
    ("NetworkPolicy", "default-deny"),
    ("NetworkPolicy", "allow-dns"),
    ("NetworkPolicy", "allow-webhook-receivers"),
}
# and those its Cloudflare tunnel adds
TUNNEL = {
    ("Secret", "cloudflared-credentials-acme"),
    ("ServiceAccount", "cloudflared"),
    ("ConfigMap", "cloudflared"),
    ("Deployment", "cloudflared"),
    ("NetworkPolicy", "allow-cloudflared"),
}


def build_organization(
    cloudflare: config.Cloudflare | None = None,
    site: config.Site = STAGING,
    org: config.Organization = ACME,
) -> Built:
    def make() -> Organization:
        operator = k8s.core.v1.Namespace("external-secrets")  # stands in for SecretsOperator.chart
        return Organization(org.name, OrganizationArgs(org, site, cloudflare, operator, TENANTS))

    return build(make)


@pytest.fixture(scope="module", params=[None, CLOUDFLARE], ids=["alone", "cloudflare"])
def built(request: pytest.FixtureRequest) -> Built:
    return build_organization(request.param)


def kinds_and_names(built: Built) -> set[tuple[str, str]]:
    return {(o["kind"], o["metadata"]["name"]) for o in built.objects()}


def test_everything_is_a_direct_child_of_the_organization(built: Built) -> None:
    assert built.component.type == "gatehouse:tenancy:Organization"
    assert built.children and all(r.parent == built.component.urn for r in built.children)


def test_its_namespace_is_org_name_labelled_for_it_and_restricted(built: Built) -> None:
    (namespace,) = built.objects("Namespace")
    assert namespace["metadata"]["name"] == "org-acme"
    assert namespace["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/part-of": "gatehouse",
        "gatehouse.dev/managed-by": "gatehouse",
        "gatehouse.dev/component": "organization",
        "gatehouse.dev/organization": "acme",
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
    }
    # everything namespaced lands in it, and waits for it
    namespace_urn = built.named("org-acme").urn
    for registration in built.children:
        manifest = registration.inputs.get("metadata") or {}
        if "namespace" in manifest:
            assert reveal(manifest["namespace"]) == "org-acme", registration.urn
            assert namespace_urn in registration.dependencies, registration.urn


def test_the_webhook_secret_is_generated_into_its_secret_and_never_in_clear(built: Built) -> None:
    """Seed 002: the webhook secret matches ^[a-zA-Z0-9_-]+$, so letters and digits only."""
    generator = built.named("acme-webhook-secret", "random:index/randomPassword:RandomPassword")
    assert (generator.inputs["length"], generator.inputs["special"]) == (40, False)
    assert isinstance(generator.outputs["result"], Secret)
    secret = built.named("acme-webhook-secret", "kubernetes:core/v1:Secret")
    assert reveal(secret.inputs["metadata"]["name"]) == "github-webhook-secret"
    assert isinstance(secret.inputs["stringData"], Secret)
    assert reveal(secret.inputs["stringData"]) == {"secret": reveal(generator.outputs["result"])}
    assert generator.urn in secret.dependencies
    generated = {reveal(r.outputs[key]) for r in built.children for key in ("result", "base64") if key in r.outputs}
    assert not [r.urn for r in built.children if in_clear(r.inputs, generated)]
    assert not in_clear(built.outputs, generated)


def test_each_tenant_store_reads_only_its_tenants_secret_and_waits_for_the_operator(built: Built) -> None:
    """One store per tenant, since a ClusterSecretStore's `conditions` pick namespaces, never remote keys
    (external-secrets v2.9.0 apis/externalsecrets/v1/secretstore_types.go ClusterSecretStoreCondition); its
    ServiceAccount may `get` only the tenant's Secret (providers/v1/kubernetes/client.go GetSecret reads
    `remoteRef.key` by name; validate.go needs no more than `get`)."""
    (operator,) = built.handed
    stores = {reveal(s.inputs["metadata"]["name"]): s for s in built.of_type(STORE)}
    assert set(stores) == {"tenant-shop-store", "tenant-billing-store"}
    assert {r.urn for r in built.children if operator.urn in r.dependencies} == {s.urn for s in stores.values()}
    specs = {o["metadata"]["name"]: o["spec"] for o in built.objects("ClusterSecretStore")}
    assert specs["tenant-shop-store"]["conditions"] == [{"namespaces": ["shop"]}]
    assert specs["tenant-billing-store"]["conditions"] == [{"namespaces": ["billing", "billing-jobs"]}]
    for tenant in ("shop", "billing"):
        auth = specs[f"tenant-{tenant}-store"]["provider"]["kubernetes"]["auth"]
        assert auth == {"serviceAccount": {"name": f"eso-reader-{tenant}", "namespace": "org-acme"}}
    roles = {r["metadata"]["name"]: r for r in built.objects("Role")}
    bindings = {b["metadata"]["name"]: b for b in built.objects("RoleBinding")}
    for tenant in ("shop", "billing"):
        (secrets_rule,) = [rule for rule in roles[f"eso-reader-{tenant}"]["rules"] if "secrets" in rule["resources"]]
        assert secrets_rule == {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": [f"{tenant}-secrets"],
            "verbs": ["get"],
        }
        subjects = bindings[f"eso-reader-{tenant}"]["subjects"]
        assert subjects == [{"kind": "ServiceAccount", "name": f"eso-reader-{tenant}", "namespace": "org-acme"}]
    # no store shared by the organization's tenants, nor one chosen by a label a namespace carries
    assert not [s for s in specs.values() if "namespaceSelector" in s["conditions"][0]]


def test_cloudflared_and_its_tunnel_exist_only_when_cloudflare_is_handed() -> None:
    alone, tunneled = build_organization(), build_organization(CLOUDFLARE)
    assert kinds_and_names(alone) == OWN
    assert kinds_and_names(tunneled) == OWN | TUNNEL
    assert not [r.urn for r in alone.children if r.type.startswith(("cloudflare:", "random:index/randomBytes"))]
    assert {r.type for r in tunneled.children if r.type.startswith("cloudflare:")} == {
        "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared",
        "cloudflare:index/dnsRecord:DnsRecord",
    }


def test_the_tunnel_uses_the_cloudflare_account_and_zone_it_is_handed_and_the_webhook_service() -> None:
    built = build_organization(CLOUDFLARE)
    (tunnel,) = built.of_type("cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared")
    (record,) = built.of_type("cloudflare:index/dnsRecord:DnsRecord")
    assert (tunnel.inputs["accountId"], tunnel.inputs["name"]) == ("b" * 32, "gatehouse-staging-acme")
    assert (record.inputs["zoneId"], record.inputs["name"]) == ("a" * 32, "acme.example.test")
    (config_map,) = built.objects("ConfigMap")
    ingress = yaml.safe_load(config_map["data"]["config.yaml"])["ingress"]
    # the organization's own webhook service, in its own namespace
    assert ingress[0] == {"hostname": "acme.example.test", "service": "http://hooks.org-acme.svc.cluster.local:9000"}
    credentials = built.named("acme-tunnel-credentials")
    assert isinstance(credentials.inputs["stringData"], Secret)


@pytest.mark.parametrize(
    ("cloudflare", "webhook_url"),
    [(None, None), (CLOUDFLARE, "https://acme.example.test")],
    ids=["alone", "cloudflare"],
)
def test_outputs_name_the_namespace_the_store_and_the_webhook_url(
    cloudflare: config.Cloudflare | None, webhook_url: str | None
) -> None:
    built = build_organization(cloudflare)
    expected: dict[str, Any] = {
        "namespace": "org-acme",
        "secretStores": {"shop": "tenant-shop-store", "billing": "tenant-billing-store"},
    }
    if webhook_url:  # a None output reaches the engine as null, which the recording leaves out
        expected["webhookUrl"] = webhook_url
    assert built.outputs == expected


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_only_the_namespace_is_kept_and_only_in_production(environment: Environment) -> None:
    built = build_organization(CLOUDFLARE, config.Site(environment=environment, domain="example.test"))
    production = environment == "prod"
    for registration in built.children:
        kept = production and registration.type == NAMESPACE
        assert (registration.protect, registration.retain_on_delete) == (kept, kept), registration.urn
    (tunnel,) = built.of_type("cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared")
    assert tunnel.inputs["name"] == f"gatehouse-{environment}-acme"  # one tunnel per environment


def test_two_organizations_side_by_side_register_no_name_twice() -> None:
    """Children's URNs carry their parent's type, not its name: each child's name must carry the org's."""
    globex = ACME.model_copy(update={"name": "globex", "display_name": "Globex"})

    def make() -> Organization:
        operator = k8s.core.v1.Namespace("external-secrets")
        Organization("globex", OrganizationArgs(globex, STAGING, CLOUDFLARE, operator))
        return Organization("acme", OrganizationArgs(ACME, STAGING, CLOUDFLARE, operator))

    built = build(make)  # a name registered twice stops the build (RecordingMonitor, as the engine does)
    handed = {r.name for r in built.handed}
    assert handed >= {"external-secrets", "globex", "org-globex"}
    assert len(built.handed) == 2 + len(built.children)  # the operator, globex, and as many children as acme
