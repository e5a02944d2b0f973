"""Tenancy plane: organizations and their repository-bound tenants."""

from .organization import Organization, OrganizationArgs
from .secrets_operator import SecretsOperator, SecretsOperatorArgs
from .tenant import Tenant, TenantArgs

__all__ = ["Organization", "OrganizationArgs", "SecretsOperator", "SecretsOperatorArgs", "Tenant", "TenantArgs"]
