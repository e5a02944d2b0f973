"""The Authentik blueprint: platform groups, a verified-e-mail scope mapping, the OAuth2 provider Dex uses,
and a second factor on every staff sign-in.

Blueprints use YAML tags Authentik resolves when it applies the file (`!Find` looks an object up,
`!KeyOf` refers to an earlier entry, `!Env` reads the worker's environment, so the client secret never
appears in the ConfigMap). The file is generated as text with a Dumper that knows those tags.

Authentik applies blueprint files in no guaranteed order, so the objects `!Find` looks up might not exist
yet on a fresh install: the file first applies the blueprints that create them (`metaapplyblueprint`,
required). The self-signed certificate comes from no blueprint: the crypto app creates it at startup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from .. import endpoints
from .settings import IdentitySettings

DEX_SLUG = "dex"  # the application's slug; with issuer_mode per_provider it is part of the issuer URL
DEX_CLIENT_ID = "dex"
DEX_SECRET_ENV = "AUTHENTIK_DEX_CLIENT_SECRET"
AUTHORIZATION_FLOW = "default-provider-authorization-implicit-consent"
INVALIDATION_FLOW = "default-provider-invalidation-flow"
# Staff sign in through Authentik's stock authentication flow (the default brand's too); its MFA stage,
# bound between password and user login, is hardened below.
AUTHENTICATION_FLOW = "default-authentication-flow"
MFA_STAGE = "default-authentication-mfa-validation"
TOTP_SETUP_STAGE = "default-authenticator-totp-setup"
# Authentik's own blueprints (paths under /blueprints) creating what the `!Find`s below look up.
DEPENDENCIES = (
    "system/providers-oauth2.yaml",  # the managed OAuth2 scope mappings
    "default/flow-default-authentication-flow.yaml",  # AUTHENTICATION_FLOW and MFA_STAGE
    "default/flow-default-authenticator-totp-setup.yaml",  # TOTP_SETUP_STAGE
    "default/flow-default-provider-authorization-implicit-consent.yaml",  # AUTHORIZATION_FLOW
    "default/flow-default-provider-invalidation.yaml",  # INVALIDATION_FLOW
)


@dataclass(frozen=True)
class Find:
    model: str
    field: str
    value: str


@dataclass(frozen=True)
class KeyOf:
    id: str


@dataclass(frozen=True)
class Env:
    variable: str


class BlueprintDumper(yaml.SafeDumper):
    pass


BlueprintDumper.add_representer(Find, lambda d, f: d.represent_sequence("!Find", [f.model, [f.field, f.value]]))
BlueprintDumper.add_representer(KeyOf, lambda d, k: d.represent_scalar("!KeyOf", k.id))
BlueprintDumper.add_representer(Env, lambda d, e: d.represent_scalar("!Env", e.variable))


def authentik_issuer(stack: IdentitySettings) -> str:
    """Per-provider issuer, trailing slash included: Dex compares it byte for byte."""
    return f"{endpoints.https(stack, stack.identity.hosts.authentik)}/application/o/{DEX_SLUG}/"


def _scope(managed: str) -> Find:
    return Find(
        "authentik_providers_oauth2.scopemapping", "managed", f"goauthentik.io/providers/oauth2/scope-{managed}"
    )


def _flow(slug: str) -> Find:
    return Find("authentik_flows.flow", "slug", slug)


def second_factor_stage() -> dict[str, Any]:
    """The stock flow's MFA stage, made to ask everyone for a second factor.

    Its model default `not_configured_action: skip` lets a user without a device through; `configure`
    instead puts the TOTP setup stage into the sign-in (a single configuration stage is inserted directly),
    so a staff member without a device enrols one before the session exists. The stock blueprint names
    this stage by identifiers only, and Authentik updates an existing object partially, so re-applying it
    keeps these fields."""
    return {
        "model": "authentik_stages_authenticator_validate.authenticatorvalidatestage",
        "id": "mfa-validation",
        "identifiers": {"name": MFA_STAGE},
        "attrs": {
            "not_configured_action": "configure",
            "configuration_stages": [
                Find("authentik_stages_authenticator_totp.authenticatortotpstage", "name", TOTP_SETUP_STAGE)
            ],
            "device_classes": ["totp", "webauthn"],  # not static recovery codes alone
            "last_auth_threshold": "seconds=0",  # every sign-in, never remembered
        },
    }


def blueprint(stack: IdentitySettings) -> dict[str, Any]:
    groups = stack.identity.platform_groups
    group_ids = {name: f"group-{name}" for name in (groups.admins, groups.operators, groups.engineering)}
    entries: list[dict[str, Any]] = [
        {
            "model": "authentik_blueprints.metaapplyblueprint",
            "attrs": {"identifiers": {"path": path}, "required": True},
        }
        for path in DEPENDENCIES
    ]
    entries += [
        {
            "model": "authentik_core.group",
            "id": group_id,
            "identifiers": {"name": name},
            # seed 002: only platform admins administer Authentik itself
            "attrs": {"is_superuser": name == groups.admins},
        }
        for name, group_id in group_ids.items()
    ]
    entries.append(second_factor_stage())
    entries += [
        {
            # Authentik 2025.10+ reports email_verified: false by default, which Dex passes on and oauth2-proxy
            # rejects. Accounts here are created by administrators, never self-registered: their addresses are.
            "model": "authentik_providers_oauth2.scopemapping",
            "id": "email-verified",
            "identifiers": {"name": "gatehouse: email (verified)"},
            "attrs": {
                "scope_name": "email",
                "description": "E-mail address, verified by the administrator who created the account",
                "expression": 'return {"email": request.user.email, "email_verified": True}',
            },
        },
        {
            "model": "authentik_providers_oauth2.oauth2provider",
            "id": "dex-provider",
            "identifiers": {"name": DEX_SLUG},
            "attrs": {
                "client_type": "confidential",
                "client_id": DEX_CLIENT_ID,
                "client_secret": Env(DEX_SECRET_ENV),
                # named, not left to the brand: a brand's flow can change without this file noticing
                "authentication_flow": _flow(AUTHENTICATION_FLOW),
                "authorization_flow": _flow(AUTHORIZATION_FLOW),
                "invalidation_flow": _flow(INVALIDATION_FLOW),
                "redirect_uris": [{"matching_mode": "strict", "url": f"{endpoints.dex_issuer(stack)}/callback"}],
                "signing_key": Find("authentik_crypto.certificatekeypair", "name", "authentik Self-signed Certificate"),
                "issuer_mode": "per_provider",
                "sub_mode": "hashed_user_id",
                "include_claims_in_id_token": True,
                # explicit since 2026.5: a provider created without grant types accepts none
                "grant_types": ["authorization_code", "refresh_token"],
                "property_mappings": [
                    _scope("openid"),
                    KeyOf("email-verified"),
                    _scope("profile"),  # carries `groups`
                    _scope("offline_access"),
                ],
            },
        },
        {
            "model": "authentik_core.application",
            "id": "dex-app",
            "identifiers": {"slug": DEX_SLUG},
            "attrs": {"name": "Platform SSO (Dex)", "provider": KeyOf("dex-provider"), "policy_engine_mode": "any"},
        },
    ]
    # Only members of a platform group may sign in to Dex through Authentik.
    entries += [
        {
            "model": "authentik_policies.policybinding",
            "identifiers": {"target": KeyOf("dex-app"), "order": order},
            "attrs": {"group": KeyOf(group_id)},
        }
        for order, group_id in enumerate(group_ids.values())
    ]
    return {
        "version": 1,
        "metadata": {
            "name": "gatehouse-platform",
            "labels": {"blueprints.goauthentik.io/description": "Gatehouse: platform groups and the Dex provider"},
        },
        "entries": entries,
    }


def blueprint_yaml(stack: IdentitySettings) -> str:
    return yaml.dump(blueprint(stack), Dumper=BlueprintDumper, sort_keys=False, default_flow_style=False, width=1000)
