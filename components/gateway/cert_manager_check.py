"""cert-manager's start-up API check, as a plain Job the ClusterIssuers wait for.

The chart runs `startupapicheck` as a post-install hook, which helm.v4.Chart never installs. Without
it nothing waits for cert-manager's webhook to serve with its CA injected (pods Ready is not enough),
and the first `pulumi up` fails creating the ClusterIssuers ("failed calling webhook
webhook.cert-manager.io ... x509: certificate signed by unknown authority"). Pulumi waits for a Job to
complete, so this one, a copy of the chart's (templates/startupapicheck-*.yaml), orders them.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from .. import meta
from ..charts import ONE_SHOT
from ..versions import IMAGES

COMPONENT = "tls"
NAME = "cert-manager-startupapicheck"  # the chart's name for it
WAIT = "1m"  # the chart's `startupapicheck.timeout`, per attempt
BACKOFF_LIMIT = 4  # the chart's `startupapicheck.backoffLimit`


def api_check(
    namespace: k8s.core.v1.Namespace, cert_manager: k8s.helm.v4.Chart, opts: pulumi.ResourceOptions
) -> k8s.batch.v1.Job:
    """The Job, its ServiceAccount and the Role `check api` needs: it creates dry-run CertificateRequests
    (cert-manager v1.21.1, pkg/util/cmapichecker/cmapichecker.go; the chart's startupapicheck-rbac.yaml
    grants `create` on `certificaterequests`, since v1.16 - `certificates` before).

    Only the Job waits for the cert-manager chart, so the check starts once its Deployments are Ready;
    the RBAC objects need just the namespace and are created beside the chart, which keeps this path
    of `pulumi up` one step shorter.
    """
    ns = namespace.metadata.name
    account = k8s.core.v1.ServiceAccount(NAME, metadata=meta.object_meta(NAME, COMPONENT, ns), opts=opts)
    role = k8s.rbac.v1.Role(
        NAME,
        metadata=meta.object_meta(NAME, COMPONENT, ns),
        rules=[
            k8s.rbac.v1.PolicyRuleArgs(
                api_groups=["cert-manager.io"], resources=["certificaterequests"], verbs=["create"]
            )
        ],
        opts=opts,
    )
    binding = k8s.rbac.v1.RoleBinding(
        NAME,
        metadata=meta.object_meta(NAME, COMPONENT, ns),
        role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=NAME),
        subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=NAME, namespace=ns)],
        opts=opts,
    )
    container = k8s.core.v1.ContainerArgs(
        name="startupapicheck",
        image=IMAGES["cert-manager-startupapicheck"].ref,
        image_pull_policy="IfNotPresent",
        args=["check", "api", f"--wait={WAIT}", "-v"],
        env=[
            k8s.core.v1.EnvVarArgs(
                name="POD_NAMESPACE",
                value_from=k8s.core.v1.EnvVarSourceArgs(
                    field_ref=k8s.core.v1.ObjectFieldSelectorArgs(field_path="metadata.namespace")
                ),
            )
        ],
        resources=k8s.core.v1.ResourceRequirementsArgs(**ONE_SHOT),
        security_context=k8s.core.v1.SecurityContextArgs(
            allow_privilege_escalation=False,
            capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
            run_as_non_root=True,
            read_only_root_filesystem=True,
        ),
    )
    return k8s.batch.v1.Job(
        NAME,
        metadata=meta.object_meta(NAME, COMPONENT, ns),
        spec=k8s.batch.v1.JobSpecArgs(
            backoff_limit=BACKOFF_LIMIT,
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=meta.labels(COMPONENT, {"app.kubernetes.io/name": NAME})),
                spec=k8s.core.v1.PodSpecArgs(
                    service_account_name=NAME,
                    restart_policy="OnFailure",
                    security_context=k8s.core.v1.PodSecurityContextArgs(
                        run_as_non_root=True, seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault")
                    ),
                    node_selector={"kubernetes.io/os": "linux"},
                    containers=[container],
                ),
            ),
        ),
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[cert_manager, account, role, binding])
        ),
    )
