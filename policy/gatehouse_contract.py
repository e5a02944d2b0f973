"""The names Gatehouse's program (components/) and its policy pack (policy/) must agree on.

The pack checks what the program declares: a label renamed on one side only would leave a rule looking
at nothing, a platform namespace missing here would let a tenant take it, a guardrail kind missing from
the program's AppProjects would stop every preview. So both sides import these names from here, and
tests/test_contract.py holds equal the few the program still spells itself.

Standard library only, and importable two ways: the pack, which is published and run alone with its own
folder first on sys.path (`python <pack dir>`), imports it as `gatehouse_contract`; the program, run with
the repository root first on sys.path, imports it as `policy.gatehouse_contract` (`policy/` is a
namespace package). Values are immutable; the pack copies them into lists and dicts where they become
policy config defaults.
"""

from __future__ import annotations

from types import MappingProxyType

# --- labels and annotations the pack selects on ------------------------------------------------------

LABEL_DOMAIN = "gatehouse.dev"
# The tenant's ServiceAccount Argo CD impersonates to sync (tenancy/profiles.py): no pod runs as it.
DEPLOYER_SERVICE_ACCOUNT = "deployer"
# An organization's Tekton EventListener (components/pipelines/): its ServiceAccount in `org-<name>` keeps its API
# token (the listener's pod cannot mount one any other way: tektoncd/triggers v0.37.0
# pkg/apis/triggers/v1beta1/event_listener_validation.go podSpecMask drops volumes and automountServiceAccountToken),
# and the Role in each of the organization's tenants' main namespaces that lets it create the tenant's PipelineRuns.
LISTENER_SERVICE_ACCOUNT = "github-listener"
LISTENER_RUNS_ROLE = "github-listener-runs"
# A tenant's pipeline runs (components/pipelines/): their ServiceAccount, which only Tekton's run pods may use,
# and seed 002's Terraform backend Secret, which only they may read (policy/admission_rules.py).
PIPELINE_RUNNER_SERVICE_ACCOUNT = "pipeline-runner"
TERRAFORM_BACKEND_SECRET = "terraform-backend"
TENANT_LABEL = f"{LABEL_DOMAIN}/tenant"
ORGANIZATION_LABEL = f"{LABEL_DOMAIN}/organization"
PROFILE_LABEL = f"{LABEL_DOMAIN}/permission-profile"
MANAGED_BY_LABEL = f"{LABEL_DOMAIN}/managed-by"
# On an HTTPRoute deliberately left without SSO, JWT or API-key protection (login pages, public APIs).
PUBLIC_ROUTE_LABEL = f"{LABEL_DOMAIN}/public-route"
# A tenant's repository, on its namespaces: what its AppProject may deploy from.
REPO_OWNER_LABEL = f"{LABEL_DOMAIN}/repo-owner"
REPO_NAME_LABEL = f"{LABEL_DOMAIN}/repo-name"
REPO_ANNOTATION = f"{LABEL_DOMAIN}/repo"
PSA_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"

# --- type tokens -------------------------------------------------------------------------------------

# The components whose children are a tenant's or an organization's business.
TENANT_TYPE = "gatehouse:tenancy:Tenant"
ORGANIZATION_TYPE = "gatehouse:tenancy:Organization"

# What holds data or definitions: deleting a CRD deletes every object of its kind, a namespace everything
# in it, a CloudNativePG Cluster its database. The program protects them in production, the pack checks.
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
CNPG_CLUSTER_TYPE = "kubernetes:postgresql.cnpg.io/v1:Cluster"
DATA_TYPES = frozenset({NAMESPACE_TYPE, CRD_TYPE, CNPG_CLUSTER_TYPE})

# --- Pod Security and permission profiles ----------------------------------------------------------------

# Permission profile -> the Pod Security level its namespaces enforce.
POD_SECURITY_BY_PROFILE = MappingProxyType({"standard": "restricted", "elevated": "baseline"})
# The levels any namespace Gatehouse manages may enforce (never privileged).
POD_SECURITY_LEVELS = ("restricted", "baseline")
# The profiles whose people may read Secrets in their namespaces.
SECRET_READER_PROFILES = ("elevated",)

# Pod Security baseline's safe sysctls and restricted's volume sources, which the pack (pod_security.py)
# and the admission rules (admission_rules.py) both enforce
# (kubernetes.io/docs/concepts/security/pod-security-standards)
SAFE_SYSCTLS = (
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
)
RESTRICTED_VOLUME_SOURCES = (
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
)

# --- namespaces -------------------------------------------------------------------------------------------

# Namespaces no tenant or organization may take: Kubernetes' own and the platform's, then those common
# cluster software installs into (an operator adding a service mesh, a backup tool or another policy
# engine later must not find a tenant already there, owning the namespace and everything put in it).
RESERVED_NAMESPACES = (
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "argocd",
    "cert-manager",
    "envoy-gateway-system",
    "external-secrets",
    "cnpg-system",
    "gatehouse-system",
    "identity",
    "keycloak",
    "monitoring",
    "oauth2-proxy",
    "pipeline-system",
    "tekton-pipelines",
    "tekton-operator",
    "cloudflared",
    # common cluster software, not installed by Gatehouse
    "argo-rollouts",
    "calico-system",
    "cattle-system",
    "crossplane-system",
    "flux-system",
    "gatekeeper-system",
    "ingress-nginx",
    "istio-system",
    "knative-serving",
    "kyverno",
    "linkerd",
    "linkerd-viz",
    "local-path-storage",
    "logging",
    "longhorn-system",
    "metallb-system",
    "observability",
    "rook-ceph",
    "sealed-secrets",
    "tekton-chains",
    "tekton-pipelines-resolvers",
    "tigera-operator",
    "traefik",
    "vault",
    "velero",
)
RESERVED_PREFIXES = ("kube-", "openshift-")
ORGANIZATION_NAMESPACE_PREFIX = "org-"  # an organization's namespace is `org-<name>`
# Prefixes reserved for tenants only (an organization's own namespace has one).
TENANT_RESERVED_PREFIXES = (ORGANIZATION_NAMESPACE_PREFIX,)

# --- RBAC -------------------------------------------------------------------------------------------------

ESCALATION_VERBS = ("bind", "escalate", "impersonate")
# What no tenant role may change: its own guardrails, RBAC, and its ServiceAccounts' tokens.
GUARDRAIL_RESOURCES = (
    "resourcequotas",
    "limitranges",
    "networkpolicies",
    "roles",
    "rolebindings",
    "clusterroles",
    "clusterrolebindings",
    "serviceaccounts/token",
)

# --- quotas -----------------------------------------------------------------------------------------------

# The ResourceQuota of the largest size tier: no tenant quota may exceed it.
QUOTA_CEILINGS = MappingProxyType(
    {
        "requests.cpu": "8",
        "requests.memory": "16Gi",
        "limits.cpu": "16",
        "limits.memory": "32Gi",
        "pods": "100",
        "persistentvolumeclaims": "20",
        "requests.storage": "500Gi",
        "services": "40",
        "services.loadbalancers": "0",
        "services.nodeports": "0",
    }
)

# --- Argo CD ----------------------------------------------------------------------------------------------

IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
# What a tenant's `<owner>/<name>` repository is cloned from.
REPO_URL_PREFIXES = ("https://github.com/",)
# (group, kind) of what a tenant may never deploy through GitOps: the guardrails Gatehouse owns.
GUARDRAIL_KINDS = (
    ("", "ResourceQuota"),
    ("", "LimitRange"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
)
ARGOCD_CHART = "argo-cd"
ARGOCD_RBAC_CONFIG_MAP = "argocd-rbac-cm"
ARGOCD_CONFIG_MAP = "argocd-cm"
ADMIN_ROLE = "role:admin"

# --- the gateway --------------------------------------------------------------------------------------------

HTTP_LISTENER = "http"  # each Gateway's plain-HTTP listener: it only redirects to HTTPS
# The Gateway on the load balancer (`gatehouse:gateways`: every other one is internal); the stack config
# defaults an API to it and the program names its objects after it.
PUBLIC_GATEWAY = "public"
