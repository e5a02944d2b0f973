"""The Keycloak operator, from the keycloak-k8s-resources release it was published in.

The two CRDs are applied from the release's own files (`yaml.v2.ConfigFile`, pinned to the tag). The
operator itself (`kubernetes.yml` of the same tag) is declared here object by object instead, because
that file names no namespace and `yaml.v2.ConfigFile` cannot set one: its objects would land in the
provider's default namespace, while its ClusterRoleBinding names `keycloak`. Declaring them also lets
the Deployment carry the security context the upstream file lacks. Names and rules match the file, so
an upgrade is a diff against it.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from .. import meta
from ..versions import IMAGES, KEYCLOAK_OPERATOR_VERSION
from .common import COMPONENT, Home

RELEASE = f"https://raw.githubusercontent.com/keycloak/keycloak-k8s-resources/{KEYCLOAK_OPERATOR_VERSION}/kubernetes"
CRD_FILES = ("keycloaks.k8s.keycloak.org-v1.yml", "keycloakrealmimports.k8s.keycloak.org-v1.yml")
NAME = "keycloak-operator"
LABELS = {"app.kubernetes.io/name": NAME}
WRITE = ["get", "list", "watch", "create", "delete", "patch", "update"]


def crds(production: bool, opts: pulumi.ResourceOptions) -> list[k8s.yaml.v2.ConfigFile]:
    """CRD-bearing: protected in prod, since deleting a CRD deletes every Keycloak and realm import."""
    return [
        k8s.yaml.v2.ConfigFile(
            f"keycloak-crd-{file.split('.', 1)[0]}", file=f"{RELEASE}/{file}", opts=meta.stateful(opts, production)
        )
        for file in CRD_FILES
    ]


def _rule(groups: list[str], kinds: list[str], verbs: list[str]) -> k8s.rbac.v1.PolicyRuleArgs:
    return k8s.rbac.v1.PolicyRuleArgs(api_groups=groups, resources=kinds, verbs=verbs)


def _cluster_roles() -> dict[str, list[k8s.rbac.v1.PolicyRuleArgs]]:
    def controller(kind: str) -> list[str]:
        return [kind, f"{kind}/status", f"{kind}/finalizers"]

    return {
        "keycloak-operator-clusterrole": [_rule(["config.openshift.io"], ["ingresses"], ["get"])],
        "keycloakrealmimportcontroller-cluster-role": [
            _rule(["k8s.keycloak.org"], controller("keycloakrealmimports"), WRITE),
            _rule([""], ["secrets"], WRITE),
        ],
        "keycloakcontroller-cluster-role": [
            _rule(["k8s.keycloak.org"], controller("keycloaks"), WRITE),
            _rule([""], ["services"], WRITE),
            _rule(["networking.k8s.io"], ["ingresses"], WRITE),
            _rule([""], ["secrets"], ["create", "delete", "get", "list", "watch"]),
        ],
    }


def _role_rules() -> list[k8s.rbac.v1.PolicyRuleArgs]:
    return [
        _rule(["apps"], ["statefulsets"], WRITE),
        _rule([""], ["configmaps"], ["get", "list", "watch"]),
        _rule([""], ["secrets", "services"], WRITE),
        _rule([""], ["pods"], ["list"]),
        _rule(["batch"], ["jobs"], WRITE),
        _rule(["networking.k8s.io"], ["ingresses"], WRITE),
    ]


def _rbac(home: Home, opts: pulumi.ResourceOptions) -> list[pulumi.Resource]:
    subject = k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=NAME, namespace=home.name)
    created: list[pulumi.Resource] = []
    for name, rules in _cluster_roles().items():
        created.append(
            k8s.rbac.v1.ClusterRole(name, metadata=meta.object_meta(name, COMPONENT), rules=rules, opts=opts)
        )
    created.append(
        k8s.rbac.v1.ClusterRoleBinding(
            "keycloak-operator-clusterrole-binding",
            metadata=meta.object_meta("keycloak-operator-clusterrole-binding", COMPONENT),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="keycloak-operator-clusterrole"
            ),
            subjects=[subject],
            opts=opts,
        )
    )
    created.append(
        k8s.rbac.v1.Role(
            "keycloak-operator-role",
            metadata=meta.object_meta("keycloak-operator-role", COMPONENT, home.ref),
            rules=_role_rules(),
            opts=opts,
        )
    )
    # The controllers' cluster roles are bound in this namespace only: the operator watches no other.
    bindings = {
        "keycloak-operator-role-binding": ("Role", "keycloak-operator-role"),
        "keycloakrealmimportcontroller-role-binding": ("ClusterRole", "keycloakrealmimportcontroller-cluster-role"),
        "keycloakcontroller-role-binding": ("ClusterRole", "keycloakcontroller-cluster-role"),
        "keycloak-operator-view": ("ClusterRole", "view"),
    }
    for name, (kind, role) in bindings.items():
        created.append(
            k8s.rbac.v1.RoleBinding(
                name,
                metadata=meta.object_meta(name, COMPONENT, home.ref),
                role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind=kind, name=role),
                subjects=[subject],
                opts=opts,
            )
        )
    return created


def _probe(path: str) -> k8s.core.v1.ProbeArgs:
    return k8s.core.v1.ProbeArgs(
        http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port=8080, scheme="HTTP"),
        initial_delay_seconds=5,
        period_seconds=10,
        timeout_seconds=10,
        failure_threshold=3,
    )


def operator(home: Home, opts: pulumi.ResourceOptions) -> k8s.apps.v1.Deployment:
    labels = meta.labels(COMPONENT, LABELS)
    account = k8s.core.v1.ServiceAccount(NAME, metadata=meta.object_meta(NAME, COMPONENT, home.ref, LABELS), opts=opts)
    rbac = _rbac(home, opts)
    k8s.core.v1.Service(
        NAME,
        metadata=meta.object_meta(NAME, COMPONENT, home.ref, LABELS),
        spec=k8s.core.v1.ServiceSpecArgs(
            type="ClusterIP",
            selector=LABELS,
            ports=[k8s.core.v1.ServicePortArgs(name="http", port=80, protocol="TCP", target_port=8080)],
        ),
        opts=opts,
    )
    container = k8s.core.v1.ContainerArgs(
        name=NAME,
        image=IMAGES["keycloak-operator"].ref,
        image_pull_policy="IfNotPresent",
        env=[
            k8s.core.v1.EnvVarArgs(
                name="KUBERNETES_NAMESPACE",
                value_from=k8s.core.v1.EnvVarSourceArgs(
                    field_ref=k8s.core.v1.ObjectFieldSelectorArgs(field_path="metadata.namespace")
                ),
            ),
            # the Keycloak server image the operator runs
            k8s.core.v1.EnvVarArgs(name="RELATED_IMAGE_KEYCLOAK", value=IMAGES["keycloak"].ref),
        ],
        ports=[k8s.core.v1.ContainerPortArgs(container_port=8080, name="http", protocol="TCP")],
        liveness_probe=_probe("/q/health/live"),
        readiness_probe=_probe("/q/health/ready"),
        startup_probe=_probe("/q/health/started"),
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "300m", "memory": "450Mi"}, limits={"memory": "450Mi"}
        ),
        # upstream sets none; the image runs as UID 1000, so Pod Security `restricted` fits
        security_context=k8s.core.v1.SecurityContextArgs(
            allow_privilege_escalation=False,
            capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
            run_as_non_root=True,
            read_only_root_filesystem=True,
        ),
        # the JVM (hsperfdata) and Quarkus/Vert.x (file cache) write under /tmp
        volume_mounts=[k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")],
    )
    return k8s.apps.v1.Deployment(
        NAME,
        metadata=meta.object_meta(NAME, COMPONENT, home.ref, LABELS),
        spec=k8s.apps.v1.DeploymentSpecArgs(
            replicas=1,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=LABELS),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                spec=k8s.core.v1.PodSpecArgs(
                    service_account_name=NAME,
                    security_context=k8s.core.v1.PodSecurityContextArgs(
                        run_as_non_root=True, seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault")
                    ),
                    containers=[container],
                    volumes=[
                        k8s.core.v1.VolumeArgs(
                            name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="64Mi")
                        )
                    ],
                ),
            ),
        ),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[account, *rbac])),
    )
