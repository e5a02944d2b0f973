"""Versions pinned in more than one place agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO, UPSTREAM

from components.identity import keycloak_operator
from components.versions import IMAGES

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


def test_keycloak_operator_release_is_the_vendored_crds_tag() -> None:
    """The CRDs are applied from the operator's release tag and validated offline against the vendored copy."""
    tag = IMAGES["keycloak-operator"].tag
    assert keycloak_operator.RELEASE.endswith(f"/keycloak-k8s-resources/{tag}/kubernetes")
    rows = [row for row in (UPSTREAM / "SOURCES.md").read_text().splitlines() if "`crds/k8s.keycloak.org/" in row]
    assert len(rows) == 2
    for row in rows:
        assert f"| `{tag}` |" in row, row
