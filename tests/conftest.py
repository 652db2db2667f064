"""Shared fixtures: the real market data in ../shared/data, read in place."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", max_examples=200, deadline=None)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

_DATA = Path(os.environ.get("BARTER_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``../shared/data`` (override with ``BARTER_SHARED_DATA``); skips when it is absent."""
    if not _DATA.is_dir():
        pytest.skip(f"shared market data not found at {_DATA}")
    return _DATA
