"""The API server's rules for object names and namespaces, which the JSON schemas do not carry."""

from __future__ import annotations

import re
from typing import Any

from .problems import Problem

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_RBAC_KINDS = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}


def name_problems(obj: dict[str, Any]) -> list[Problem]:
    """The API server's name rules, which the JSON schemas do not carry."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return [(("metadata", "name"), "required: every object needs a name")]
    problems: list[Problem] = []
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        problems.append((("metadata", "name"), "required: every object needs a name"))
    else:
        rule = _name_rule(obj["apiVersion"].rpartition("/")[0], obj["kind"], name)
        if rule:
            problems.append((("metadata", "name"), f"{name!r} is not a valid {rule}"))
    namespace = meta.get("namespace")
    if isinstance(namespace, str) and namespace and not _is_label(namespace, _DNS1123_LABEL):
        problems.append((("metadata", "namespace"), f"{namespace!r} is not a valid {_LABEL_RULE}"))
    return problems


_LABEL_RULE = "DNS-1123 label (lowercase alphanumerics and '-', start and end alphanumeric, at most 63 characters)"
_SUBDOMAIN_RULE = (
    "DNS-1123 subdomain (lowercase alphanumerics, '-' and '.', each part starting and ending "
    "alphanumeric, at most 253 characters)"
)
_DNS1035_RULE = (
    "DNS-1035 label (lowercase alphanumerics and '-', start with a letter, end alphanumeric, at most 63 characters)"
)


def _name_rule(group: str, kind: str, name: str) -> str:
    """The rule `name` breaks, or "" if it is fine (per-kind rules as in the API server's validation)."""
    if group == "" and kind == "Namespace":
        return "" if _is_label(name, _DNS1123_LABEL) else _LABEL_RULE
    if group == "" and kind == "Service":  # the API server is stricter for Services than DNS-1123
        return "" if _is_label(name, _DNS1035_LABEL) else _DNS1035_RULE
    if group == "rbac.authorization.k8s.io" and kind in _RBAC_KINDS:  # "system:..." style names are legal
        ok = name not in (".", "..") and "/" not in name and "%" not in name
        return "" if ok else "RBAC name (must not be '.' or '..' or contain '/' or '%')"
    ok = len(name) <= 253 and _DNS1123_SUBDOMAIN.fullmatch(name) is not None
    return "" if ok else _SUBDOMAIN_RULE


def _is_label(value: str, pattern: re.Pattern[str]) -> bool:
    return len(value) <= 63 and pattern.fullmatch(value) is not None
