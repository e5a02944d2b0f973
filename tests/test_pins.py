"""Versions pinned in more than one place agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import REPO, UPSTREAM

from components.versions import CHARTS, IMAGES

PIN_RE = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def pins(path: Path) -> dict[str, str]:
    """Normalized package name -> exact version; any line that is not `name==version` fails the test."""
    found: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN_RE.fullmatch(line)
        assert match, f"{path.name}:{number}: '{line}' is not an exact pin (name==version)"
        found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return found


def test_pin_parsing(tmp_path: Path) -> None:
    sample = tmp_path / "requirements.txt"
    sample.write_text("# comment\nPyYAML==6.0.3\npulumi_policy==1.21.0  # why\n\n")
    assert pins(sample) == {"pyyaml": "6.0.3", "pulumi-policy": "1.21.0"}
    sample.write_text("pulumi>=3\n")
    with pytest.raises(AssertionError, match="not an exact pin"):
        pins(sample)


def test_policy_pack_pins_match_the_project() -> None:
    """The pack's own virtualenv (policy/requirements.txt) runs the same SDK the program and tests do."""
    project, pack = pins(REPO / "requirements.txt"), pins(REPO / "policy" / "requirements.txt")
    assert {"pulumi", "pulumi-policy"} <= set(pack)
    mismatched = {name: (version, project.get(name)) for name, version in pack.items() if project.get(name) != version}
    assert not mismatched, f"policy/requirements.txt pin -> requirements.txt pin: {mismatched}"


@pytest.mark.parametrize(("image", "chart"), [("keycloak", "keycloakx"), ("argocd", "argo-cd")])
def test_images_are_their_charts_app_versions(image: str, chart: str) -> None:
    """The image pinned beside a chart is the one the vendored chart was released with (its appVersion)."""
    vendored = yaml.safe_load((UPSTREAM / "charts" / chart / "Chart.yaml").read_text())
    assert CHARTS[chart].version == vendored["version"]
    assert IMAGES[image].tag == str(vendored["appVersion"])


def test_keycloak_config_cli_is_built_for_the_pinned_keycloak_minor() -> None:
    """adorsys/keycloak-config-cli tags are `<release>-<Keycloak version>`: the release built against the
    Keycloak minor Gatehouse runs (v6.5.0's pom.xml and CI matrix: 26.5.4)."""
    built_for = IMAGES["keycloak-config-cli"].tag.split("-", 1)[1]
    assert built_for.split(".")[:2] == IMAGES["keycloak"].tag.split(".")[:2]


def test_argocd_redis_is_the_charts_redis_from_an_allowed_registry() -> None:
    """argo-helm argo-cd-10.1.1 values.yaml `redis.image`: ecr-public.aws.com/docker/library/redis, which
    the registry rule (workload-image-registry, chart-workload-hygiene) refuses; the same official image
    and tag from Docker Hub instead."""
    vendored = yaml.safe_load((UPSTREAM / "charts" / "argo-cd" / "values.yaml").read_text())["redis"]["image"]
    assert vendored["repository"].endswith("/docker/library/redis")
    assert (IMAGES["argocd-redis"].repository, IMAGES["argocd-redis"].tag) == (
        "docker.io/library/redis",
        vendored["tag"],
    )
