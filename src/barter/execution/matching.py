"""A simulated venue for one instrument: the market's L2 book, fed in time order, and the user's
orders matched against it with latency, queue positions and maker/taker fees.

Time is the venue's (exchange) time in UNIX ns. An order decided at ``t`` arrives at
``t + latency.order_ns`` and sees every market event up to and including its arrival time, never an
older book: arrivals are processed when the first event *after* them comes (or on ``advance``).
Every method that moves time returns the reports it produced: ``BookFill`` and ``OrderClosed``.

Takers walk the opposite side best level first, one fill per level at the level's price, and only
take what the user's earlier takers left of it (``Level.consumed``) until the exchange updates that
level. Resting orders keep ``ahead``, the market volume before them in the level's queue; see
``matching_queue`` and docs/execution.md.
"""
from __future__ import annotations

import heapq
import math
from typing import Callable, Iterable, Iterator, Optional, Union

import numpy as np
import numpy.typing as npt

from barter._core.book import BookSide, OrderBook
from barter.data.event import MarketEvent, Trade
from barter.data.exchange.events import OrderBookL2Snapshot, OrderBookL2Update
from barter.errors import CrossedBook, DataError, UnknownOrder
from barter.execution.matching_queue import Level, VenueOrder, trade_at_level, update_level
from barter.execution.matching_types import (BookFill, BookOrder, Latency, Liquidity, MakerTakerFees, OrderClosed,
                                             OrderKind, OrderStatus, QueueRule, TimeInForce)
from barter.instrument import Side

Report = Union[BookFill, OrderClosed]
BID, ASK = BookSide.BID, BookSide.ASK
_FIRST_LEVELS = 16  # levels read per walk before reading the whole side
_ANY = 1e-300  # a 'want' that any available size meets


class MatchingVenue:
    """One instrument's simulated exchange.

    Parameters
    ----------
    fees : MakerTakerFees
        Rates as fractions of notional.
    latency : Latency
        Feed and order latency, ns.
    queue : QueueRule
        How cancels move a resting order's queue position (PROPORTIONAL by default).
    book : OrderBook, optional
        A book kept up to date by its owner (the engine's, or a live ``BookManager``'s): the owner
        calls ``arrive`` before it applies each message and ``book_changed`` after. Without it the
        venue keeps its own book, fed by ``on_event``/``on_snapshot``/``on_delta``.
    """

    def __init__(self, fees: MakerTakerFees = MakerTakerFees(), latency: Latency = Latency(),
                 queue: QueueRule = QueueRule.PROPORTIONAL, book: Optional[OrderBook] = None) -> None:
        self.fees, self.latency, self.queue = fees, latency, QueueRule(queue)
        self.book = OrderBook() if book is None else book
        self.clock_ns = 0
        self._levels: tuple[dict[float, Level], dict[float, Level]] = ({}, {})  # watched, by BookSide
        self._open: dict[int, VenueOrder] = {}  # pending or resting
        self._pending: list[tuple[int, int, int, int]] = []  # heap of (arrival, seq, order id, is cancel)
        self._seq = 0
        self._resting = 0  # orders resting in the book: 0 skips the queue work per event
        self._out: list[Report] = []

    # -- the user's side ----------------------------------------------------------------------------

    def submit(self, order: BookOrder, decided_ns: int) -> int:
        """Send ``order`` decided at ``decided_ns``; returns its id. It is matched on arrival."""
        arrival = self._arrival(decided_ns)
        oid = self._seq
        self._open[oid] = VenueOrder(oid, order, arrival)
        self._push(arrival, oid, 0)
        return oid

    def cancel(self, order_id: int, decided_ns: int) -> None:
        """Cancel an open order; it takes effect on arrival (the order may fill meanwhile, and a
        cancel that arrives after the order ended does nothing)."""
        if order_id not in self._open:
            raise UnknownOrder(f"cancel of order {order_id!r}, which was never sent or has ended")
        self._push(self._arrival(decided_ns), order_id, 1)

    def close_all(self, time_ns: int, reason: str) -> list[Report]:
        """End every open order at ``time_ns`` at once, with no latency (the run is over: nothing
        else can arrive): each is cancelled for ``reason``; what it filled stands."""
        self._check_time(time_ns)
        self.clock_ns = time_ns
        for o in list(self._open.values()):
            self._close(o, time_ns, OrderStatus.CANCELLED, reason)
        self._pending.clear()
        return self._drain()

    def advance(self, time_ns: int) -> list[Report]:
        """Process the orders and cancels arriving at or before ``time_ns``: call it once no market
        event at or before ``time_ns`` is left to feed."""
        self._check_time(time_ns)
        self._arrive(time_ns, inclusive=True)
        self.clock_ns = time_ns
        return self._drain()

    # -- market events ------------------------------------------------------------------------------

    def on_event(self, event: MarketEvent) -> list[Report]:
        """Feed a market event (L2 snapshot, L2 update or trade; other kinds only move time)."""
        t, kind = event.exchange_time_ns, event.kind
        if isinstance(kind, OrderBookL2Update):
            return self.on_delta(t, kind.bids, kind.asks)
        if isinstance(kind, Trade):
            return self.on_trade(t, kind.price, kind.amount, kind.side)
        if isinstance(kind, OrderBookL2Snapshot):
            return self.on_snapshot(t, kind.bids, kind.asks)
        self._before_event(t)
        self.clock_ns = t
        return self._drain()

    def on_snapshot(self, time_ns: int, bids: npt.ArrayLike, asks: npt.ArrayLike) -> list[Report]:
        """Replace the book with ``[price, size]`` rows; every watched level takes its new size.
        Bad rows raise ``DataError`` (from the book) before the book changes."""
        self._before_event(time_ns)
        crossed = _book_rows(self.book.apply_snapshot, bids, asks)
        return self._changed(time_ns, None, crossed)

    def on_delta(self, time_ns: int, bids: npt.ArrayLike, asks: npt.ArrayLike) -> list[Report]:
        """Apply one exchange message's changed levels (a size of 0 deletes the level). Bad rows
        raise ``DataError`` (from the book) before the book changes."""
        self._before_event(time_ns)
        crossed = _book_rows(self.book.apply_delta, bids, asks)  # checks every row first
        return self._changed(time_ns, level_updates(bids, asks), crossed)

    # -- a book kept by its owner -------------------------------------------------------------------

    def arrive(self, time_ns: int) -> list[Report]:
        """Before the owner applies a message at ``time_ns``: the orders and cancels arriving
        before it are matched against the book as it stands."""
        self._before_event(time_ns)
        return self._drain()

    def book_changed(self, time_ns: int, updates: Optional[Iterable[tuple[int, float, float]]]) -> list[Report]:
        """After the owner applied a message at ``time_ns`` (after ``arrive``): its ``(side, price,
        size)`` updates (``level_updates``), read only while a level is watched, or None for a
        snapshot (every watched level is read again)."""
        self._check_time(time_ns)
        return self._changed(time_ns, updates, self.book.is_crossed)

    @property
    def busy(self) -> bool:
        """Orders open or in flight, or levels the user's takers consumed: the venue must see
        every message (while not busy, an owner may skip ``arrive``/``book_changed``)."""
        return bool(self._open or self._pending or self._levels[BID] or self._levels[ASK])

    def quiet_levels(self) -> Optional[list[tuple[int, float]]]:
        """With no order open or in flight: the watched levels as (side, price), the only ones a
        message must touch to matter to the venue; None while orders need every message."""
        if self._open or self._pending:
            return None
        return [(int(side), price) for side in (BID, ASK) for price in self._levels[side]]

    @property
    def watching(self) -> bool:
        """Levels watched (resting orders, or size the user's takers took): a message's updates
        matter beyond the book."""
        return bool(self._levels[BID] or self._levels[ASK])

    def _changed(self, t: int, updates: Optional[Iterable[tuple[int, float, float]]], crossed: bool) -> list[Report]:
        """The book has taken a message: watched levels take their new sizes (None: a snapshot)."""
        self.clock_ns = t
        if updates is None:
            self._reread_watched()
        elif self.watching:  # only watched levels need more than the book's update
            levels = self._levels
            for side, price, size in updates:
                if price in levels[side]:
                    self._set_level(BookSide(side), price, size)
        return self._after_book(t, crossed)

    def _reread_watched(self) -> None:
        for side in (BID, ASK):
            if self._levels[side]:
                sizes = dict(zip(*(x.tolist() for x in self.book.depth(side))))
                for price in list(self._levels[side]):
                    self._set_level(side, price, sizes.get(price, 0.0))

    def on_trade(self, time_ns: int, price: float, quantity: float, side: Optional[Side]) -> list[Report]:
        """A public trade; ``side`` is the aggressor's (SELL hits bids), None when unknown."""
        if not (math.isfinite(price) and price > 0 and math.isfinite(quantity) and quantity > 0):
            raise DataError(f"trade needs a finite price > 0 and quantity > 0, was {price!r}, {quantity!r}")
        self._before_event(time_ns)
        self.clock_ns = time_ns
        if self._resting == 0:
            return self._drain()
        if side != Side.BUY:
            self._trade_hits(BID, price, quantity, time_ns)
        if side != Side.SELL:
            self._trade_hits(ASK, price, quantity, time_ns)
        return self._drain()

    # -- reading ------------------------------------------------------------------------------------

    def order(self, order_id: int) -> VenueOrder:
        """An open (pending or resting) order."""
        try:
            return self._open[order_id]
        except KeyError:
            raise UnknownOrder(f"order {order_id!r} was never sent or has ended") from None

    @property
    def open_orders(self) -> list[VenueOrder]:
        return list(self._open.values())

    def available(self, side: BookSide, price: float) -> float:
        """Base units left to take at ``price`` on ``side`` after the user's takers."""
        level = self._levels[side].get(price)
        size = self._size_at(side, price)
        return size if level is None else level.available

    # -- time ---------------------------------------------------------------------------------------

    def _arrival(self, decided_ns: int) -> int:
        if isinstance(decided_ns, bool) or not isinstance(decided_ns, int) or decided_ns < 0:
            raise DataError(f"decided_ns must be an int >= 0 (UNIX ns), was {decided_ns!r}")
        arrival = decided_ns + self.latency.order_ns
        if arrival < self.clock_ns:
            raise DataError(f"an action decided at {decided_ns} arrives at {arrival}, before the venue's "
                            f"clock {self.clock_ns}: it would see an older book")
        return arrival

    def _push(self, arrival: int, order_id: int, is_cancel: int) -> None:
        heapq.heappush(self._pending, (arrival, self._seq, order_id, is_cancel))
        self._seq += 1

    def _check_time(self, time_ns: int) -> None:
        if isinstance(time_ns, bool) or not isinstance(time_ns, int) or time_ns < self.clock_ns:
            raise DataError(f"event time must be an int >= the venue's clock {self.clock_ns}, was {time_ns!r}")

    def _before_event(self, time_ns: int) -> None:
        """Check the time, then run the arrivals before it; the caller moves the clock to
        ``time_ns`` once the event is applied (a bad event leaves it at the last arrival)."""
        self._check_time(time_ns)
        self._arrive(time_ns, inclusive=False)

    def _arrive(self, time_ns: int, inclusive: bool) -> None:
        p = self._pending
        while p and (p[0][0] < time_ns or (inclusive and p[0][0] == time_ns)):
            arrival, _, oid, is_cancel = heapq.heappop(p)
            self.clock_ns = arrival
            o = self._open.get(oid)
            if o is None:
                continue  # the order ended before this cancel arrived
            if is_cancel:
                self._close(o, arrival, OrderStatus.CANCELLED, "cancelled")
            else:
                self._match_new(o, arrival)

    # -- matching -----------------------------------------------------------------------------------

    def _match_new(self, o: VenueOrder, t: int) -> None:
        spec = o.order
        limit = spec.price if spec.kind == OrderKind.LIMIT else None
        if spec.post_only and self._takeable(spec.side, limit, _ANY) > 0.0:
            return self._close(o, t, OrderStatus.REJECTED, "post-only order would take liquidity")
        if spec.tif == TimeInForce.FOK and self._takeable(spec.side, limit, spec.quantity) < spec.quantity * (1 - 1e-12):
            return self._close(o, t, OrderStatus.EXPIRED, "fill-or-kill: not enough liquidity")
        self._take(o, limit, t, Liquidity.TAKER)
        if o.done:
            return self._close(o, t, OrderStatus.FILLED, "")
        if spec.tif != TimeInForce.GTC:
            return self._close(o, t, OrderStatus.EXPIRED, "no more liquidity within the price")
        self._rest(o)

    def _levels_to_take(self, side: Side, limit: Optional[float]):
        """(price, size) of the opposite side, best first, up to ``limit``."""
        opp = ASK if side == Side.BUY else BID
        n_all = self.book.n_asks if opp == ASK else self.book.n_bids
        for start, n in ((0, _FIRST_LEVELS), (_FIRST_LEVELS, None)):
            if start >= n_all:
                return
            prices, sizes = self.book.depth(opp, n)
            for price, size in zip(prices[start:].tolist(), sizes[start:].tolist()):
                if limit is not None and (price > limit if side == Side.BUY else price < limit):
                    return
                yield price, size

    def _takeable(self, side: Side, limit: Optional[float], want: float) -> float:
        levels, total = self._levels[ASK if side == Side.BUY else BID], 0.0
        for price, size in self._levels_to_take(side, limit):
            level = levels.get(price)
            total += size if level is None else level.available
            if total >= want:
                break
        return total

    def _take(self, o: VenueOrder, limit: Optional[float], t: int, liquidity: Liquidity) -> None:
        """Fill ``o`` from the opposite side up to ``limit``, consuming what it takes."""
        opp = ASK if o.order.side == Side.BUY else BID
        levels = self._levels[opp]
        for price, size in self._levels_to_take(o.order.side, limit):  # the book does not change meanwhile
            level = levels.get(price)
            if level is None:
                level = levels[price] = Level(size)
            q = min(o.remaining, level.available)
            if q <= 0.0:
                continue
            level.consumed += q
            self._fill(o, t, price if liquidity == Liquidity.TAKER else o.limit, q, liquidity)
            if o.done:
                break
        self._unwatch(opp)

    def _rest(self, o: VenueOrder) -> None:
        side = BID if o.order.side == Side.BUY else ASK
        price = o.limit
        level = self._levels[side].get(price)
        if level is None:
            level = self._levels[side][price] = Level(self._size_at(side, price))
        o.ahead, o.resting = level.available, True
        level.orders.append(o)
        self._resting += 1

    def _trade_hits(self, side: BookSide, price: float, quantity: float, t: int) -> None:
        """A print at ``price`` against ``side``: fill the user's orders resting at or through it."""
        levels = self._levels[side]
        level = levels.get(price)
        if level is not None:
            level.traded += quantity
        buy = side == BID
        through = sorted((p for p, lv in levels.items() if lv.orders and (p >= price if buy else p <= price)),
                         reverse=buy)
        budget = quantity
        for p in through:
            for o, q in trade_at_level(levels[p], quantity, p == price, budget):
                budget -= q
                self._fill(o, t, p, q, Liquidity.MAKER)
            self._drop_done(side, p, t)

    def _match_crossed(self, t: int) -> None:
        """Resting orders the book now crosses (a level posted through them) fill as makers at
        their own price against the crossing levels."""
        if self._resting == 0:
            return
        for side, own in ((Side.BUY, BID), (Side.SELL, ASK)):
            levels = self._levels[own]
            best = self.book.ask_price if own == BID else self.book.bid_price
            if math.isnan(best):
                continue
            crossed = [p for p, lv in levels.items() if lv.orders and (p >= best if own == BID else p <= best)]
            for p in sorted(crossed, reverse=own == BID):
                for o in list(levels[p].orders):
                    self._take(o, p, t, Liquidity.MAKER)
                self._drop_done(own, p, t)

    def _fill(self, o: VenueOrder, t: int, price: float, q: float, liquidity: Liquidity) -> None:
        o.filled += q
        rate = self.fees.maker if liquidity == Liquidity.MAKER else self.fees.taker
        self._out.append(BookFill(o.order_id, t, t + self.latency.feed_ns, o.order.side, price, q,
                                  rate * q * price, liquidity))

    def _close(self, o: VenueOrder, t: int, status: OrderStatus, reason: str) -> None:
        if o.resting:
            side = BID if o.order.side == Side.BUY else ASK
            level = self._levels[side][o.limit]
            level.orders.remove(o)
            o.resting = False
            self._resting -= 1
            self._unwatch(side)
        del self._open[o.order_id]
        unfilled = 0.0 if status == OrderStatus.FILLED else o.remaining
        filled = o.order.quantity - unfilled
        self._out.append(OrderClosed(o.order_id, t, t + self.latency.feed_ns, status, filled, unfilled, reason))

    def _drop_done(self, side: BookSide, price: float, t: int) -> None:
        level = self._levels[side].get(price)
        if level is not None:
            for o in [o for o in level.orders if o.done]:
                self._close(o, t, OrderStatus.FILLED, "")

    # -- book state ---------------------------------------------------------------------------------

    def _set_level(self, side: BookSide, price: float, size: float) -> None:
        level = self._levels[side][price]
        update_level(level, size, self.queue)
        if not level.orders:
            del self._levels[side][price]  # nothing consumed or resting: no longer watched

    def _unwatch(self, side: BookSide) -> None:
        """Keep only the levels the user rests at or consumed from."""
        levels = self._levels[side]
        for price in [p for p, lv in levels.items() if not lv.orders and lv.consumed == 0.0]:
            del levels[price]

    def _size_at(self, side: BookSide, price: float) -> float:
        """The book's size at ``price`` (0 if absent); reads the first levels, then the side."""
        for n in (_FIRST_LEVELS, None):
            prices, sizes = self.book.depth(side, n)
            key = -prices if side == BID else prices  # ascending for searchsorted
            i = int(np.searchsorted(key, -price if side == BID else price))
            if i < prices.size:
                return float(sizes[i]) if prices[i] == price else 0.0
        return 0.0

    def _after_book(self, t: int, crossed: bool) -> list[Report]:
        if crossed:
            raise CrossedBook(f"book update at {t} crossed the book: best bid {self.book.bid_price!r} "
                              f">= best ask {self.book.ask_price!r}")
        self._match_crossed(t)
        return self._drain()

    def _drain(self) -> list[Report]:
        out, self._out = self._out, []
        return out



def level_updates(bids: npt.ArrayLike, asks: npt.ArrayLike) -> Iterator[tuple[int, float, float]]:
    """A message's ``[price, size]`` rows of each side as ``(side, price, size)``, made as read."""
    for side, rows in ((BID, bids), (ASK, asks)):
        for price, size in np.asarray(rows, dtype=np.float64).reshape(-1, 2).tolist():
            yield side, price, size


def _book_rows(apply: Callable[[npt.ArrayLike, npt.ArrayLike], bool], bids: npt.ArrayLike, asks: npt.ArrayLike) -> bool:
    """``apply(bids, asks)`` with a bad shape or type reported as ``DataError`` too."""
    try:
        return apply(bids, asks)
    except DataError:
        raise
    except (TypeError, ValueError) as e:
        raise DataError(f"book rows: {e} (was {type(bids).__name__} bids, {type(asks).__name__} asks)") from e
