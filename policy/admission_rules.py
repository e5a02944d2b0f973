"""The rules about what a tenant may create, each declared once for both gates.

A rule has a name, a description, its preview check (the CrossGuard policy of the pack that reports it,
and the words its finding carries, which tell this rule's finding from the policy's others) and its
admission check: a CEL expression, true for an object the rule allows, which the program renders as a
Kubernetes ValidatingAdmissionPolicy bound to tenant namespaces (components/tenancy/admission.py). The
tests run every rule's fixtures through both gates and require the same answer (tests/test_admission.py).

Stdlib only: the program imports it as `policy.admission_rules`, the tests likewise.

CEL here keeps to what both Kubernetes (cel-go with its libraries) and the tests' evaluator (cel-python)
provide: standard macros (`has`, `all`, `exists`), `matches` (RE2), `startsWith`/`endsWith`/`contains`,
`in` and the conditional operator. `has()` tests the last field only, so every level is guarded.
"""

from __future__ import annotations

from dataclasses import dataclass

from .gatehouse_contract import (
    DEPLOYER_SERVICE_ACCOUNT,
    PIPELINE_RUNNER_SERVICE_ACCOUNT,
    RESTRICTED_VOLUME_SOURCES,
    SAFE_SYSCTLS,
    TERRAFORM_BACKEND_SECRET,
)

# (API group, version, resource) of what a rule's policy matches
PODS = (("", "v1", "pods"),)
WORKLOADS = (
    *PODS,
    ("apps", "v1", "deployments"),
    ("apps", "v1", "statefulsets"),
    ("apps", "v1", "daemonsets"),
    ("apps", "v1", "replicasets"),
    ("batch", "v1", "jobs"),
    ("batch", "v1", "cronjobs"),
)
SERVICES = (("", "v1", "services"),)
NETWORK_POLICIES = (("networking.k8s.io", "v1", "networkpolicies"),)
SERVICE_ACCOUNTS = (("", "v1", "serviceaccounts"),)
SECRETS = (("", "v1", "secrets"),)

# The pod spec of any workload kind, and every container of it, as policy variables.
POD_SPEC = (
    "object.kind == 'Pod' ? object.spec : object.kind == 'CronJob' ? "
    "object.spec.jobTemplate.spec.template.spec : object.spec.template.spec"
)
WORKLOAD_VARIABLES = (
    ("spec", POD_SPEC),
    (
        "containers",
        "variables.spec.containers"
        " + (has(variables.spec.initContainers) ? variables.spec.initContainers : [])"
        " + (has(variables.spec.ephemeralContainers) ? variables.spec.ephemeralContainers : [])",
    ),
    # what requests and limits apply to (ephemeral containers have none)
    (
        "runContainers",
        "variables.spec.containers + (has(variables.spec.initContainers) ? variables.spec.initContainers : [])",
    ),
    ("podContext", "has(variables.spec.securityContext) ? variables.spec.securityContext : {}"),
)
EVERY_PROFILE = ("standard", "elevated")
RESTRICTED = ("standard",)  # Pod Security restricted; elevated tenants run at baseline (tenancy/README)


@dataclass(frozen=True)
class AdmissionRule:
    name: str
    description: str
    preview: str  # the CrossGuard policy reporting it at preview
    finding: str  # words in that policy's message for this rule
    resources: tuple[tuple[str, str, str], ...]
    expression: str  # CEL, true when the object is allowed
    message: str  # what the API server answers when it is not
    profiles: tuple[str, ...] = EVERY_PROFILE  # the tenant profiles whose namespaces it binds to

    @property
    def variables(self) -> tuple[tuple[str, str], ...]:
        return WORKLOAD_VARIABLES if self.resources == WORKLOADS else ()


def _field(path: str, leaf: str) -> str:
    """`path.leaf` when set, guarded: `has(path.leaf) && path.leaf`."""
    return f"has({path}.{leaf}) && {path}.{leaf}"


def _context(field: str) -> str:
    """A container's securityContext field, guarded: true when the container sets it to true."""
    return f"has(c.securityContext) && has(c.securityContext.{field}) && c.securityContext.{field}"


def _every_container(condition: str, containers: str = "variables.containers") -> str:
    return f"{containers}.all(c, {condition})"


def _quoted(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def _workload(
    name: str, description: str, preview: str, finding: str, expression: str, message: str, restricted: bool = False
) -> AdmissionRule:
    profiles = RESTRICTED if restricted else EVERY_PROFILE
    return AdmissionRule(name, description, preview, finding, WORKLOADS, expression, message, profiles)


# A pod reads the Terraform backend Secret: a secret or projected volume of it, or an env var or envFrom of it.
_NAMED = f"'{TERRAFORM_BACKEND_SECRET}'"
TERRAFORM_BACKEND_READ = (
    "(has(variables.spec.volumes) && variables.spec.volumes.exists(v, "
    f"(has(v.secret) && has(v.secret.secretName) && v.secret.secretName == {_NAMED}) || "
    "(has(v.projected) && has(v.projected.sources) && v.projected.sources.exists(s, "
    f"has(s.secret) && has(s.secret.name) && s.secret.name == {_NAMED})))) || "
    "variables.containers.exists(c, "
    "(has(c.env) && c.env.exists(e, has(e.valueFrom) && has(e.valueFrom.secretKeyRef) && "
    f"has(e.valueFrom.secretKeyRef.name) && e.valueFrom.secretKeyRef.name == {_NAMED})) || "
    "(has(c.envFrom) && c.envFrom.exists(f, has(f.secretRef) && has(f.secretRef.name) && "
    f"f.secretRef.name == {_NAMED})))"
)
HOST = "workload-no-host-access"
RESTRICTED_CONTEXT = "workload-restricted-security-context"
CONTAINER_NON_ROOT = (
    "has(c.securityContext) && has(c.securityContext.runAsNonRoot) ? c.securityContext.runAsNonRoot : "
    "has(variables.podContext.runAsNonRoot) && variables.podContext.runAsNonRoot"
)
CONTAINER_ROOT_UID = (
    "has(c.securityContext) && has(c.securityContext.runAsUser) ? c.securityContext.runAsUser == 0 : "
    "has(variables.podContext.runAsUser) && variables.podContext.runAsUser == 0"
)
CONTAINER_SECCOMP = (
    "(has(c.securityContext) && has(c.securityContext.seccompProfile) ? c.securityContext.seccompProfile.type : "
    "has(variables.podContext.seccompProfile) ? variables.podContext.seccompProfile.type : '') "
    "in ['RuntimeDefault', 'Localhost']"
)
DROPS_ALL = (
    "has(c.securityContext) && has(c.securityContext.capabilities) && "
    "has(c.securityContext.capabilities.drop) && 'ALL' in c.securityContext.capabilities.drop"
)
ADDS_NOTHING_ELSE = (
    "!has(c.securityContext) || !has(c.securityContext.capabilities) || "
    "!has(c.securityContext.capabilities.add) || c.securityContext.capabilities.add.all(a, a == 'NET_BIND_SERVICE')"
)


def _resource(kind: str, name: str) -> str:
    """A container sets `resources.<kind>.<name>` to something."""
    return (
        f"has(c.resources) && has(c.resources.{kind}) && has(c.resources.{kind}.{name}) && "
        f"string(c.resources.{kind}.{name}) != ''"
    )


WORKLOAD_RULES = [
    _workload(
        "no-host-network",
        "Pods do not share the node's network namespace.",
        HOST,
        "uses hostNetwork",
        f"!({_field('variables.spec', 'hostNetwork')})",
        "hostNetwork is not allowed in a tenant namespace",
    ),
    _workload(
        "no-host-pid",
        "Pods do not share the node's process namespace.",
        HOST,
        "uses hostPID",
        f"!({_field('variables.spec', 'hostPID')})",
        "hostPID is not allowed in a tenant namespace",
    ),
    _workload(
        "no-host-ipc",
        "Pods do not share the node's IPC namespace.",
        HOST,
        "uses hostIPC",
        f"!({_field('variables.spec', 'hostIPC')})",
        "hostIPC is not allowed in a tenant namespace",
    ),
    _workload(
        "no-host-path-volumes",
        "Pods mount no directory of the node.",
        HOST,
        "mounts the host path",
        "!has(variables.spec.volumes) || variables.spec.volumes.all(v, !has(v.hostPath))",
        "hostPath volumes are not allowed in a tenant namespace",
    ),
    _workload(
        "no-privileged-containers",
        "No container is privileged.",
        HOST,
        "is privileged",
        _every_container(f"!({_context('privileged')})"),
        "privileged containers are not allowed in a tenant namespace",
    ),
    _workload(
        "no-host-ports",
        "No container binds a port of the node.",
        HOST,
        "binds host port",
        _every_container("!has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0)"),
        "hostPort is not allowed in a tenant namespace",
    ),
    _workload(
        "run-as-non-root",
        "Every container runs as non-root (runAsNonRoot, the container's or else the pod's).",
        RESTRICTED_CONTEXT,
        "may run as root",
        _every_container(CONTAINER_NON_ROOT),
        "every container must set runAsNonRoot: true (or inherit it from the pod)",
        restricted=True,
    ),
    _workload(
        "no-root-uid",
        "No container runs as UID 0.",
        RESTRICTED_CONTEXT,
        "runs as UID 0",
        _every_container(f"!({CONTAINER_ROOT_UID})"),
        "runAsUser 0 is not allowed",
        restricted=True,
    ),
    _workload(
        "no-privilege-escalation",
        "Every container sets allowPrivilegeEscalation: false.",
        RESTRICTED_CONTEXT,
        "does not set allowPrivilegeEscalation: false",
        _every_container(
            "has(c.securityContext) && has(c.securityContext.allowPrivilegeEscalation) && "
            "c.securityContext.allowPrivilegeEscalation == false"
        ),
        "every container must set allowPrivilegeEscalation: false",
        restricted=True,
    ),
    _workload(
        "drop-all-capabilities",
        "Every container drops ALL capabilities.",
        RESTRICTED_CONTEXT,
        "does not drop ALL capabilities",
        _every_container(DROPS_ALL),
        "every container must drop ALL capabilities",
        restricted=True,
    ),
    _workload(
        "no-added-capabilities",
        "No container adds a capability but NET_BIND_SERVICE.",
        RESTRICTED_CONTEXT,
        "adds capabilities",
        _every_container(ADDS_NOTHING_ELSE),
        "containers may add NET_BIND_SERVICE only",
        restricted=True,
    ),
    _workload(
        "seccomp-runtime-default",
        "Every container runs with the RuntimeDefault (or a Localhost) seccomp profile.",
        RESTRICTED_CONTEXT,
        "has no RuntimeDefault seccomp profile",
        _every_container(CONTAINER_SECCOMP),
        "every container needs seccompProfile RuntimeDefault or Localhost",
        restricted=True,
    ),
    _workload(
        "read-only-root-filesystem",
        "Every container's root filesystem is read-only (writes go to mounted volumes).",
        RESTRICTED_CONTEXT,
        "does not set readOnlyRootFilesystem: true",
        _every_container(_context("readOnlyRootFilesystem")),
        "every container must set readOnlyRootFilesystem: true",
        restricted=True,
    ),
    _workload(
        "cpu-requests",
        "Every container requests CPU.",
        "workload-resources",
        "requests.cpu",
        _every_container(_resource("requests", "cpu"), "variables.runContainers"),
        "every container must request CPU",
    ),
    _workload(
        "memory-requests",
        "Every container requests memory.",
        "workload-resources",
        "requests.memory",
        _every_container(_resource("requests", "memory"), "variables.runContainers"),
        "every container must request memory",
    ),
    _workload(
        "memory-limits",
        "Every container has a memory limit.",
        "workload-resources",
        "limits.memory",
        _every_container(_resource("limits", "memory"), "variables.runContainers"),
        "every container must have a memory limit",
    ),
    _workload(
        "image-tagged",
        "Every image names a tag or a digest.",
        "workload-image-pinned",
        "has no tag",
        _every_container("c.image.contains('@') || c.image.matches(':[^/]*$')"),
        "every image must be pinned by a tag or a digest",
    ),
    _workload(
        "image-not-latest",
        "No image is pinned by the tag latest.",
        "workload-image-pinned",
        "uses the :latest tag",
        _every_container("c.image.contains('@') || !c.image.endsWith(':latest')"),
        "the :latest tag is not a pin",
    ),
    _workload(
        "no-token-automount",
        "No pod mounts its service account's API token (automountServiceAccountToken: true).",
        "workload-no-token-automount",
        "mounts its service account's token",
        "!has(variables.spec.automountServiceAccountToken) || variables.spec.automountServiceAccountToken == false",
        "pods in a tenant namespace do not mount API tokens",
    ),
    _workload(
        "no-deployer-pods",
        "No pod runs as the deployer ServiceAccount Argo CD syncs as (a Tekton run's pod included).",
        "workload-not-as-deployer",
        "runs as the ServiceAccount",
        f"!has(variables.spec.serviceAccountName) || variables.spec.serviceAccountName != '{DEPLOYER_SERVICE_ACCOUNT}'",
        "pods may not run as the deployer ServiceAccount",
    ),
    _workload(
        "pipeline-runner-for-runs-only",
        "Only Tekton's run pods (a Pod a TaskRun owns) run as the tenant's pipeline-runner ServiceAccount.",
        "workload-pipeline-runner-for-runs",
        "runs as the pipeline ServiceAccount",
        f"!has(variables.spec.serviceAccountName) || variables.spec.serviceAccountName != "
        f"'{PIPELINE_RUNNER_SERVICE_ACCOUNT}' || (object.kind == 'Pod' && has(object.metadata.ownerReferences) && "
        "object.metadata.ownerReferences.exists(r, r.kind == 'TaskRun' && r.apiVersion.startsWith('tekton.dev/')))",
        "only a Tekton TaskRun's pod may run as pipeline-runner",
    ),
    _workload(
        "terraform-backend-for-runs-only",
        "Only pods running as pipeline-runner read the Terraform backend Secret (volume, projected volume, env).",
        "workload-terraform-backend-for-runs",
        "reads the Terraform backend Secret",
        f"!({TERRAFORM_BACKEND_READ}) || (has(variables.spec.serviceAccountName) && "
        f"variables.spec.serviceAccountName == '{PIPELINE_RUNNER_SERVICE_ACCOUNT}')",
        "only pipeline runs may read the terraform-backend Secret",
    ),
    _workload(
        "safe-sysctls",
        "Pods set only the sysctls Pod Security baseline calls safe.",
        "workload-safe-sysctls",
        "sets the unsafe sysctl",
        f"!has(variables.podContext.sysctls) || variables.podContext.sysctls.all(s, s.name in {_quoted(SAFE_SYSCTLS)})",
        "only Pod Security baseline's safe sysctls are allowed",
    ),
    _workload(
        "default-proc-mount",
        "No container unmasks /proc (procMount other than Default).",
        "workload-default-proc-mount",
        "sets procMount",
        _every_container(
            "!has(c.securityContext) || !has(c.securityContext.procMount) || c.securityContext.procMount == 'Default'"
        ),
        "procMount must be Default",
    ),
    _workload(
        "no-unconfined-apparmor",
        "No pod or container runs AppArmor Unconfined.",
        "workload-no-unconfined-apparmor",
        "runs AppArmor Unconfined",
        "(!has(variables.podContext.appArmorProfile) || variables.podContext.appArmorProfile.type != 'Unconfined') && "
        + _every_container(
            "!has(c.securityContext) || !has(c.securityContext.appArmorProfile) || "
            "c.securityContext.appArmorProfile.type != 'Unconfined'"
        ),
        "AppArmor Unconfined is not allowed",
    ),
    _workload(
        "restricted-volume-types",
        "Pods use only the volume types Pod Security restricted allows (no hostPath, NFS, iSCSI, ...).",
        "workload-restricted-volume-types",
        "uses the volume type",
        "!has(variables.spec.volumes) || variables.spec.volumes.all(v, v.all(k, k == 'name' || k in "
        f"{_quoted(RESTRICTED_VOLUME_SOURCES)}))",
        "only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes",
        restricted=True,
    ),
]

EXPOSURE = "tenant-service-exposure"
NETWORK_PEERS = (
    "(has(object.spec.ingress) ? object.spec.ingress.all(r, !has(r.from) || r.from.all(p, {check})) : true) && "
    "(has(object.spec.egress) ? object.spec.egress.all(r, !has(r.to) || r.to.all(p, {check})) : true)"
)
NON_EMPTY_SELECTOR = (
    "!has(p.namespaceSelector) || (has(p.namespaceSelector.matchLabels) && size(p.namespaceSelector.matchLabels) > 0)"
    " || (has(p.namespaceSelector.matchExpressions) && size(p.namespaceSelector.matchExpressions) > 0)"
)

OTHER_RULES = [
    AdmissionRule(
        "no-loadbalancer-services",
        "No Service is a LoadBalancer: tenants are reached through the gateway only.",
        EXPOSURE,
        "is of type LoadBalancer",
        SERVICES,
        "!has(object.spec.type) || object.spec.type != 'LoadBalancer'",
        "LoadBalancer Services are not allowed in a tenant namespace",
    ),
    AdmissionRule(
        "no-nodeport-services",
        "No Service is a NodePort.",
        EXPOSURE,
        "is of type NodePort",
        SERVICES,
        "!has(object.spec.type) || object.spec.type != 'NodePort'",
        "NodePort Services are not allowed in a tenant namespace",
    ),
    AdmissionRule(
        "no-external-ips",
        "No Service sets externalIPs (CVE-2020-8554).",
        EXPOSURE,
        "sets externalIPs",
        SERVICES,
        "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0",
        "externalIPs are not allowed in a tenant namespace",
    ),
    AdmissionRule(
        "networkpolicy-no-open-ingress",
        "No NetworkPolicy admits ingress from anywhere (no sources, 0.0.0.0/0, ::/0).",
        "networkpolicy-no-open-ingress",
        "admits",
        NETWORK_POLICIES,
        "!has(object.spec.ingress) || object.spec.ingress.all(r, has(r.from) && size(r.from) > 0 && "
        "r.from.all(p, !has(p.ipBlock) || !(p.ipBlock.cidr in ['0.0.0.0/0', '::/0'])))",
        "a tenant NetworkPolicy may not admit ingress from anywhere",
    ),
    AdmissionRule(
        "networkpolicy-no-empty-namespace-selector",
        "No NetworkPolicy peer selects every namespace (an empty namespaceSelector).",
        "networkpolicy-no-empty-namespace-selector",
        "selects every namespace",
        NETWORK_POLICIES,
        NETWORK_PEERS.format(check=NON_EMPTY_SELECTOR),
        "a namespaceSelector must select something",
    ),
    AdmissionRule(
        "serviceaccount-no-automount",
        "ServiceAccounts set automountServiceAccountToken: false; the namespace's `default` one, which the "
        "cluster makes without it, may not turn it on.",
        "tenant-serviceaccount-no-automount",
        "does not set automountServiceAccountToken: false",
        SERVICE_ACCOUNTS,
        "object.metadata.name == 'default' ? "
        "!(has(object.automountServiceAccountToken) && object.automountServiceAccountToken == true) : "
        "(has(object.automountServiceAccountToken) && object.automountServiceAccountToken == false)",
        "ServiceAccounts in a tenant namespace set automountServiceAccountToken: false",
    ),
    AdmissionRule(
        "no-service-account-token-secrets",
        "No Secret of type kubernetes.io/service-account-token: such a token never expires.",
        "no-service-account-token-secrets",
        "service-account-token",
        SECRETS,
        "!has(object.type) || object.type != 'kubernetes.io/service-account-token'",
        "service account token Secrets are not allowed in a tenant namespace (they never expire)",
    ),
]

RULES: list[AdmissionRule] = [*WORKLOAD_RULES, *OTHER_RULES]
