"""Which Kubernetes kinds are namespaced and which are cluster-scoped, by `<group>/<Kind>` ("core" for "").

A policy sees only a resource's inputs, not the API server's discovery, so scope comes from this table:
the built-in kinds of Kubernetes 1.33 and the CRDs the platform installs (their `spec.scope` in
../shared/upstream/crds and ../shared/upstream/tekton/crds; tests/policy/test_kinds.py checks the table against
them). A kind in neither set is unknown: rules that need its scope treat it conservatively (see
`rbac.no-cluster-scoped-tenant-objects`).
"""

from __future__ import annotations

NAMESPACED_KINDS = frozenset(
    {
        # Kubernetes built-ins
        "core/Pod",
        "core/Service",
        "core/ServiceAccount",
        "core/Secret",
        "core/ConfigMap",
        "core/ResourceQuota",
        "core/LimitRange",
        "core/PersistentVolumeClaim",
        "core/Endpoints",
        "core/Event",
        "core/PodTemplate",
        "core/ReplicationController",
        "apps/Deployment",
        "apps/StatefulSet",
        "apps/DaemonSet",
        "apps/ReplicaSet",
        "apps/ControllerRevision",
        "batch/Job",
        "batch/CronJob",
        "autoscaling/HorizontalPodAutoscaler",
        "policy/PodDisruptionBudget",
        "networking.k8s.io/NetworkPolicy",
        "networking.k8s.io/Ingress",
        "rbac.authorization.k8s.io/Role",
        "rbac.authorization.k8s.io/RoleBinding",
        "coordination.k8s.io/Lease",
        "discovery.k8s.io/EndpointSlice",
        "events.k8s.io/Event",
        "storage.k8s.io/CSIStorageCapacity",
        "resource.k8s.io/ResourceClaim",
        "resource.k8s.io/ResourceClaimTemplate",
        # CRDs the platform installs
        "argoproj.io/Application",
        "argoproj.io/ApplicationSet",
        "argoproj.io/AppProject",
        "cert-manager.io/Certificate",
        "cert-manager.io/CertificateRequest",
        "cert-manager.io/Issuer",
        "acme.cert-manager.io/Challenge",
        "acme.cert-manager.io/Order",
        "external-secrets.io/ExternalSecret",
        "external-secrets.io/SecretStore",
        "external-secrets.io/PushSecret",
        "gateway.envoyproxy.io/Backend",
        "gateway.envoyproxy.io/BackendTrafficPolicy",
        "gateway.envoyproxy.io/ClientTrafficPolicy",
        "gateway.envoyproxy.io/EnvoyExtensionPolicy",
        "gateway.envoyproxy.io/EnvoyPatchPolicy",
        "gateway.envoyproxy.io/EnvoyProxy",
        "gateway.envoyproxy.io/HTTPRouteFilter",
        "gateway.envoyproxy.io/SecurityPolicy",
        "gateway.networking.k8s.io/BackendTLSPolicy",
        "gateway.networking.k8s.io/Gateway",
        "gateway.networking.k8s.io/GRPCRoute",
        "gateway.networking.k8s.io/HTTPRoute",
        "gateway.networking.k8s.io/ReferenceGrant",
        "gateway.networking.k8s.io/TCPRoute",
        "gateway.networking.k8s.io/TLSRoute",
        "gateway.networking.k8s.io/UDPRoute",
        "postgresql.cnpg.io/Backup",
        "postgresql.cnpg.io/Cluster",
        "postgresql.cnpg.io/Database",
        "postgresql.cnpg.io/ImageCatalog",
        "postgresql.cnpg.io/Pooler",
        "postgresql.cnpg.io/ScheduledBackup",
        "tekton.dev/CustomRun",
        "tekton.dev/Pipeline",
        "tekton.dev/PipelineRun",
        "tekton.dev/StepAction",
        "tekton.dev/Task",
        "tekton.dev/TaskRun",
        "triggers.tekton.dev/EventListener",
        "triggers.tekton.dev/Interceptor",
        "triggers.tekton.dev/Trigger",
        "triggers.tekton.dev/TriggerBinding",
        "triggers.tekton.dev/TriggerTemplate",
    }
)

CLUSTER_SCOPED_KINDS = frozenset(
    {
        "core/Namespace",
        "core/Node",
        "core/PersistentVolume",
        "rbac.authorization.k8s.io/ClusterRole",
        "rbac.authorization.k8s.io/ClusterRoleBinding",
        "apiextensions.k8s.io/CustomResourceDefinition",
        "admissionregistration.k8s.io/MutatingWebhookConfiguration",
        "admissionregistration.k8s.io/ValidatingWebhookConfiguration",
        "admissionregistration.k8s.io/ValidatingAdmissionPolicy",
        "admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding",
        "admissionregistration.k8s.io/MutatingAdmissionPolicy",
        "admissionregistration.k8s.io/MutatingAdmissionPolicyBinding",
        "apiregistration.k8s.io/APIService",
        "storage.k8s.io/StorageClass",
        "storage.k8s.io/CSIDriver",
        "storage.k8s.io/CSINode",
        "storage.k8s.io/VolumeAttachment",
        "storage.k8s.io/VolumeAttributesClass",
        "scheduling.k8s.io/PriorityClass",
        "node.k8s.io/RuntimeClass",
        "networking.k8s.io/IngressClass",
        "networking.k8s.io/IPAddress",
        "networking.k8s.io/ServiceCIDR",
        "certificates.k8s.io/CertificateSigningRequest",
        "certificates.k8s.io/ClusterTrustBundle",
        "flowcontrol.apiserver.k8s.io/FlowSchema",
        "flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration",
        "resource.k8s.io/DeviceClass",
        # CRDs the platform installs
        "cert-manager.io/ClusterIssuer",
        "external-secrets.io/ClusterSecretStore",
        "external-secrets.io/ClusterExternalSecret",
        "external-secrets.io/ClusterPushSecret",
        "gateway.networking.k8s.io/GatewayClass",
        "postgresql.cnpg.io/ClusterImageCatalog",
        "operator.tekton.dev/TektonConfig",
        "operator.tekton.dev/TektonDashboard",
        "operator.tekton.dev/TektonPipeline",
        "operator.tekton.dev/TektonTrigger",
        "triggers.tekton.dev/ClusterInterceptor",
        "triggers.tekton.dev/ClusterTriggerBinding",
    }
)


def group_kind(resource_type: str) -> str:
    """`kubernetes:apps/v1:Deployment` -> `apps/Deployment` (core -> `core/...`); "" if not a Kubernetes object."""
    parts = resource_type.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes" or "/" not in parts[1]:
        return ""
    return f"{parts[1].rsplit('/', 1)[0]}/{parts[2]}"


def scope_of(resource_type: str) -> str | None:
    """'Namespaced', 'Cluster', or None when the kind is not known (pass the base type, not a Patch/List)."""
    key = group_kind(resource_type)
    if key in NAMESPACED_KINDS:
        return "Namespaced"
    if key in CLUSTER_SCOPED_KINDS:
        return "Cluster"
    return None
