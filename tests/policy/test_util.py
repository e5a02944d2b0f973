"""guardrails/_util.py: patch and list type tokens are the same objects to every rule."""

from __future__ import annotations

from guardrails._util import base_type
from policy_fixtures import APP_PROJECT, CHART, PASSWORD


def test_patch_and_list_type_tokens() -> None:
    assert base_type("kubernetes:core/v1:NamespacePatch") == "kubernetes:core/v1:Namespace"
    assert base_type("kubernetes:core/v1:ConfigMapList") == "kubernetes:core/v1:ConfigMap"
    assert base_type("kubernetes:argoproj.io/v1alpha1:AppProjectPatch") == APP_PROJECT
    assert base_type(CHART) == CHART
    assert base_type("random:index/randomPassword:RandomPassword") == PASSWORD
