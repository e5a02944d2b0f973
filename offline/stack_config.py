"""Reading a Pulumi project and one stack's config the way the engine hands it to a program.

The engine passes config as `<namespace>:<key>` -> string, with structured values JSON-encoded. `secure:`
values are encrypted by the stack's secrets provider and cannot be decrypted offline; they, and every
key Pulumi.yaml declares `secret: true` (in `config`, or in `template.config`, where a key is documented
without every stack being made to set it) that the stack file leaves unset, get a placeholder value
that is marked secret, so the program runs exactly as it would with the real secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .yaml_read import SafeLoader


class StackConfigError(Exception):
    """The project or stack file itself is unusable (missing, not YAML, clear-text secret)."""


@dataclass
class StackConfig:
    project: str
    stack: str
    values: dict[str, str]  # fully qualified key -> engine string form
    secret_keys: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)  # secret keys given placeholder values


def kubernetes_version(config: StackConfig) -> str:
    """The cluster's Kubernetes version the stack names (what objects are validated for)."""
    return config.values.get(f"{config.project}:kubernetesVersion", "1.33")


def placeholder(key: str) -> str:
    return f"offline-placeholder-{key.replace(':', '-')}"


def _engine_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _qualify(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


# libyaml's parser, PyYAML's safe constructor: large stack files parse far slower in pure Python.


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(), Loader=SafeLoader) or {}
    except FileNotFoundError:
        raise StackConfigError(f"{path}: no such file") from None
    except yaml.YAMLError as exc:
        raise StackConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise StackConfigError(f"{path}: expected a mapping at the top level")
    return data


def load_stack_config(program_dir: Path, stack: str, secrets: dict[str, str] | None = None) -> StackConfig:
    """Project defaults from Pulumi.yaml, overlaid by Pulumi.<stack>.yaml.

    `secrets` (qualified key -> value) replaces placeholders, e.g. to plant known canary values.
    """
    project_file = _read_yaml(program_dir / "Pulumi.yaml")
    project = project_file.get("name")
    if not isinstance(project, str) or not project:
        raise StackConfigError(f"{program_dir / 'Pulumi.yaml'}: missing project name")
    stack_file = program_dir / f"Pulumi.{stack}.yaml"
    stack_config = _read_yaml(stack_file).get("config") or {}

    values: dict[str, str] = {}
    declared_secret: set[str] = set()
    for key, decl in (project_file.get("config") or {}).items():
        qualified = _qualify(project, key)
        if isinstance(decl, dict):
            if decl.get("secret"):
                declared_secret.add(qualified)
            if "default" in decl:
                values[qualified] = _engine_string(decl["default"])
        else:
            values[qualified] = _engine_string(decl)
    # Secrets a project documents as its template's config: required by no stack, so the program decides
    template = project_file.get("template") or {}
    for key, decl in ((template.get("config") if isinstance(template, dict) else None) or {}).items():
        if isinstance(decl, dict) and decl.get("secret"):
            declared_secret.add(_qualify(project, key))

    secret_keys: set[str] = set()
    for key, value in stack_config.items():
        qualified = _qualify(project, key)
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret_keys.add(qualified)
            values[qualified] = placeholder(qualified)
            continue
        if qualified in declared_secret:
            raise StackConfigError(
                f"{stack_file}: {qualified} is declared secret in Pulumi.yaml but set in clear text; "
                f"use `pulumi config set --secret {qualified}`"
            )
        values[qualified] = _engine_string(value)

    placeholders = []
    for qualified in sorted(declared_secret - secret_keys):
        secret_keys.add(qualified)
        values[qualified] = placeholder(qualified)
        placeholders.append(qualified)
    for qualified, value in (secrets or {}).items():
        values[qualified] = value
        secret_keys.add(qualified)
        if qualified in placeholders:
            placeholders.remove(qualified)
    return StackConfig(project, stack, values, sorted(secret_keys), placeholders)
