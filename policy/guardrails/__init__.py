"""Every policy of the pack, grouped by concern (one module per concern)."""

from pulumi_policy import Policy

from . import helm, namespaces, protection

POLICIES: list[Policy] = [*namespaces.POLICIES, *helm.POLICIES, *protection.POLICIES]

__all__ = ["POLICIES"]
