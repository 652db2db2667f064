"""Shared fixtures: the real market data in ../shared/data, read in place."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", max_examples=200, deadline=None)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

_CANDIDATES = [Path(p) for p in (os.environ.get("BARTER_SHARED_DATA"),
                                  Path(__file__).resolve().parents[2] / "shared" / "data",
                                  "/work/shared/data") if p]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared real market data (``BARTER_SHARED_DATA``, else ``../shared/data`` beside the
    repository, else ``/work/shared/data``). Skips when absent, except in CI (``BARTER_CI``)."""
    for path in _CANDIDATES:
        if path.is_dir():
            return path
    message = f"shared market data not found in {[str(p) for p in _CANDIDATES]}"
    if os.environ.get("BARTER_CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture()
def redis_server(tmp_path: Path):
    """A real redis-server on a free 127.0.0.1 port with persistence in ``tmp_path``; stopped after."""
    from tests.redis_server import RedisServer

    server = RedisServer(tmp_path).start()
    yield server
    server.stop()
