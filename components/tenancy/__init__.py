"""Tenancy plane: organizations and their repository-bound tenants.

Where each rendered object comes from:

- tenant.py (Tenant): a tenant's namespaces, with sizes.py their ResourceQuota and LimitRange,
  network.py their NetworkPolicies, profiles.py their Roles and bindings, argocd.py their AppProject
- organization.py (Organization): the `org-<name>` namespace and webhook Secret, secret_store.py a
  ClusterSecretStore per tenant of it, tunnel.py its Cloudflare tunnel, DNS record and cloudflared
- secrets_operator.py (SecretsOperator): the External Secrets chart, once per cluster
- admission.py (TenantAdmission): a ValidatingAdmissionPolicy and binding per rule of
  policy/admission_rules.py, once per cluster
"""

from .admission import TenantAdmission, TenantAdmissionArgs
from .organization import Organization, OrganizationArgs
from .secrets_operator import SecretsOperator, SecretsOperatorArgs
from .tenant import Tenant, TenantArgs

__all__ = [
    "Organization",
    "OrganizationArgs",
    "SecretsOperator",
    "SecretsOperatorArgs",
    "Tenant",
    "TenantAdmission",
    "TenantAdmissionArgs",
    "TenantArgs",
]
