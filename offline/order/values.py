"""A chart's values as Helm sees them: the user's values coalesced over the chart's default `values.yaml`
(vendored in `../shared/upstream/charts/<chart>/`), so an absent value takes the chart's default.

The chart facts read every value through `Values`, which looks values up without copying the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from components.crd_schema import chart_dir
from components.yaml_read import SafeLoader

_MISSING = object()


class Values:
    """A chart's values as Helm coalesces them (`validate.coalesce`), looked up without copying the
    defaults: a user map merges key by key over the default map, a user null deletes the key, any
    other user value replaces the default."""

    def __init__(self, user: Mapping[str, Any] | None, defaults: Mapping[str, Any] | None = None) -> None:
        self.user: Mapping[str, Any] = user if isinstance(user, Mapping) else {}
        self.defaults: Mapping[str, Any] = defaults if isinstance(defaults, Mapping) else {}

    def get(self, path: str, default: Any = None) -> Any:
        """The value at a dotted path (keys without dots), or `default` when it is absent or null."""
        user: Any = self.user
        fallback: Any = self.defaults
        for key in path.split("."):
            mine = user.get(key, _MISSING) if isinstance(user, Mapping) else _MISSING
            theirs = fallback.get(key, _MISSING) if isinstance(fallback, Mapping) else _MISSING
            if mine is None:
                return default  # a user null deletes the key
            if mine is not _MISSING and not (isinstance(mine, Mapping) and isinstance(theirs, Mapping)):
                user, fallback = mine, _MISSING  # replaces the default wholesale
            else:
                user, fallback = mine, theirs
        found = user if user is not _MISSING else fallback
        return default if found is _MISSING or found is None else found

    def flag(self, path: str) -> bool:
        """Helm's truthiness of a value (`{{ if .Values.x }}`): absent, null, false, 0, "" and empty are false."""
        return bool(self.get(path))

    def text(self, path: str) -> str:
        value = self.get(path)
        return value if isinstance(value, str) else ""


@cache
def _defaults_at(values_file: Path) -> Mapping[str, Any]:
    try:
        loaded = yaml.load(values_file.read_text(), Loader=SafeLoader)
    except (OSError, yaml.YAMLError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def chart_defaults(upstream: Path, chart: str) -> Mapping[str, Any]:
    """The chart's default values.yaml (read once per process), or {} when it is not vendored."""
    if not chart or "/" in chart or chart in (".", ".."):
        return {}
    return _defaults_at(chart_dir(Path(upstream), chart) / "values.yaml")


def yaml_value(text: Any) -> Any:
    """A values string holding YAML (keycloakx's `extraEnv`), parsed; None when it does not parse."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return yaml.load(text, Loader=SafeLoader)
    except yaml.YAMLError:
        return None
