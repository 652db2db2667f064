"""The progress hook of the compiled loop: when it is called, with what, and its errors."""
from __future__ import annotations

import numpy as np
import pytest

from barter import ConfigError, Engine, InstrumentKind, Market, Trader
from barter.data import HistoricalCandles
from barter.portfolio import Portfolio
from barter.strategy import PrecomputedSignals, Strategy

BTC = Market("binance", ("btc", "usdt", InstrumentKind.SPOT))
ETH = Market("binance", ("eth", "usdt", InstrumentKind.SPOT))
MIN = 60 * 10**9


def candles(n: int, start: int = 0) -> HistoricalCandles:
    c = 100.0 + np.sin(np.arange(n) / 7.0)
    return HistoricalCandles.from_arrays(start + MIN * np.arange(n, dtype=np.int64), c, c, c, c, np.ones(n))


class Null(Strategy):
    def generate_signal(self, market):
        return None


def every_third(n: int) -> PrecomputedSignals:
    masks = np.zeros(n, dtype=np.int8)
    masks[::3], masks[1::3] = 1, 2  # Long, CloseLong, nothing
    return PrecomputedSignals(masks)


def engine(strategy_of, n: int = 1000, markets=(BTC,)) -> Engine:
    traders = [Trader(m, candles(n, start=i), strategy_of(n)) for i, m in enumerate(markets)]
    return Engine(traders, Portfolio(starting_cash=10_000.0))


@pytest.mark.parametrize("strategy_of", [lambda n: Null(), every_third], ids=["python", "precomputed"])
def test_progress_is_called_every_n_events_and_at_the_end(strategy_of):
    calls: list[tuple[int, int]] = []
    e = engine(strategy_of, 1000, (BTC, ETH))
    e.run(lambda done, total: calls.append((done, total)), progress_every=300)
    assert calls == [(300, 2000), (600, 2000), (900, 2000), (1200, 2000), (1500, 2000), (1800, 2000),
                     (2000, 2000)]
    assert e.events == 2000


def test_progress_does_not_change_the_result():
    quiet, watched = engine(every_third), engine(every_third)
    quiet.run()
    watched.run(lambda done, total: None, progress_every=7)
    assert np.array_equal(quiet.equity, watched.equity)
    assert quiet.portfolio.core.n_fills == watched.portfolio.core.n_fills > 0


@pytest.mark.parametrize("strategy_of", [lambda n: Null(), every_third], ids=["python", "precomputed"])
def test_an_exception_in_progress_stops_the_run(strategy_of):
    def boom(done: int, total: int) -> None:
        raise KeyboardInterrupt  # what Ctrl-C during a run looks like to the loop

    e = engine(strategy_of)
    with pytest.raises(KeyboardInterrupt):
        e.run(boom, progress_every=100)


def test_bad_progress_arguments_are_clear_errors():
    with pytest.raises(ConfigError, match="progress must be callable"):
        engine(every_third).run(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="progress_every must be >= 1, was 0"):
        engine(every_third).run(lambda d, t: None, progress_every=0)
