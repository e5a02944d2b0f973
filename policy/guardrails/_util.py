"""Shared helpers: type filtering (Python CrossGuard has no typed validate), object lookups and tenancy.

Policies receive what the engine sends: resource policies the *inputs* (camelCase wire keys, secrets
already unwrapped, numbers as floats), stack policies every resource with its `parent` linked. Values
that are unknown during a preview raise `UnknownValueError` when read; the analyzer then reports the
policy as "can't run during preview" instead of failing, which is what we want for values a rule
really needs. Walks over free-form data (chart values) use `known_items` to skip unknown leaves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

from gatehouse_contract import (
    NAMESPACE_TYPE,
    ORGANIZATION_LABEL,
    ORGANIZATION_TYPE,
    PROFILE_LABEL,
    TENANT_LABEL,
    TENANT_TYPE,
)
from pulumi_policy import PolicyResource, ResourceValidationArgs, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

# --- type tokens ----------------------------------------------------------------------------------

# Namespace, CustomResourceDefinition and CNPG Cluster: gatehouse_contract (what the program protects).
SERVICE_TYPE = "kubernetes:core/v1:Service"
SERVICE_ACCOUNT_TYPE = "kubernetes:core/v1:ServiceAccount"
SECRET_TYPE = "kubernetes:core/v1:Secret"
CONFIG_MAP_TYPE = "kubernetes:core/v1:ConfigMap"
RESOURCE_QUOTA_TYPE = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE_TYPE = "kubernetes:core/v1:LimitRange"
NETWORK_POLICY_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
ROLE_TYPE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
CLUSTER_ROLE_TYPE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
ROLE_BINDING_TYPE = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
CLUSTER_ROLE_BINDING_TYPE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
APP_PROJECT_TYPE = "kubernetes:argoproj.io/v1alpha1:AppProject"
APPLICATION_TYPE = "kubernetes:argoproj.io/v1alpha1:Application"
GATEWAY_TYPE = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
HTTP_ROUTE_TYPE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
SECURITY_POLICY_TYPE = "kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy"
CLIENT_TRAFFIC_POLICY_TYPE = "kubernetes:gateway.envoyproxy.io/v1alpha1:ClientTrafficPolicy"
ENVOY_PROXY_TYPE = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"
HELM_V4_CHART_TYPE = "kubernetes:helm.sh/v4:Chart"
HELM_V3_CHART_TYPE = "kubernetes:helm.sh/v3:Chart"
HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
YAML_V2_CONFIG_FILE_TYPE = "kubernetes:yaml/v2:ConfigFile"
DNS_RECORD_TYPE = "cloudflare:index/dnsRecord:DnsRecord"
# What installs a Helm chart: its `namespace` and `values` are the chart's.
CHART_TYPES = (HELM_V4_CHART_TYPE, HELM_V3_CHART_TYPE, HELM_RELEASE_TYPE)

# Components whose children are rendered from templates or files, not declared by Gatehouse code.
RENDERING_COMPONENTS = frozenset(
    {
        HELM_V4_CHART_TYPE,
        HELM_V3_CHART_TYPE,
        YAML_V2_CONFIG_FILE_TYPE,
        "kubernetes:yaml/v2:ConfigGroup",
        "kubernetes:yaml:ConfigFile",
        "kubernetes:yaml:ConfigGroup",
        "kubernetes:kustomize/v2:Directory",
        "kubernetes:kustomize:Directory",
    }
)

# report(message, urn=None); the SDK types urn as required, which misleads type checkers.
Report = Callable[..., None]
Validate = Callable[[ResourceValidationArgs, Report], None]


PATCH_SUFFIX = "Patch"
LIST_SUFFIX = "List"
# Kubernetes types that are not objects in the cluster: components that render objects, and Releases.
NON_OBJECT_TYPES = RENDERING_COMPONENTS | {HELM_RELEASE_TYPE}


def base_type(resource_type: str) -> str:
    """The object type behind a `<Kind>Patch` or `<Kind>List` Kubernetes type token; any other token as is."""
    if resource_type.startswith("kubernetes:") and resource_type not in NON_OBJECT_TYPES:
        for suffix in (PATCH_SUFFIX, LIST_SUFFIX):
            if resource_type.endswith(suffix) and not resource_type.endswith(":" + suffix):
                return resource_type[: -len(suffix)]
    return resource_type


def is_patch(resource_type: str) -> bool:
    """A server-side-apply patch: it sets only the fields it names, so a field it omits is not missing."""
    return resource_type.startswith("kubernetes:") and base_type(resource_type) + PATCH_SUFFIX == resource_type


def is_list(resource_type: str) -> bool:
    return resource_type.startswith("kubernetes:") and base_type(resource_type) + LIST_SUFFIX == resource_type


def objects(args: ResourceValidationArgs) -> Iterator[ResourceValidationArgs]:
    """The Kubernetes objects a resource declares: itself, or each item of a `<Kind>List` (typed as `<Kind>`)."""
    if not is_list(args.resource_type):
        yield args
        return
    for _, item in known_elements(sequence(args.props.get("items"))):
        yield ResourceValidationArgs(
            base_type(args.resource_type),
            mapping(item),
            args.urn,
            args.name,
            args.opts,
            args.provider,
            args.get_config(),
            args.stack_tags,
        )


def resource_objects(resource: PolicyResource) -> list[Mapping[str, Any]]:
    """For a stack policy: the objects a resource declares, its props or the items of a `<Kind>List`."""
    if is_list(resource.resource_type):
        return [mapping(item) for _, item in known_elements(sequence(resource.props.get("items")))]
    return [resource.props]


def for_types(*types: str, variants: bool = True) -> Callable[[Validate], Validate]:
    """Run the wrapped resource validation only for the given Pulumi type tokens.

    With `variants` (the default) also for their `Patch` types (same args: check `is_patch` before calling
    an omitted field missing) and `List` types (once per item, typed as the item's kind), so a
    ClusterRoleBindingPatch or a ConfigMapList cannot slip past a rule written for the plain kind.
    """

    def applies_to(resource_type: str) -> bool:
        return resource_type in types or (variants and base_type(resource_type) in types)

    def decorate(fn: Validate) -> Validate:
        @wraps(fn)
        def validate(args: ResourceValidationArgs, report: Report) -> None:
            if args.resource_type in types:
                fn(args, report)
            elif variants and base_type(args.resource_type) in types:
                for each in objects(args):
                    fn(each, report)

        # Read by the offline preview's analyzer, which then skips the call for other types: with
        # 50 policies over 20,000 resources most calls would do nothing (pulumi-policy makes them all).
        validate.applies_to = applies_to  # type: ignore[attr-defined]
        return validate

    return decorate


def string_list(default: list[str], description: str | None = None, min_items: int = 0) -> dict[str, Any]:
    """The config schema of a policy parameter that is a list of strings."""
    schema: dict[str, Any] = {"type": "array", "items": {"type": "string"}, "default": default}
    if min_items:
        schema["minItems"] = min_items
    if description:
        schema["description"] = description
    return schema


def config_value(args: Any, key: str, default: Any) -> Any:
    """A policy's config property (engine-merged with its schema default), or `default` in direct calls."""
    found = (args.get_config() or {}).get(key)
    return default if found is None else found


# --- reading props ----------------------------------------------------------------------------------


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def sequence(value: Any) -> Sequence[Any]:
    return value if isinstance(value, Sequence) and not isinstance(value, str) else []


def strings(value: Any) -> list[str]:
    return [str(v) for v in sequence(value)]


def dig(props: Mapping[str, Any], *path: str) -> Any:
    """props[path[0]][path[1]]..., None when any step is missing or not a mapping."""
    value: Any = props
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def metadata(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(props.get("metadata"))


def object_spec(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(props.get("spec"))


def labels(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(metadata(props).get("labels"))


def object_annotations(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(metadata(props).get("annotations"))


def object_name(props: Mapping[str, Any]) -> str:
    return str(metadata(props).get("name") or "")


def object_namespace(props: Mapping[str, Any]) -> str:
    return str(metadata(props).get("namespace") or "")


def kind_of(resource_type: str) -> str:
    return resource_type.rsplit(":", 1)[-1]


def describe(resource_type: str, props: Mapping[str, Any], fallback: str) -> str:
    """`Kind 'namespace/name'` (or the Pulumi name when the object has no explicit name)."""
    name = object_name(props) or fallback
    namespace = object_namespace(props)
    return f"{kind_of(resource_type)} '{namespace + '/' if namespace else ''}{name}'"


def known_items(value: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """The (key, value) pairs of a mapping whose values are known (unknown ones are skipped), by key.

    Sorted: the wire (a protobuf Struct) does not keep the program's key order.
    """
    for key in sorted(value, key=str):
        try:
            yield str(key), value[key]
        except UnknownValueError:
            continue


def known_elements(value: Sequence[Any]) -> Iterator[tuple[int, Any]]:
    """(index, element) for the known elements of a sequence."""
    for index in range(len(value)):
        try:
            yield index, value[index]
        except UnknownValueError:
            continue


# --- where a resource sits in the component tree ------------------------------------------------------


def urn_types(urn: str) -> list[str]:
    """The qualified type chain of a URN, outermost parent first, the resource's own type last."""
    parts = urn.split("::")
    return parts[2].split("$") if len(parts) >= 4 else []


def urn_name(urn: str) -> str:
    parts = urn.split("::")
    return parts[3] if len(parts) >= 4 else ""


def rendered_by(urn: str) -> str | None:
    """The chart/file component type that rendered this resource, if any ancestor is one."""
    return next((t for t in urn_types(urn)[:-1] if t in RENDERING_COMPONENTS), None)


def under_component(urn: str, component_type: str) -> bool:
    return component_type in urn_types(urn)[:-1]


def tenant_of(props: Mapping[str, Any], urn: str, parent_urn: str | None = None) -> str | None:
    """The tenant an object belongs to: its Tenant parent's name, else its tenant label.

    Any descendant of a Tenant component is tenant business even when its label is missing. A resource
    policy sees only its parent's URN, so the Tenant's name is known only when the Tenant is the direct
    parent or the object is labelled; otherwise this returns "" (tenant unknown, see `require_tenant`).
    The parent wins over the label: the component tree is the program's, a label is just data.
    """
    if parent_urn and urn_types(parent_urn)[-1:] == [TENANT_TYPE]:
        return urn_name(parent_urn)
    label = labels(props).get(TENANT_LABEL)
    if label:
        return str(label)
    if under_component(urn, TENANT_TYPE):
        return ""
    return None


def args_tenant(args: ResourceValidationArgs) -> str | None:
    """The tenant an object belongs to: its namespace's, when a stack policy (see `per_object`) knows it.

    A tenant is known from its namespace (Gatehouse declares every namespace, labelled with its tenant,
    organization and profile): an object in a tenant namespace is that tenant's whatever its own labels or
    parents say. Outside a tenant namespace (or where no namespace is known: a resource policy, a
    cluster-scoped object) an object is still tenant business when a Tenant component holds it or it is
    labelled so (`tenant_of`).
    """
    context = _TENANCY.get()
    if context is not None:
        owner = context.owner(args.props)
        if owner is not None and owner.tenant:
            return owner.tenant
        if context.component_tenant is not None:
            return context.component_tenant
    return tenant_of(args.props, args.urn, args.opts.parent)


def tenant_profile(args: ResourceValidationArgs) -> str:
    """The permission profile an object of a tenant is held to: its namespace's profile label, never the
    object's own (a Role labelled `elevated` in a `standard` namespace is a standard Role); the object's
    label only where no tenant namespace is known; `standard` (the narrower one) when neither says."""
    context = _TENANCY.get()
    owner = context.owner(args.props) if context is not None else None
    if owner is not None and owner.tenant:
        return owner.profile or DEFAULT_PROFILE
    return str(labels(args.props).get(PROFILE_LABEL) or DEFAULT_PROFILE)


def tenant_organization(args: ResourceValidationArgs) -> str | None:
    """The organization of the tenant whose namespace holds the object, when a stack policy knows it."""
    context = _TENANCY.get()
    owner = context.owner(args.props) if context is not None else None
    return owner.organization if owner is not None and owner.tenant else None


def organization_owned(args: ResourceValidationArgs) -> bool:
    """In an organization's namespace (known from the namespace), or labelled with or under an Organization."""
    context = _TENANCY.get()
    owner = context.owner(args.props) if context is not None else None
    if owner is not None and owner.organization and not owner.tenant:
        return True
    return ORGANIZATION_LABEL in labels(args.props) or under_component(args.urn, ORGANIZATION_TYPE)


def require_tenant(args: ResourceValidationArgs, report: Report) -> str | None:
    """args_tenant, reporting (and returning None for) a tenant object whose tenant cannot be told."""
    tenant = args_tenant(args)
    if tenant == "":
        report(
            f"{describe(args.resource_type, args.props, args.name)} is inside a Tenant but its tenant cannot be "
            f"determined (no {TENANT_LABEL} label and not a direct child of the Tenant), so its scope cannot "
            "be checked"
        )
        return None
    return tenant


def is_tenant_namespace(args: ResourceValidationArgs) -> bool:
    """A Namespace labelled with a tenant or declared anywhere under a Tenant component."""
    return args_tenant(args) is not None


def is_organization_namespace(args: ResourceValidationArgs) -> bool:
    """A Namespace labelled with an organization (and no tenant) or declared under an Organization component."""
    if is_tenant_namespace(args):
        return False
    return ORGANIZATION_LABEL in labels(args.props) or under_component(args.urn, ORGANIZATION_TYPE)


def resource_tenant(resource: PolicyResource) -> str | None:
    """tenant_of for a stack-policy resource: the nearest Tenant among its linked parents, else its label."""
    parent = resource.parent
    while parent is not None:
        if parent.resource_type == TENANT_TYPE:
            return parent.name
        parent = parent.parent
    label = labels(resource.props).get(TENANT_LABEL)
    return str(label) if label else None


# --- tenancy from namespaces (stack policies) ------------------------------------------------------------

DEFAULT_PROFILE = "standard"


@dataclass(frozen=True)
class NamespaceOwner:
    """What a Namespace Gatehouse declares says about everything in it (its labels; its Tenant component)."""

    tenant: str | None
    organization: str | None
    profile: str | None


def nearest_tenant(resource: PolicyResource) -> str | None:
    """The name of the nearest Tenant component among a stack-policy resource's parents."""
    parent = resource.parent
    while parent is not None:
        if parent.resource_type == TENANT_TYPE:
            return parent.name
        parent = parent.parent
    return None


def namespace_owners(resources: Iterable[PolicyResource]) -> dict[str, NamespaceOwner]:
    """Namespace name -> its owner, for every Namespace (and NamespaceList item) the stack declares.

    A NamespacePatch is not a declaration: it cannot make or relabel a namespace into someone's.
    """
    found: dict[str, NamespaceOwner] = {}
    for r in resources:
        if base_type(r.resource_type) != NAMESPACE_TYPE or is_patch(r.resource_type):
            continue
        component = nearest_tenant(r)
        for props in resource_objects(r):
            try:
                name = object_name(props)
                own = labels(props)
                tenant = component or (str(own[TENANT_LABEL]) if own.get(TENANT_LABEL) else None)
                organization = str(own[ORGANIZATION_LABEL]) if own.get(ORGANIZATION_LABEL) else None
                profile = str(own[PROFILE_LABEL]) if own.get(PROFILE_LABEL) else None
            except UnknownValueError:
                continue
            if name:
                found[name] = NamespaceOwner(tenant, organization, profile)
    return found


@dataclass(frozen=True)
class _Tenancy:
    namespaces: Mapping[str, NamespaceOwner]
    component_tenant: str | None

    def owner(self, props: Mapping[str, Any]) -> NamespaceOwner | None:
        try:
            return self.namespaces.get(object_namespace(props))
        except UnknownValueError:
            return None


_TENANCY: ContextVar[_Tenancy | None] = ContextVar("gatehouse_tenancy", default=None)
StackValidate = Callable[[StackValidationArgs, Report], None]


def known_namespaces() -> Mapping[str, NamespaceOwner]:
    """Inside a `per_object` stack validation: the stack's namespaces and their owners; else nothing."""
    context = _TENANCY.get()
    return context.namespaces if context is not None else {}


def per_object(validate: Validate) -> StackValidate:
    """A stack validation that runs a per-object validation over every resource it applies to (its
    `for_types`), with the tenancy of each object's namespace known to `args_tenant`, `tenant_profile` and
    `organization_owned`: a resource policy sees one object and so cannot read its namespace's labels.

    A value unknown during preview skips that resource; the first such error is raised once every other
    resource is checked (the analyzer then reports the policy as "can't run during preview", as it would
    for a resource policy).
    """
    applies = getattr(validate, "applies_to", None)

    @wraps(validate)
    def run(args: StackValidationArgs, report: Report) -> None:
        owners = namespace_owners(args.resources)
        config = args.get_config()
        unknown: UnknownValueError | None = None
        for r in args.resources:
            if applies is not None and not applies(r.resource_type):
                continue
            token = _TENANCY.set(_Tenancy(owners, nearest_tenant(r)))
            try:
                each = ResourceValidationArgs(
                    r.resource_type, r.props, r.urn, r.name, r.opts, r.provider, config, args.stack_tags
                )
                validate(each, lambda message, urn=None, at=r.urn: report(message, urn or at))
            except UnknownValueError as error:
                unknown = unknown or error
            finally:
                _TENANCY.reset(token)
        if unknown is not None:
            raise unknown

    run.__dict__.pop("applies_to", None)  # a stack validation runs once, whatever the types (wraps copied it)
    return run


def tenant_namespaces(resources: Iterable[PolicyResource]) -> dict[str, str]:
    """Namespace name -> tenant, for every Namespace (or NamespacePatch) that is a tenant's."""
    found: dict[str, str] = {}
    for r in resources:
        if base_type(r.resource_type) != NAMESPACE_TYPE or is_list(r.resource_type):
            continue
        tenant = resource_tenant(r)
        name = object_name(r.props)
        if tenant is not None and name:
            found[name] = tenant
    return found


def belongs_to_tenant_namespace(name: str, tenant: str) -> bool:
    """`<tenant>` or `<tenant>-<suffix>`."""
    return bool(tenant) and (name == tenant or name.startswith(tenant + "-"))


# --- values -------------------------------------------------------------------------------------------

_QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
_SUFFIX = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}


def quantity(value: Any) -> Decimal | None:
    """A Kubernetes quantity ("500m", "16Gi", 4, 4.0) as a number; None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    match = _QUANTITY_RE.match(str(value).strip())
    if not match:
        return None
    try:
        return Decimal(match.group(1)) * _SUFFIX[match.group(2) or ""]
    except InvalidOperation:
        return None


def truthy(value: Any) -> bool:
    """true / "true" (labels and YAML-ish inputs)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def host_in_domains(host: str, domains: Iterable[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d.lower().rstrip(".") or host.endswith("." + d.lower().rstrip(".")) for d in domains)


def tls_covers(host: str, pattern: str) -> bool:
    """Whether a certificate for `pattern` serves `host`: exact, or `*.domain` covering exactly one label.

    (Gateway API attaches `a.b.domain` to a `*.domain` listener too, but its wildcard certificate
    does not cover it.)
    """
    host, pattern = host.lower().rstrip("."), pattern.lower().rstrip(".")
    if pattern.startswith("*."):
        suffix = pattern[1:]
        return host.endswith(suffix) and "." not in host[: -len(suffix)] and len(host) > len(suffix)
    return host == pattern
