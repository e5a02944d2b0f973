"""Who may enter each app, with the defaults filled in: the audience, and its groups or organizations.

An app names its audience or takes the default: the members of the tenant's organization for an app in a
tenant's namespace, staff for an app in a platform namespace. Both planes read the result: identity makes
each organization app a Keycloak client, the gateway admits exactly these people.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from ..endpoints import ORG_ROLES
from .apps import App

if TYPE_CHECKING:
    from .stack import StackConfig


class AppAccess(BaseModel):
    """`staff`: platform groups (their names in identity.platformGroups) and, with `workspace_members`,
    anyone of the Google hosted domains. `organization`: members of `organizations` in one of `roles`."""

    model_config = ConfigDict(frozen=True)

    audience: Literal["staff", "organization", "public"]
    staff_groups: tuple[str, ...] = ()
    workspace_members: bool = False
    organizations: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()


def app_client_id(app: str) -> str:
    """The organization app's client in the Keycloak realm: the `aud` of its ID tokens."""
    return f"app-{app}"


def organization_apps(access_by_app: dict[str, AppAccess]) -> list[str]:
    return [name for name, found in access_by_app.items() if found.audience == "organization"]


def tenant_organizations(stack: StackConfig) -> dict[str, str]:
    """Namespace -> the organization of the tenant owning it."""
    return {ns: t.organization for t in stack.tenants for ns in t.namespace_names}


def default_audience(app: App, owners: dict[str, str]) -> Literal["staff", "organization"]:
    return app.audience or ("organization" if app.namespace in owners else "staff")


def app_access(app: App, stack: StackConfig) -> AppAccess:
    if app.auth == "public":
        return AppAccess(audience="public")
    owners = tenant_organizations(stack)
    if default_audience(app, owners) == "staff":
        groups = stack.identity.platform_groups
        return AppAccess(
            audience="staff",
            staff_groups=tuple(app.staff_groups or (groups.admins, groups.operators, groups.engineering)),
            workspace_members=stack.identity.connectors.google is not None and app.workspace_members is not False,
        )
    organizations = app.organizations or ([owners[app.namespace]] if app.namespace in owners else [])
    return AppAccess(
        audience="organization", organizations=tuple(organizations), roles=tuple(app.org_roles or ORG_ROLES)
    )


def access(stack: StackConfig) -> dict[str, AppAccess]:
    """App name -> who may enter it."""
    return {app.name: app_access(app, stack) for app in stack.apps}
