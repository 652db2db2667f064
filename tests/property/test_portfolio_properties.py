"""Hypothesis: the compiled portfolio against the Fraction reference, its balance invariants, and the
Python-strategy path against the precomputed-signals path.

Scenarios are random positive price paths (independent draws or multiplicative random walks) on one
to three markets, with random decision bit masks (0..15: Long 1, CloseLong 2, Short 4, CloseShort 8),
strengths, fee rates, order values, starting cash (including 0) and lot decimals. Example counts come
from the hypothesis profile registered in tests/conftest.py.

Tolerance: "rel 1e-9" of the amounts involved. A difference such as realised PnL or an available
balance can be ~0 while its operands are large; the core's float rounding then scales with the operands,
so each comparison allows 1e-9 x max(|expected|, scale), with scale the largest money amount the
reference has seen (``SeedPortfolio.magnitude``) or the position's own values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Optional

import numpy as np
import pandas as pd
from hypothesis import assume, given, note
from hypothesis import strategies as st

from barter import Engine, InstrumentKind, Market, Trader
from barter._core.position import PortfolioCore
from barter.backtest import BacktestResult
from barter.data import HistoricalCandles
from barter.execution import Fees, SimulatedExecution
from barter.portfolio import DefaultAllocator, DefaultRisk, Portfolio
from barter.statistic import StatisticConfig
from barter.strategy import Decision, PrecomputedSignals, Signal, Strategy
from reference.seed_portfolio import DECISIONS, RefPosition, SeedPortfolio, mask_signals

T0 = 1_640_995_200 * 10**9  # 2022-01-01 UTC
MINUTE = 60 * 10**9
MARKETS = [
    Market("binance", ("btc", "usdt", InstrumentKind.SPOT)),
    Market("binance", ("eth", "usdt", InstrumentKind.SPOT)),
    Market("kraken", ("sol", "usdt", InstrumentKind.PERPETUAL)),  # one quote currency: the portfolio adds PnL as one
]
REL = 1e-9


# --------------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Feed:
    closes: list[float]
    times: list[int]
    masks: list[int]
    strengths: Optional[list[float]]
    fees: tuple[float, float, float]


@dataclass(frozen=True)
class Scenario:
    feeds: list[Feed]
    order_value: float
    starting_cash: float
    size_decimals: Optional[int]

    def events(self) -> list[tuple[int, float, int, int, float]]:
        """(market id, close, time, mask, strength) merged by time; ties in market order (the engine's
        stable merge)."""
        rows = [(f.times[i], mid, i) for mid, f in enumerate(self.feeds) for i in range(len(f.closes))]
        out = []
        for t, mid, i in sorted(rows):
            f = self.feeds[mid]
            out.append((mid, f.closes[i], t, f.masks[i], 1.0 if f.strengths is None else f.strengths[i]))
        return out

    def reference(self) -> SeedPortfolio:
        return SeedPortfolio(len(self.feeds), self.starting_cash, [f.fees for f in self.feeds],
                             self.order_value, self.size_decimals)


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def price_paths(draw: Any, n: int) -> list[float]:
    if draw(st.booleans()):
        return draw(st.lists(floats(0.01, 1e5), min_size=n, max_size=n))
    p0 = draw(floats(0.1, 5e4))
    steps = draw(st.lists(floats(-0.25, 0.25), min_size=n - 1, max_size=n - 1))
    return [p0] + [p0 * math.exp(s) for s in np.cumsum(steps).tolist()]


masks_st = st.one_of(st.integers(0, 15), st.sampled_from([0, 0, 1 | 8, 2 | 4]))  # 1|8, 2|4: the RSI pair
rates_st = st.one_of(st.sampled_from([0.0, 0.001, 0.0005, 0.1, 0.05]), floats(0.0, 0.2))


@st.composite
def scenarios(draw: Any, max_markets: int = 1, max_events: int = 40) -> Scenario:
    feeds = []
    # one clock: every market's times are a stretch of the same list (repeats allowed), so the
    # precomputed loop's rounds of markets on one clock and its fallbacks both run
    clock = draw(st.none() | st.lists(st.sampled_from([1, 1, 1, 2, 0]), min_size=max_events + 2,
                                      max_size=max_events + 2))
    for _ in range(draw(st.integers(1, max_markets))):
        n = draw(st.integers(1, max_events))
        closes = draw(price_paths(n))
        if clock is None:
            gaps = draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))
        else:
            start = draw(st.integers(0, 2))
            gaps = [sum(clock[:start + 1])] + clock[start + 1:start + n]
        times = (T0 + MINUTE * np.cumsum(gaps)).tolist()
        masks = draw(st.lists(masks_st, min_size=n, max_size=n))
        strengths = draw(st.none() | st.lists(floats(0.05, 5.0), min_size=n, max_size=n))
        feeds.append(Feed(closes, times, masks, strengths, draw(st.tuples(rates_st, rates_st, rates_st))))
    return Scenario(
        feeds=feeds,
        order_value=draw(st.sampled_from([100.0, 1000.0]) | floats(1.0, 1e5)),
        starting_cash=draw(st.sampled_from([0.0, 10_000.0]) | floats(1.0, 1e6)),
        size_decimals=draw(st.sampled_from([4, 4, 0, 2, 8, None])),
    )


# --------------------------------------------------------------------------------------------------
# Running the engine both ways
# --------------------------------------------------------------------------------------------------
class MaskStrategy(Strategy):
    """The Python path: Signals built from the same masks, one per event of this market."""

    def __init__(self, feed: Feed, on_event: Optional[Any] = None) -> None:
        self.feed = feed
        self.i = 0
        self.on_event = on_event

    def generate_signal(self, market: Any) -> Optional[Signal]:
        i = self.i
        self.i += 1
        assert market.close == self.feed.closes[i] and market.time_ns == self.feed.times[i]
        if self.on_event is not None:
            self.on_event(market)
        code = self.feed.masks[i]
        if not code:
            return None
        s = 1.0 if self.feed.strengths is None else self.feed.strengths[i]
        return Signal({d: s for d in Decision if code & d.mask})


def build_portfolio(sc: Scenario) -> Portfolio:
    return Portfolio(starting_cash=sc.starting_cash, allocator=DefaultAllocator(sc.order_value, sc.size_decimals),
                     risk=DefaultRisk(), statistic_config=StatisticConfig(starting_equity=sc.starting_cash or 1.0))


def run_engine(sc: Scenario, python_path: bool, on_event: Optional[Any] = None,
               portfolio: Optional[Portfolio] = None) -> Engine:
    traders = []
    for mid, f in enumerate(sc.feeds):
        c = np.array(f.closes)
        data = HistoricalCandles.from_arrays(np.array(f.times, np.int64), c, c, c, c, np.ones(len(c)))
        if python_path:
            strategy: Strategy = MaskStrategy(f, on_event)
        else:
            strategy = PrecomputedSignals(np.array(f.masks, np.int8),
                                          None if f.strengths is None else np.array(f.strengths))
        traders.append(Trader(MARKETS[mid], data, strategy, SimulatedExecution(Fees(*f.fees))))
    engine = Engine(traders, portfolio or build_portfolio(sc))
    engine.run()
    return engine


# --------------------------------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------------------------------
def near(actual: float, expected: Fraction | float, scale: Fraction | float = 0.0) -> bool:
    e = float(expected)
    return abs(actual - e) <= REL * max(abs(e), float(scale))


def assert_near(what: str, actual: float, expected: Fraction | float, scale: Fraction | float = 0.0) -> None:
    assert near(actual, expected, scale), (
        f"{what}: core {actual!r} != reference {float(expected)!r} (scale {float(scale):.6g}, "
        f"rel err {abs(actual - float(expected)) / max(abs(float(expected)), float(scale), 1e-300):.3g})")


def position_scale(p: RefPosition) -> Fraction:
    return (p.enter_value_gross + p.current_value_gross + p.exit_value_gross
            + p.enter_fees_total + p.exit_fees_total)


def assert_position(tag: str, d: dict[str, Any], p: RefPosition, exited: bool,
                    balance_scale: Fraction | float = 0.0) -> None:
    """A core position/exit dict (``PortfolioCore.position`` / ``exits_list``) against the reference;
    ``balance_scale`` is the magnitude of the balances (for the exit balance)."""
    scale = position_scale(p)
    assert d["market_id"] == p.market_id, tag
    assert d["side"] == p.side, tag
    assert_near(f"{tag} quantity", d["quantity"], p.quantity)
    assert d["enter_time_ns"] == p.enter_time_ns, tag
    assert d.get("exit_time_ns", d["update_time_ns"]) == p.update_time_ns, tag
    for k, name in enumerate(("exchange", "slippage", "network")):
        assert_near(f"{tag} enter fee {name}", d["enter_fees"][k], getattr(p.enter_fees, name), p.enter_value_gross)
    assert_near(f"{tag} enter_fees_total", d["enter_fees_total"], p.enter_fees_total, p.enter_value_gross)
    assert_near(f"{tag} enter_avg_price_gross", d["enter_avg_price_gross"], p.enter_avg_price_gross)
    assert_near(f"{tag} enter_value_gross", d["enter_value_gross"], p.enter_value_gross)
    assert_near(f"{tag} current_symbol_price", d["current_symbol_price"], p.current_symbol_price)
    assert_near(f"{tag} current_value_gross", d["current_value_gross"], p.current_value_gross)
    assert_near(f"{tag} unrealised", d["unrealised_pnl"], p.unrealised_profit_loss, scale)
    if not exited:
        assert "exit_time_ns" not in d, tag
        return
    assert d["exit_time_ns"] == p.exit_time_ns, tag
    for k, name in enumerate(("exchange", "slippage", "network")):
        assert_near(f"{tag} exit fee {name}", d["exit_fees"][k], getattr(p.exit_fees, name), p.exit_value_gross)
    assert_near(f"{tag} exit_fees_total", d["exit_fees_total"], p.exit_fees_total, p.exit_value_gross)
    assert_near(f"{tag} exit_avg_price_gross", d["exit_avg_price_gross"], p.exit_avg_price_gross)
    assert_near(f"{tag} exit_value_gross", d["exit_value_gross"], p.exit_value_gross)
    assert_near(f"{tag} realised", d["realised_pnl"], p.realised_profit_loss, scale)
    assert_near(f"{tag} pnl_return", d["realised_pnl"] / d["enter_value_gross"], p.pnl_return,
                scale / p.enter_value_gross)
    # exit_balance: (fill time, total + realised, available before the exit's release); the hand-worked
    # case is tests/unit/portfolio/test_accounting.py::test_exit_balance_is_the_balance_handed_to_position_exit.
    assert p.exit_balance is not None
    t, total, available = d["exit_balance"]
    assert t == p.exit_balance.time_ns, tag
    assert_near(f"{tag} exit_balance.total", total, p.exit_balance.total, balance_scale)
    assert_near(f"{tag} exit_balance.available", available, p.exit_balance.available, balance_scale)


def assert_matches_reference(core: PortfolioCore, ref: SeedPortfolio, tag: str = "") -> None:
    """Fills, open and exited positions, balance, equity and refusals of the core vs the reference."""
    scale = ref.magnitude
    cols = core.fills_columns()
    assert len(cols["price"]) == len(ref.fills), f"{tag}: core has {len(cols['price'])} fills, reference {len(ref.fills)}"
    for i, f in enumerate(ref.fills):
        ft = f"{tag} fill {i}"
        assert cols["market_id"][i] == f.market_id, ft
        assert cols["decision"][i] == f.decision, ft
        assert cols["time_ns"][i] == f.time_ns, ft
        # The event's close; a force exit fills at the last marked price, which before any mark is the
        # entry's |value / qty| (float-rounded in the core), so this is "near", not exact.
        assert_near(f"{ft} price", cols["price"][i], f.price)
        assert_near(f"{ft} quantity", cols["quantity"][i], f.quantity)
        assert_near(f"{ft} fill_value_gross", cols["fill_value_gross"][i], f.fill_value_gross)
        for name in ("exchange", "slippage", "network"):
            assert_near(f"{ft} fee {name}", cols[f"fee_{name}"][i], getattr(f.fees, name), f.fill_value_gross)
    exits = core.exits_list()
    assert len(exits) == len(ref.exited), tag
    for i, (d, p) in enumerate(zip(exits, ref.exited)):
        assert_position(f"{tag} exit {i}", d, p, exited=True, balance_scale=scale)
    for mid in range(ref.n_markets):
        d = core.position(mid)
        p = ref.position(mid)
        assert (d is None) == (p is None), f"{tag} market {mid}: core open {d is not None}, reference {p is not None}"
        if p is not None:
            assert_position(f"{tag} open {mid}", d, p, exited=False)
    t, total, available = core.balance
    assert t == ref.balance.time_ns, tag
    assert_near(f"{tag} balance.total", total, ref.balance.total, scale)
    assert_near(f"{tag} balance.available", available, ref.balance.available, scale)
    assert_near(f"{tag} equity", core.equity_value, ref.equity, scale)
    assert core.n_refused == ref.refused, tag


def assert_invariants(portfolio: Portfolio, starting_cash: float) -> None:
    """total = cash + Σ realised; available = total − Σ(entry value + entry fees) of open positions;
    equity = total + Σ unrealised of open positions."""
    b = portfolio.balance
    exited = portfolio.exited_positions()
    opened = portfolio.open_positions()
    scale = max([abs(starting_cash), abs(b.total), abs(b.available)]
                + [p.enter_value_gross + p.current_value_gross + p.exit_value_gross for p in exited + opened])
    assert_near("total = starting cash + Σ realised", b.total,
                math.fsum([starting_cash] + [p.realised_profit_loss for p in exited]), scale)
    assert_near("available = total - Σ(entry value + fees) of open", b.available,
                math.fsum([b.total] + [-(p.enter_value_gross + p.enter_fees_total) for p in opened]), scale)
    assert_near("equity = total + Σ unrealised of open", portfolio.equity,
                math.fsum([b.total] + [p.unrealised_profit_loss for p in opened]), scale)
    for p in opened:
        assert p.is_open and p.exit_balance is None
    for p in exited:
        assert not p.is_open and p.unrealised_profit_loss == p.realised_profit_loss


# --------------------------------------------------------------------------------------------------
# (1) the core equals the Fraction reference
# --------------------------------------------------------------------------------------------------
@given(scenarios(max_markets=3))
def test_engine_fills_positions_balances_equal_reference(sc: Scenario) -> None:
    engine = run_engine(sc, python_path=False)
    ref = sc.reference()
    ref_equity, ref_times = [], []
    for mid, close, t, mask, strength in sc.events():
        ref.on_event(mid, close, t, mask_signals(mask, strength) if mask else None)
        if ref_times and ref_times[-1] == t:  # one point per time: the equity after its last event
            ref_equity[-1] = ref.equity
        else:
            ref_equity.append(ref.equity)
            ref_times.append(t)
    note(f"fills: {len(ref.fills)}, exits: {len(ref.exited)}, refused: {ref.refused}")
    assume(ref.float_dependent == 0)
    assert_matches_reference(engine.portfolio.core, ref, "end")
    assert len(engine.equity) == len(ref_equity) and engine.time_ns.tolist() == ref_times
    for i, (got, want) in enumerate(zip(engine.equity.tolist(), ref_equity)):
        assert_near(f"equity at time {ref_times[i]}", got, want, ref.magnitude)


@given(scenarios(max_markets=3), st.data())
def test_core_steps_equal_reference_after_every_event(sc: Scenario, data: Any) -> None:
    # PortfolioCore driven directly, event by event, with force exits (the seed's SignalForceExit)
    # arriving between events; every state is compared, not just the last.
    core = PortfolioCore(len(sc.feeds), sc.starting_cash, [f.fees for f in sc.feeds], sc.order_value,
                         sc.size_decimals, sc.starting_cash or 1.0)
    ref = sc.reference()
    for step, (mid, close, t, mask, strength) in enumerate(sc.events()):
        core.mark(mid, close, t)
        ref.mark(mid, close, t)
        if mask:
            signals = mask_signals(mask, strength)
            filled = core.signal(mid, [signals.get(d, math.nan) for d in DECISIONS], close, t)
            expected = ref.signal(mid, signals, close, t)
            assume(ref.float_dependent == 0)
            assert filled == expected
        action = data.draw(st.sampled_from(["none"] * 8 + ["force_exit", "force_exit_at_event_time"]))
        if action != "none":
            stamp = t if action == "force_exit_at_event_time" else None
            assert core.force_exit(mid, -1 if stamp is None else stamp) == ref.force_exit(mid, stamp)
        assert_matches_reference(core, ref, f"step {step}")


# --------------------------------------------------------------------------------------------------
# (2) balance invariants, checked at every event through the public API
# --------------------------------------------------------------------------------------------------
@given(scenarios(max_markets=2))
def test_balance_invariants_hold_at_every_event(sc: Scenario) -> None:
    portfolio = build_portfolio(sc)
    seen = []

    def check(_market: Any) -> None:  # the strategy sees the state left by the previous event
        assert_invariants(portfolio, sc.starting_cash)
        seen.append(1)

    run_engine(sc, python_path=True, on_event=check, portfolio=portfolio)
    assert len(seen) == sum(len(f.closes) for f in sc.feeds)
    assert_invariants(portfolio, sc.starting_cash)
    exited = portfolio.exited_positions()
    assert [p.exit_time_ns for p in exited] == sorted(p.exit_time_ns for p in exited)  # in exit order
    for p in exited + portfolio.open_positions():
        assert (p.quantity > 0) == (p.side > 0) and p.quantity != 0.0


# --------------------------------------------------------------------------------------------------
# (3) the Python path and the precomputed path agree exactly
# --------------------------------------------------------------------------------------------------
def results(engine: Engine) -> BacktestResult:
    """``BacktestResult``'s fills/positions tables without its summary (``BacktestResult(engine)``
    also builds the statistics summary, which is not under test here; see
    tests/unit/portfolio/test_accounting.py::test_summary_of_a_large_gain_within_a_day_does_not_crash)."""
    result = BacktestResult.__new__(BacktestResult)
    result.engine, result.portfolio = engine, engine.portfolio
    return result


@given(scenarios(max_markets=3))
def test_python_path_equals_precomputed_path(sc: Scenario) -> None:
    py, pre = results(run_engine(sc, python_path=True)), results(run_engine(sc, python_path=False))
    pd.testing.assert_frame_equal(py.fills, pre.fills, check_exact=True)
    assert py.portfolio.balance == pre.portfolio.balance
    assert py.portfolio.equity == pre.portfolio.equity
    np.testing.assert_array_equal(py.engine.equity, pre.engine.equity)
    pd.testing.assert_frame_equal(py.positions, pre.positions, check_exact=True)
    assert py.portfolio.core.n_refused == pre.portfolio.core.n_refused
    np.testing.assert_array_equal(py.engine.time_ns, pre.engine.time_ns)
    assert py.portfolio.core.total_statistics() == pre.portfolio.core.total_statistics()
    for mid in range(len(sc.feeds)):
        assert py.portfolio.core.market_statistics(mid) == pre.portfolio.core.market_statistics(mid)
