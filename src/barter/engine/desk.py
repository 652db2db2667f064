"""A market's orders at its simulated venue during a run (``BookExecution``).

The portfolio core routes the market's orders here (``PortfolioCore.route``). Each becomes a market
order (or, with a ``LimitOrder`` spec on the signal, a limit order) at a ``MatchingVenue`` that shares
the market's book; the venue's fills for it are booked back as one fill when it ends. A market order
without latency ends at once, inside the event's step, like any fill. Otherwise the order is in
flight or resting: the venue sees the book messages (the owner calls ``before``/``after`` around
each while ``busy``, or only those touching its watched levels when no order is open) and the
market's prints, and the order is booked when it ends (at a message, a print or its cancel), as its
own point on the equity curves, with an ``OrderResult`` before its fill events so that a replay
books it the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np

from barter.decision import Decision
from barter.engine.events import OrderResult
from barter.execution.book_execution import BookExecution, LimitOrder
from barter.execution.matching_types import BookFill, BookOrder, OrderClosed, TimeInForce
from barter.instrument import Side

if TYPE_CHECKING:
    from barter._core.book import OrderBook
    from barter.engine.engine import Engine


@dataclass
class _Order:
    decision: int
    quantity: float  # signed, as ordered
    decided_ns: int
    filled: float = 0.0
    value: float = 0.0
    fee: float = 0.0


class VenueDesk:
    """Market ``mid``'s orders at a venue on ``book``. ``on_busy(busy, levels)`` hears whether the
    venue needs book messages, and, when only the messages touching a few watched levels matter,
    those (side, price) levels (else None). ``valid()`` says whether the book may be traded on (a
    live book resyncing may not: an order then is rejected)."""

    def __init__(self, engine: Engine, mid: int, execution: BookExecution, book: OrderBook,
                 on_busy: Optional[Callable[[bool, Optional[list[tuple[int, float]]]], Any]] = None,
                 valid: Optional[Callable[[], bool]] = None) -> None:
        self.engine, self.mid, self.execution = engine, mid, execution
        self.market = engine.markets[mid]
        self.venue = execution.venue(book)
        self.core = engine.portfolio.core
        self.orders: dict[int, _Order] = {}
        self.on_busy, self.valid = on_busy, valid
        self.core.route(mid, self)

    @property
    def busy(self) -> bool:
        return self.venue.busy

    def __call__(self, mid: int, decision: int, quantity: float, price: float, time_ns: int) -> None:
        """An order from the portfolio core (a signal, or a force exit); the signal's order spec,
        if any, is the core's ``next_order``."""
        decided = time_ns + self.execution.latency.feed_ns
        if self.valid is not None and not self.valid():
            return self._defer(OrderResult(time_ns, self.market, Decision(decision), quantity, 0.0, None, decided,
                                           decided, True, "rejected", "the book is not valid"))
        spec: Optional[LimitOrder] = self.core.next_order
        side = Side.BUY if quantity > 0 else Side.SELL
        if spec is None:
            order = BookOrder.market(side, abs(quantity))
        else:
            order = BookOrder.limit(side, abs(quantity), spec.price, spec.tif, post_only=spec.post_only)
        oid = self.venue.submit(order, decided)
        self.orders[oid] = _Order(decision, quantity, decided)
        self.core.set_in_flight(mid, True)
        if spec is not None and spec.expire_ns is not None and spec.tif == TimeInForce.GTC:
            self.venue.cancel(oid, decided + spec.expire_ns)
        if self.execution.delay_ns == 0:
            self._settle(self.venue.advance(decided), time_ns, in_step=True)
        self._busy_changed()

    def before(self, time_ns: int) -> None:
        """Before a book message at ``time_ns`` is applied: orders that arrived earlier match."""
        self._settle(self.venue.arrive(time_ns), time_ns, in_step=False)

    def trade(self, time_ns: int, price: float, amount: float, side: Optional[Side]) -> None:
        """A public trade of the market (``side`` the aggressor's): resting orders move up their
        queue, and fill once the volume ahead of them has traded."""
        self._settle(self.venue.on_trade(time_ns, price, amount, side), time_ns, in_step=False)
        self._busy_changed()

    def after(self, time_ns: int, updates: Any) -> None:
        """After it was applied: its ``(side, price, size)`` updates (None for a snapshot)."""
        self._settle(self.venue.book_changed(time_ns, updates), time_ns, in_step=False)
        self._busy_changed()

    def flush(self, time_ns: int) -> None:
        """At the end of a run (``time_ns``: its last event): orders still in flight arrive and
        match against the last book; orders still resting then are cancelled ("end of data"),
        booking what they filled."""
        if not self.orders:
            return
        last = max(self.venue.clock_ns, max(o.decided_ns for o in self.orders.values())
                   + self.execution.latency.order_ns)
        self._settle(self.venue.advance(last), max(time_ns, last), in_step=False)
        if self.orders:
            self._settle(self.venue.close_all(last, "end of data"), max(time_ns, last), in_step=False)

    def _settle(self, reports: list, now: int, in_step: bool) -> None:
        for report in reports:
            order = self.orders[report.order_id]
            if isinstance(report, BookFill):
                order.filled += report.quantity
                order.value += report.quantity * report.price
                order.fee += report.fee
            elif isinstance(report, OrderClosed):
                del self.orders[report.order_id]
                self._book(order, report, now, in_step)

    def _book(self, order: _Order, closed: OrderClosed, now: int, in_step: bool) -> None:
        """Book an ended order as one fill: before its fill events (and as its own equity point)
        when it comes after the event that caused it, after them when it filled in that event."""
        core, emitter = self.core, self.engine._emitter
        core.set_in_flight(self.mid, False)
        filled = order.filled if order.quantity > 0 else -order.filled
        price = order.value / order.filled if order.filled > 0 else None
        arrival = order.decided_ns + self.execution.latency.order_ns
        result = OrderResult(order.decided_ns if in_step else now, self.market, Decision(order.decision),
                             order.quantity, filled, price, order.decided_ns, arrival, in_step,
                             closed.status.name.lower(), closed.reason)
        if emitter is not None and not in_step:
            emitter.publish(result)
        before = core.n_fills
        if price is not None:
            core.apply_fill(self.mid, order.decision, filled, price, closed.time_ns, (order.fee, 0.0, 0.0))
        if in_step:  # the step publishes the fill; the result follows it
            return self._defer(result)
        if emitter is not None:
            emitter.publish_fills(before)
        core.observe(self.mid, now, price is not None)

    def _defer(self, event: OrderResult) -> None:
        """Publish ``event`` after the fills of the step (or command) being processed."""
        if self.engine._emitter is not None:
            self.engine._emitter.defer(event)

    def _busy_changed(self) -> None:
        if self.on_busy is not None:
            self.on_busy(self.venue.busy, self.venue.quiet_levels())


def backtest_desks(engine: Engine, tape: Any) -> list[VenueDesk]:
    """A desk for each trader with ``BookExecution`` (its data must be a ``HistoricalBook``); while
    its venue is busy the tape hands the market's book rows to ``_row_hook``."""
    desks = []
    for mid, trader in enumerate(engine.traders):
        if isinstance(trader.execution, BookExecution):
            desk = VenueDesk(engine, mid, trader.execution, tape.book(mid), on_busy=partial(tape.set_active, mid))
            tape.set_hook(mid, _row_hook(desk, tape, trader.data))
            desks.append(desk)
    return desks


def _row_hook(desk: VenueDesk, tape: Any, data: Any) -> Callable[[int], None]:
    trades, venue, times, start = data.trades, desk.venue, data.time_ns, data.start

    def take(row: int) -> None:
        t = int(times[row])
        if trades is not None and len(trades):  # the prints since the last row the venue saw
            _feed_trades(desk, trades, max(venue.clock_ns, int(times[row - 1]) + 1 if row else 0), t)
        desk.before(t)
        tape.apply_row(desk.mid, row)
        if data.snapshot[row]:
            desk.after(t, None)
        elif venue.watching:  # the updates are read only then
            lo, hi = int(start[row]), int(start[row + 1])
            desk.after(t, zip(data.side[lo:hi].tolist(), data.price[lo:hi].tolist(), data.size[lo:hi].tolist()))
        else:
            desk.after(t, ())

    return take


def _feed_trades(desk: VenueDesk, trades: Any, from_ns: int, to_ns: int) -> None:
    """The prints at ``from_ns`` .. ``to_ns`` (inclusive), in order."""
    lo = int(np.searchsorted(trades.time_ns, from_ns))
    hi = int(np.searchsorted(trades.time_ns, to_ns, side="right"))
    for i in range(lo, hi):
        side = int(trades.side[i])
        desk.trade(int(trades.time_ns[i]), float(trades.price[i]), float(trades.amount[i]), Side(side) if side else None)
