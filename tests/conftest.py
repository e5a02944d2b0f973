"""Shared test setup: the repo root and the policy pack folder are importable, as Pulumi makes them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from offline.preview import PreviewResult

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
UPSTREAM = REPO.parent / "shared" / "upstream"

# Test modules import this file as `conftest` (REPO, FIXTURES, UPSTREAM). A conftest.py in a sub-folder would
# take that module name over (pytest imports each one as `conftest` in folders that are no packages), so
# tests/policy and tests/components keep their shared code in modules of their own names.
for path in (REPO, REPO / "policy"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def staging_preview(tmp_path_factory: pytest.TempPathFactory) -> PreviewResult:
    """The staging stack's offline preview with its policy config, once per session (read-only)."""
    from helpers import run_preview

    result, printed = run_preview(
        REPO, tmp_path_factory.mktemp("staging"), stack="staging", policy_config=REPO / "policy" / "staging.json"
    )
    assert result.exit_code == 0, printed
    return result
