"""Shared test setup: the repo root and the policy pack folder are importable, as Pulumi makes them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

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
