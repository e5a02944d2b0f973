"""The policy configuration the engine hands a pack: policy defaults, the pack's `initial_config` and the
user's `--policy-pack-config` file, reconciled as pulumi/pulumi pkg/resource/analyzer/config.go does and
validated against each policy's config schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
from pulumi_policy import EnforcementLevel

from .pack import LoadedPack
from .report import PolicyConfigError

LEVELS = tuple(level.value for level in EnforcementLevel)  # advisory, mandatory, remediate, disabled


def _level_name(level: Any) -> str | None:
    if isinstance(level, EnforcementLevel):
        return level.value
    if isinstance(level, str) and level in LEVELS:
        return level
    return None


def _parse_entry(name: str, value: Any, errors: list[str]) -> tuple[str | None, dict[str, Any]] | None:
    """One config entry -> (level or None, properties), like the engine's parsePolicyPackConfig."""
    if isinstance(value, EnforcementLevel | str):
        level = _level_name(value)
        if level is None:
            errors.append(f"{name}: {json.dumps(value)} is not a valid enforcement level")
            return None
        return level, {}
    if isinstance(value, dict):
        props = dict(value)
        level = None
        if "enforcementLevel" in props:
            raw = props.pop("enforcementLevel")
            level = _level_name(raw)
            if level is None:
                errors.append(
                    f"{name}: enforcementLevel {json.dumps(raw, default=str)} is not a valid enforcement level"
                )
                return None
        return level, props
    errors.append(f"{name}: {json.dumps(value, default=str)} is not a valid value; must be a string or object")
    return None


def _apply(
    result: dict[str, dict[str, Any]], config: dict[str, Any], unknown_is_error: bool, errors: list[str]
) -> None:
    """The engine's applyConfig: "all" sets every level first, then per-policy levels and properties."""
    parsed: dict[str, tuple[str | None, dict[str, Any]]] = {}
    for name, value in config.items():
        entry = _parse_entry(name, value, errors)
        if entry is None:
            continue
        if name != "all" and name not in result:
            if unknown_is_error:
                errors.append(f"{name}: no policy of that name in the policy pack")
            continue
        parsed[name] = entry
    if "all" in parsed and parsed["all"][0] is not None:
        for cfg in result.values():
            cfg["enforcementLevel"] = parsed["all"][0]
    for name, (level, props) in parsed.items():
        if name == "all":
            continue
        if level is not None:
            result[name]["enforcementLevel"] = level
        result[name]["properties"].update(props)


def _error_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path)


def effective_config(pack: LoadedPack, user_config: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """{policy: {"enforcementLevel": "advisory"|..., "properties": {...}}} for every policy of the pack.

    Defaults (policy level, else pack level; schema "default"s) -> the pack's initial_config -> the user
    config (`--policy-pack-config` JSON). In each layer "all" sets every policy's level first, then each
    policy entry (a level string, or an object with optional "enforcementLevel" plus properties) applies.
    Unknown policy names in the user config are errors. Each policy's properties are then validated
    against {"type": "object", "properties": ..., "required": ...}; all problems are raised together
    as one PolicyConfigError ("<policy>: <message>").
    """
    errors: list[str] = []
    result: dict[str, dict[str, Any]] = {}
    for policy in pack.policies:
        level = policy.enforcement_level if policy.enforcement_level is not None else pack.enforcement_level
        props: dict[str, Any] = {}
        schema = policy.config_schema
        if schema is not None:
            for key, prop_schema in (schema.properties or {}).items():
                if isinstance(prop_schema, dict) and "default" in prop_schema:
                    props[key] = copy.deepcopy(prop_schema["default"])
        result[policy.name] = {"enforcementLevel": _level_name(level) or "advisory", "properties": props}

    if pack.initial_config:
        _apply(result, pack.initial_config, unknown_is_error=False, errors=errors)
    if user_config is not None:
        if not isinstance(user_config, dict):
            errors.append(f"policy config must be a JSON object, got {type(user_config).__name__}")
        else:
            _apply(result, user_config, unknown_is_error=True, errors=errors)

    for policy in pack.policies:
        schema = policy.config_schema
        if schema is None:
            continue
        document: dict[str, Any] = {"type": "object"}
        if schema.properties:
            document["properties"] = schema.properties
        if schema.required:
            document["required"] = list(schema.required)
        validator_cls = jsonschema.validators.validator_for(document, default=jsonschema.Draft7Validator)
        try:
            validator_cls.check_schema(document)
        except jsonschema.SchemaError as exc:
            errors.append(f"{policy.name}: invalid config schema: {exc.message}")
            continue
        found = sorted(
            validator_cls(document).iter_errors(result[policy.name]["properties"]),
            key=lambda e: (_error_path(e), e.message),
        )
        for error in found:
            path = _error_path(error)
            errors.append(f"{policy.name}: {path}: {error.message}" if path else f"{policy.name}: {error.message}")

    if errors:
        raise PolicyConfigError(errors)
    return result


def read_user_config(config_file: Path | None) -> dict[str, Any] | None:
    if config_file is None:
        return None
    try:
        text = Path(config_file).read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyConfigError([f"cannot read {config_file}: {exc.strerror or exc}"]) from exc
    if not text.strip():  # the engine accepts an empty file
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyConfigError([f"{config_file} is not valid JSON: {exc}"]) from exc
    if not isinstance(data, dict):
        raise PolicyConfigError([f"{config_file} must hold a JSON object, got {type(data).__name__}"])
    return data
