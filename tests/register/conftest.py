"""Fixtures for the register tests (helpers live in nights.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nights import Town


@pytest.fixture
def town(tmp_path: Path) -> Town:
    """A fresh municipality folder and warehouse."""
    return Town(tmp_path)
