"""guardrails/appproject_sources.py: per policy, a compliant fixture passes and a minimal failing fixture gives
exactly its violation."""

from __future__ import annotations

from guardrails import appproject_sources
from policy_fixtures import NAMESPACE, covers, named, tenant_world
from policy_harness import stack_violations


@covers(appproject_sources.appproject_source_repos)
def test_appproject_source_repos() -> None:
    world = tenant_world()
    project = named(world, "payments-project")
    project.props["spec"]["sourceRepos"] = [
        "https://github.com/acme-corp/payments-service.git",
        "https://github.com/acme-corp/*",
        "https://github.com/globex/storefront",
    ]
    expected = "tenant 'payments' deploys only from acme-corp/payments-service"
    assert stack_violations(appproject_sources.appproject_source_repos, world) == [
        (
            f"AppProject 'argocd/payments' allows source repository 'https://github.com/acme-corp/*'; {expected}",
            project.urn,
        ),
        (
            f"AppProject 'argocd/payments' allows source repository 'https://github.com/globex/storefront'; {expected}",
            project.urn,
        ),
    ]


def test_appproject_repository_comes_only_from_the_tenant_namespace() -> None:
    """The project cannot vouch for itself: its labels and description must agree with the namespace's labels."""
    world = tenant_world(extra=())
    project = named(world, "payments-project")
    project.props["metadata"]["labels"].update(
        {"gatehouse.dev/repo-owner": "evil-corp", "gatehouse.dev/repo-name": "payload"}
    )
    project.props["spec"]["description"] = "Tenant payments of organization acme (evil-corp/payload)"
    project.props["spec"]["sourceRepos"] = ["https://github.com/evil-corp/payload"]
    what = "AppProject 'argocd/payments'"
    assert stack_violations(appproject_sources.appproject_source_repos, world) == [
        (
            f"{what}: its labels name the repository 'evil-corp/payload', but tenant 'payments' deploys from "
            "acme-corp/payments-service (its namespace's labels)",
            project.urn,
        ),
        (
            f"{what}: its description names the repository 'evil-corp/payload', but tenant 'payments' deploys from "
            "acme-corp/payments-service (its namespace's labels)",
            project.urn,
        ),
        (
            f"{what} allows source repository 'https://github.com/evil-corp/payload'; tenant 'payments' deploys "
            "only from acme-corp/payments-service",
            project.urn,
        ),
    ]


def test_appproject_repository_unknown_without_the_namespace_labels() -> None:
    world = tenant_world(extra=())
    for label in ("gatehouse.dev/repo-owner", "gatehouse.dev/repo-name"):
        del named(world, "payments", NAMESPACE).props["metadata"]["labels"][label]
    project = named(world, "payments-project")
    expected = [
        (
            "AppProject 'argocd/payments': cannot tell the repository of tenant 'payments' (its namespace "
            "'payments' carries no gatehouse.dev/repo-owner and gatehouse.dev/repo-name labels)",
            project.urn,
        )
    ]
    assert stack_violations(appproject_sources.appproject_source_repos, world) == expected
    # the project's own description no longer tells (it used to be trusted)
    no_namespace = [r for r in world if r.type != NAMESPACE]
    assert stack_violations(appproject_sources.appproject_source_repos, no_namespace) == expected
