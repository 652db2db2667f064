"""Equity curves hold one point per time: the equity after the last event at that time. A state in
which only some of a time's events were applied (one market of a minute marked, the others still
at the minute before) never reaches the drawdowns or the daily returns."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barter import Engine, InstrumentKind, Market, Trader
from barter.data import HistoricalCandles
from barter.decision import Decision
from barter.execution import Fees, SimulatedExecution
from barter.portfolio import DefaultAllocator, Portfolio
from barter.statistic import StatisticConfig
from barter.statistic.summary import EquitySummary
from barter.strategy import PrecomputedSignals
from reference.stats import equity_summary

T0 = 1_640_995_200 * 10**9  # 2022-01-01 00:00 UTC
MINUTE = 60 * 10**9
EQUITY_FIELDS = list(EquitySummary.__dataclass_fields__)
CONFIG = StatisticConfig(starting_equity=10_000.0)


def engine_of(markets: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]], fee: float = 0.0) -> Engine:
    """An engine over ``(base, times, closes, decision masks)`` candle markets, 10,000 usdt of cash."""
    traders = [Trader(Market("binance", (base, "usdt", InstrumentKind.SPOT)),
                      HistoricalCandles.from_arrays(t, c, c, c, c, np.ones(len(t))), PrecomputedSignals(d),
                      SimulatedExecution(Fees(exchange=fee)))
               for base, t, c, d in markets]
    portfolio = Portfolio(starting_cash=10_000.0, allocator=DefaultAllocator(2_000.0, size_decimals=None),
                          statistic_config=CONFIG)
    return Engine(traders, portfolio)


def equity_by_event(markets: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]], fee: float = 0.0) -> np.ndarray:
    """The portfolio equity after every event (a Python strategy stream's view of the run)."""
    seen: list[float] = []
    engine = engine_of(markets, fee)
    engine.subscribe(lambda event: seen.append(engine.portfolio.equity) if type(event).__name__ == "MarketEvent" else None)
    engine.run()
    return np.asarray(seen)


def test_a_hedged_pair_has_no_drawdown() -> None:
    """Long one market and short its twin: the portfolio is worth 10,000 at every minute, although
    after each minute's first mark (one leg moved, the other not yet) it was not."""
    n = 200
    times = T0 + np.arange(n, dtype=np.int64) * MINUTE
    closes = 100.0 * np.exp(np.cumsum(np.random.default_rng(7).normal(0.0, 0.01, n)))
    markets = [(base, times, closes, np.eye(1, n, 0, np.int8)[0] * d.mask)
               for base, d in (("aaa", Decision.LONG), ("bbb", Decision.SHORT))]
    per_event = equity_by_event(markets)
    assert per_event.min() < 9_990.0 < 10_010.0 < per_event.max()  # the half-marked states
    engine = engine_of(markets)
    engine.run()
    assert engine.time_ns.tolist() == times.tolist() and set(engine.equity.tolist()) == {10_000.0}
    equity = engine.portfolio.statistics().equity
    assert (equity.max_drawdown, equity.drawdowns, equity.volatility) == (0.0, 0, 0.0)
    assert engine.portfolio.statistics(engine.markets[0]).equity.max_drawdown < -0.005  # a leg alone


@st.composite
def clocks(draw):
    """2-4 markets on one minute clock, each missing some minutes, with gaps of whole days (no
    event: no daily return); random walks and decisions, with flat stretches across days."""
    seed = draw(st.integers(0, 2**32 - 1))
    n_markets = draw(st.integers(2, 4))
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 3_000))
    steps = rng.integers(1, 4, n) * 20 * MINUTE  # days apart too: daily returns
    steps[rng.random(n) < 0.01] += rng.integers(1, 4) * 1440 * MINUTE  # and days without events
    grid = T0 + np.cumsum(steps)
    markets = []
    for m in range(n_markets):
        times = grid[rng.random(n) < rng.uniform(0.5, 1.0)]
        if not len(times):
            times = grid[:1]
        closes = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, len(times))))
        codes = rng.choice([0, Decision.LONG.mask, Decision.CLOSE_LONG.mask, Decision.SHORT.mask,
                            Decision.CLOSE_SHORT.mask], len(times), p=[0.8, 0.05, 0.05, 0.05, 0.05])
        markets.append((f"m{m}", times, closes, codes.astype(np.int8)))
    return markets


@settings(max_examples=25)
@given(clocks())
def test_total_statistics_equal_the_reference_on_each_times_last_equity(markets) -> None:
    """The total curve's figures equal the formula reference fed the equity after each time's last
    event, and do not depend on which market's event came first at a time (up to the float sums)."""
    engine = engine_of(markets, fee=0.001)
    engine.run()
    times, equity = engine.time_ns, engine.equity
    assert len(times) == len(np.unique(np.concatenate([t for _, t, _, _ in markets])))
    per_event = equity_by_event(markets, fee=0.001)
    np.testing.assert_array_equal(per_event[np.append(np.diff(np.sort(np.concatenate(
        [t for _, t, _, _ in markets]))) != 0, True)], equity)  # each time's last event
    want = equity_summary(times, equity, CONFIG.starting_equity, CONFIG.risk_free_return,
                          CONFIG.trading_days_per_year, int(times[-1] - times[0]))
    got = engine.portfolio.statistics().equity
    assert {k: getattr(got, k) for k in want} == pytest.approx(want, rel=1e-9, abs=1e-12)
    reversed_engine = engine_of(markets[::-1], fee=0.001)
    reversed_engine.run()
    again = reversed_engine.portfolio.statistics().equity
    assert {k: getattr(again, k) for k in EQUITY_FIELDS} == pytest.approx(
        {k: getattr(got, k) for k in EQUITY_FIELDS}, rel=1e-9, abs=1e-12)


def test_result_equity_has_one_point_per_time() -> None:
    import barter

    n = 50
    times = T0 + np.arange(n, dtype=np.int64) * MINUTE
    closes = np.linspace(100.0, 120.0, n)
    engine = engine_of([("aaa", times, closes, np.eye(1, n, 0, np.int8)[0] * Decision.LONG.mask),
                        ("bbb", times, closes[::-1].copy(), np.zeros(n, np.int8))])
    engine.run()
    series = barter.BacktestResult(engine).equity
    assert engine.events == 2 * n and len(engine.equity) == len(series) == n and series.index.is_unique
    np.testing.assert_array_equal(series.to_numpy(), engine.equity)
