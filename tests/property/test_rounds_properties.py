"""Markets on one clock run as rounds in the compiled loop, whose market curves take their points a
block of rounds at a time (``_decide_rounds``, ``feed_run``). The Python path feeds every curve
after every event, so equal results on long stretches (open, flat, mixed, across UTC days) with
commands and progress calls landing mid-round say the blocks change nothing."""
from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from barter import Engine, InstrumentKind, Market, Trader
from barter.data import HistoricalCandles
from barter.engine.commands import ExitAllPositions, ExitPosition
from barter.portfolio import DefaultAllocator, Portfolio
from barter.strategy import Decision, PrecomputedSignals, Signal, Strategy

MIN = 60 * 10**9
HOUR = 60 * MIN
T0 = 1_704_067_200 * 10**9 + 23 * HOUR  # 2024-01-01 23:00 UTC: the first UTC day ends soon
MARKETS = [Market("binance", (f"c{k}", "usdt", InstrumentKind.SPOT)) for k in range(5)]


class Masks(Strategy):
    """The Python path: each event's mask as a Signal."""

    def __init__(self, masks: np.ndarray) -> None:
        self.masks = masks.tolist()
        self.i = 0

    def generate_signal(self, market: Any) -> Signal | None:
        code = self.masks[self.i]
        self.i += 1
        return Signal({Decision(d): 1.0 for d in range(4) if code & (1 << d)}) if code else None


@st.composite
def sticky_masks(draw: Any, n: int) -> np.ndarray:
    """Long and close-long masks with long quiet stretches, so a position stays open (or the market
    flat) across whole blocks of rounds, and sometimes changes within one."""
    masks = np.zeros(n, dtype=np.int8)
    for row in draw(st.lists(st.integers(0, n - 1), max_size=max(1, n // 8))):
        masks[row] = draw(st.sampled_from([Decision.LONG.mask, Decision.CLOSE_LONG.mask]))
    return masks


@st.composite
def one_clock(draw: Any) -> dict:
    n_markets = draw(st.integers(2, 5))
    n = draw(st.integers(1, 90))
    gaps = draw(st.lists(st.sampled_from([MIN, MIN, MIN, HOUR, 9 * HOUR]), min_size=n, max_size=n))
    times = T0 + np.cumsum(np.asarray(gaps, dtype=np.int64))
    closes = [100.0 + np.cumsum(draw(st.lists(st.floats(-2.0, 2.0), min_size=n, max_size=n)))
              for _ in range(n_markets)]
    return {"times": times, "closes": closes, "masks": [draw(sticky_masks(n)) for _ in range(n_markets)],
            "commands": draw(st.lists(st.tuples(st.integers(1, n * n_markets), st.integers(-1, n_markets - 1)),
                                      max_size=3)),
            "every": draw(st.integers(1, 12))}


class Stop(Exception):
    """Raised by the progress hook: the run stops there, mid-round or not."""


def run(case: dict, precomputed: bool, stop_at: int = 0) -> tuple[Engine, Portfolio]:
    traders = []
    for k, (closes, masks) in enumerate(zip(case["closes"], case["masks"])):
        data = HistoricalCandles.from_arrays(case["times"], closes, closes, closes, closes, np.ones(len(closes)))
        traders.append(Trader(MARKETS[k], data, PrecomputedSignals(masks) if precomputed else Masks(masks)))
    portfolio = Portfolio(starting_cash=10_000.0, allocator=DefaultAllocator(100.0, size_decimals=None))
    engine = Engine(traders, portfolio)
    every = case["every"]  # after event k (rounded up to a progress call): exit market m (-1: all)
    commands = {-(-k // every) * every: m for k, m in case["commands"]}

    def progress(done: int, total: int) -> None:
        if done == stop_at:
            raise Stop
        if done in commands:
            m = commands[done]
            engine.send(ExitAllPositions() if m < 0 else ExitPosition(MARKETS[m]))

    try:
        engine.run(progress, progress_every=every)
    except Stop:
        pass
    return engine, portfolio


@given(one_clock(), st.integers(0, 10))
def test_rounds_equal_the_python_path(case: dict, stop: int) -> None:
    """... also when an error (here the progress hook's) stops the run at its ``stop``-th call."""
    stop_at = stop * case["every"]
    pre, pre_pf = run(case, precomputed=True, stop_at=stop_at)
    py, py_pf = run(case, precomputed=False, stop_at=stop_at)
    assert pre.events == py.events
    np.testing.assert_array_equal(pre.time_ns, py.time_ns)
    np.testing.assert_array_equal(pre.equity, py.equity)
    assert pre_pf.core.total_statistics() == py_pf.core.total_statistics()
    for mid in range(len(case["closes"])):
        assert pre_pf.core.market_statistics(mid) == py_pf.core.market_statistics(mid), mid
    assert pre_pf.core.exits_list() == py_pf.core.exits_list()
