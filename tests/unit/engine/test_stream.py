"""The event stream, commands and replay: every event in order, and a replay equal to the run."""
from __future__ import annotations

import math
import threading
from concurrent.futures import Future

import numpy as np
import pytest

from barter import Engine, InstrumentKind, Market, Trader
from barter.data import HistoricalCandles, MarketEvent
from barter.engine.commands import ExitAllPositions, ExitPosition, FetchOpenPositions, Terminate
from barter.engine.events import (BalanceUpdate, CommandReply, PositionExit, PositionNew, PositionUpdate,
                                  SessionStart, SignalEvent)
from barter.engine.replay import replay
from barter.engine.stream import JsonLinesSink, read_events
from barter.errors import DataError, EngineStopped
from barter.execution import Fees, FillEvent, OrderEvent, SimulatedExecution
from barter.portfolio import DefaultAllocator, Portfolio
from barter.strategy import Decision, PrecomputedSignals, Signal, Strategy
from barter.strategy.base import SignalForceExit

MIN = 60 * 10**9
MARKETS = [Market("binance", (base, "usdt", InstrumentKind.SPOT)) for base in ("btc", "eth", "sol", "xrp", "ada")]


def candles(closes, start=0):
    c = np.asarray(closes, dtype=float)
    return HistoricalCandles.from_arrays(start + MIN * np.arange(len(c), dtype=np.int64), c, c, c, c, np.ones(len(c)))


class Scripted(Strategy):
    def __init__(self, signals, hook=None):
        self.signals, self.hook, self.i = list(signals), hook, 0

    def generate_signal(self, market):
        if self.hook:
            self.hook(self.i, market)
        self.i += 1
        return self.signals[self.i - 1]


def engine_of(traders, listeners=(), cash=10_000.0):
    portfolio = Portfolio(starting_cash=cash, allocator=DefaultAllocator(100.0, size_decimals=None),
                          engine_id="test-engine")
    return Engine(traders, portfolio, listeners=listeners)


def random_traders(n_markets, n_events, seed):
    rng = np.random.default_rng(seed)
    traders = []
    for m in range(n_markets):
        closes = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, n_events)))
        codes = rng.choice([0, 0, 0, 1, 2, 4, 8, 9, 6], size=n_events).astype(np.int8)
        traders.append(Trader(MARKETS[m], candles(closes, start=m), PrecomputedSignals(codes),
                              SimulatedExecution(Fees(exchange=0.001, slippage=0.0005))))
    return traders


def test_events_come_in_the_seeds_order():
    events = []
    engine = engine_of([Trader(MARKETS[0], candles([100.0, 110.0, 120.0]),
                               Scripted([Signal.long(), None, Signal.close_long()]))], [events.append])
    engine.run()
    kinds = [type(e) for e in events]
    assert kinds == [SessionStart,
                     MarketEvent, SignalEvent, OrderEvent, FillEvent, PositionNew, BalanceUpdate,
                     MarketEvent, PositionUpdate,
                     MarketEvent, SignalEvent, PositionUpdate, OrderEvent, FillEvent, PositionExit, BalanceUpdate]
    update = events[8]
    assert update.current_symbol_price == 110.0 and update.unrealised_profit_loss == pytest.approx(10.0)
    assert events[11].current_symbol_price == 120.0  # the mark before the exit fill
    assert events[14].position.realised_profit_loss == pytest.approx(20.0)
    assert events[15].balance.total == pytest.approx(10_020.0)


def test_no_listener_no_events_and_same_result():
    quiet = engine_of(random_traders(2, 300, 1))
    quiet.run()
    events = []
    loud = engine_of(random_traders(2, 300, 1), [events.append])
    loud.run()
    assert quiet.portfolio.balance == loud.portfolio.balance
    np.testing.assert_array_equal(quiet.equity, loud.equity)
    assert sum(isinstance(e, FillEvent) for e in events) == quiet.portfolio.core.n_fills


def test_five_market_runs_are_identical_and_replay_equals_the_run(tmp_path):
    streams = []
    for run in range(2):
        with JsonLinesSink(tmp_path / f"run{run}.jsonl") as sink:
            engine = engine_of(random_traders(5, 400, 7), [sink])
            engine.run()
        streams.append((tmp_path / f"run{run}.jsonl").read_bytes())
    assert streams[0] == streams[1] and len(streams[0]) > 0  # byte for byte
    rebuilt = replay(read_events(tmp_path / "run1.jsonl"))
    assert_same_state(engine.portfolio, rebuilt)


def test_replay_after_commands_equals_the_run(tmp_path):
    traders = random_traders(3, 300, 3)
    engine = engine_of(traders)

    def hook(i, market):
        if i == 100:
            engine.send(ExitAllPositions())
        if i == 150:
            engine.send(ExitPosition(MARKETS[1]))
    traders[0] = Trader(MARKETS[0], traders[0].data, Scripted([Signal.long()] * 300, hook), traders[0].execution)
    with JsonLinesSink(tmp_path / "run.jsonl") as sink:
        engine = engine_of(traders, [sink])
        engine.run()
    events = list(read_events(tmp_path / "run.jsonl"))
    assert any(isinstance(e, SignalForceExit) for e in events)
    assert_same_state(engine.portfolio, replay(events))


def assert_same_state(original, rebuilt):
    assert rebuilt.balance == original.balance
    assert rebuilt.open_positions() == original.open_positions()
    assert rebuilt.exited_positions() == original.exited_positions()
    for a, b in zip(original.summary().rows, rebuilt.summary().rows):
        da, db = a.to_dict(), b.to_dict()
        assert da.keys() == db.keys()
        for key in da:
            assert da[key] == db[key] or (math.isnan(da[key]) and math.isnan(db[key])), key


def test_commands_during_a_backtest():
    replies: list = []
    fetch = FetchOpenPositions()
    events: list = []

    def hook(i, market):
        if i == 2:
            engine.send(fetch)
            engine.send(ExitPosition(Market("kraken", ("btc", "usd"))))  # unknown: an error reply
        if i == 4:
            engine.send(Terminate("done"))

    engine = engine_of([Trader(MARKETS[0], candles([100.0] * 10), Scripted([Signal.long()] + [None] * 9, hook))],
                       [events.append])
    engine.run()
    replies = [e for e in events if isinstance(e, CommandReply)]
    assert [r.command for r in replies] == ["FetchOpenPositions", "ExitPosition", "Terminate"]
    assert len(fetch.reply.result()) == 1 and fetch.reply.result()[0].market == MARKETS[0]
    assert "kraken" in replies[1].error
    assert engine.terminated and engine.events == 5 and len(engine.equity) == 5
    assert engine.portfolio.open_positions() == []  # Terminate exits all first, as the seed


def test_commands_work_with_precomputed_decisions():
    codes = np.array([1, 0, 0, 0, 0, 0], dtype=np.int8)
    engine = engine_of([Trader(MARKETS[0], candles([100.0, 101, 102, 103, 104, 105]), PrecomputedSignals(codes))])
    engine.send(FetchOpenPositions())
    engine.run()
    assert engine.events == 6
    engine2 = engine_of([Trader(MARKETS[0], candles([100.0, 101, 102]), PrecomputedSignals(codes[:3]))])
    engine2.send(Terminate())
    engine2.run()
    assert engine2.events == 0 and engine2.terminated


def test_a_command_from_another_thread_is_answered_while_running():
    started, answered = threading.Event(), Future()
    fetch = FetchOpenPositions()

    def hook(i, market):
        if i == 10:
            started.set()

    def client():
        started.wait(10)
        engine.send(fetch)
        answered.set_result(fetch.reply.result(timeout=10))

    n = 200_000
    engine = engine_of([Trader(MARKETS[0], candles(np.full(n, 100.0)),
                               Scripted([Signal.long()] + [None] * (n - 1), hook))])
    thread = threading.Thread(target=client)
    thread.start()
    engine.run()
    thread.join(10)
    positions = answered.result(timeout=1)
    assert len(positions) == 1 and positions[0].quantity == 1.0


def test_async_iterator_listener_receives_the_stream_while_a_backtest_runs():
    import asyncio

    from barter.engine.stream import AsyncEvents

    async def main():
        stream = AsyncEvents()
        engine = engine_of(random_traders(2, 50, 11), [stream])
        runner = asyncio.get_running_loop().run_in_executor(None, engine.run)
        received = [event async for event in stream]
        await runner
        return engine, received

    engine, received = asyncio.run(main())
    assert isinstance(received[0], SessionStart)
    assert sum(isinstance(e, MarketEvent) for e in received) == 100
    assert sum(isinstance(e, FillEvent) for e in received) == engine.portfolio.core.n_fills


class PartialCloses(Portfolio):
    """Closes ``fractions`` of the open position in turn (1.0: all of it): partial exits through
    the engine loop, by the core's order hook (a subclassed allocator installs it)."""

    def __init__(self, fractions, **kwargs):
        super().__init__(allocator=type("Allocator", (DefaultAllocator,), {})(100.0, size_decimals=None),
                         engine_id="test-engine", **kwargs)
        self.fractions, self.k = list(fractions), 0

    def _order_quantity(self, mid, decision, strength, price, time_ns):
        position = self.core.position(mid)
        if position is None:
            return super()._order_quantity(mid, decision, strength, price, time_ns)
        self.k += 1
        return -position["quantity"] * self.fractions[(self.k - 1) % len(self.fractions)]


def test_a_partial_exit_publishes_a_position_update():
    events = []
    portfolio = PartialCloses([0.25, 1.0])
    Engine([Trader(MARKETS[0], candles([100.0, 110.0, 120.0, 130.0]),
                   Scripted([Signal.long(), None, Signal.close_long(), Signal.close_long()]))],
           portfolio, listeners=[events.append]).run()
    kinds = [type(e) for e in events]
    assert kinds == [SessionStart,
                     MarketEvent, SignalEvent, OrderEvent, FillEvent, PositionNew, BalanceUpdate,
                     MarketEvent, PositionUpdate,
                     # no update for the mark before a partial exit: as for an entry, the core keeps
                     # no state from before the event's fill
                     MarketEvent, SignalEvent, OrderEvent, FillEvent, PositionUpdate, BalanceUpdate,
                     MarketEvent, SignalEvent, PositionUpdate, OrderEvent, FillEvent, PositionExit, BalanceUpdate]
    # 1 @ 100, a quarter closed at 120 (realised 5), the rest marked at 120: unrealised 15
    fill, reduced, balance = events[12], events[13], events[14]
    assert fill.quantity == -0.25 and fill.decision == Decision.CLOSE_LONG
    assert (reduced.current_symbol_price, reduced.current_value_gross) == (120.0, pytest.approx(90.0))
    assert reduced.unrealised_profit_loss == pytest.approx(15.0)
    assert balance.balance.total == pytest.approx(10_005.0)
    trade = events[20].position  # the rest closed at 130: the whole trade, 1 @ 100 -> 0.25 @ 120 + 0.75 @ 130
    assert trade.quantity == 1.0 and trade.exit_avg_price_gross == pytest.approx(127.5)
    assert trade.realised_profit_loss == pytest.approx(27.5)


def test_replay_of_a_run_with_partial_exits_equals_the_run(tmp_path):
    streams = []
    for run in range(2):
        portfolio = PartialCloses([0.5, 0.3, 1.0])
        with JsonLinesSink(tmp_path / f"run{run}.jsonl") as sink:
            engine = Engine(random_traders(3, 400, 11), portfolio, listeners=[sink])
            engine.run()
        streams.append((tmp_path / f"run{run}.jsonl").read_bytes())
    assert streams[0] == streams[1]
    events = list(read_events(tmp_path / "run1.jsonl"))
    fills = [e for e in events if isinstance(e, FillEvent)]
    exits = sum(isinstance(e, PositionExit) for e in events)
    partial = sum(f.decision.is_exit for f in fills) - exits
    assert partial > 10 and exits > 5, (partial, exits)
    assert portfolio.core.n_exits == exits
    assert_same_state(engine.portfolio, replay(events))


def test_a_truncated_last_line_names_the_file_and_line(tmp_path):
    path = tmp_path / "events.jsonl"
    with JsonLinesSink(path) as sink:
        engine_of([Trader(MARKETS[0], candles([100.0, 101.0]), Scripted([Signal.long(), None]))],
                  listeners=[sink]).run()
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:10], encoding="utf-8")  # a killed writer
    with pytest.raises(DataError, match=f"events.jsonl: line {len(lines)} is not JSON"):
        list(read_events(path))


@pytest.mark.parametrize("command", ["hello", None, ExitAllPositions])
def test_send_refuses_what_is_not_a_command(command):
    engine = engine_of([Trader(MARKETS[0], candles([100.0]), Scripted([None]))])
    with pytest.raises(TypeError, match="engine.send takes a barter.engine.commands command"):
        engine.send(command)


def _on_event(n, action):
    """A strategy that is long from the first event and calls ``action()`` during event ``n``."""
    return Scripted([Signal.long()] + [None] * 9, lambda i, market: action() if i == n else None)


@pytest.mark.parametrize("n_markets", [1, 2])
def test_commands_sent_during_the_last_event_run_before_run_returns(n_markets):
    fetch, events = FetchOpenPositions(), []

    def send():
        engine.send(ExitAllPositions())
        engine.send(fetch)

    traders = [Trader(MARKETS[m], candles([100.0, 110.0, 120.0]), _on_event(2, send) if m == n_markets - 1 else
                      Scripted([Signal.long()] * 3)) for m in range(n_markets)]  # the last market's last event
    engine = engine_of(traders, [events.append])
    engine.run()
    assert fetch.reply.done() and fetch.reply.result() == []
    assert engine.portfolio.open_positions() == []
    assert [type(e) for e in events[-2:]] == [BalanceUpdate, CommandReply]
    assert engine.equity[-1] == pytest.approx(engine.portfolio.equity)
    assert_same_state(engine.portfolio, replay(events))


def test_a_command_the_engine_will_not_run_gets_engine_stopped_not_a_reply_that_never_comes():
    """Queued during an event whose strategy then raises (the run stops), or sent after the run."""
    fetch = FetchOpenPositions()

    def send_then_fail():
        engine.send(fetch)
        raise RuntimeError("strategy bug")

    engine = engine_of([Trader(MARKETS[0], candles([100.0, 110.0, 120.0]), _on_event(1, send_then_fail))])
    with pytest.raises(RuntimeError, match="strategy bug"):
        engine.run()
    assert isinstance(fetch.reply.exception(timeout=1), EngineStopped)
    late = FetchOpenPositions()
    with pytest.raises(EngineStopped, match="has ended: FetchOpenPositions was not run"):
        engine.send(late)
    assert not late.reply.done()  # refused at the call: nothing was queued


@pytest.mark.parametrize("n_markets", [1, 2])
def test_commands_sent_after_the_last_precomputed_event_run(n_markets):
    codes = np.array([1, 0, 0], dtype=np.int8)
    traders = [Trader(MARKETS[m], candles([100.0, 110.0, 120.0]), PrecomputedSignals(codes)) for m in range(n_markets)]
    engine, fetch = engine_of(traders), FetchOpenPositions()

    def progress(done, total):  # called by the loop after its last event
        if done == total and not fetch.reply.done():
            engine.send(Terminate("data ends"))
            engine.send(fetch)
    engine.run(progress, progress_every=3 * n_markets)
    assert engine.terminated and fetch.reply.result(timeout=1) == []  # queued behind Terminate: still run
    assert engine.events == 3 * n_markets and engine.equity[-1] == pytest.approx(engine.portfolio.equity)


@pytest.mark.parametrize("at", [2, 3], ids=["mid-run", "last event"])
def test_terminate_re_marks_the_equity_curves(at):
    from barter.backtest import BacktestResult

    closes = [100.0, 110.0, 120.0, 130.0]
    engine = Engine([Trader(MARKETS[0], candles(closes), _on_event(at, lambda: engine.send(Terminate())),
                            SimulatedExecution(Fees(exchange=0.01)))],
                    Portfolio(1000.0, allocator=DefaultAllocator(100.0, size_decimals=None)))
    engine.run()
    equity = engine.portfolio.equity
    exit_price = closes[at]
    assert engine.terminated and engine.events == at + 1
    assert equity == pytest.approx(1000.0 - 1.0 + exit_price - 100.0 - exit_price / 100)  # the real exit fee
    assert engine.summary().total.equity.end == pytest.approx(equity, rel=1e-12)
    assert BacktestResult(engine).equity.iloc[-1] == pytest.approx(equity, rel=1e-12)
    assert engine.equity[-1] == pytest.approx(equity, rel=1e-12)


def test_a_command_fill_is_a_point_of_its_time_on_the_equity_curves():
    traders = [Trader(MARKETS[0], candles([100.0, 120.0, 90.0, 90.0]),
                      _on_event(1, lambda: engine.send(ExitAllPositions())), SimulatedExecution(Fees(exchange=0.01)))]
    events = []
    engine = engine_of(traders, [events.append])
    engine.run()
    exit_equity = 10_000.0 - 1.0 + 20.0 - 1.2
    assert engine.equity[1] == pytest.approx(exit_equity)  # after the exit at the 2nd event's time
    # the drawdown after the peak at 120 counts the real exit fee, not the estimate
    assert engine.summary().total.equity.end == pytest.approx(engine.portfolio.equity)
    assert_same_state(engine.portfolio, replay(events))


def test_a_force_exit_is_stamped_at_the_engine_time_and_stream_times_never_go_back():
    events = []
    traders = [Trader(MARKETS[0], candles([100.0, 110.0, 120.0, 130.0]), Scripted([Signal.long()] + [None] * 3)),
               Trader(MARKETS[1], candles([10.0, 11.0, 12.0, 13.0], start=1),
                      _on_event(1, lambda: engine.send(ExitPosition(MARKETS[0]))))]
    engine = engine_of(traders, [events.append])
    engine.run()
    force = next(e for e in events if isinstance(e, SignalForceExit))
    after = events[events.index(force) + 1:]
    fill = next(e for e in after if isinstance(e, FillEvent))
    # sent during market 1's event at MIN + 1: market 0 exits then, at its mark of MIN
    assert force.time_ns == fill.time_ns == MIN + 1 and fill.price == 110.0
    stamps = [e.exchange_time_ns if isinstance(e, MarketEvent) else e.time_ns for e in events[1:]]
    assert stamps == sorted(stamps)
    assert_same_state(engine.portfolio, replay(events))
