"""Backtests shared by the results tests: a synthetic run and one on real BTC-perp minutes."""
from __future__ import annotations

from pathlib import Path
import pytest

import barter
from barter import InstrumentKind, Market
from barter.data import HistoricalCandles, default_candles
from barter.strategy import RSIStrategy

BTC_PERP = "prices/crypto/btc-perp-20211231-20220201_1m.csv"


@pytest.fixture(scope="session")
def synthetic() -> barter.BacktestResult:
    return barter.backtest(default_candles(20_000), RSIStrategy())


@pytest.fixture(scope="session")
def real(data_dir: Path) -> barter.BacktestResult:
    candles = HistoricalCandles.from_csv(data_dir / BTC_PERP)
    return barter.backtest(candles, RSIStrategy(), market=Market("binance", ("btc", "usdt", InstrumentKind.PERPETUAL)))
