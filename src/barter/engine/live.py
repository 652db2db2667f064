"""Live and paper sessions: each trader consumes its own async feed as events arrive.

The strategy, portfolio and execution objects are the same as in a backtest, and each event goes
through the same compiled step (``Dispatcher``). Feeds run as asyncio tasks; every event and every
command batch takes the portfolio lock, so a command sent from another thread runs between two
events, at once even when the feeds are idle, at the latest event's time. The session ends when
every feed ends (commands still queued then run first), or on ``Terminate``. A feed event for
another market, or with a NaN, infinite or non-positive price or a negative size, is not
processed: it is reported as an ``EngineError`` with policy "skip" (bad input never reaches the
accounting). Events run in the order they arrive, each trader on a
clock that never goes back: an event stamped before its trader's previous one (exchanges stamp
kinds from different clocks) runs at the trader's clock when it is at most ``Engine.max_late_ns``
late, and is reported and skipped when older, except L2 messages, which always reach the book
(their order is the exchange's update ids, not their stamps).

L1 quotes (``OrderBookL1``) drive traders directly. L2 snapshots and updates go to the market's
book (``BookManager``: the exchange's sequence rules and checksums); while the book is valid each
one drives the trader as a book event (its top level, ``view.book`` the whole book), and its
status changes (invalid, resynced) are published on the engine's stream. A book that is not valid
is never shown to a strategy, and a ``BookExecution`` order on it is rejected. Orders of a trader
with ``BookExecution`` walk that book (``barter.engine.desk``); public trades of the market move its
resting orders up their queues, as ``HistoricalBook.trades`` do in a backtest; orders in flight
when the session ends match against the last book.
"""
from __future__ import annotations

import asyncio
from functools import partial
import math
import threading
import time
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from barter._core.dispatch import Dispatcher
from barter._core.book import OrderBook
from barter.data.event import BOOK, CANDLE, QUOTE, TRADE, Candle, MarketEvent, Trade
from barter.data.exchange.books import BookManager, BookStatusEvent
from barter.data.exchange.events import OrderBookL1, OrderBookL2Snapshot, OrderBookL2Update
from barter.engine.desk import VenueDesk
from barter.engine.events import EngineError
from barter.execution.book_execution import BookExecution
from barter.execution.matching import level_updates

if TYPE_CHECKING:
    from barter.engine.engine import Engine, Trader


Fields = tuple[int, float, float, float, float, float, int]  # kind, the five columns, side


def _fields(event: MarketEvent) -> Fields:
    """The event as the core's columns (see ``barter.engine.tape.columns``)."""
    kind = event.kind
    if isinstance(kind, Candle):
        return CANDLE, kind.open, kind.high, kind.low, kind.close, kind.volume, 0
    if isinstance(kind, OrderBookL1):
        return (QUOTE, kind.bid_price, kind.ask_price, kind.bid_amount, kind.volume_weighted_mid_price,
                kind.ask_amount, 0)
    return TRADE, kind.price, kind.price, kind.price, kind.price, kind.amount, int(kind.side or 0)


def _book_fields(book: OrderBook) -> Optional[Fields]:
    """A valid L2 book's top level as a BOOK event (None while one side is empty: no price)."""
    bid, ask = book.best_bid, book.best_ask
    if bid is None or ask is None:
        return None
    return BOOK, bid[0], ask[0], bid[1], book.micro_price, ask[1], 0  # the seed's weighted mid


class _Books:
    """The L2 books of a live session's markets (``BookManager``: each exchange's sequence rules and
    checksums); their status changes go to the engine's stream."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.manager = BookManager()
        self.kept: set[Any] = set()  # markets with a book
        self.desks: dict[int, VenueDesk] = {}
        for mid, trader in enumerate(engine.traders):
            if isinstance(trader.execution, BookExecution):
                self._keep(trader.market)
                entry = self.manager._entry(trader.market)
                self.desks[mid] = VenueDesk(engine, mid, trader.execution, entry.book,
                                            valid=partial(self.manager.is_valid, trader.market))

    def _keep(self, market: Any) -> None:
        if market not in self.kept:  # rules from the exchange (a ConfigError if it has none)
            self.manager.add(market)
            self.kept.add(market)

    def fields(self, mid: int, trader: Trader, event: MarketEvent,
               t: int) -> tuple[Optional[Fields], Optional[OrderBook]]:
        """The event's columns for the core and, for an L2 event, the market's book; no columns
        while that book is not valid (or has an empty side): nothing a strategy may see. The
        market's desk, while busy, sees the message (at the trader's clock ``t``) before and after
        the book takes it, and each public trade (its resting orders' queues)."""
        kind = event.kind
        desk = self.desks.get(mid)
        if not isinstance(kind, (OrderBookL2Snapshot, OrderBookL2Update)):
            if desk is not None and desk.busy and isinstance(kind, Trade):  # a print moves resting orders up
                desk.trade(t, kind.price, kind.amount, kind.side)
            return _fields(event), None
        watched = desk is not None and desk.busy
        if watched:
            desk.before(t)  # type: ignore[union-attr]
        book = self.apply(trader, event)
        if watched and book is not None:
            snapshot = isinstance(kind, OrderBookL2Snapshot)
            desk.after(t, None if snapshot else level_updates(kind.bids, kind.asks))  # type: ignore[union-attr]
        return (None, None) if book is None else (_book_fields(book), book)

    def apply(self, trader: Trader, event: MarketEvent) -> Optional[OrderBook]:
        """Apply an L2 event; the market's book when it is valid after it, else None."""
        self._keep(trader.market)
        served = False
        for out in self.manager.process(event):
            if isinstance(out, BookStatusEvent):
                self.engine._publish(out)
            else:
                served = True
        return self.manager.book(trader.market) if served else None


async def run_live(engine: Engine) -> None:
    core = engine._start()
    if engine._emitter is not None:
        engine._emitter.publish(engine._session_start(time.time_ns()))
    dispatcher = Dispatcher(core, engine.callbacks(), engine.markets, engine._emitter)
    books = _Books(engine)
    lock = threading.Lock()
    stopped = asyncio.Event()
    times: list[int] = []
    equity: list[float] = []
    latest = [0]  # the latest event time processed
    loop = asyncio.get_running_loop()

    def commands(t: int) -> None:
        """(lock held) Run the queued commands at the latest event's time (``t`` before any); their
        fills are in the latest event's equity, as in a backtest."""
        if engine.drain_at(latest[0] or t):
            stopped.set()
        if equity:
            equity[-1] = core.equity_value

    def drain() -> None:
        with lock:
            if core.interrupt:
                commands(time.time_ns())

    async def consume(mid: int, trader: Trader) -> None:
        last = None
        async for event in trader.data:
            if stopped.is_set():
                return
            if not _acceptable(engine, trader, event):
                continue
            t = _clock(engine, trader, event, last)
            if t is None:
                continue
            last = t
            with lock:
                if core.interrupt:
                    commands(last)
                if stopped.is_set():
                    return
                fields, dispatcher.view.book = books.fields(mid, trader, event, last)
                if fields is None:
                    continue
                value = dispatcher.process(mid, last, *fields)
                latest[0] = max(latest[0], last)
                engine.events += 1
                if engine.record_equity:  # one point per time, as the equity curves
                    if times and times[-1] == last:
                        equity[-1] = value
                    else:
                        times.append(last)
                        equity.append(value)

    def wake() -> None:  # from the thread that sent a command
        loop.call_soon_threadsafe(drain)

    engine._wake = wake
    started = time.perf_counter()
    feeds = [asyncio.create_task(consume(mid, t)) for mid, t in enumerate(engine.traders)]
    stop = asyncio.create_task(stopped.wait())
    try:
        pending: set[Any] = set(feeds)
        while pending and not stopped.is_set():
            done, pending = await asyncio.wait(pending | {stop}, return_when=asyncio.FIRST_COMPLETED)
            pending.discard(stop)
            for task in done:
                if task is not stop and task.exception() is not None:
                    engine._report_stop(task.exception())  # type: ignore[arg-type]
                    raise task.exception()  # type: ignore[misc]
        with lock:  # commands sent during the last events, before the orders in flight are flushed
            if not engine._commands.empty():
                commands(time.time_ns())
    finally:
        engine._wake = None
        with lock:
            for desk in books.desks.values():  # orders in flight when the session ended
                desk.flush(latest[0])
        for task in (*feeds, stop):
            task.cancel()
        await asyncio.gather(*feeds, stop, return_exceptions=True)
        engine.elapsed_s = time.perf_counter() - started
        engine.time_ns = np.asarray(times, dtype=np.int64)
        engine.equity = np.asarray(equity, dtype=np.float64)


def _acceptable(engine: Engine, trader: Trader, event: Any) -> bool:
    """Events of the kinds that drive traders, for the trader's market; anything else is reported
    and skipped."""
    problem = None
    if not isinstance(event, MarketEvent):
        problem = f"feed yielded {type(event).__name__}, not a MarketEvent"
    elif not isinstance(event.kind, (Candle, Trade, OrderBookL1, OrderBookL2Snapshot, OrderBookL2Update)):
        problem = (f"{type(event.kind).__name__} events do not drive traders (candles, trades, L1 and "
                   "L2 books do)")
    elif event.market != trader.market:
        problem = f"feed of {trader.market} yielded an event of {event.market}"
    else:
        problem = _bad_values(event.kind)
    if problem is None:
        return True
    engine._publish(EngineError(getattr(event, "exchange_time_ns", 0), trader.market, problem, "skip"))
    return False


def _bad_values(kind: Any) -> Optional[str]:
    """Why a candle, trade or L1 quote cannot be priced (a NaN, infinite or non-positive price, a
    negative or non-finite size), or None. L2 messages are checked by their book."""
    prices: tuple[float, ...]
    sizes: tuple[float, ...]
    if isinstance(kind, Candle):
        prices, sizes = (kind.open, kind.high, kind.low, kind.close), (kind.volume,)
    elif isinstance(kind, Trade):
        prices, sizes = (kind.price,), (kind.amount,)
    elif isinstance(kind, OrderBookL1):
        prices, sizes = (kind.bid_price, kind.ask_price), (kind.bid_amount, kind.ask_amount)
    else:
        return None
    if all(math.isfinite(x) and x > 0.0 for x in prices) and all(math.isfinite(x) and x >= 0.0 for x in sizes):
        return None
    return f"{type(kind).__name__} with a bad price or size: {kind}"


def _clock(engine: Engine, trader: Trader, event: MarketEvent, last: Optional[int]) -> Optional[int]:
    """The time the event runs at: its own, or the trader's clock ``last`` when it is stamped
    earlier (at most ``max_late_ns``, or any L2 message); None (reported) when it is older."""
    t = event.exchange_time_ns
    if last is None or t >= last:
        return t
    if t >= last - engine.max_late_ns or isinstance(event.kind, (OrderBookL2Snapshot, OrderBookL2Update)):
        engine.late_events += 1
        return last
    problem = (f"event at {t} is older than the previous one at {last} by more than "
               f"max_late_ns={engine.max_late_ns}")
    engine._publish(EngineError(t, trader.market, problem, "skip"))
    return None
