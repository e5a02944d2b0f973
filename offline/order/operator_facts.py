"""Custom resources whose operator, once the resource is Ready, has installed CRDs and admission webhooks of
its own: the facts the deploy-order check needs about what the program cannot see created.

A resource counts only when Pulumi waits for it to be Ready (`pulumi.com/waitFor: condition=Ready`, the
pulumi-kubernetes v4.18+ annotation): then what depends on it is sent after the operator has installed them.

- TektonConfig (operator.tekton.dev), tektoncd/operator v0.81.1: pkg/reconciler/shared/tektonconfig/
  tektonconfig.go ensures the TektonPipeline and TektonTrigger it derives exist and marks the TektonConfig's
  components not ready (`MarkComponentNotReady`) until they are; each installs its release's CRDs and its
  webhook Deployment (tekton.dev from tektoncd/pipeline v1.15.0 config/300-crds and config/webhook.yaml,
  triggers.tekton.dev from tektoncd/triggers v0.37.0 config/300-*.yaml and config/500-webhooks.yaml, whose
  webhooks validate and default those groups' kinds).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .chart_facts import Kinds
from .reads import value_at

WAIT_FOR = "pulumi.com/waitFor"
READY = "condition=Ready"
TEKTON_KINDS = Kinds({"tekton.dev": None, "triggers.tekton.dev": None})
OPERATOR_RESOURCES: dict[tuple[str, str], Kinds] = {("operator.tekton.dev", "TektonConfig"): TEKTON_KINDS}


def installs(obj: Mapping[str, Any]) -> Kinds | None:
    """The kinds whose CRDs and webhooks exist once `obj` is Ready, if it is awaited so; else None."""
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    kinds = OPERATOR_RESOURCES.get((group, str(obj.get("kind", ""))))
    annotations = value_at(obj, "metadata", "annotations")
    awaited = isinstance(annotations, Mapping) and annotations.get(WAIT_FOR) == READY
    return kinds if kinds is not None and awaited else None
