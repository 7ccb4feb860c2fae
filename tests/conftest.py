"""Shared fixtures. Tests that read ../shared skip cleanly where it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# ../shared beside the checkout; NEWSDEDUP_SHARED overrides (e.g. a CI that mounts it elsewhere).
SHARED = Path(os.environ.get("NEWSDEDUP_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    """Path of ../shared, or skip the test when it is not there."""
    if not (SHARED / "README.md").exists():
        pytest.skip("../shared is not present")
    return SHARED


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """A database of the demo newsroom crawled over loopback (`newsdedup demo`), deduplicated."""
    from tests.crawling import newsdedup

    db = tmp_path_factory.mktemp("demo") / "demo.db"
    result = newsdedup("demo", "--db", str(db))
    assert result.returncode == 0, result.stderr[-3000:]
    return db
