"""Live sessions over real loopback TCP feeds, commands from another thread, and the error policy."""
from __future__ import annotations

import math

import asyncio
import threading
import time
from contextlib import contextmanager

import numpy as np
import pytest

from barter import Engine, InstrumentKind, Market, Trader
from barter.data import HistoricalCandles
from barter.data.event import Candle, MarketEvent
from barter.data.live import TcpJsonLinesFeed
from barter.engine import codec
from barter.engine.commands import ExitAllPositions, FetchOpenPositions
from barter.engine.events import CommandReply, EngineError, FillEvent
from barter.portfolio import DefaultAllocator, Portfolio
from barter.strategy import Signal, Strategy
from barter.strategy.base import SignalForceExit

MIN = 60 * 10**9
BTC = Market("binance", ("btc", "usdt", InstrumentKind.SPOT))
ETH = Market("binance", ("eth", "usdt", InstrumentKind.SPOT))


@contextmanager
def feed_server(events, delay=0.0, wait_for=None):
    """A TCP server on 127.0.0.1 that sends each connection ``events`` as JSON lines, then closes."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port = []
    stop = loop.create_future()

    async def handle(reader, writer):
        for i, event in enumerate(events):
            if wait_for is not None and i == len(events) // 2:
                await loop.run_in_executor(None, wait_for.wait, 10)
            writer.write((codec.dumps(event) + "\n").encode())
            await writer.drain()
            if delay:
                await asyncio.sleep(delay)
        writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port.append(server.sockets[0].getsockname()[1])
        ready.set()
        async with server:
            await stop

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield port[0]
    finally:
        loop.call_soon_threadsafe(stop.set_result, None)
        thread.join(5)
        loop.close()


def candle_events(market, closes, start=0):
    return [MarketEvent(start + i * MIN, market, Candle(c, c, c, c, 1.0)) for i, c in enumerate(closes)]


class Alternate(Strategy):
    """Long on even events, close on odd ones."""

    def __init__(self):
        self.i = 0

    def generate_signal(self, market):
        self.i += 1
        return Signal.long() if self.i % 2 else Signal.close_long()


def portfolio():
    return Portfolio(starting_cash=10_000.0, allocator=DefaultAllocator(100.0, size_decimals=None), engine_id="live")


def test_a_live_session_equals_the_backtest_of_the_same_events():
    closes = 100.0 + np.cumsum(np.random.default_rng(3).normal(0, 1, 60))
    with feed_server(candle_events(BTC, closes)) as port:
        live = Engine([Trader(BTC, TcpJsonLinesFeed("127.0.0.1", port), Alternate())], portfolio())
        live.run()
    c = np.asarray(closes)
    data = HistoricalCandles.from_arrays(MIN * np.arange(len(c), dtype=np.int64), c, c, c, c, np.ones(len(c)))
    backtest = Engine([Trader(BTC, data, Alternate())], portfolio())
    backtest.run()
    assert live.events == backtest.events == 60
    assert live.portfolio.balance == backtest.portfolio.balance
    assert live.portfolio.exited_positions() == backtest.portfolio.exited_positions()
    np.testing.assert_array_equal(live.equity, backtest.equity)


def test_commands_from_another_thread_during_a_live_session():
    events, half_sent = [], threading.Event()
    fetch, after_exit = FetchOpenPositions(), FetchOpenPositions()

    class Hold(Strategy):
        def generate_signal(self, market):
            return Signal.long()  # enter once, then hold

    btc, eth = candle_events(BTC, [100.0] * 40), candle_events(ETH, [10.0] * 40)
    with feed_server(btc, delay=0.002) as p1, feed_server(eth, delay=0.002) as p2:
        engine = Engine([Trader(BTC, TcpJsonLinesFeed("127.0.0.1", p1), Hold()),
                         Trader(ETH, TcpJsonLinesFeed("127.0.0.1", p2), Hold())], portfolio(),
                        listeners=[events.append])

        def client():
            while engine.events < 10:
                time.sleep(0.001)
            engine.send(fetch)
            engine.send(ExitAllPositions())
            engine.send(after_exit)
            half_sent.set()

        thread = threading.Thread(target=client)
        thread.start()
        engine.run()
        thread.join(5)
    assert half_sent.is_set()
    assert len(fetch.reply.result(timeout=1)) == 2
    assert after_exit.reply.result(timeout=1) == []  # ExitAllPositions left nothing open
    replies = [e for e in events if isinstance(e, CommandReply)]
    assert [r.command for r in replies] == ["FetchOpenPositions", "FetchOpenPositions"]
    exits = [i for i, e in enumerate(events) if isinstance(e, FillEvent) and e.decision.is_exit]
    assert len(exits) == 2 and events.index(replies[0]) < exits[0]  # honoured in the order sent
    # Hold re-enters after the exits; the books still balance
    pf = engine.portfolio
    realised = sum(p.realised_profit_loss for p in pf.exited_positions())
    assert pf.balance.total == pytest.approx(10_000.0 + realised, rel=1e-12)


def test_bad_feed_events_are_reported_and_skipped():
    events = []
    good = candle_events(BTC, [100.0, 101.0, 102.0])
    nan, negative = candle_events(BTC, [math.nan, -1.0], start=3)
    bad = [good[0], candle_events(ETH, [5.0])[0], nan, good[2], good[1], negative]  # wrong market, NaN, time
    with feed_server(bad) as port:                                                   # backwards, price < 0
        engine = Engine([Trader(BTC, TcpJsonLinesFeed("127.0.0.1", port), Alternate())], portfolio(),
                        listeners=[events.append])
        engine.run()
    errors = [e for e in events if isinstance(e, EngineError)]
    assert [("eth" in e.error, "bad price" in e.error, "older" in e.error) for e in errors] == [
        (True, False, False), (False, True, False), (False, False, True), (False, True, False)]
    assert engine.events == 2 and all(e.policy == "skip" for e in errors)


class Boom(Strategy):
    def generate_signal(self, market):
        raise RuntimeError("strategy bug")


def solo_eth():
    c = np.array([10.0, 11.0, 12.0, 13.0])
    return HistoricalCandles.from_arrays(MIN * np.arange(4, dtype=np.int64) + 1, c, c, c, c, np.ones(4))


def btc_data():
    c = np.array([100.0, 101.0, 102.0, 103.0])
    return HistoricalCandles.from_arrays(MIN * np.arange(4, dtype=np.int64), c, c, c, c, np.ones(4))


def test_skip_policy_reports_the_error_and_leaves_other_traders_alone():
    events = []
    engine = Engine([Trader(BTC, btc_data(), Boom()), Trader(ETH, solo_eth(), Alternate())], portfolio(),
                    listeners=[events.append], on_error="skip")
    engine.run()
    alone = Engine([Trader(ETH, solo_eth(), Alternate())], portfolio())
    alone.run()
    errors = [e for e in events if isinstance(e, EngineError)]
    assert len(errors) == 1 and errors[0].market == BTC and "strategy bug" in errors[0].error
    assert engine.portfolio.exited_positions()[0].realised_profit_loss == \
        alone.portfolio.exited_positions()[0].realised_profit_loss
    assert engine.portfolio.balance.total == alone.portfolio.balance.total


def test_stop_policy_reports_then_raises():
    events = []
    engine = Engine([Trader(BTC, btc_data(), Boom())], portfolio(), listeners=[events.append])
    with pytest.raises(RuntimeError, match="strategy bug"):
        engine.run()
    assert isinstance(events[-1], EngineError) and events[-1].policy == "stop" and events[-1].market == BTC


def test_event_kinds_the_engine_cannot_trade_on_are_reported_not_fatal():
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Quote:
        bid: float
        ask: float

    events = []
    feed = [MarketEvent(0, BTC, Quote(99.0, 101.0))] + candle_events(BTC, [100.0, 101.0], start=MIN)
    async def source():
        for event in feed:
            yield event

    class Feed:
        def __aiter__(self):
            return source()

    engine = Engine([Trader(BTC, Feed(), Alternate())], portfolio(), listeners=[events.append])
    engine.run()
    errors = [e for e in events if isinstance(e, EngineError)]
    assert len(errors) == 1 and "Quote" in errors[0].error and engine.events == 2


def test_commands_sent_during_the_last_event_run_before_the_session_ends():
    events, fetch = [], FetchOpenPositions()

    class ExitAtTheEnd(Strategy):
        i = 0

        def generate_signal(self, market):
            self.i += 1
            if self.i == 5:
                engine.send(ExitAllPositions())
                engine.send(fetch)
            return Signal.long() if self.i == 1 else None

    with feed_server(candle_events(BTC, [100.0, 101.0, 102.0, 103.0, 104.0])) as port:
        engine = Engine([Trader(BTC, TcpJsonLinesFeed("127.0.0.1", port), ExitAtTheEnd())], portfolio(),
                        listeners=[events.append])
        engine.run()
    assert fetch.reply.result(timeout=1) == [] and engine.portfolio.open_positions() == []
    force = next(e for e in events if isinstance(e, SignalForceExit))
    assert force.time_ns == 4 * MIN  # at the last event's time
    assert engine.equity[-1] == pytest.approx(engine.portfolio.equity)
    assert engine.summary().total.equity.end == pytest.approx(engine.portfolio.equity)
