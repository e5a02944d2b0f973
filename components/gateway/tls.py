"""TLS: cert-manager, Let's Encrypt over DNS-01 through Cloudflare, and an internal CA.

One wildcard certificate per environment from Let's Encrypt production: staging certificates are not
trusted by oauth2-proxy, Envoy or Argo CD when they fetch OIDC discovery documents and keys. A stack
without ACME (a laptop cluster) takes the gateway's certificate from the internal CA instead.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls

from .. import config, meta
from ..charts import helm_chart, resources
from ..endpoints import INTERNAL_ISSUER
from ..network_policies import DNS01_NAMESERVERS
from .edge import LETSENCRYPT_ISSUER
from .settings import GatewaySettings

COMPONENT = "tls"
NAMESPACE = "cert-manager"
CLOUDFLARE_TOKEN_SECRET = "cloudflare-api-token"
INTERNAL_CA_SECRET = "gatehouse-internal-ca"


def cert_manager_chart(
    namespace: k8s.core.v1.Namespace, production: bool, opts: pulumi.ResourceOptions
) -> k8s.helm.v4.Chart:
    return helm_chart(
        "cert-manager",
        "cert-manager",
        "cert-manager",
        namespace.metadata.name,
        {
            "crds": {"enabled": True},
            "config": {
                "apiVersion": "controller.config.cert-manager.io/v1alpha1",
                "kind": "ControllerConfiguration",
                "gatewayAPI": {"enabled": True},  # issue certificates for Gateway listeners
            },
            # check DNS-01 propagation against public resolvers, not split-horizon cluster DNS
            "dns01RecursiveNameserversOnly": True,
            "dns01RecursiveNameservers": ",".join(f"{ip}:53" for ip in DNS01_NAMESERVERS),  # its fence allows them
            # the chart sets none; the controller and cainjector cache certificates and secrets, so
            # their memory grows with the cluster and gets the higher limit
            "resources": resources("10m", "64Mi", "256Mi"),
            "cainjector": {"resources": resources("10m", "64Mi", "256Mi")},
            "webhook": {"resources": resources("10m", "32Mi", "128Mi")},
            # a post-install hook helm.v4.Chart never runs: cert_manager_check runs it as a plain Job
            "startupapicheck": {"enabled": False},
        },
        opts,
        production,  # carries the cert-manager CRDs
    )


def gateway_issuer(stack: GatewaySettings) -> str:
    """The ClusterIssuer of the Gateway's wildcard certificate."""
    return LETSENCRYPT_ISSUER if stack.edge.acme else INTERNAL_ISSUER


def letsencrypt_spec(stack: GatewaySettings, acme: config.Acme) -> dict[str, Any]:
    return {
        "acme": {
            "server": acme.server,
            "email": acme.email,
            "privateKeySecretRef": {"name": f"{LETSENCRYPT_ISSUER}-account-key"},
            "solvers": [
                {
                    "selector": {"dnsZones": [stack.domain]},
                    "dns01": {
                        "cloudflare": {"apiTokenSecretRef": {"name": CLOUDFLARE_TOKEN_SECRET, "key": "api-token"}}
                    },
                }
            ],
        }
    }


def issuers(
    stack: GatewaySettings,
    namespace: k8s.core.v1.Namespace,
    cloudflare_token: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions,
    crd_opts: pulumi.ResourceOptions,
) -> pulumi.Output[str]:
    """The CA Secret (in the cluster resource namespace) and its ClusterIssuer, on every stack (it also signs
    the in-cluster serving certificates of the signing keys); with ACME, the Cloudflare token Secret and
    the Let's Encrypt ClusterIssuer too."""
    ns = namespace.metadata.name
    key = tls.PrivateKey("internal-ca", algorithm="ECDSA", ecdsa_curve="P256", opts=opts)
    certificate = tls.SelfSignedCert(
        "internal-ca",
        private_key_pem=key.private_key_pem,
        is_ca_certificate=True,
        validity_period_hours=24 * 365 * 5,
        early_renewal_hours=24 * 90,
        allowed_uses=["cert_signing", "crl_signing", "digital_signature"],
        subject=tls.SelfSignedCertSubjectArgs(common_name=f"Gatehouse internal CA ({stack.environment})"),
        opts=opts,
    )
    k8s.core.v1.Secret(
        "internal-ca",
        metadata=meta.object_meta(INTERNAL_CA_SECRET, COMPONENT, ns),
        type="kubernetes.io/tls",
        string_data={"tls.crt": certificate.cert_pem, "tls.key": key.private_key_pem},
        opts=opts,
    )
    meta.custom_resource(
        "internal-ca-issuer",
        "cert-manager.io/v1",
        "ClusterIssuer",
        meta.object_meta(INTERNAL_ISSUER, COMPONENT),
        {"ca": {"secretName": INTERNAL_CA_SECRET}},
        crd_opts,
    )
    acme = stack.edge.acme
    if acme is None or cloudflare_token is None:
        return certificate.cert_pem
    k8s.core.v1.Secret(
        "cloudflare-api-token",
        metadata=meta.object_meta(CLOUDFLARE_TOKEN_SECRET, COMPONENT, ns),
        type="Opaque",
        string_data={"api-token": cloudflare_token},
        opts=opts,
    )
    meta.custom_resource(
        "letsencrypt",
        "cert-manager.io/v1",
        "ClusterIssuer",
        meta.object_meta(LETSENCRYPT_ISSUER, COMPONENT),
        letsencrypt_spec(stack, acme),
        crd_opts,
    )
    return certificate.cert_pem
