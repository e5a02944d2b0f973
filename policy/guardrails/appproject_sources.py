"""What a tenant's AppProject deploys from: exactly the tenant's repository, as the tenant's namespace records it.

Anchors: Argo CD v3.4.4 docs/user-guide/projects.md (a project restricts "what may be deployed (trusted Git
source repositories)"; the `default` project allows every repository).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import gatehouse_contract as contract
from gatehouse_contract import NAMESPACE_TYPE, REPO_NAME_LABEL, REPO_OWNER_LABEL
from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._util import (
    APP_PROJECT_TYPE,
    Report,
    base_type,
    config_value,
    describe,
    is_patch,
    labels,
    object_name,
    object_spec,
    resource_objects,
    resource_tenant,
    sequence,
    string_list,
)

REPO_URL_PREFIXES = list(contract.REPO_URL_PREFIXES)
DESCRIPTION_REPO_RE = re.compile(r"\(([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)\)\s*$")


def _labelled_repo(props: Mapping[str, Any]) -> str | None:
    """`owner/name` from the repo-owner and repo-name labels, None without both."""
    owner, name = labels(props).get(REPO_OWNER_LABEL), labels(props).get(REPO_NAME_LABEL)
    return f"{owner}/{name}" if owner and name else None


def _claimed_repos(project: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(where, `owner/name`) for each repository the AppProject itself names: its labels, its description."""
    found = []
    labelled = _labelled_repo(project)
    if labelled:
        found.append(("labels name", labelled))
    match = DESCRIPTION_REPO_RE.search(str(object_spec(project).get("description") or ""))
    if match:
        found.append(("description names", match.group(1)))
    return found


def _allowed_urls(repo: str, prefixes: list[str]) -> set[str]:
    bases = {repo} if "://" in repo else {prefix + repo for prefix in prefixes}
    return bases | {base + ".git" for base in bases}


def _source_repos(args: StackValidationArgs, report: Report) -> None:
    prefixes = list(config_value(args, "repoUrlPrefixes", REPO_URL_PREFIXES))
    # The tenant's repository is what its own namespace `<tenant>` records: the AppProject is what is being
    # checked, so what it says about itself proves nothing.
    home = {
        tenant: r.props
        for r in args.resources
        if r.resource_type == NAMESPACE_TYPE
        and (tenant := resource_tenant(r)) is not None
        and object_name(r.props) == tenant
    }
    for r in sorted(args.resources, key=lambda r: r.urn):
        if base_type(r.resource_type) != APP_PROJECT_TYPE:
            continue
        tenant = resource_tenant(r)
        if tenant is None:
            continue
        patch = is_patch(r.resource_type)
        for props in resource_objects(r):
            what = describe(r.resource_type, props, r.name)
            repo = _labelled_repo(home[tenant]) if tenant in home else None
            if repo is None:
                report(
                    f"{what}: cannot tell the repository of tenant '{tenant}' (its namespace '{tenant}' carries "
                    f"no {REPO_OWNER_LABEL} and {REPO_NAME_LABEL} labels)",
                    r.urn,
                )
                continue
            for where, claimed in _claimed_repos(props):
                if claimed != repo:
                    report(
                        f"{what}: its {where} the repository '{claimed}', but tenant '{tenant}' deploys from "
                        f"{repo} (its namespace's labels)",
                        r.urn,
                    )
            sources = [str(s) for s in sequence(object_spec(props).get("sourceRepos"))]
            if not sources and not patch:
                report(f"{what} names no source repository", r.urn)
            allowed = _allowed_urls(repo, prefixes)
            for source in sources:
                if source not in allowed:
                    report(
                        f"{what} allows source repository '{source}'; tenant '{tenant}' deploys only from {repo}",
                        r.urn,
                    )


appproject_source_repos = StackValidationPolicy(
    name="appproject-source-repos",
    description="A tenant AppProject's sourceRepos are exactly the tenant's repository (with or without "
    ".git) as the repo labels of its namespace `<tenant>` record it, never '*'; the project's own labels and "
    "description agree with it.",
    validate=_source_repos,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="Argo CD", reference="projects.md: sourceRepos"),
    config_schema=PolicyConfigSchema(
        properties={
            "repoUrlPrefixes": string_list(REPO_URL_PREFIXES),
        }
    ),
)


POLICIES = [appproject_source_repos]
