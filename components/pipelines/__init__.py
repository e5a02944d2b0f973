"""Pipelines plane: from a push to a tenant's repository to a PipelineRun in its namespace (seed 002).

Where each rendered object comes from:

- tekton.py (Tekton): the Tekton operator's chart and the TektonConfig (Pipelines, Triggers, Dashboard)
- listener.py: per organization, the EventListener behind its tunnel, its ServiceAccount and bindings (rbac.py)
- tenant_pipeline.py (TenantPipeline): per tenant with a pipeline, its Pipeline, run ServiceAccount and
  Terraform backend secret, and the Trigger, TriggerBinding and TriggerTemplate of dispatch.py
- platform_access.py: the platform groups' Tekton ClusterRoles
- dashboard.py: the Tekton Dashboard as the staff app the gateway plane publishes on the `tekton` host
- pipelines.py (Pipelines): the plane, wiring them
"""

from .pipelines import Pipelines, PipelinesArgs

__all__ = ["Pipelines", "PipelinesArgs"]
