"""Envoy Gateway's control-plane Secrets: what the chart's `certgen` hook Job would create.

helm.v4.Chart never installs Helm hook resources (pulumi/pulumi-kubernetes#3284), so certgen, a
pre-install Job, never runs; without its Secrets the controller and the proxies never start. Gatehouse
makes them as certgen v1.9 does (internal/crypto/certgen.go, internal/provider/kubernetes/secrets.go):
one CA, a certificate for the controller, the proxies and the rate limiter, and the OIDC HMAC key, in
the controller's namespace, beside the chart. certgen never overwrites existing Secrets, so a manual
`helm upgrade` would leave these alone (gateway.envoyproxy.io/v1.9/install/custom-cert/).

Rotation: leaves are valid 2 years and the first `pulumi up` in their last 180 days re-issues them; the
CA is valid 10 years and re-issued in its last 2 (so it always outlives its leaves), with the same key
and subject, so certificates it signed keep verifying, and that re-issues every leaf too. The controller
reads its files on each TLS handshake and Envoy watches its SDS files; the rate limiter may read its own
only at start (README, "Helm hooks").
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import pulumi_tls as tls

from .. import meta

COMPONENT = "gateway"
# The chart's Service for the controller; certgen's common name for the controller certificate.
CONTROLLER_SERVICE = "envoy-gateway"
# Secret names and keys Envoy Gateway mounts and reads: fixed upstream, never from config.
CONTROLLER_SECRET = "envoy-gateway"
PROXY_SECRET = "envoy"
RATE_LIMIT_SECRET = "envoy-rate-limit"
OIDC_HMAC_SECRET = "envoy-oidc-hmac"
OIDC_HMAC_KEY = "hmac-secret"
OIDC_HMAC_BYTES = 32
CA_KEY, CERT_KEY, PRIVATE_KEY_KEY = "ca.crt", "tls.crt", "tls.key"
# certgen's label on its Secrets
SECRET_LABELS = {"control-plane": "envoy-gateway"}

CA_SUBJECT = "envoy-gateway control-plane CA"
# certgen's key usages; without an extended usage a certificate serves as client and server (mTLS)
LEAF_USES = ["digital_signature", "data_encipherment", "key_encipherment", "content_commitment"]
CA_USES = ["cert_signing", "key_encipherment", "digital_signature"]
HOURS_PER_YEAR = 24 * 365
CA_VALIDITY_HOURS = 10 * HOURS_PER_YEAR
CA_EARLY_RENEWAL_HOURS = 2 * HOURS_PER_YEAR  # at least a leaf's whole validity
LEAF_VALIDITY_HOURS = 2 * HOURS_PER_YEAR
LEAF_EARLY_RENEWAL_HOURS = 180 * 24


def controller_dns_names(namespace: str, cluster_domain: str) -> list[str]:
    """certgen's SANs for the controller: its Service by every name a pod may resolve."""
    svc = CONTROLLER_SERVICE
    return [svc, f"{svc}.{namespace}", f"{svc}.{namespace}.svc", f"{svc}.{namespace}.svc.{cluster_domain}"]


@dataclass(frozen=True)
class Leaf:
    secret: str
    common_name: str
    dns_names: list[str]


def leaves(namespace: str, cluster_domain: str) -> list[Leaf]:
    """The three certificates certgen issues; proxies and the rate limiter get `*.<namespace>`."""
    workloads = [f"*.{namespace}"]
    return [
        Leaf(CONTROLLER_SECRET, CONTROLLER_SERVICE, controller_dns_names(namespace, cluster_domain)),
        Leaf(PROXY_SECRET, "*", workloads),
        Leaf(RATE_LIMIT_SECRET, "*", workloads),
    ]


def _rsa_key(name: str, opts: pulumi.ResourceOptions) -> tls.PrivateKey:
    return tls.PrivateKey(name, algorithm="RSA", rsa_bits=2048, opts=opts)  # certgen's key type


def control_plane_secrets(
    namespace: k8s.core.v1.Namespace, production: bool, opts: pulumi.ResourceOptions
) -> list[k8s.core.v1.Secret]:
    """The four Secrets, in `namespace` (the controller's)."""
    ns = namespace.metadata.name
    # Keys and Secrets are kept (protected in prod); certificates are not, as renewal replaces them.
    kept = meta.stateful(opts, production)
    ca_key = _rsa_key("eg-ca", kept)
    ca_cert = tls.SelfSignedCert(
        "eg-ca",
        private_key_pem=ca_key.private_key_pem,
        is_ca_certificate=True,
        set_subject_key_id=True,
        allowed_uses=CA_USES,
        validity_period_hours=CA_VALIDITY_HOURS,
        early_renewal_hours=CA_EARLY_RENEWAL_HOURS,
        subject=tls.SelfSignedCertSubjectArgs(common_name=CA_SUBJECT, organization="Gatehouse"),
        opts=opts,
    )
    secrets = []
    for leaf in leaves(meta.ENVOY_GATEWAY_NAMESPACE, meta.CLUSTER_DOMAIN):
        name = f"eg-{leaf.secret}"
        key = _rsa_key(name, kept)
        request = tls.CertRequest(
            name,
            private_key_pem=key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(common_name=leaf.common_name),
            dns_names=leaf.dns_names,
            opts=opts,
        )
        cert = tls.LocallySignedCert(
            name,
            cert_request_pem=request.cert_request_pem,
            ca_private_key_pem=ca_key.private_key_pem,
            ca_cert_pem=ca_cert.cert_pem,
            set_subject_key_id=True,
            allowed_uses=LEAF_USES,
            validity_period_hours=LEAF_VALIDITY_HOURS,
            early_renewal_hours=LEAF_EARLY_RENEWAL_HOURS,
            opts=opts,
        )
        key_pem: pulumi.Output[str] = pulumi.Output.secret(key.private_key_pem)
        secrets.append(
            k8s.core.v1.Secret(
                name,
                metadata=meta.object_meta(leaf.secret, COMPONENT, ns, SECRET_LABELS),
                type="kubernetes.io/tls",
                string_data={CA_KEY: ca_cert.cert_pem, CERT_KEY: cert.cert_pem, PRIVATE_KEY_KEY: key_pem},
                opts=kept,
            )
        )
    # certgen's 32 random bytes, as the raw bytes (base64 in `data`)
    hmac = random.RandomBytes(f"eg-{OIDC_HMAC_SECRET}", length=OIDC_HMAC_BYTES, opts=kept)
    hmac_b64: pulumi.Output[str] = pulumi.Output.secret(hmac.base64)
    secrets.append(
        k8s.core.v1.Secret(
            f"eg-{OIDC_HMAC_SECRET}",
            metadata=meta.object_meta(OIDC_HMAC_SECRET, COMPONENT, ns, SECRET_LABELS),
            type="Opaque",
            data={OIDC_HMAC_KEY: hmac_b64},
            opts=kept,
        )
    )
    return secrets
