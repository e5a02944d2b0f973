"""Tenancy plane: organizations and their repository-bound tenants."""

from .organization import Organization, OrganizationArgs
from .tenant import Tenant, TenantArgs

__all__ = ["Organization", "OrganizationArgs", "Tenant", "TenantArgs"]
