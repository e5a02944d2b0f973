"""The objects that turn an organization's webhook into a tenant's PipelineRun: per tenant with a pipeline, a
Trigger (its interceptors), a TriggerBinding (what it takes from the push) and a TriggerTemplate (the dispatcher
template `templateRef` names, which creates the PipelineRun). Specs only, as plain dicts; tenant_pipeline.py
declares them.

Every Trigger starts with the GitHub interceptor (tektoncd/triggers v0.37.0 pkg/interceptors/github/github.go):
`eventTypes` rejects any `X-GitHub-Event` not listed, and with `secretRef` it requires `X-Hub-Signature-256`
and checks it (HMAC-SHA256 of the body with the Secret's key) against the Secret named, read in the
Trigger's own namespace (`ParseTriggerID(r.Context.TriggerID)`): the organization's `github-webhook-secret`,
which is why the Triggers live in the organization's namespace beside it. Then the CEL interceptor
(pkg/interceptors/cel/cel.go: `filter`, over `body` and `header`) lets through only a push to the tenant's
repository's default branch that is not a deletion: `repository.full_name` compared without case (GitHub
keeps the case an owner gave a name; config holds it in lowercase), through `matches` and RE2's `(?i)`, which
standard CEL has (the repository name holds only `[a-z0-9-]` and `/`, nothing a regular expression reads).
"""

from __future__ import annotations

from typing import Any

from policy import gatehouse_contract as contract

from .. import config, meta

WEBHOOK_EVENTS = ("push",)  # what the listener accepts: a push starts a tenant's pipeline
# each tenant's runs' ServiceAccount, and seed 002's Terraform backend secret, in its main namespace
RUN_SERVICE_ACCOUNT = contract.PIPELINE_RUNNER_SERVICE_ACCOUNT
TERRAFORM_SECRET = contract.TERRAFORM_BACKEND_SECRET
TRIGGERS_API = "triggers.tekton.dev/v1beta1"


def repository_filter(repo: str) -> str:
    """The CEL filter: a push to `repo`'s default branch, not a branch deletion."""
    return (
        f"body.repository.full_name.matches('(?i)^{repo}$') && "
        "body.ref == 'refs/heads/' + body.repository.default_branch && "
        "!body.deleted"
    )


def trigger_name(tenant: config.Tenant) -> str:
    return f"{tenant.name}-push"


def trigger_spec(tenant: config.Tenant, webhook_secret: str) -> dict[str, Any]:
    name = trigger_name(tenant)
    return {
        "interceptors": [
            {
                "name": "github-signature",
                "ref": {"name": "github", "kind": "ClusterInterceptor"},
                "params": [
                    {"name": "secretRef", "value": {"secretName": webhook_secret, "secretKey": "secret"}},
                    {"name": "eventTypes", "value": list(WEBHOOK_EVENTS)},
                ],
            },
            {
                "name": "tenant-repository",
                "ref": {"name": "cel", "kind": "ClusterInterceptor"},
                "params": [{"name": "filter", "value": repository_filter(tenant.repo)}],
            },
        ],
        "bindings": [{"ref": name, "kind": "TriggerBinding"}],
        "template": {"ref": name},
    }


def binding_spec() -> dict[str, Any]:
    """What a push gives the template (GitHub's push payload: repository.clone_url, after)."""
    return {
        "params": [
            {"name": "git-url", "value": "$(body.repository.clone_url)"},
            {"name": "git-revision", "value": "$(body.after)"},
        ]
    }


def template_spec(tenant: config.Tenant) -> dict[str, Any]:
    """The dispatcher template `templateRef` names; `run-pipeline-v1` is the only one (config/pipelines.py):
    a PipelineRun of the tenant's Pipeline in its main namespace, as `pipeline-runner`, with the params
    TEMPLATE_PARAMS lists and the Terraform backend Secret as the workspace `terraform-backend` (a Pipeline
    that does not declare it ignores it: tektoncd/pipeline v1.15.0 pipelinerunresolution.go
    ValidateWorkspaceBindings checks only the workspaces a Pipeline declares)."""
    assert tenant.template_ref == "run-pipeline-v1" and tenant.pipeline_name
    return {
        "params": [{"name": "git-url"}, {"name": "git-revision"}],
        "resourcetemplates": [
            {
                "apiVersion": "tekton.dev/v1",
                "kind": "PipelineRun",
                "metadata": {
                    "generateName": f"{tenant.pipeline_name}-",
                    "namespace": tenant.name,
                    "labels": {meta.TENANT_LABEL: tenant.name},
                },
                "spec": {
                    "pipelineRef": {"name": tenant.pipeline_name},
                    "taskRunTemplate": {"serviceAccountName": RUN_SERVICE_ACCOUNT},
                    "params": [
                        {"name": "git-url", "value": "$(tt.params.git-url)"},
                        {"name": "git-revision", "value": "$(tt.params.git-revision)"},
                        {"name": "tenant-name", "value": tenant.name},
                    ],
                    "workspaces": [{"name": TERRAFORM_SECRET, "secret": {"secretName": TERRAFORM_SECRET}}],
                },
            }
        ],
    }
