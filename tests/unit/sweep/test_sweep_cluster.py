"""``RayExecutor.open`` against a stand-in ``ray`` module: the ``ray.init`` options per address."""
from __future__ import annotations

import sys
from typing import Any, Callable, Optional

import numpy as np
import pytest

from barter.data.historic import HistoricalCandles
from barter.errors import ConfigError
from barter.sweep import RayExecutor


class FakeRay:
    """Records ``ray.init`` calls; stores objects as themselves."""

    def __init__(self) -> None:
        self.inits: list[tuple[Optional[str], dict[str, Any]]] = []

    def is_initialized(self) -> bool:
        return bool(self.inits)

    def init(self, address: Optional[str] = None, **options: Any) -> None:
        self.inits.append((address, options))

    def put(self, value: Any) -> Any:
        return value

    def remote(self, **_: Any) -> Callable[[Any], Any]:
        return lambda f: f

    def shutdown(self) -> None:
        self.inits.clear()


@pytest.fixture
def fake_ray(monkeypatch: pytest.MonkeyPatch) -> FakeRay:
    fake = FakeRay()
    monkeypatch.setitem(sys.modules, "ray", fake)
    return fake


@pytest.fixture
def candles() -> HistoricalCandles:
    close = np.linspace(100.0, 110.0, 10)
    return HistoricalCandles.from_arrays(np.arange(10, dtype=np.int64) * 60 * 10**9, close, close + 1,
                                         close - 1, close)


def test_a_ray_client_gets_no_local_driver_options(fake_ray: FakeRay, candles: HistoricalCandles) -> None:
    with RayExecutor("ray://head:10001", namespace="sweeps").open(candles):
        assert fake_ray.inits == [("ray://head:10001", {"namespace": "sweeps"})]


def test_a_local_ray_starts_without_dashboard(fake_ray: FakeRay, candles: HistoricalCandles) -> None:
    with RayExecutor(None).open(candles):
        assert fake_ray.inits == [(None, {"include_dashboard": False, "log_to_driver": False})]
    assert fake_ray.inits == []  # the Ray it started was shut down


def test_a_missing_ray_client_package_is_named_before_connecting(fake_ray: FakeRay, candles: HistoricalCandles,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "grpc", None)  # import grpc raises ImportError
    with pytest.raises(ConfigError, match=r"ray://head:10001 .*pip install 'ray\[client\]' \(grpcio\)") as info:
        RayExecutor("ray://head:10001").open(candles)
    assert "RAY_AUTH_MODE=token" in str(info.value) and "RAY_AUTH_TOKEN" in str(info.value)
    assert fake_ray.inits == []
