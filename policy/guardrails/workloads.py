"""Workloads: Pod Security restricted, requests and limits, pinned images from allowed registries.

Anchors: the Pod Security Standards (baseline and restricted), Kyverno pod-security/*, require-drop-all,
require-ro-rootfs, require-pod-requests-limits, disallow-latest-tag, restrict-image-registries; CIS 5.2.x and
5.7.2/5.7.3.

Workloads Gatehouse declares itself are held to every rule. Workloads that a Helm chart or a YAML file
renders (children of `helm.v4.Chart` / `yaml.v2.ConfigFile`, visible to `pulumi preview` but not to the
offline preview, whose mocks do not render charts) are held by one policy, `chart-workload-hygiene`, to
the same rules but a read-only root filesystem, which not every pinned chart sets (grafana, authentik).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._util import (
    Report,
    base_type,
    config_value,
    describe,
    dig,
    is_patch,
    mapping,
    objects,
    rendered_by,
    sequence,
    string_list,
    truthy,
)

PSS = "Pod Security Standards"
# Type token -> path of the pod spec inside the object.
WORKLOADS: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
ALLOWED_REGISTRIES = ["docker.io", "quay.io", "ghcr.io", "registry.k8s.io"]
ALLOWED_CAPABILITIES = {"NET_BIND_SERVICE"}
SECCOMP_TYPES = ("RuntimeDefault", "Localhost")
DOCKER_HUB_ALIASES = ("index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")

Check = Callable[[str, Mapping[str, Any], Mapping[str, Any]], list[str]]  # (what, pod spec, config) -> messages


def _containers(pod: Mapping[str, Any], init: bool = True) -> list[Mapping[str, Any]]:
    fields = ("containers", "initContainers", "ephemeralContainers") if init else ("containers",)
    return [mapping(c) for f in fields for c in sequence(pod.get(f))]


def _cname(container: Mapping[str, Any]) -> str:
    return str(container.get("name") or "?")


def host_access(what: str, pod: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    found = [f"{what} uses {field}" for field in ("hostNetwork", "hostPID", "hostIPC") if truthy(pod.get(field))]
    for volume in (mapping(v) for v in sequence(pod.get("volumes"))):
        if "hostPath" in volume:
            path = mapping(volume.get("hostPath")).get("path")
            found.append(f"{what} mounts the host path '{path}' (volume '{volume.get('name')}')")
    for c in _containers(pod):
        if truthy(dig(c, "securityContext", "privileged")):
            found.append(f"{what} container '{_cname(c)}' is privileged")
        for port in (mapping(p) for p in sequence(c.get("ports"))):
            if port.get("hostPort"):
                found.append(f"{what} container '{_cname(c)}' binds host port {int(port['hostPort'])}")
    return found


def restricted(what: str, pod: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """Pod Security restricted. For a patch only what it sets counts: a field it omits keeps its value."""
    found: list[str] = []
    patch = bool(config.get("patch"))
    pod_context = mapping(pod.get("securityContext"))
    for c in _containers(pod):
        context = mapping(c.get("securityContext"))
        name = _cname(c)
        non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
        if non_root is False or (non_root is not True and not patch):
            found.append(f"{what} container '{name}' may run as root (runAsNonRoot is not true)")
        user = context.get("runAsUser", pod_context.get("runAsUser"))
        if user in (0, "0"):
            found.append(f"{what} container '{name}' runs as UID 0")
        escalation = context.get("allowPrivilegeEscalation")
        if escalation is True or (escalation is not False and not patch):
            found.append(f"{what} container '{name}' does not set allowPrivilegeEscalation: false")
        capabilities = mapping(context.get("capabilities"))
        drop = capabilities.get("drop")
        if "ALL" not in [str(d) for d in sequence(drop)] and (drop is not None or not patch):
            found.append(f"{what} container '{name}' does not drop ALL capabilities")
        added = sorted({str(a) for a in sequence(capabilities.get("add"))} - ALLOWED_CAPABILITIES)
        if added:
            found.append(f"{what} container '{name}' adds capabilities: {', '.join(added)}")
        seccomp = mapping(context.get("seccompProfile")) or mapping(pod_context.get("seccompProfile"))
        if seccomp.get("type") not in SECCOMP_TYPES and (seccomp or not patch):
            found.append(f"{what} container '{name}' has no RuntimeDefault seccomp profile")
    return found


def read_only_root(what: str, pod: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """readOnlyRootFilesystem; a container that writes somewhere mounts a volume there (an emptyDir)."""
    found: list[str] = []
    for c in _containers(pod):
        read_only = mapping(c.get("securityContext")).get("readOnlyRootFilesystem")
        if read_only is False or (read_only is not True and not config.get("patch")):
            found.append(f"{what} container '{_cname(c)}' does not set readOnlyRootFilesystem: true")
    return found


def hardened(what: str, pod: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    return [*restricted(what, pod, config), *read_only_root(what, pod, config)]


def requests_limits(what: str, pod: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    if config.get("patch"):
        return found  # a patch keeps the resources it does not name
    for c in [*_containers(pod, init=False), *(mapping(i) for i in sequence(pod.get("initContainers")))]:
        resources = mapping(c.get("resources"))
        missing = [
            f"{kind}.{name}"
            for kind, name in (("requests", "cpu"), ("requests", "memory"), ("limits", "memory"))
            if mapping(resources.get(kind)).get(name) in (None, "")
        ]
        if missing:
            found.append(f"{what} container '{_cname(c)}' has no {', '.join(missing)}")
    return found


def parse_image(image: str) -> tuple[str, str, str | None, str | None]:
    """(registry, repository, tag, digest); Docker Hub names are normalized to docker.io/library/..."""
    ref, digest = image, None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
    tag = None
    if ":" in ref.rsplit("/", 1)[-1]:
        ref, tag = ref.rsplit(":", 1)
    parts = ref.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry, repository = parts[0], "/".join(parts[1:])
    else:
        registry, repository = "docker.io", ref if "/" in ref else f"library/{ref}"
    if registry in DOCKER_HUB_ALIASES:
        registry = "docker.io"
    return registry, repository, tag, digest


def _images(pod: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(_cname(c), str(c.get("image") or "")) for c in _containers(pod)]


def pinned(what: str, pod: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for name, image in _images(pod):
        if not image:
            if not config.get("patch"):  # a patch keeps the image it does not name
                found.append(f"{what} container '{name}' has no image")
            continue
        _, _, tag, digest = parse_image(image)
        if digest:
            continue
        if tag is None:
            found.append(f"{what} container '{name}' image '{image}' has no tag")
        elif tag == "latest":
            found.append(f"{what} container '{name}' image '{image}' uses the :latest tag")
    return found


def registries(what: str, pod: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    allowed = [str(a).rstrip("/") for a in config.get("allowedRegistries") or ALLOWED_REGISTRIES]
    found: list[str] = []
    for name, image in _images(pod):
        if not image:
            continue
        registry, repository, _, _ = parse_image(image)
        full = f"{registry}/{repository}"
        if not any(full.startswith(a + "/") or registry == a for a in allowed):
            found.append(f"{what} container '{name}' image '{image}' is not from an allowed registry")
    return found


def _workloads(
    args: ResourceValidationArgs,
) -> list[tuple[str, Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]]]:
    """(what, the object, its pod spec, check config) of each workload the resource declares: itself, its
    items, or a patch."""
    path = WORKLOADS.get(base_type(args.resource_type))
    if path is None:
        return []
    config = {
        "allowedRegistries": config_value(args, "allowedRegistries", ALLOWED_REGISTRIES),
        "patch": is_patch(args.resource_type),
    }
    return [
        (describe(args.resource_type, each.props, each.name), each.props, mapping(dig(each.props, *path)), config)
        for each in objects(args)
    ]


def _pods(args: ResourceValidationArgs) -> list[tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
    """(what, pod spec, check config) of each workload the resource declares."""
    return [(what, pod, config) for what, _obj, pod, config in _workloads(args)]


def _workload_policy(check: Check) -> Callable[[ResourceValidationArgs, Report], None]:
    def validate(args: ResourceValidationArgs, report: Report) -> None:
        if rendered_by(args.urn):
            return
        for what, pod, config in _pods(args):
            for message in check(what, pod, config):
                report(message)

    return validate


REGISTRY_SCHEMA = PolicyConfigSchema(
    properties={
        "allowedRegistries": string_list(
            ALLOWED_REGISTRIES, description="Registries (or registry/path prefixes) images may come from.", min_items=1
        )
    }
)

workload_no_host_access = ResourceValidationPolicy(
    name="workload-no-host-access",
    description="No workload is privileged, shares the host's network, PID or IPC namespace, mounts a host "
    "path or binds a host port (Pod Security baseline).",
    validate=_workload_policy(host_access),
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name=PSS, reference="baseline"),
)

workload_restricted_security_context = ResourceValidationPolicy(
    name="workload-restricted-security-context",
    description="Every container runs as non-root, without privilege escalation, with ALL capabilities "
    "dropped, the RuntimeDefault seccomp profile (Pod Security restricted) and a read-only root filesystem.",
    validate=_workload_policy(hardened),
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name=PSS, reference="restricted; Kyverno require-ro-rootfs"),
)

workload_resources = ResourceValidationPolicy(
    name="workload-resources",
    description="Every container requests CPU and memory and has a memory limit.",
    validate=_workload_policy(requests_limits),
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="Kyverno", reference="require-pod-requests-limits"),
)

workload_image_pinned = ResourceValidationPolicy(
    name="workload-image-pinned",
    description="Every container image is pinned by a tag other than latest, or by a digest.",
    validate=_workload_policy(pinned),
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="Kyverno", reference="disallow-latest-tag"),
)

workload_image_registry = ResourceValidationPolicy(
    name="workload-image-registry",
    description="Every container image comes from an allowed registry.",
    validate=_workload_policy(registries),
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="Kyverno", reference="restrict-image-registries"),
    config_schema=REGISTRY_SCHEMA,
)

# Not read_only_root: the pinned grafana and authentik charts run with a writable root filesystem.
CHART_CHECKS: list[Check] = [host_access, restricted, requests_limits, pinned, registries]


def _chart_hygiene(args: ResourceValidationArgs, report: Report) -> None:
    source = rendered_by(args.urn)
    if source is None:
        return
    for what, pod, config in _pods(args):
        for check in CHART_CHECKS:
            for message in check(what, pod, config):
                report(f"{message} (rendered by {source.rsplit(':', 1)[-1]})")


chart_workload_hygiene = ResourceValidationPolicy(
    name="chart-workload-hygiene",
    description="Workloads rendered by Helm charts and YAML files meet the same workload rules, a read-only "
    "root filesystem aside (chart children are visible only to pulumi preview).",
    validate=_chart_hygiene,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name=PSS, reference="restricted; Kyverno require-pod-requests-limits"),
    config_schema=REGISTRY_SCHEMA,
)

POLICIES = [
    workload_no_host_access,
    workload_restricted_security_context,
    workload_resources,
    workload_image_pinned,
    workload_image_registry,
    chart_workload_hygiene,
]
