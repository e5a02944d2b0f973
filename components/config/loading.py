"""Loading the stack configuration from Pulumi's config, and reading its secrets.

Every key lives under the project namespace (`gatehouse:<key>`) in `Pulumi.<stack>.yaml`. Secrets are
never part of the models: `load` only checks that the ones the config needs are set, and set as secrets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
from pydantic import ValidationError

from . import definitions
from .problems import NAMESPACE, ConfigError, config_path, problems_in
from .stack import StackConfig

# Secret config keys: always read as secrets, never in clear text in a stack file. `kubeconfig` is
# optional (the cluster's kubeconfig itself, instead of the ambient file).
SECRET_KEYS = ("cloudflareApiToken", "githubClientSecret", "googleClientSecret", "kubeconfig", "webhookSecrets")
# Organizations' own webhook secrets (seed 002's optional `webhookSecret`), by organization name; an
# organization without one gets a generated secret. Set one with
# `pulumi config set --secret --path 'gatehouse:webhookSecrets.<org>' <value>`.
WEBHOOK_SECRETS = "webhookSecrets"
WEBHOOK_SECRET_RE = re.compile(r"[a-zA-Z0-9_-]+")  # seed 002: ^[a-zA-Z0-9_-]+$

# Root keys whose values are plain strings; every other key is structured (JSON from the engine).
SCALAR_KEYS = frozenset({"environment", "domain", "kubernetesVersion"})


def parse_raw(raw: Mapping[str, Any], base: Path | None = None) -> StackConfig:
    """Validate already-decoded config values (root key -> value); raise ConfigError if bad. The API
    definition files `apiDefinitions` names (relative to `base`, default the working directory, the
    project's) join `apis`; any bad file, or a name defined twice, and none of them does."""
    values = dict(raw)
    problems: list[tuple[str, str]] = []
    files: list[str] = []  # the file of each `apis` entry from a definition, after the configured ones
    configured = values.get("apis") or []
    patterns = values.get("apiDefinitions")
    if isinstance(patterns, list) and all(isinstance(p, str) for p in patterns) and isinstance(configured, list):
        entries, problems = definitions.load_definitions(patterns, base or Path.cwd())
        problems += _defined_twice(configured, entries)
        if not problems:
            values["apis"] = [*configured, *(entry for _, entry in entries)]
            files = [file for file, _ in entries]
    try:
        parsed = StackConfig.model_validate(values)
    except ValidationError as exc:
        problems += _placed(exc, len(configured) if files else 0, files)
    if problems:
        raise ConfigError(problems)
    return parsed


def _defined_twice(configured: list[Any], entries: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str]]:
    """An API name in both `apis` and a definition file, or in two files."""
    named = {e["name"]: i for i, e in enumerate(configured) if isinstance(e, dict) and isinstance(e.get("name"), str)}
    seen: dict[str, str] = {}
    problems = []
    for file, entry in entries:
        name = entry["name"]
        if name in named:
            where = config_path(["apis", named[name], "name"])
            problems.append((f"{file}: data.name", f"API '{name}' is also defined at {where}"))
        elif name in seen:
            problems.append((f"{file}: data.name", f"API '{name}' is also defined in {seen[name]}"))
        else:
            seen[name] = file
    return problems


def _placed(exc: ValidationError, offset: int, files: list[str]) -> list[tuple[str, str]]:
    """Each problem at its config path, or, on an API from a definition file, at its file and field."""
    placed = []
    for error, (path, message) in zip(exc.errors(), problems_in(exc), strict=True):
        loc = tuple(error["loc"])
        if files and len(loc) >= 2 and loc[0] == "apis" and isinstance(loc[1], int) and loc[1] >= offset:
            path = definitions.api_problem_source(files[loc[1] - offset], loc[2:])
        placed.append((path, message))
    return placed


def load(config: pulumi.Config | None = None) -> StackConfig:
    """Read every `gatehouse:*` key from the Pulumi config and validate the whole of it."""
    config = config or pulumi.Config(NAMESPACE)
    raw: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    known = _root_keys()
    for key in sorted(_present_keys()):
        if key in SECRET_KEYS:
            continue
        if key not in known:
            problems.append((config_path([key]), "unknown configuration key"))
            continue
        value = config.get(key)
        if value is None or key in SCALAR_KEYS:
            raw[key] = value
            continue
        try:
            raw[key] = json.loads(value)
        except json.JSONDecodeError as exc:
            problems.append((config_path([key]), f"is not valid structured config ({exc.msg})"))
        except (ValueError, RecursionError):  # an integer past Python's digit limit, nesting past the stack
            problems.append((config_path([key]), "is not valid structured config (too large or too deeply nested)"))
    parsed: StackConfig | None = None
    try:
        parsed = parse_raw(raw)
    except ConfigError as exc:
        problems += exc.problems
    problems += _secret_problems(parsed)
    problems += _webhook_secret_problems(parsed)
    if problems:
        raise ConfigError(problems)
    assert parsed is not None
    return parsed


def secret(key: str) -> pulumi.Output[str]:
    """A secret config value; `load` has already checked it is set, and set as a secret."""
    return pulumi.Config(NAMESPACE).require_secret(key)


def optional_secret(key: str) -> pulumi.Output[str] | None:
    """A secret config value that may be unset; `load` has checked it is a secret when set."""
    return pulumi.Config(NAMESPACE).get_secret(key)


def webhook_secret(organization: str) -> pulumi.Output[str] | None:
    """An organization's own webhook secret from `webhookSecrets` (a Pulumi secret), or None: generate one.
    `load` has checked the key is a secret, a map of configured organizations, each value seed 002's pattern."""
    if organization not in _webhook_secret_values():
        return None
    values = pulumi.Config(NAMESPACE).require_secret_object(WEBHOOK_SECRETS)
    return pulumi.Output.secret(values.apply(lambda v: str(v[organization])))


def _webhook_secret_values() -> dict[str, Any]:
    # runtime.get_config, not config.get: reading a secret in clear would log a warning
    raw = pulumi.runtime.get_config(f"{NAMESPACE}:{WEBHOOK_SECRETS}")
    if raw is None:
        return {}
    try:
        values = json.loads(raw)
    except (json.JSONDecodeError, ValueError, RecursionError):
        return {}
    return values if isinstance(values, dict) else {}


def _webhook_secret_problems(parsed: StackConfig | None) -> list[tuple[str, str]]:
    """`webhookSecrets` maps configured organizations to values of seed 002's pattern. The values are never
    part of a message."""
    raw = pulumi.runtime.get_config(f"{NAMESPACE}:{WEBHOOK_SECRETS}")
    if raw is None:
        return []
    how = f"pulumi config set --secret --path '{NAMESPACE}:{WEBHOOK_SECRETS}.<organization>'"
    try:
        values = json.loads(raw)
    except (json.JSONDecodeError, ValueError, RecursionError):
        values = None
    if not isinstance(values, dict):
        return [(config_path([WEBHOOK_SECRETS]), f"must map organizations to their webhook secrets: {how}")]
    known = {o.name for o in parsed.organizations} if parsed else None
    problems = []
    for org, value in sorted(values.items()):
        where = f"{config_path([WEBHOOK_SECRETS])}.{org}"
        if known is not None and org not in known:
            problems.append((where, f"unknown organization '{org}' (known: {', '.join(sorted(known))})"))
        elif not isinstance(value, str) or not WEBHOOK_SECRET_RE.fullmatch(value):
            problems.append(
                (
                    where,
                    f"organization '{org}': the webhook secret must match ^[a-zA-Z0-9_-]+$ (its value is not shown)",
                )
            )
        elif len(value) < 16:
            problems.append((where, f"organization '{org}': the webhook secret must be at least 16 characters"))
    return problems


def _needed_secrets(stack: StackConfig) -> set[str]:
    """The secret keys the config uses: Cloudflare's token with Cloudflare, each connector's client secret."""
    connectors = stack.identity.connectors
    needed = {"cloudflareApiToken"} if stack.edge.cloudflare else set()
    needed |= {"githubClientSecret"} if connectors.github else set()
    needed |= {"googleClientSecret"} if connectors.google else set()
    return needed


def _secret_problems(parsed: StackConfig | None) -> list[tuple[str, str]]:
    """Every secret that is set must be a secret; which ones must be set, only a valid config tells."""
    needed = _needed_secrets(parsed) if parsed else set()
    problems = []
    for key in SECRET_KEYS:
        # runtime.get_config, not config.get: reading a secret in clear would log a warning
        if pulumi.runtime.get_config(f"{NAMESPACE}:{key}") is None:
            if key in needed:
                problems.append((config_path([key]), f"is required: pulumi config set --secret {NAMESPACE}:{key}"))
        elif not pulumi.runtime.is_config_secret(f"{NAMESPACE}:{key}"):
            problems.append((config_path([key]), f"must be a secret: pulumi config set --secret {NAMESPACE}:{key}"))
    return problems


def _root_keys() -> set[str]:
    return {field.alias or name for name, field in StackConfig.model_fields.items()}


def _present_keys() -> set[str]:
    """Every `gatehouse:*` key the engine handed to the program (explicit config and env)."""
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    prefix = NAMESPACE + ":"
    return {k[len(prefix) :] for k in keys if k.startswith(prefix)}
