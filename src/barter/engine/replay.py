"""Rebuild a portfolio from a recorded event stream alone (event sourcing).

Market events re-mark positions and feed the equity curves exactly as the loop did; fills are
booked with their recorded fees. A ``SignalForceExit`` (from a command) closes the previous market
event first, because the engine runs commands between events (at the latest event's time); the
fills it causes at once are a point on the equity curves at its time, as the engine books them.
An ``OrderResult`` booked after the event that caused it (latency) is its own point on the equity
curves, with the fills after it.
"""
from __future__ import annotations

from typing import Iterable, Optional

from barter.data.event import Candle, MarketEvent
from barter.data.exchange.events import OrderBookL1
from barter.engine.events import CommandReply, Event, OrderResult, SessionStart
from barter.errors import DataError
from barter.execution.events import FillEvent
from barter.portfolio.portfolio import Portfolio
from barter.strategy.base import SignalForceExit


def replay(events: Iterable[Event]) -> Portfolio:
    """The portfolio a run ended with, from its event stream (which starts with ``SessionStart``)."""
    stream = iter(events)
    start = next(stream, None)
    if not isinstance(start, SessionStart):
        raise DataError(f"an event stream starts with SessionStart, this one with {type(start).__name__}")
    portfolio = Portfolio(starting_cash=start.starting_cash, statistic_config=start.statistic_config,
                          engine_id=start.engine_id)
    core = portfolio.bind(list(start.markets), [(0.0, 0.0, 0.0)] * len(start.markets))
    # [market id, time, filled, always] of the event being replayed; a force exit (always False)
    # is observed only when it filled
    pending: Optional[list] = None

    def close_event() -> None:
        nonlocal pending
        if pending is not None and (pending[3] or pending[2]):
            core.observe(*pending[:3])
        pending = None

    for event in stream:
        if isinstance(event, MarketEvent):
            close_event()
            mid = portfolio.market_id(event.market)
            price = _mark_price(event.kind)
            core.mark(mid, price, event.exchange_time_ns)
            pending = [mid, event.exchange_time_ns, False, True]
        elif isinstance(event, SignalForceExit):
            close_event()
            pending = [portfolio.market_id(event.market), event.time_ns, False, False]
        elif isinstance(event, CommandReply):
            close_event()
        elif isinstance(event, OrderResult) and not event.in_step:
            close_event()
            pending = [portfolio.market_id(event.market), event.time_ns, False, True]
        elif isinstance(event, FillEvent):
            core.apply_fill(portfolio.market_id(event.market), int(event.decision), event.quantity,
                            event.price, event.time_ns,
                            (event.fees.exchange, event.fees.slippage, event.fees.network))
            if pending is not None:
                pending[2] = True
    close_event()
    return portfolio


def _mark_price(kind: object) -> float:
    """The price an event marks positions at: a candle's close, a trade's price, a quote's (or a
    book's top level's) volume-weighted mid, as the engine did."""
    if isinstance(kind, Candle):
        return kind.close
    if isinstance(kind, OrderBookL1):
        return kind.volume_weighted_mid_price
    return kind.price  # type: ignore[attr-defined, no-any-return]
