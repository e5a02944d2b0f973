"""guardrails/_kinds.py: the scope table agrees with the vendored upstream CRDs."""

from __future__ import annotations

import yaml
from conftest import UPSTREAM
from guardrails import _kinds
from policy_fixtures import CHART, CONFIG_MAP

# Vendored CRDs of what Gatehouse no longer installs (the Keycloak operator gave way to the keycloakx chart).
NOT_INSTALLED_GROUPS = {"k8s.keycloak.org"}


def test_kind_scopes_match_the_upstream_crds() -> None:
    """guardrails/_kinds.py knows every CRD the platform installs, with the scope its CRD declares."""
    found = {}
    paths = [*(UPSTREAM / "crds").glob("*/*.yaml"), *(UPSTREAM / "tekton" / "crds").glob("*/*.yaml")]
    for path in sorted(paths):
        if path.parent.name in NOT_INSTALLED_GROUPS:
            continue
        for doc in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                spec = doc["spec"]
                found[f"{spec['group']}/{spec['names']['kind']}"] = spec["scope"]
    assert len(found) >= 20 and "tekton.dev/Pipeline" in found and "operator.tekton.dev/TektonConfig" in found
    for key, scope in sorted(found.items()):
        table = _kinds.NAMESPACED_KINDS if scope == "Namespaced" else _kinds.CLUSTER_SCOPED_KINDS
        assert key in table, (key, scope)
    assert _kinds.NAMESPACED_KINDS.isdisjoint(_kinds.CLUSTER_SCOPED_KINDS)
    assert _kinds.scope_of(CONFIG_MAP) == "Namespaced"
    assert _kinds.scope_of("kubernetes:cert-manager.io/v1:ClusterIssuer") == "Cluster"
    assert _kinds.scope_of("kubernetes:example.com/v1:Widget") is None
    assert _kinds.scope_of(CHART) is None
