"""The trading summary (``barter.statistic.summary``): hand-worked per-trade figures, equity-curve
ratios against empyrical, and a backtest read live from inside the strategy and after the run."""
from __future__ import annotations

import math
import warnings
from typing import Any

import empyrical
import numpy as np
import pytest

from barter import ConfigError, Engine, InstrumentKind, Market, Trader
from barter._core.stats import EquityStats, TradeStats
from barter.data import HistoricalCandles
from barter.execution import Fees, SimulatedExecution
from barter.portfolio import DefaultAllocator, Portfolio
from barter.statistic import StatisticConfig, SummaryTable, TradingSummary
from barter.statistic.summary import EquitySummary
from barter.strategy import Signal, Strategy
from reference.stats import RefTrade, daily_returns, equity_summary, trade_summary

H = 3600 * 10**9
DAY = 24 * H
T0 = 1_640_995_200 * 10**9  # 2022-01-01 00:00 UTC
BTC = Market("binance", ("btc", "usdt", InstrumentKind.SPOT))
ETH = Market("binance", ("eth", "usdt", InstrumentKind.SPOT))
TRADE_FIELDS = [f for f in TradingSummary.__dataclass_fields__ if f not in ("id", "equity")]
EQUITY_FIELDS = list(EquitySummary.__dataclass_fields__)


def fields_of(summary: Any, names: list[str]) -> dict[str, Any]:
    return {k: getattr(summary, k) for k in names}


def state_of(trades: TradeStats, equity: EquityStats, first_ns: int, last_ns: int, open_ns: int = 0) -> dict:
    """A ``PortfolioCore`` statistics state assembled from the standalone accumulators."""
    return {"trades": trades.state(), "equity": equity.state(), "first_ns": first_ns, "last_ns": last_ns,
            "open_holding_ns": open_ns}


# --------------------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{"starting_equity": 0.0}, {"starting_equity": math.nan},
                                {"trading_days_per_year": 0}, {"trading_days_per_year": 365.0},
                                {"risk_free_return": math.inf}])
def test_statistic_config_rejects_bad_values(kw):
    with pytest.raises(ConfigError):
        StatisticConfig(**kw)


# --------------------------------------------------------------------------------------------------
# Per-trade figures, by hand
# --------------------------------------------------------------------------------------------------
HAND_TRADES = [  # start 1000; (enter, exit, return, pnl, balance total after the exit)
    RefTrade(T0, T0 + DAY, 0.1, 100.0, 1100.0),
    RefTrade(T0 + DAY, T0 + 2 * DAY, -0.05, -55.0, 1045.0),
    RefTrade(T0 + 2 * DAY, T0 + 4 * DAY, 0.02, 20.9, 1065.9),
    RefTrade(T0 + 4 * DAY, T0 + 5 * DAY, -0.0, -0.0, 1065.9),   # -0.0 is a loss, as the seed
]


def _summary(trades, start=1000.0, rfr=0.0, tdpy=365, first=T0, last=None) -> TradingSummary:
    stats = TradeStats(start, rfr)
    for t in trades:
        stats.push(t.enter_ns, t.exit_ns, t.pnl_return, t.pnl, t.equity)
    last = last if last is not None else max([first] + [t.exit_ns for t in trades])
    config = StatisticConfig(starting_equity=start, trading_days_per_year=tdpy, risk_free_return=rfr)
    return TradingSummary.from_state("X", state_of(stats, EquityStats(start, rfr), first, last), config)


def test_hand_worked_trading_summary():
    s = _summary(HAND_TRADES)
    # 4 trades, wins 0.1 and 0.02, losses -0.05 and -0.0; first entry to last exit: 5 days
    assert (s.trades, s.wins, s.losses, s.win_rate, s.trading_days) == (4, 2, 2, 0.5, 5)
    assert s.trades_per_day == pytest.approx(4 / 5, rel=1e-15)
    mean = 0.07 / 4                                              # 0.0175
    std = math.sqrt((0.01 + 0.0025 + 0.0004 + 0.0) / 4 - mean**2)  # population: 0.0540254...
    down = math.sqrt((0.05**2 + 0.0) / 4)                        # all four trades in n: 0.025
    assert s.mean_return == pytest.approx(mean, rel=1e-14) and s.std_dev_return == pytest.approx(std, rel=1e-12)
    assert s.total_return == pytest.approx(0.07, rel=1e-14)
    assert (s.loss_mean_return, s.biggest_win, s.biggest_loss) == (pytest.approx(-0.025), 0.1, -0.05)
    # gross profit 100 + 20.9 = 120.9, gross loss -55 (+ -0.0)
    assert s.total_pnl == pytest.approx(65.9, rel=1e-14) and s.expectancy == pytest.approx(65.9 / 4, rel=1e-14)
    assert (s.avg_win, s.avg_loss) == (pytest.approx(60.45, rel=1e-14), -27.5)
    assert s.profit_factor == pytest.approx(120.9 / 55, rel=1e-14)
    # seed drawdown: 1100 (A), 1045 (B, -0.05 from day 2), 1065.9 (C, 2 d), 1065.9 (C, 3 d), still open
    assert (s.max_drawdown, s.avg_drawdown, s.current_drawdown) == (-0.05, -0.05, -0.05)
    assert (s.max_drawdown_days, s.avg_drawdown_days) == (3, 3)
    per_trade = {"sharpe": mean / std, "sortino": mean / down, "calmar": mean / 0.05}   # sortino 0.7, calmar 0.35
    for name, v in per_trade.items():
        assert getattr(s, f"{name}_per_trade") == pytest.approx(v, rel=1e-12)
        assert getattr(s, f"{name}_daily") == pytest.approx(v * math.sqrt(0.8), rel=1e-12)
        assert getattr(s, f"{name}_annual") == pytest.approx(v * math.sqrt(0.8 * 365), rel=1e-12)
    assert s.exposure == pytest.approx(1.0)  # 1 + 1 + 2 + 1 days held over 5 days
    want = trade_summary(HAND_TRADES, 1000.0, 0.0, 365)
    assert fields_of(s, list(want)) == pytest.approx(want, rel=1e-12)


def test_risk_free_return_is_subtracted_and_is_the_sortino_target():
    s = _summary(HAND_TRADES, rfr=0.01, tdpy=252)
    mean = 0.0175
    down = math.sqrt((0.06**2 + 0.01**2) / 4)   # shortfalls below 0.01: -0.05 -> -0.06, -0.0 -> -0.01
    assert s.sortino_per_trade == pytest.approx((mean - 0.01) / down, rel=1e-12)
    assert s.calmar_annual == pytest.approx((mean - 0.01) / 0.05 * math.sqrt(0.8 * 252), rel=1e-12)
    want = trade_summary(HAND_TRADES, 1000.0, 0.01, 252)
    assert fields_of(s, list(want)) == pytest.approx(want, rel=1e-12)


def test_profit_factor_and_zero_denominators():
    wins = [RefTrade(T0, T0 + H, 0.1, 10.0, 1010.0), RefTrade(T0 + H, T0 + 2 * H, 0.1, 10.0, 1020.0)]
    s = _summary(wins)
    assert s.profit_factor == math.inf and s.losses == 0 and s.avg_loss == 0.0
    assert s.sharpe_per_trade == 0.0 and s.sortino_per_trade == 0.0 and s.calmar_per_trade == 0.0  # std, downside, dd 0
    flat = _summary([RefTrade(T0, T0, 0.0, 0.0, 1000.0)])
    assert (flat.profit_factor, flat.wins, flat.trades_per_day) == (0.0, 1, 86_400.0)  # period 0 counts as 1 s
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        empty = _summary([])
    assert (empty.trades, empty.win_rate, empty.profit_factor) == (0, 0.0, 0.0)
    assert (empty.trades_per_day, empty.exposure) == (0.0, 0.0)
    assert empty.equity.days == 0 and empty.equity.sharpe == 0.0 and empty.equity.cagr == 0.0


# --------------------------------------------------------------------------------------------------
# The equity curve: formulas and empyrical
# --------------------------------------------------------------------------------------------------
EQ_T = [T0 + 6 * H, T0 + 18 * H, T0 + DAY + 12 * H, T0 + 4 * DAY + H, T0 + 5 * DAY + 2 * H, T0 + 6 * DAY]
EQ_V = [1010.0, 990.0, 1100.0, 1045.0, 1080.0, 1120.0]


@pytest.mark.parametrize("rfr, tdpy", [(0.0, 365), (0.001, 252), (-0.002, 360)])
def test_equity_summary_equals_formulas_and_empyrical(rfr, tdpy):
    stats = EquityStats(1000.0, rfr)
    for t, v in zip(EQ_T, EQ_V):
        stats.update(t, v)
    config = StatisticConfig(starting_equity=1000.0, trading_days_per_year=tdpy, risk_free_return=rfr)
    span = EQ_T[-1] - EQ_T[0]
    got = EquitySummary.from_state(stats.state(), span, config)
    # daily closes of the days with points D0, D1, D4, D5, D6: 990, 1100, 1045, 1080, 1120 over the
    # start 1000; D2 and D3 have no points, so no return (D4's spans them)
    r = np.array([990 / 1000, 1100 / 990, 1045 / 1100, 1080 / 1045, 1120 / 1080]) - 1
    np.testing.assert_allclose(daily_returns(EQ_T, EQ_V, 1000.0), r, rtol=1e-15)
    ann = math.sqrt(tdpy)
    excess = np.mean(r) - rfr
    assert got.days == 5 and got.total_return == pytest.approx(0.12, rel=1e-12)
    assert got.sharpe == pytest.approx(excess / np.std(r, ddof=1) * ann, rel=1e-12)
    assert got.sortino == pytest.approx(excess / math.sqrt(np.mean(np.minimum(r - rfr, 0) ** 2)) * ann, rel=1e-12)
    assert got.volatility == pytest.approx(np.std(r, ddof=1) * ann, rel=1e-12)
    assert got.cagr == pytest.approx(1.12 ** (tdpy / 5) - 1, rel=1e-12)
    assert got.sharpe == pytest.approx(empyrical.sharpe_ratio(r, risk_free=rfr, annualization=tdpy), rel=1e-9)
    assert got.sortino == pytest.approx(empyrical.sortino_ratio(r, required_return=rfr, annualization=tdpy), rel=1e-9)
    assert got.volatility == pytest.approx(empyrical.annual_volatility(r, annualization=tdpy), rel=1e-9)
    assert got.cagr == pytest.approx(empyrical.cagr(r, annualization=tdpy), rel=1e-9)
    events = np.array([0.0] + [b / a - 1 for a, b in zip([1000.0] + EQ_V[:-1], EQ_V)])
    assert got.max_drawdown == pytest.approx(empyrical.max_drawdown(events), rel=1e-9)
    # drawdowns: 990 below 1010 (06:00 -> D1 12:00: 30 h), 1045 and 1080 below 1100 (D1 12:00 -> D6: 108 h)
    assert got.max_drawdown == pytest.approx(-0.05) and got.current_drawdown == 0.0 and got.drawdowns == 2
    assert got.max_drawdown_days == 108 / 24 and got.avg_drawdown_days == (30 + 108) / 2 / 24
    # under water: 18:00 -> D1 12:00 (18 h), D4 01:00 -> D5 02:00 (25 h), D5 02:00 -> D6 00:00 (22 h)
    assert got.time_under_water == pytest.approx((18 + 25 + 22) / (span / H), rel=1e-12)
    want = equity_summary(EQ_T, EQ_V, 1000.0, rfr, tdpy, span)
    assert fields_of(got, EQUITY_FIELDS) == pytest.approx(want, rel=1e-12)


def test_equity_summary_of_one_day_has_zero_dispersion_ratios():
    stats = EquityStats(1000.0)
    stats.update(T0 + H, 1100.0)
    got = EquitySummary.from_state(stats.state(), 0, StatisticConfig(starting_equity=1000.0))
    assert (got.days, got.volatility, got.sharpe, got.sortino, got.time_under_water) == (1, 0.0, 0.0, 0.0, 0.0)
    assert got.cagr == pytest.approx(1.1**365 - 1, rel=1e-12)


# --------------------------------------------------------------------------------------------------
# A backtest, read live from the strategy and after the run
# --------------------------------------------------------------------------------------------------
CLOSES = [100, 100, 101, 103, 106, 104, 104, 104, 104, 104,   # 0-9
          102, 99, 97, 98, 96, 96, 96, 96, 95, 94,             # 10-19
          92, 90, 93, 91, 91, 91, 91, 95, 99, 101,             # 20-29
          100, 98, 97, 99, 102, 104, 103, 105, 107, 106,       # 30-39
          104, 101, 100, 99]                                   # 40-43: one event every 6 h, 11 days
SIGNALS = {1: Signal.long(), 4: Signal.close_long(),           # win
           10: Signal.short(), 13: Signal.close_short(),       # short 102 -> 98: win
           16: Signal.long(), 21: Signal.close_long(),         # 96 -> 90: loss
           25: Signal.long(), 29: Signal.close_long(),         # 91 -> 101: win
           32: Signal.short(), 35: Signal.close_short(),       # 97 -> 104: loss
           38: Signal.long()}                                  # still open at the end


class LiveReader(Strategy):
    """Scripted signals; reads the portfolio's statistics before deciding, at every event."""

    def __init__(self, portfolio: Portfolio, market: Market, signals: dict[int, Signal]):
        self.portfolio, self.market, self.signals = portfolio, market, signals
        self.i = 0
        self.live: list[tuple[int, TradingSummary, TradingSummary]] = []

    def generate_signal(self, view):
        self.live.append((view.time_ns, self.portfolio.statistics(), self.portfolio.statistics(self.market)))
        signal = self.signals.get(self.i)
        self.i += 1
        return signal


def candles(closes, start=T0, step=6 * H):
    c = np.asarray(closes, dtype=float)
    return HistoricalCandles.from_arrays(start + step * np.arange(len(c), dtype=np.int64), c, c, c, c,
                                         np.ones(len(c)))


@pytest.fixture(scope="module")
def backtest():
    config = StatisticConfig(starting_equity=10_000.0, trading_days_per_year=365, risk_free_return=0.0005)
    portfolio = Portfolio(10_000.0, allocator=DefaultAllocator(1000.0, size_decimals=None), statistic_config=config)
    strategy = LiveReader(portfolio, BTC, SIGNALS)
    engine = Engine([Trader(BTC, candles(CLOSES), strategy, SimulatedExecution(Fees(exchange=0.001)))], portfolio)
    engine.run()
    return engine, portfolio, strategy, config


def _reference_state(engine, portfolio, upto: int) -> dict:
    """TradeStats fed the exits of events < upto (their exit time, return, PnL and balance total) and
    EquityStats fed ``engine.equity`` after each of those events."""
    config = portfolio.statistic_config
    times = np.asarray(engine.time_ns)[:upto]
    trades = TradeStats(config.starting_equity, config.risk_free_return)
    equity = EquityStats(config.starting_equity, config.risk_free_return)
    equity.update_many(np.ascontiguousarray(times), np.ascontiguousarray(engine.equity[:upto]))
    exits = [p for p in portfolio.exited_positions() if upto and p.exit_time_ns <= times[-1]]
    for p in exits:
        trades.push(p.enter_time_ns, p.exit_time_ns, p.pnl_return, p.realised_profit_loss, p.exit_balance.total)
    last = int(times[-1]) if upto else 0
    # positions open after event upto-1: exited later, or still open at the end
    held = [p for p in portfolio.exited_positions() if upto and p.enter_time_ns <= last < p.exit_time_ns]
    final = portfolio.position(BTC)
    held += [final] if final is not None and upto and final.enter_time_ns <= last else []
    open_ns = sum(last - p.enter_time_ns for p in held)
    return state_of(trades, equity, int(times[0]) if upto else 0, last, open_ns)


def test_backtest_trades_count_grows_as_positions_exit_when_read_live(backtest):
    engine, portfolio, strategy, _ = backtest
    exit_events = {i for i, s in SIGNALS.items() if s in (Signal.close_long(), Signal.close_short())}
    counts = [total.trades for _, total, _ in strategy.live]
    assert len(counts) == len(CLOSES)
    # read before event i is processed: the exits of events 0..i-1
    assert counts == [sum(1 for e in exit_events if e < i) for i in range(len(CLOSES))]
    assert all(total.trades == market.trades for _, total, market in strategy.live)
    assert portfolio.statistics().trades == 5 == len(portfolio.exited_positions())
    assert [p.realised_profit_loss > 0 for p in portfolio.exited_positions()] == [True, True, False, True, False]


def test_backtest_trade_statistics_equal_trade_stats_fed_the_same_exits(backtest):
    """Live (before each event) and final: the per-trade figures equal a TradeStats fed the exits."""
    engine, portfolio, strategy, config = backtest
    readings = [(i, total, market) for i, (_, total, market) in enumerate(strategy.live)]
    readings.append((len(CLOSES), portfolio.statistics(), portfolio.statistics(BTC)))
    for i, total, market in readings:
        want = TradingSummary.from_state("Total", _reference_state(engine, portfolio, i), config)
        assert fields_of(total, TRADE_FIELDS) == pytest.approx(fields_of(want, TRADE_FIELDS), rel=1e-12), i
        assert fields_of(market, TRADE_FIELDS) == fields_of(total, TRADE_FIELDS), i
    # and the formulas, straight from the exits
    refs = [RefTrade(p.enter_time_ns, p.exit_time_ns, p.pnl_return, p.realised_profit_loss, p.exit_balance.total)
            for p in portfolio.exited_positions()]
    want = trade_summary(refs, 10_000.0, config.risk_free_return, config.trading_days_per_year)
    assert fields_of(portfolio.statistics(), list(want)) == pytest.approx(want, rel=1e-12)
    assert portfolio.statistics().max_drawdown < 0 and portfolio.statistics().profit_factor > 0


def test_backtest_equity_statistics_equal_equity_stats_fed_every_event(backtest):
    """Live and final: the equity-curve figures equal an EquityStats fed ``engine.equity`` after every
    event, and the formula reference."""
    engine, portfolio, strategy, config = backtest
    readings = [(i, total) for i, (_, total, _) in enumerate(strategy.live)]
    readings.append((len(CLOSES), portfolio.statistics()))
    mismatches = []
    for i, total in readings:
        want = TradingSummary.from_state("Total", _reference_state(engine, portfolio, i), config).equity
        if fields_of(total.equity, EQUITY_FIELDS) != pytest.approx(fields_of(want, EQUITY_FIELDS), rel=1e-12):
            diff = {k: (getattr(total.equity, k), getattr(want, k)) for k in EQUITY_FIELDS
                    if getattr(total.equity, k) != pytest.approx(getattr(want, k), rel=1e-12)}
            mismatches.append((i, diff))
    assert not mismatches, mismatches[:3]
    times, equity = np.asarray(engine.time_ns), np.asarray(engine.equity)
    want = equity_summary(times, equity, 10_000.0, config.risk_free_return, config.trading_days_per_year,
                          int(times[-1] - times[0]))
    assert fields_of(portfolio.statistics().equity, EQUITY_FIELDS) == pytest.approx(want, rel=1e-12)


def test_backtest_equity_ratios_equal_empyrical_on_the_daily_returns(backtest):
    engine, portfolio, _, config = backtest
    times, equity = np.asarray(engine.time_ns), np.asarray(engine.equity)
    r = daily_returns(times, equity, config.starting_equity)
    rfr, tdpy = config.risk_free_return, config.trading_days_per_year
    got = portfolio.statistics().equity
    assert got.days == len(r) == 11
    assert got.sharpe == pytest.approx(empyrical.sharpe_ratio(r, risk_free=rfr, annualization=tdpy), rel=1e-9)
    assert got.sortino == pytest.approx(empyrical.sortino_ratio(r, required_return=rfr, annualization=tdpy), rel=1e-9)
    assert got.volatility == pytest.approx(empyrical.annual_volatility(r, annualization=tdpy), rel=1e-9)
    assert got.cagr == pytest.approx(empyrical.cagr(r, annualization=tdpy), rel=1e-9)
    events = np.concatenate([[0.0], equity / np.concatenate([[config.starting_equity], equity[:-1]]) - 1])
    assert got.max_drawdown == pytest.approx(empyrical.max_drawdown(events), rel=1e-9)
    assert got.end == engine.equity[-1] == portfolio.equity


def test_flat_tail_after_the_last_exit_counts_in_the_equity_statistics():
    """Minimal: enter, lose, exit, then stay flat for two days. The curve is under water until the
    end, and the days of the flat tail are days with a 0 return."""
    portfolio = Portfolio(10_000.0, allocator=DefaultAllocator(1000.0, size_decimals=None))
    signals = {0: Signal.long(), 1: Signal.close_long()}
    strategy = LiveReader(portfolio, BTC, signals)
    engine = Engine([Trader(BTC, candles([100, 90, 90, 90, 90], step=12 * H), strategy)], portfolio)
    engine.run()
    # equity: 10000 (entry, no fees), 9900 (exit at 90), then 9900 at +24 h, +36 h, +48 h
    np.testing.assert_allclose(engine.equity, [10_000.0, 9_900.0, 9_900.0, 9_900.0, 9_900.0])
    got = portfolio.statistics().equity
    assert got.days == 3                                   # D0 (-1 %), D1 (0), D2 (0)
    assert got.max_drawdown_days == 2.0                    # peak at 0 h, still under water at 48 h
    assert got.time_under_water == pytest.approx(36 / 48)  # from 12 h to 48 h of 48 h


def test_flat_head_before_the_first_entry_counts_in_the_equity_statistics():
    """Minimal: flat at the starting equity for a day, then an entry whose fees put the curve under
    water. Day 0 is a day (return 0), and the episode starts at the last point at the peak (12 h),
    as for an EquityStats fed the same points."""
    portfolio = Portfolio(10_000.0, allocator=DefaultAllocator(1000.0, size_decimals=None))
    strategy = LiveReader(portfolio, BTC, {2: Signal.long()})
    engine = Engine([Trader(BTC, candles([100, 100, 100, 100], step=12 * H), strategy,
                            SimulatedExecution(Fees(exchange=0.001)))], portfolio)
    engine.run()
    # equity: 10000 at 0 h and 12 h, then 10000 - 2 x 1.0 fees = 9998 at 24 h and 36 h
    np.testing.assert_allclose(engine.equity, [10_000.0, 10_000.0, 9_998.0, 9_998.0])
    ref = EquityStats(10_000.0)
    ref.update_many(np.ascontiguousarray(engine.time_ns), np.ascontiguousarray(engine.equity))
    assert ref.state()["daily"]["returns"]["count"] == 2 and ref.state()["drawdowns"]["max_duration_ns"] == 24 * H
    got = portfolio.statistics().equity
    assert got.days == 2                                   # D0 (0), D1 (-0.02 %)
    assert got.max_drawdown_days == 1.0                    # 12 h -> 36 h


def test_two_markets_total_and_market_rows_equal_trade_stats_references():
    """Each market row is fed that market's exits with the portfolio balance total at each exit (the
    seed); the Total row every exit in exit order."""
    class Script(Strategy):
        def __init__(self, signals):
            self.signals, self.i = signals, 0

        def generate_signal(self, view):
            self.i += 1
            return self.signals.get(self.i - 1)

    config = StatisticConfig(starting_equity=5_000.0, risk_free_return=0.0)
    portfolio = Portfolio(5_000.0, allocator=DefaultAllocator(500.0, size_decimals=None), statistic_config=config)
    btc = Script({0: Signal.long(), 3: Signal.close_long(), 5: Signal.short(), 8: Signal.close_short()})
    eth = Script({1: Signal.short(), 2: Signal.close_short(), 4: Signal.long(), 9: Signal.close_long()})
    engine = Engine([Trader(BTC, candles([100, 104, 99, 108, 107, 110, 112, 111, 105, 103], step=5 * H), btc,
                            SimulatedExecution(Fees(exchange=0.001))),
                     Trader(ETH, candles([50, 49, 52, 51, 50, 47, 46, 48, 49, 45], start=T0 + H, step=5 * H), eth,
                            SimulatedExecution(Fees(slippage=0.002)))], portfolio)
    engine.run()
    exits = portfolio.exited_positions()
    assert len(exits) == 4
    table = portfolio.summary()
    assert isinstance(table, SummaryTable) and [r.id for r in table.rows] == [BTC.market_id, ETH.market_id, "Total"]
    for row, market in ((table.total, None), (table[BTC.market_id], BTC), (table[ETH.market_id], ETH)):
        stats = TradeStats(5_000.0)
        mine = [p for p in exits if market is None or p.market == market]
        for p in mine:
            stats.push(p.enter_time_ns, p.exit_time_ns, p.pnl_return, p.realised_profit_loss, p.exit_balance.total)
        want = TradingSummary.from_state(row.id, state_of(stats, EquityStats(5_000.0), 0, 0), config)
        names = [f for f in TRADE_FIELDS if f != "exposure"]
        assert fields_of(row, names) == pytest.approx(fields_of(want, names), rel=1e-12), row.id
    assert table.to_dict()["Total"]["equity_days"] == table.total.equity.days
    assert "Sharpe Ratio" in str(table) and "Total" in str(table)


# --------------------------------------------------------------------------------------------------
# Review fixes: overlapping trades in the Total row, days without events, the total curve's start
# --------------------------------------------------------------------------------------------------
S = 10**9


class Script(Strategy):
    """Signals by event index."""

    def __init__(self, signals: dict[int, Signal]):
        self.signals, self.i = signals, 0

    def generate_signal(self, view):
        self.i += 1
        return self.signals.get(self.i - 1)


def test_total_trades_per_day_spans_the_first_entry_when_trades_overlap():
    """BTC enters at 0 s and exits at 180 s; ETH enters at 30 s and exits at 150 s, first. The Total
    row's period is last exit − first entry = 180 s (not 180 − 30 from the first trade to exit)."""
    stats = TradeStats(10_000.0)
    stats.push(T0 + 30 * S, T0 + 150 * S, 0.01, 1.0, 10_001.0)   # ETH exits first
    stats.push(T0, T0 + 180 * S, 0.02, 2.0, 10_003.0)            # BTC entered before it
    assert stats.state()["start_ns"] == T0
    got = TradingSummary.from_state("Total", state_of(stats, EquityStats(10_000.0), T0, T0 + 180 * S),
                                    StatisticConfig())
    assert got.trades_per_day == pytest.approx(2 * 86_400 / 180, rel=1e-12)   # 960, was 1152
    per_trade = got.sharpe_per_trade
    assert got.sharpe_daily == pytest.approx(per_trade * math.sqrt(960), rel=1e-12)


def test_total_row_of_overlapping_markets_counts_from_the_first_entry():
    """The same through the engine: each market row is its own trade, the Total row spans both."""
    portfolio = Portfolio(10_000.0, allocator=DefaultAllocator(1000.0, size_decimals=None))
    btc = Trader(BTC, candles([100, 101], start=T0, step=180 * S), Script({0: Signal.long(), 1: Signal.close_long()}))
    eth = Trader(ETH, candles([50, 51], start=T0 + 30 * S, step=120 * S),
                 Script({0: Signal.long(), 1: Signal.close_long()}))
    Engine([btc, eth], portfolio).run()
    assert [p.market for p in portfolio.exited_positions()] == [ETH, BTC]
    table = portfolio.summary()
    assert table[BTC.market_id].trades_per_day == pytest.approx(86_400 / 180, rel=1e-12)
    assert table[ETH.market_id].trades_per_day == pytest.approx(86_400 / 120, rel=1e-12)
    assert table.total.trades_per_day == pytest.approx(960.0, rel=1e-12)


def test_days_without_events_are_not_days_of_the_daily_returns():
    """Weekday bars (an equity feed): the weekends have no return, the Monday return spans them, and
    CAGR / volatility / Sharpe use the days with events (252 a year gives calendar years)."""
    monday = T0 + 2 * DAY  # 2022-01-03
    days = [monday + (w * 7 + d) * DAY + 20 * H for w in range(4) for d in range(5)]
    closes = 100.0 * np.exp(np.cumsum(np.random.default_rng(3).normal(0.0, 0.02, len(days))))
    config = StatisticConfig(starting_equity=10_000.0, trading_days_per_year=252)
    portfolio = Portfolio(10_000.0, allocator=DefaultAllocator(5000.0, size_decimals=None), statistic_config=config)
    data = HistoricalCandles.from_arrays(np.array(days, dtype=np.int64), closes, closes, closes, closes,
                                         np.ones(len(days)))
    engine = Engine([Trader(BTC, data, Script({0: Signal.long()}))], portfolio)
    engine.run()
    got = portfolio.statistics().equity
    equity = np.asarray(engine.equity)
    r = equity / np.concatenate([[10_000.0], equity[:-1]]) - 1.0   # one return per bar
    assert got.days == 20                                           # not 26 calendar days
    assert got.cagr == pytest.approx((equity[-1] / 10_000.0) ** (252 / 20) - 1, rel=1e-12)
    assert got.volatility == pytest.approx(np.std(r, ddof=1) * math.sqrt(252), rel=1e-9)
    assert got.sharpe == pytest.approx(empyrical.sharpe_ratio(r, annualization=252), rel=1e-9)
    assert 0.0 not in r[1:].tolist()                               # no weekend 0 returns


def test_flat_days_between_trades_stay_days_of_the_daily_returns():
    """Flat (no position) for two days with events between two trades: those days are days of the
    series (return 0), although the flat times are applied lazily."""
    portfolio = Portfolio(10_000.0, allocator=DefaultAllocator(1000.0, size_decimals=None))
    signals = {0: Signal.long(), 1: Signal.close_long(), 4: Signal.long()}
    engine = Engine([Trader(BTC, candles([100, 90, 90, 90, 95, 100], start=T0 + 12 * H, step=DAY),
                            Script(signals))], portfolio)
    engine.run()
    times, equity = np.asarray(engine.time_ns), np.asarray(engine.equity)
    got = portfolio.statistics().equity
    assert got.days == 6                                            # D2 and D3 (flat) included
    want = equity_summary(times, equity, 10_000.0, 0.0, 365, int(times[-1] - times[0]))
    assert fields_of(got, EQUITY_FIELDS) == pytest.approx(want, rel=1e-12)


def test_total_equity_curve_starts_at_the_starting_cash_when_starting_equity_differs():
    """StatisticConfig.starting_equity 5,000 with 10,000 of cash: the Total row's equity curve (cash +
    unrealised) starts at 10,000; the market's curve (starting_equity + its PnL) at 5,000; the
    seed's trade drawdowns at starting_equity."""
    config = StatisticConfig(starting_equity=5_000.0)
    portfolio = Portfolio(10_000.0, allocator=DefaultAllocator(1000.0, size_decimals=None), statistic_config=config)
    engine = Engine([Trader(BTC, candles(CLOSES), Script(SIGNALS), SimulatedExecution(Fees(exchange=0.001)))],
                    portfolio)
    engine.run()
    times, equity = np.asarray(engine.time_ns), np.asarray(engine.equity)
    span = int(times[-1] - times[0])
    total = portfolio.statistics().equity
    assert total.start == 10_000.0 and total.end == equity[-1]
    assert total.total_return == pytest.approx(equity[-1] / 10_000.0 - 1, rel=1e-12)
    want = equity_summary(times, equity, 10_000.0, 0.0, 365, span)
    assert fields_of(total, EQUITY_FIELDS) == pytest.approx(want, rel=1e-12)
    market = portfolio.statistics(BTC).equity
    assert market.start == 5_000.0
    want = equity_summary(times, equity - 5_000.0, 5_000.0, 0.0, 365, span)
    assert fields_of(market, EQUITY_FIELDS) == pytest.approx(want, rel=1e-12)
    assert portfolio.core.total_statistics()["trades"]["starting_equity"] == 5_000.0


def test_real_equity_file_with_252_days_and_a_different_starting_equity(data_dir):
    """GOOG daily bars (no weekends) with 252 trading days a year and starting_equity 5,000 beside
    10,000 of cash: one daily return per bar, over 10,000."""
    import barter
    from barter.strategy import RSIStrategy

    config = StatisticConfig(starting_equity=5_000.0, trading_days_per_year=252)
    result = barter.backtest(data_dir / "prices/equity_daily/GOOG.csv", RSIStrategy(), starting_cash=10_000.0,
                             statistic_config=config)
    series = result.equity
    times = series.index.asi8.astype(np.int64) if series.index.dtype.kind == "M" else series.index.to_numpy()
    equity = series.to_numpy()
    got = result.summary.total.equity
    assert got.days == len(np.unique(times // DAY)) == 2148
    assert got.start == 10_000.0
    assert got.total_return == pytest.approx(equity[-1] / 10_000.0 - 1, rel=1e-12)
    assert abs(got.total_return) < 0.1
    assert got.cagr == pytest.approx((equity[-1] / 10_000.0) ** (252 / 2148) - 1, rel=1e-12)
    want = equity_summary(times, equity, 10_000.0, 0.0, 252, int(times[-1] - times[0]))
    assert fields_of(got, EQUITY_FIELDS) == pytest.approx(want, rel=1e-9)
    from barter.results import analytics  # the tear sheet's returns are the same days

    plotted = analytics.daily_returns(series, got.start)
    assert len(plotted) == got.days and plotted.mean() == pytest.approx(got.mean_daily_return, rel=1e-9)


def test_walk_forward_equity_summary_starts_at_the_stitched_cash():
    """The walk-forward's stitched equity starts at the starting cash; a different starting_equity in
    its StatisticConfig does not change its base."""
    from barter.sweep.walkforward import _equity_summary

    times = np.array([T0 + 12 * H, T0 + DAY + 12 * H], dtype=np.int64)
    got = _equity_summary(times, np.array([10_100.0, 10_200.0]), 10_000.0, StatisticConfig(starting_equity=5_000.0))
    assert got is not None and got.start == 10_000.0 and got.total_return == pytest.approx(0.02, rel=1e-12)
