"""The engine: per-event order, multi-market merge, strategy contract, replaceable allocator/risk."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from barter import ConfigError, Engine, InstrumentKind, Market, StrategyError, Trader, UnknownMarket
from barter.data import HistoricalCandles, HistoricalTrades, MarketEvent
from barter.data.event import Candle, Trade
from barter.execution import Fees, SimulatedExecution
from barter.portfolio import DefaultAllocator, DefaultRisk, Portfolio
from barter.strategy import Decision, PrecomputedSignals, Signal, Strategy

BTC = Market("binance", ("btc", "usdt", InstrumentKind.SPOT))
ETH = Market("binance", ("eth", "usdt", InstrumentKind.SPOT))
MIN = 60 * 10**9


def candles(closes, start=0, step=MIN):
    c = np.asarray(closes, dtype=float)
    return HistoricalCandles.from_arrays(start + step * np.arange(len(c), dtype=np.int64), c, c, c, c, np.ones(len(c)))


class Scripted(Strategy):
    """Returns a fixed signal per event and records what it saw."""

    def __init__(self, signals):
        self.signals = list(signals)
        self.seen: list[tuple] = []

    def generate_signal(self, market):
        self.seen.append((market.market_id, market.time_ns, market.close))
        return self.signals[len(self.seen) - 1]


def run(traders, **portfolio_kw):
    portfolio = Portfolio(starting_cash=10_000.0, **portfolio_kw)
    engine = Engine(traders, portfolio)
    engine.run()
    return engine, portfolio


def test_view_copy_is_immutable_snapshot():
    kept = []

    class Keep(Strategy):
        def generate_signal(self, market):
            kept.append((market.copy(), market))

    run([Trader(BTC, candles([10.0, 11.0, 12.0]), Keep())])
    copies = [c for c, _ in kept]
    assert [c.kind.close for c in copies] == [10.0, 11.0, 12.0]
    assert all(isinstance(c, MarketEvent) and isinstance(c.kind, Candle) for c in copies)
    assert copies[0].market == BTC and copies[1].exchange_time_ns == MIN
    assert kept[0][1] is kept[2][1]  # one reused view
    with pytest.raises(dataclasses.FrozenInstanceError):
        copies[0].kind.close = 1.0  # type: ignore[misc]


def test_events_merge_by_time_with_stable_ties():
    a, b = Scripted([None] * 3), Scripted([None] * 3)
    run([Trader(BTC, candles([1.0, 2.0, 3.0], start=0, step=2 * MIN), a),
         Trader(ETH, candles([10.0, 20.0, 30.0], start=2 * MIN, step=MIN), b)])
    assert [t for _, t, _ in a.seen] == [0, 2 * MIN, 4 * MIN]
    assert [t for _, t, _ in b.seen] == [2 * MIN, 3 * MIN, 4 * MIN]
    assert {m for m, _, _ in a.seen} == {0} and {m for m, _, _ in b.seen} == {1}


def test_two_markets_share_one_balance_and_have_their_own_statistics():
    btc = Scripted([Signal.long(), None, Signal.close_long()])
    eth = Scripted([Signal.short(), Signal.close_short(), None])
    engine, portfolio = run([Trader(BTC, candles([100.0, 110.0, 120.0]), btc),
                             Trader(ETH, candles([50.0, 40.0, 45.0], start=1), eth)],
                            allocator=DefaultAllocator(100.0, size_decimals=None))
    # BTC long 1.0 from 100 to 120: +20; ETH short 2.0 from 50 to 40: +20; no fees
    assert portfolio.balance.total == pytest.approx(10_040.0, rel=1e-12)
    summary = engine.summary()
    assert [r.id for r in summary.rows] == ["binance_btc_usdt_spot", "binance_eth_usdt_spot", "Total"]
    assert summary["binance_btc_usdt_spot"].trades == 1 and summary.total.trades == 2
    assert summary.total.mean_return == pytest.approx((0.2 + 0.2) / 2)


def test_non_signal_return_is_a_clear_error():
    with pytest.raises(StrategyError, match="must return a Signal or None, returned str"):
        run([Trader(BTC, candles([1.0, 2.0]), Scripted(["buy", None]))])


def test_strategy_exception_propagates_with_context():
    class Boom(Strategy):
        def generate_signal(self, market):
            raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError) as info:
        run([Trader(BTC, candles([1.0]), Boom())])
    assert any("binance_btc_usdt_spot" in note for note in info.value.__notes__)


def test_unknown_market_and_second_run_are_errors():
    engine, portfolio = run([Trader(BTC, candles([1.0]), Scripted([None]))])
    with pytest.raises(UnknownMarket, match="eth"):
        portfolio.position(ETH)
    with pytest.raises(Exception, match="already run"):
        engine.run()


def test_a_new_engine_with_a_used_portfolio_says_the_portfolio_ran():
    engine, portfolio = run([Trader(BTC, candles([1.0]), Scripted([None]))])
    again = Engine(traders=[Trader(BTC, candles([1.0]), Scripted([None]))], portfolio=portfolio)
    with pytest.raises(ConfigError, match="portfolio has already run; build a new Portfolio"):
        again.run()


def test_risk_manager_can_veto_and_allocator_can_resize():
    class NoShorts(DefaultRisk):
        def evaluate_order(self, order):
            return None if order.decision == Decision.SHORT else super().evaluate_order(order)

    class Double(DefaultAllocator):
        def allocate_order(self, order, position, strength):
            order = super().allocate_order(order, position, strength)
            return order if position is not None else dataclasses.replace(order, quantity=2 * order.quantity)

    strategy = Scripted([Signal.short(), Signal.long(), Signal.close_long()])
    _, portfolio = run([Trader(BTC, candles([100.0, 100.0, 110.0]), strategy)],
                       allocator=Double(100.0), risk=NoShorts())
    (exited,) = portfolio.exited_positions()
    assert exited.quantity == 2.0 and exited.realised_profit_loss == pytest.approx(20.0)


def test_precomputed_and_python_strategies_mix_across_markets():
    codes = np.array([Decision.LONG.mask, 0, Decision.CLOSE_LONG.mask], dtype=np.int8)
    _, mixed = run([Trader(BTC, candles([100.0, 105.0, 110.0]), PrecomputedSignals(codes)),
                    Trader(ETH, candles([10.0, 10.0, 10.0], start=1), Scripted([None] * 3))])
    _, alone = run([Trader(BTC, candles([100.0, 105.0, 110.0]), PrecomputedSignals(codes))])
    assert mixed.balance.total == alone.balance.total
    assert mixed.exited_positions()[0].realised_profit_loss == alone.exited_positions()[0].realised_profit_loss


def test_trades_drive_the_engine_with_price_and_amount():
    t = np.arange(4, dtype=np.int64) * 10**9
    trades = HistoricalTrades.from_arrays(t, np.array([10.0, 11.0, 12.0, 13.0]), np.full(4, 0.5),
                                          np.array([1, -1, 1, 1], dtype=np.int8))
    seen = []

    class OnTrades(Strategy):
        def generate_signal(self, market):
            seen.append(market.copy())
            return Signal.long() if market.price == 10.0 else None

    _, portfolio = run([Trader(BTC, trades, OnTrades(), SimulatedExecution(Fees()))])
    assert isinstance(seen[0].kind, Trade) and seen[1].kind.amount == 0.5 and seen[1].kind.side == -1
    position = portfolio.position(BTC)
    assert position.current_symbol_price == 13.0 and position.quantity == 10.0


def test_signal_validates_strength_and_exposes_decisions():
    assert Signal({Decision.LONG: 1.0, Decision.CLOSE_SHORT: 0.5}).signals == {
        Decision.LONG: 1.0, Decision.CLOSE_SHORT: 0.5}
    assert Signal.long() == Signal({Decision.LONG: 1.0}) and Signal.long() != Signal.short()
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="strength"):
            Signal({Decision.LONG: bad})
    with pytest.raises(ValueError):
        Signal({7: 1.0})


def test_equity_is_recorded_after_every_event():
    engine, portfolio = run([Trader(BTC, candles([100.0, 90.0, 80.0]), Scripted([Signal.long(), None, None]))],
                            allocator=DefaultAllocator(100.0, size_decimals=None))
    # long 1.0 at 100, no fees: equity follows the close
    np.testing.assert_allclose(engine.equity, [10_000.0, 9_990.0, 9_980.0], rtol=1e-12)
    assert portfolio.equity == engine.equity[-1]


def test_a_trader_takes_a_dataframe_or_a_file_path(tmp_path):
    data = candles([100.0, 101.0, 102.0])
    frame = data.to_frame()
    frame.to_csv(tmp_path / "c.csv")
    for source in (frame, tmp_path / "c.csv", str(tmp_path / "c.csv")):
        trader = Trader(BTC, source, Scripted([None] * 3))
        assert isinstance(trader.data, HistoricalCandles)
        np.testing.assert_array_equal(trader.data.close, data.close)
    with pytest.raises(Exception, match="must be a DataFrame, a file path or a historic feed"):
        Trader(BTC, 42, Scripted([None]))


class Recorded(Scripted):
    """``Scripted`` that also appends (market id, time) to a list shared by the markets."""

    def __init__(self, signals, calls):
        super().__init__(signals)
        self.calls = calls

    def generate_signal(self, market):
        self.calls.append((market.market_id, market.time_ns))
        return super().generate_signal(market)


def one_clock_traders(precomputed: bool, n: int = 40, calls=None):
    """Three markets on one clock for a while (the merge runs them as rounds), then one that stops
    early, a repeated time and a market that leaves the clock; the same masks either way."""
    times = np.arange(n, dtype=np.int64) * MIN
    other = times.copy()
    other[25:] += 30 * 10**9  # off the clock from row 25
    dup = times.copy()
    dup[30] = dup[29]  # two events at one time
    feeds = [(BTC, times), (ETH, dup[:35]), (Market("binance", ("sol", "usdt", InstrumentKind.SPOT)), other)]
    traders = []
    for k, (market, t) in enumerate(feeds):
        closes = 100.0 + k + np.sin(np.arange(len(t)) * (k + 1) / 3.0)
        masks = np.zeros(len(t), dtype=np.int8)
        masks[k::4], masks[k + 2::4] = Decision.LONG.mask, Decision.CLOSE_LONG.mask
        data = HistoricalCandles.from_arrays(t, closes, closes, closes, closes, np.ones(len(t)))
        strategy = PrecomputedSignals(masks) if precomputed else Recorded(
            [Signal({Decision(d): 1.0 for d in range(4) if m & (1 << d)}) if m else None for m in masks],
            [] if calls is None else calls)
        traders.append(Trader(market, data, strategy))
    return traders


def test_markets_on_one_clock_keep_the_merge_order_and_results():
    calls: list[tuple[int, int]] = []
    pre, pre_pf = run(one_clock_traders(True), allocator=DefaultAllocator(100.0, size_decimals=None))
    py, py_pf = run(one_clock_traders(False, calls=calls), allocator=DefaultAllocator(100.0, size_decimals=None))
    rows = sorted((t, m, i) for tr in py.traders for i, (m, t, _) in enumerate(tr.strategy.seen))
    assert calls == [(m, t) for t, m, _ in rows]  # by time, ties by market, a market's rows in order
    np.testing.assert_array_equal(pre.time_ns, py.time_ns)
    np.testing.assert_array_equal(pre.equity, py.equity)
    assert pre_pf.core.total_statistics() == py_pf.core.total_statistics()
    for mid in range(3):
        assert pre_pf.core.market_statistics(mid) == py_pf.core.market_statistics(mid)
    assert [(p.market, p.exit_time_ns) for p in pre_pf.exited_positions()] == \
        [(p.market, p.exit_time_ns) for p in py_pf.exited_positions()]


@pytest.mark.parametrize("stop", [None, 7, 61], ids=["whole", "mid-round", "after-the-clock"])
def test_merged_times_are_the_times_the_loops_write(stop):
    """The engine reads a merged run's times from the tape (Tape.merged_times) instead of having the
    loop write them: the same times as the loops' own ``times`` output (one per time), and the tape
    keeps its place."""
    from barter._core.dispatch import run_decisions, run_strategies
    from barter.engine.tape import build_tape

    traders = one_clock_traders(True)
    tape = build_tape([t.data for t in traders], [t.market for t in traders],
                      [t.strategy.decisions for t in traders], [t.strategy.strength for t in traders])
    for loop in ("decisions", "strategies"):
        core = Portfolio(starting_cash=10_000.0).bind([t.market for t in traders], [(0.0, 0.0, 0.0)] * 3)
        equity, times = np.empty(tape.length), np.empty(tape.length, dtype=np.int64)
        drain = (lambda t: True) if stop else None
        progress = (lambda done: setattr(core, "interrupt", True)) if stop else None
        if loop == "decisions":
            n, points = run_decisions(tape, core, equity, times, drain, progress, stop or 65536)
        else:
            n, points = run_strategies(tape, core, [None] * 3, equity, times, None, drain, progress, stop or 65536)
        assert n == (stop or tape.length)
        rows = [tape.next_row(m) for m in range(3)]
        np.testing.assert_array_equal(np.unique(tape.merged_times(n)), times[:points])
        assert [tape.next_row(m) for m in range(3)] == rows
    assert len(tape.merged_times(0)) == 0
    with pytest.raises(ValueError):
        tape.merged_times(tape.length + 1)


@pytest.mark.parametrize("loop", ["decisions", "strategies"])
@pytest.mark.parametrize("n_markets", [1, 3])
def test_the_loops_drain_commands_sent_during_the_last_event_at_its_time(loop, n_markets):
    """Commands waiting after an event run before the next, and after the last one before the
    loop returns, at that event's time (the engine's clock); its equity is written again after."""
    from barter._core.dispatch import run_decisions, run_strategies
    from barter.engine.tape import build_tape

    traders = one_clock_traders(True)[:n_markets]
    tape = build_tape([t.data for t in traders], [t.market for t in traders],
                      [t.strategy.decisions for t in traders], [t.strategy.strength for t in traders])
    core = Portfolio(starting_cash=10_000.0).bind([t.market for t in traders], [(0.0, 0.0, 0.0)] * n_markets)
    equity, times, drained = np.empty(tape.length), np.empty(tape.length, dtype=np.int64), []

    def drain(t):  # a command whose fill pays a fee: it moves the equity
        core.interrupt = False
        position = core.position(0)
        if position is None:
            core.apply_fill(0, int(Decision.LONG), 1.0, 100.0, t, (1.0, 0.0, 0.0))
        else:
            close = Decision.CLOSE_LONG if position["quantity"] > 0 else Decision.CLOSE_SHORT
            core.apply_fill(0, int(close), -position["quantity"], position["current_symbol_price"], t,
                            (1.0, 0.0, 0.0))
        drained.append((t, core.equity_value))
        return False

    def progress(done):  # a command waits after every 5th event, the last one included
        core.interrupt = True

    assert tape.length % 5 == 0
    if loop == "decisions":
        n, points = run_decisions(tape, core, equity, times, drain, progress, 5)
    else:
        n, points = run_strategies(tape, core, [None] * n_markets, equity, times, None, drain, progress, 5)
    assert n == tape.length
    event_times = tape.merged_times(n).tolist()
    after = list(range(5, n + 1, 5))  # the events the commands came after
    assert [t for t, _ in drained] == [event_times[k - 1] for k in after]
    point = {t: i for i, t in enumerate(times[:points].tolist())}
    last_of_time = [k for k in after if k == n or event_times[k] != event_times[k - 1]]
    assert last_of_time  # their time's point is the state after the commands (re-written after them)
    assert [equity[point[event_times[k - 1]]] for k in last_of_time] == \
        [e for (_, e), k in zip(drained, after) if k in last_of_time]
    assert equity[points - 1] == core.equity_value


@pytest.mark.parametrize("precomputed", [True, False], ids=["precomputed", "python"])
def test_a_command_stops_markets_on_one_clock_between_two_events(precomputed):
    from barter.engine.commands import Terminate

    engine = Engine(one_clock_traders(precomputed), Portfolio(starting_cash=10_000.0))
    engine.run(lambda done, total: engine.send(Terminate()) if done == 7 else None, progress_every=7)
    assert engine.terminated and engine.events == 7  # mid-round: the 3rd round's first event was the 7th
    assert engine.time_ns.tolist() == [0, MIN, 2 * MIN] and len(engine.equity) == 3  # one point per time


def test_engine_arguments_are_checked_and_likely_mistakes_warned() -> None:
    import warnings

    from barter.errors import ConfigError, ConfigWarning

    with pytest.raises(ConfigError, match="portfolio must be a barter.portfolio.Portfolio"):
        Engine([Trader(BTC, candles([1.0]), Scripted([None]))], 100.0)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"strategy must be an instance, e.g. Scripted\(\), was the class Scripted"):
        Trader(BTC, candles([1.0]), Scripted)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="traders must be barter.Trader objects"):
        Engine([BTC], Portfolio(100.0))  # type: ignore[list-item]
    shared = Scripted([None] * 4)
    with pytest.warns(ConfigWarning, match="share one Scripted object"):
        Engine([Trader(BTC, candles([1.0, 2.0]), shared), Trader(ETH, candles([1.0, 2.0]), shared)], Portfolio(100.0))
    euro = Market("kraken", ("btc", "eur"))
    with pytest.warns(ConfigWarning, match="markets quote in eur, usdt"):
        Engine([Trader(BTC, candles([1.0]), Scripted([None])), Trader(euro, candles([1.0]), Scripted([None]))],
               Portfolio(100.0))
    codes = PrecomputedSignals(np.zeros(2, np.int8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one array of codes for two markets: no state to mix
        Engine([Trader(BTC, candles([1.0, 2.0]), codes), Trader(ETH, candles([1.0, 2.0]), codes)], Portfolio(100.0))
