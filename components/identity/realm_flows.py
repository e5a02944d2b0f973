"""How people sign in to the tenants' realm: authentication flows and the user profile.

Organization admins give a second factor on every way in (browser, password grant, after Google); the
admin scopes are only ever granted to them (see `realm_scopes.scope_mappings`). Keycloak keeps
only the browser, registration and direct-grant flows an import gives it, so all three are declared.

A first Google login links to the existing user with the same e-mail, without asking (Keycloak's
stock "first broker login" would ask for that user's password, which imported admins do not have, or
mail a link). That is safe only while every e-mail in the realm is verified: Google's are (hosted
domains, `trustEmail`), imported admins' come from config, registration is off, and users may not
change their own address (user profile below).
"""

from __future__ import annotations

from typing import Any

from ..endpoints import ADMIN_ROLE, SECOND_FACTOR_VALUE
from .realm_scopes import ROLES_CLIENT

BROWSER_FLOW = "gatehouse browser"
DIRECT_GRANT_FLOW = "gatehouse direct grant"
REGISTRATION_FLOW = "registration"
POST_BROKER_FLOW = "gatehouse post broker login"
FIRST_BROKER_FLOW = "gatehouse first broker login"
SLUG_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
# Keycloak's authenticator-reference keys, which every execution's config may carry
# (ConfigurableAuthenticatorFactory.COMMON_CONFIG_PROPERTIES); the amr mapper reads them.
REFERENCE_VALUE = "default.reference.value"
REFERENCE_MAX_AGE = "default.reference.maxAge"
# How long after the OTP code a token still lists it in `amr` (AmrUtils.isAmrValid: completed at + max
# age >= now, absent = 0): tokens refreshed later lose it, and admin paths need a fresh sign-in.
SECOND_FACTOR_MAX_AGE = 3600


def _step(
    priority: int,
    requirement: str,
    authenticator: str | None = None,
    flow: str | None = None,
    settings: str | None = None,
) -> dict[str, Any]:
    step: dict[str, Any] = {"requirement": requirement, "priority": priority, "userSetupAllowed": False}
    if authenticator:
        step["authenticator"] = authenticator
    step["authenticatorFlow"] = flow is not None
    if flow:
        step["flowAlias"] = flow
    if settings:
        step["authenticatorConfig"] = settings
    return step


def _flow(
    alias: str, description: str, steps: list[dict[str, Any]], top: bool, kind: str = "basic-flow"
) -> dict[str, Any]:
    return {
        "alias": alias,
        "description": description,
        "providerId": kind,
        "topLevel": top,
        "builtIn": False,
        "authenticationExecutions": steps,
    }


def _second_factor(parent: str, otp: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A conditional sub-flow: when the user is an ORG_ADMIN, an OTP code is required, and the code's
    step carries the reference the token's `amr` lists (the gateway checks it on admin paths)."""
    alias = f"{parent} - second factor for admins"
    settings = f"{parent} - admin role"
    reference = f"{parent} - otp reference"
    flow = _flow(
        alias,
        "OTP for organization admins: admin scopes are only ever granted to them",
        [
            _step(10, "REQUIRED", "conditional-user-role", settings=settings),
            _step(20, "REQUIRED", otp, settings=reference),
        ],
        top=False,
    )
    condition = {"alias": settings, "config": {"condUserRole": f"{ROLES_CLIENT}.{ADMIN_ROLE}", "negate": "false"}}
    amr = {
        "alias": reference,
        "config": {REFERENCE_VALUE: SECOND_FACTOR_VALUE, REFERENCE_MAX_AGE: str(SECOND_FACTOR_MAX_AGE)},
    }
    return flow, [condition, amr]


def flows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(authenticationFlows, authenticatorConfig)."""
    forms = f"{BROWSER_FLOW} forms"
    browser_2fa, browser_configs = _second_factor(BROWSER_FLOW, "auth-otp-form")
    grant_2fa, grant_configs = _second_factor(DIRECT_GRANT_FLOW, "direct-grant-validate-otp")
    broker_2fa, broker_configs = _second_factor(POST_BROKER_FLOW, "auth-otp-form")
    registration_form = f"{REGISTRATION_FLOW} form"
    create_or_link = f"{FIRST_BROKER_FLOW} - create or link"
    review_profile = f"{FIRST_BROKER_FLOW} - review profile"
    all_flows = [
        _flow(
            BROWSER_FLOW,
            "Browser login; organization admins add an OTP code",
            [
                _step(10, "ALTERNATIVE", "auth-cookie"),
                _step(25, "ALTERNATIVE", "identity-provider-redirector"),
                _step(30, "ALTERNATIVE", flow=forms),
            ],
            top=True,
        ),
        _flow(
            forms,
            "Username and password, then the admins' second factor",
            [
                _step(10, "REQUIRED", "auth-username-password-form"),
                _step(20, "CONDITIONAL", flow=browser_2fa["alias"]),
            ],
            top=False,
        ),
        browser_2fa,
        _flow(
            DIRECT_GRANT_FLOW,
            "Resource owner password grant (no client enables it); admins add an OTP code",
            [
                _step(10, "REQUIRED", "direct-grant-validate-username"),
                _step(20, "REQUIRED", "direct-grant-validate-password"),
                _step(30, "CONDITIONAL", flow=grant_2fa["alias"]),
            ],
            top=True,
        ),
        grant_2fa,
        _flow(
            POST_BROKER_FLOW,
            "After a Google login: admins add an OTP code",
            # A flow whose only step is a CONDITIONAL sub-flow fails when the condition is false: nothing
            # in it succeeded (DefaultAuthenticationFlow.processFlow), so every non-admin's login would
            # be refused. A REQUIRED step that always succeeds comes first, as in Keycloak's own tests.
            [_step(5, "REQUIRED", "allow-access-authenticator"), _step(10, "CONDITIONAL", flow=broker_2fa["alias"])],
            top=True,
        ),
        broker_2fa,
        _flow(
            FIRST_BROKER_FLOW,
            "First Google login: fill in what is missing, then a new user or the one with that e-mail",
            [
                _step(10, "REQUIRED", "idp-review-profile", settings=review_profile),
                _step(20, "REQUIRED", flow=create_or_link),
            ],
            top=True,
        ),
        _flow(
            create_or_link,
            "A new user, unless one has the e-mail already: then that one, without asking",
            [
                _step(10, "ALTERNATIVE", "idp-create-user-if-unique"),
                _step(20, "ALTERNATIVE", "idp-auto-link"),
            ],
            top=False,
        ),
        _flow(
            REGISTRATION_FLOW,
            "Self-registration (disabled in this realm)",
            [_step(10, "REQUIRED", "registration-page-form", flow=registration_form)],
            top=True,
        ),
        _flow(
            registration_form,
            "Registration form",
            [
                _step(20, "REQUIRED", "registration-user-creation"),
                _step(50, "REQUIRED", "registration-password-action"),
            ],
            top=False,
            kind="form-flow",
        ),
    ]
    review = {"alias": review_profile, "config": {"update.profile.on.first.login": "missing"}}
    return all_flows, [*browser_configs, *grant_configs, *broker_configs, review]


# --- user profile ---------------------------------------------------------------------------------


def user_profile() -> dict[str, Any]:
    """Keycloak 24+ drops attributes its user profile does not declare: declare the tenancy ones.

    Only administrators (the provisioning service) edit them; users may read them.
    """
    everyone = {"view": ["admin", "user"], "edit": ["admin", "user"]}
    admins = {"view": ["admin", "user"], "edit": ["admin"]}
    person = {"length": {"max": 255}, "person-name-prohibited-characters": {}}
    return {
        "attributes": [
            {
                "name": "username",
                "displayName": "${username}",
                "validations": {
                    "length": {"min": 3, "max": 255},
                    "username-prohibited-characters": {},
                    "up-username-not-idn-homograph": {},
                },
                "permissions": everyone,
                "multivalued": False,
            },
            {
                "name": "email",
                "displayName": "${email}",
                "validations": {"email": {}, "length": {"max": 255}},
                "required": {"roles": ["user"]},
                # first broker logins link by e-mail: a user must not claim someone else's address
                "permissions": admins,
                "multivalued": False,
            },
            {
                "name": "firstName",
                "displayName": "${firstName}",
                "validations": person,
                "required": {"roles": ["user"]},
                "permissions": everyone,
                "multivalued": False,
            },
            {
                "name": "lastName",
                "displayName": "${lastName}",
                "validations": person,
                "required": {"roles": ["user"]},
                "permissions": everyone,
                "multivalued": False,
            },
            {
                "name": "preferred_org",
                "displayName": "Preferred organization",
                "validations": {"pattern": {"pattern": SLUG_PATTERN, "error-message": "must be an organization slug"}},
                "permissions": admins,
                "multivalued": False,
            },
        ],
        "groups": [
            {
                "name": "user-metadata",
                "displayHeader": "User metadata",
                "displayDescription": "Attributes, which refer to user metadata",
            }
        ],
    }
