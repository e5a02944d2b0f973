"""Reading a Pulumi project and one stack's config the way the engine hands it to a program.

The engine passes config as `<namespace>:<key>` -> string, with structured values JSON-encoded. `secure:`
values are encrypted by the stack's secrets provider and cannot be decrypted offline; they, and every
key Pulumi.yaml declares `secret: true` (in `config`, or in `template.config`, where a key is documented
without every stack being made to set it) that the stack file leaves unset, get a placeholder value
that is marked secret, so the program runs exactly as it would with the real secret.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.reader import ReaderError

from components.yaml_read import StrictLoadError, load_strict, short_repr


class StackConfigError(Exception):
    """The project or stack file itself is unusable (missing, not UTF-8, not YAML, a key given twice, an
    alias, a list where a mapping belongs, a clear-text secret). The message is one line naming the file,
    and the line or the key where it can."""


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


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"} and isinstance(value["secure"], str)


def _has_secure_leaf(value: Any) -> bool:
    if _is_secure(value):
        return True
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return any(_has_secure_leaf(v) for v in children)


def _placeholder_leaves(value: Any, path: str) -> Any:
    """A structured value with each `secure:` leaf replaced by a placeholder named after its path."""
    if _is_secure(value):
        return placeholder(re.sub(r"[^a-zA-Z0-9_-]", "-", path))
    if isinstance(value, dict):
        return {k: _placeholder_leaves(v, f"{path}-{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholder_leaves(v, f"{path}-{i}") for i, v in enumerate(value)]
    return value


def _engine_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _qualify(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _read_yaml(path: Path) -> dict[str, Any]:
    """The file's mapping; StackConfigError, one line naming the file and the line, for anything else."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise StackConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise StackConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")  # what the engine reads; a byte-order mark is allowed
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise StackConfigError(f"{path}: line {line}: not UTF-8 (byte 0x{raw[exc.start]:02x})") from None
    try:
        data = load_strict(text)
    except StrictLoadError as exc:
        raise StackConfigError(f"{path}: {f'line {exc.line}: ' if exc.line else ''}{exc.message}") from None
    except ReaderError as exc:
        line = text[: max(exc.position, 0)].count("\n") + 1
        raise StackConfigError(f"{path}: line {line}: not valid YAML ({exc.reason}, #x{exc.character:04x})") from None
    except yaml.YAMLError as exc:
        raise StackConfigError(f"{path}: {_yaml_problem(exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise StackConfigError(f"{path}: expected a mapping at the top level, not {_kind(data)}")
    return data


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's multi-line message in one line: where, then what."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(" ".join(part.split()) for part in (exc.context, exc.problem) if part)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        return f"{where}not valid YAML ({what})"
    return f"not valid YAML ({_first_line(exc)})"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _mapping(value: Any, where: str) -> dict[Any, Any]:
    """`value` where the file must hold a mapping (absent or null: empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise StackConfigError(f"{where} must be a mapping, not {_kind(value)}")
    return value


# `<name>` or `<namespace>:<name>`, as `pulumi config set` writes them
CONFIG_KEY_RE = re.compile(r"[^\s:]+(:[^\s:]+)?")


def _config_key(key: Any, where: str) -> str:
    if not isinstance(key, str) or not CONFIG_KEY_RE.fullmatch(key):
        raise StackConfigError(f"{where}: {short_repr(key)} is not a config key (`<namespace>:<name>` or `<name>`)")
    return key


def _engine_json(value: Any, where: str) -> str:
    try:
        return _engine_string(value)
    except (TypeError, ValueError, RecursionError):  # `!!binary`, `!!set`: no JSON for the engine to pass
        raise StackConfigError(f"{where}: not a value config can hold (plain strings, numbers, lists, maps)") from None


def load_stack_config(program_dir: Path, stack: str, secrets: dict[str, str] | None = None) -> StackConfig:
    """Project defaults from Pulumi.yaml, overlaid by Pulumi.<stack>.yaml.

    `secrets` (qualified key -> value) replaces placeholders, e.g. to plant known canary values.
    """
    project_path = program_dir / "Pulumi.yaml"
    project_file = _read_yaml(project_path)
    project = project_file.get("name")
    if not isinstance(project, str) or not project:
        raise StackConfigError(f"{project_path}: missing project name")
    stack_file = program_dir / f"Pulumi.{stack}.yaml"
    stack_config = _mapping(_read_yaml(stack_file).get("config"), f"{stack_file}: config")

    values: dict[str, str] = {}
    declared_secret: set[str] = set()
    for key, decl in _mapping(project_file.get("config"), f"{project_path}: config").items():
        qualified = _qualify(project, _config_key(key, f"{project_path}: config"))
        if isinstance(decl, dict):
            if decl.get("secret"):
                declared_secret.add(qualified)
            if "default" in decl:
                values[qualified] = _engine_json(decl["default"], f"{project_path}: config: {qualified}")
        else:
            values[qualified] = _engine_json(decl, f"{project_path}: config: {qualified}")
    # Secrets a project documents as its template's config: required by no stack, so the program decides
    template = _mapping(project_file.get("template"), f"{project_path}: template")
    for key, decl in _mapping(template.get("config"), f"{project_path}: template.config").items():
        if isinstance(decl, dict) and decl.get("secret"):
            declared_secret.add(_qualify(project, _config_key(key, f"{project_path}: template.config")))

    secret_keys: set[str] = set()
    for key, value in stack_config.items():
        qualified = _qualify(project, _config_key(key, f"{stack_file}: config"))
        if isinstance(value, dict) and set(value) == {"secure"}:
            if not isinstance(value["secure"], str):
                raise StackConfigError(f"{stack_file}: {qualified}: `secure` must hold the encrypted string")
            secret_keys.add(qualified)
            values[qualified] = placeholder(qualified)
            continue
        if _has_secure_leaf(value):  # `pulumi config set --secret --path 'key.sub'`: the engine decrypts each leaf
            secret_keys.add(qualified)
            values[qualified] = json.dumps(_placeholder_leaves(value, qualified))
            continue
        if qualified in declared_secret:
            raise StackConfigError(
                f"{stack_file}: {qualified} is declared secret in Pulumi.yaml but set in clear text; "
                f"use `pulumi config set --secret {qualified}`"
            )
        values[qualified] = _engine_json(value, f"{stack_file}: {qualified}")

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
