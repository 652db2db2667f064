"""A live trader's clock: events run in arrival order and the trader's time never goes back. An
event stamped slightly before the previous one (exchanges stamp kinds from different clocks) runs
at the trader's clock; an older one is reported and skipped, except L2 messages, which the book
always takes (their order is the exchange's update ids)."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest

from barter import Engine, Market, Trader
from barter.data.event import MarketEvent, Trade
from barter.data.exchange.books import BookState, BookStatusEvent
from barter.data.exchange.events import OrderBookL2Snapshot, OrderBookL2Update
from barter.engine.events import EngineError
from barter.errors import ConfigError
from barter.instrument import Side
from barter.portfolio import Portfolio
from barter.strategy import Strategy

BTC = Market("binance", ("btc", "usdt"))
S = 1_000_000_000


class Seen(Strategy):
    """Keeps (time, price, best bid) of every event it is shown."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, float, float | None]] = []

    def generate_signal(self, view):
        self.seen.append((view.time_ns, view.close, view.book.best_bid[0] if view.book is not None else None))


async def feed(events):
    for event in events:
        await asyncio.sleep(0)
        yield event


def update(t: int, uid: int, bid: float) -> MarketEvent:
    return MarketEvent(t, BTC, OrderBookL2Update(uid, uid, None, ((bid, 1.0),), ()))


def run(events, **options):
    stream: list = []
    strategy = Seen()
    engine = Engine([Trader(BTC, feed(events), strategy)], Portfolio(10_000.0), listeners=[stream.append], **options)
    engine.run()
    return engine, strategy.seen, stream


def test_a_slightly_late_trade_runs_at_the_clock_and_a_stale_one_is_skipped() -> None:
    trade = lambda t, price: MarketEvent(t, BTC, Trade(price, 1.0, Side.BUY))  # noqa: E731
    events = [trade(10 * S, 100.0), trade(10 * S - S // 2, 101.0), trade(10 * S - 2 * S, 102.0), trade(11 * S, 103.0)]
    engine, seen, stream = run(events)
    assert seen == [(10 * S, 100.0, None), (10 * S, 101.0, None), (11 * S, 103.0, None)]
    (error,) = [e for e in stream if isinstance(e, EngineError)]
    assert error.policy == "skip" and error.time_ns == 8 * S and "max_late_ns" in error.error
    assert engine.late_events == 1
    assert np.all(np.diff(engine.time_ns) >= 0) and engine.events == 3


def test_max_late_ns_zero_skips_every_late_event() -> None:
    trade = lambda t: MarketEvent(t, BTC, Trade(100.0, 1.0, Side.BUY))  # noqa: E731
    engine, seen, stream = run([trade(10), trade(9), trade(11)], max_late_ns=0)
    assert [t for t, _, _ in seen] == [10, 11] and engine.late_events == 0
    assert len([e for e in stream if isinstance(e, EngineError)]) == 1


def test_a_late_l2_message_still_reaches_the_book() -> None:
    snapshot = MarketEvent(10 * S, BTC, OrderBookL2Snapshot(100, ((99.0, 3.0),), ((101.0, 3.0),)))
    events = [snapshot, update(10 * S, 101, 99.5), update(5 * S, 102, 99.6), update(11 * S, 103, 99.7)]
    engine, seen, stream = run(events)
    assert seen == [(10 * S, 100.0, 99.0), (10 * S, seen[1][1], 99.5), (10 * S, seen[2][1], 99.6),
                    (11 * S, seen[3][1], 99.7)]  # no gap: the book never went invalid
    assert not [e for e in stream if isinstance(e, EngineError)]
    assert [e.state for e in stream if isinstance(e, BookStatusEvent)] == [BookState.RESYNCED]  # the snapshot
    assert engine.late_events == 1


@pytest.mark.parametrize("bad", [-1, True, 1.5, None])
def test_max_late_ns_must_be_a_non_negative_int(bad) -> None:
    with pytest.raises(ConfigError, match="max_late_ns"):
        Engine([Trader(BTC, feed([]), Seen())], Portfolio(10_000.0), max_late_ns=bad)
