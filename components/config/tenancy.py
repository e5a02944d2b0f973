"""Organizations and their tenants, and the namespaces no tenant may take."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from policy import gatehouse_contract as contract

from .apps import ServiceRef
from .fields import DisplayName, DnsLabel, Email, Group, Model, Repo
from .pipelines import TemplateRef, parse_pipeline_spec, pipeline_problems
from .problems import Problem, reject

# Namespaces no tenant or organization may take: Kubernetes' own and the platform's.
# Shared with the policy pack (policy/gatehouse_contract.py), which refuses the same names.
RESERVED_NAMESPACES = frozenset(contract.RESERVED_NAMESPACES)
RESERVED_PREFIXES = (*contract.RESERVED_PREFIXES, *contract.TENANT_RESERVED_PREFIXES)
ORGANIZATION_NAME_MAX = 63 - len(contract.ORGANIZATION_NAMESPACE_PREFIX)


class Organization(Model):
    # its namespace `org-<name>` must fit Kubernetes' 63-character DNS label, hence 59
    name: DnsLabel = Field(max_length=ORGANIZATION_NAME_MAX)
    display_name: DisplayName
    admin_users: list[Email] = Field(min_length=1)
    plan: Literal["free", "pro", "enterprise"] = "free"
    features: list[DnsLabel] = []
    # where the organization's tunnel (`<name>.<domain>`) delivers webhooks, in its namespace
    webhook_service: ServiceRef = ServiceRef(name="el-github-listener", port=8080)

    @property
    def namespace(self) -> str:
        return f"{contract.ORGANIZATION_NAMESPACE_PREFIX}{self.name}"

    @model_validator(mode="after")
    def _not_a_platform_name(self) -> Organization:
        """Its namespace is `org-<name>`, but the bare name is its label, its Keycloak group, its tunnel's
        host and resource names: a platform namespace's name there reads as the platform's own."""
        reached = reserved_reach(self.name, with_glob=False)
        if reached:
            message = f"organization '{self.name}' would take the name of {_reserved(reached)}"
            reject([Problem(("name",), message)], "Organization")
        return self

    @property
    def org_id(self) -> str:
        """A stable id derived from the immutable slug (never from the display name)."""
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{self.name}.organizations.gatehouse"))


PIPELINE_NAME_RE = re.compile(r"[a-z0-9-]+")  # seed 002: pipelineName ^[a-z0-9-]+$
PipelineName = Annotated[str, StringConstraints(pattern=f"^{PIPELINE_NAME_RE.pattern}$", max_length=63)]
PipelineSpec = Annotated[Any, AfterValidator(parse_pipeline_spec)]


class Tenant(Model):
    name: DnsLabel
    organization: DnsLabel
    repo: Repo
    profile: Literal["standard", "elevated"]
    size: Literal["small", "medium", "large"]
    namespaces: list[DnsLabel] = []  # extra namespaces, each `<name>-<suffix>`
    groups: list[Group] = []  # OIDC groups bound to the tenant role; default in `oidc_groups`
    # seed 002's RepoBinding: the Pipeline a push to `repo` starts (config/pipelines.py); all three or none
    pipeline_name: PipelineName | None = None
    template_ref: TemplateRef | None = None
    pipeline_spec: PipelineSpec | None = None

    @property
    def has_pipeline(self) -> bool:
        return self.pipeline_name is not None

    @model_validator(mode="after")
    def _pipeline(self) -> Tenant:
        given = {f: getattr(self, f) is not None for f in ("pipeline_name", "template_ref", "pipeline_spec")}
        if any(given.values()) and not all(given.values()):
            missing = ", ".join(self.key(f) for f, is_set in given.items() if not is_set)
            reject(
                [Problem((self.key(f),), f"a pipeline needs {missing} too") for f, s in given.items() if s], "Tenant"
            )
        if self.pipeline_name and self.template_ref and self.pipeline_spec is not None:
            messages = pipeline_problems(self.pipeline_spec, self.pipeline_name, self.template_ref)
            prefix = f"tenant '{self.name}': invalid pipelineSpec: "
            reject([Problem(("pipelineSpec",), prefix + m) for m in messages], "Tenant")
        return self

    @property
    def repo_url(self) -> str:
        return f"{contract.REPO_URL_PREFIXES[0]}{self.repo}"

    @property
    def namespace_names(self) -> list[str]:
        return [self.name, *(f"{self.name}-{suffix}" for suffix in self.namespaces)]

    @property
    def repo_owner(self) -> str:
        """The GitHub organization (or user) owning the tenant's repository."""
        return self.repo.split("/", 1)[0]

    @property
    def oidc_groups(self) -> list[str]:
        """Explicit `groups`, or `<repo's GitHub org>:<name>`: the group Dex's GitHub connector emits for
        the team named after the tenant in the org owning its repo (Dex lists that team, see dex.py)."""
        return self.groups or [f"{self.repo_owner}:{self.name}"]

    @model_validator(mode="after")
    def _namespaces_are_free(self) -> Tenant:
        """No namespace of the tenant is, or (through its AppProject's `<name>-*`) reaches, a reserved one."""
        name = self.name
        problems = []
        reached = reserved_reach(name, with_glob=True)
        if reached:
            message = f"tenant '{name}' (namespaces '{name}', '{name}-*') would reach {_reserved(reached)}"
            problems.append(Problem(("name",), message))
        for j, full in enumerate(self.namespace_names[1:]):
            if len(full) > 63:
                problems.append(Problem(("namespaces", j), f"namespace '{full}' is longer than 63 characters"))
            reached = reserved_reach(full, with_glob=False)  # `<full>-*` is inside the tenant's glob
            if reached:
                problems.append(Problem(("namespaces", j), f"namespace '{full}' would be {_reserved(reached)}"))
        reject(problems, "Tenant")
        return self


def reserved_reach(namespace: str, with_glob: bool) -> list[str]:
    """Reserved namespaces and `<prefix>*` globs that `namespace` (and, with_glob, `<namespace>-*`) reaches."""
    under = f"{namespace}-"
    prefixes = tuple(p for p in RESERVED_PREFIXES if namespace.startswith(p) or (with_glob and p.startswith(under)))
    names = [
        n
        for n in sorted(RESERVED_NAMESPACES)
        if n == namespace or (with_glob and n.startswith(under) and not n.startswith(prefixes))
    ]
    return names + [f"{p}*" for p in prefixes]


def _reserved(reached: list[str]) -> str:
    quoted = ", ".join(f"'{n}'" for n in reached)
    return f"the reserved namespace{'s' if len(reached) > 1 else ''} {quoted}"
