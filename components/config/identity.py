"""The identity section: host labels, sign-in connectors, platform groups, the Keycloak realm; Argo CD."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

from .fields import DnsLabel, Domain, Email, Model
from .problems import Problem, reject

# Client ids the Keycloak realm already has (Keycloak's own; `organizations` and `portal` from
# components/identity), and the Google secret's key in the client-secrets Secret, which also holds one
# key per partner: no m2m client may take one.
RESERVED_CLIENT_IDS = frozenset(
    {
        "account",
        "account-console",
        "admin-cli",
        "broker",
        "realm-management",
        "security-admin-console",
        "organizations",
        "portal",
        "google-client-secret",
    }
)


# Dex prefixes Authentik's groups `authentik:`, as GitHub's are `<org>:` (components/identity/dex.py).
AUTHENTIK_GROUP_PREFIX = "authentik"


class IdentityHosts(Model):
    """Host labels under the environment's domain (`<label>.<domain>`)."""

    dex: DnsLabel = "dex"
    authentik: DnsLabel = "authentik"
    keycloak: DnsLabel = "sso"
    oauth2_proxy: DnsLabel = "auth"
    argocd: DnsLabel = "argocd"
    portal: DnsLabel = "app"  # origin of the tenants' single-page app (Keycloak PKCE client)
    tekton: DnsLabel = "tekton"  # the Tekton Dashboard, a staff app behind the central SSO (pipelines/dashboard.py)


class GitHubOrg(Model):
    name: DnsLabel
    teams: list[DnsLabel] = []


class GitHubConnector(Model):
    client_id: str = Field(min_length=1)
    orgs: list[GitHubOrg] = Field(min_length=1)
    # The platform's own GitHub organization: the only one whose teams are platform groups. Any other org
    # Dex admits (a tenant's) may have teams of the same names, which must grant nothing on the platform.
    platform_org: DnsLabel

    @model_validator(mode="after")
    def _platform_org_is_listed(self) -> GitHubConnector:
        listed = [org.name for org in self.orgs]
        if self.platform_org not in listed:
            message = f"'{self.platform_org}' is not one of orgs ({', '.join(listed)}): Dex would not admit its teams"
            reject([Problem((self.key("platform_org"),), message)], "GitHubConnector")
        return self


# Public e-mail providers: anyone may open an account there, so as a Google hosted domain (`hd`) each
# would admit the whole world as staff. The most used ones; a company's own Workspace domain is the point.
PUBLIC_EMAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com", "ymail.com",
    "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "web.de",
    "mail.com", "yandex.com", "yandex.ru", "zoho.com", "qq.com", "163.com",
})  # fmt: skip


def _not_public_mail(domain: str) -> str:
    if domain in PUBLIC_EMAIL_DOMAINS:
        raise ValueError(
            f"'{domain}' is a public e-mail provider: anyone can make an address there, so every such account "
            "would sign in as staff; name your Google Workspace domain"
        )
    return domain


HostedDomain = Annotated[Domain, AfterValidator(_not_public_mail)]


class GoogleConnector(Model):
    client_id: str = Field(min_length=1)
    hosted_domains: list[HostedDomain] = Field(min_length=1)


class Connectors(Model):
    github: GitHubConnector | None = None
    google: GoogleConnector | None = None


class PlatformGroups(Model):
    admins: DnsLabel = "platform-admins"
    operators: DnsLabel = "platform-operators"
    engineering: DnsLabel = "platform-engineering"


class Identity(Model):
    admin_email: Email
    hosts: IdentityHosts = IdentityHosts()
    connectors: Connectors = Connectors()
    platform_groups: PlatformGroups = PlatformGroups()
    realm: DnsLabel = "tenants"

    @field_validator("realm")
    @classmethod
    def _not_master(cls, realm: str) -> str:
        """`master` is Keycloak's administration realm: whoever administers it administers every realm."""
        if realm == "master":
            raise ValueError(
                "must not be 'master', Keycloak's administration realm: its clients and admins reach every "
                "realm, and tenants' users and organizations would live beside them"
            )
        return realm


class ArgoCd(Model):
    # false: an Argo CD the cluster already has, in namespace `argocd` (the preview states the prerequisite)
    install: bool = True
