"""Book a ``MatchingVenue``'s fills in an ``Account``: feed events -> strategy submits orders ->
venue fills -> account.

Each venue order is sent to the account as well (which reserves what it may spend) and the ids are
mapped; fills are booked at their venue time, and an order that ends with an unfilled part is
cancelled in the account to release its reservation.
"""
from __future__ import annotations

from collections import deque
from typing import Callable, Iterable, Optional

from barter.data.event import MarketEvent
from barter.errors import DataError, UnknownOrder
from barter.execution.matching import BID, ASK, MatchingVenue, Report
from barter.execution.matching_types import BookFill, BookOrder, OrderClosed, OrderKind
from barter.instrument import Market, Side
from barter.portfolio.account import Account, AccountFill

Strategy = Callable[[MarketEvent, int, "VenueAccount"], None]
"""Called with an event and the time the strategy sees it (exchange time + feed latency, ns)."""


class VenueAccount:
    """A venue for ``market`` whose fills go to ``account``.

    Parameters
    ----------
    venue : MatchingVenue
    account : Account
        Must hold ``market``.
    market : Market
    """

    def __init__(self, venue: MatchingVenue, account: Account, market: Market) -> None:
        account.market_id(market)  # raises UnknownMarket early
        self.venue, self.account, self.market = venue, account, market
        self.account_ids: dict[int, int] = {}  # venue order id -> account order id
        self.fills: list[AccountFill] = []

    def submit(self, order: BookOrder, decided_ns: int, reserve_price: Optional[float] = None) -> int:
        """Send ``order`` to the venue and the account; returns the venue's order id.

        The account reserves at ``reserve_price`` (quote per base), by default the limit price, or
        for a market order the deepest level it would reach in the book as it is now. A market buy
        that meets a worse book on arrival can need more than was reserved.
        """
        price = reserve_price if reserve_price is not None else self._reserve_price(order)
        signed = order.quantity if order.side == Side.BUY else -order.quantity
        rate = max(self.venue.fees.maker, self.venue.fees.taker, 0.0)
        aid = self.account.submit(self.market, signed, price, decided_ns, rate)
        try:
            vid = self.venue.submit(order, decided_ns)
        except Exception:
            self.account.cancel(aid)  # undo: the venue refused it
            raise
        self.account_ids[vid] = aid
        return vid

    def cancel(self, order_id: int, decided_ns: int) -> None:
        self.venue.cancel(order_id, decided_ns)

    def on_event(self, event: MarketEvent) -> list[AccountFill]:
        """Feed ``event`` to the venue and book what it reports."""
        return self.apply(self.venue.on_event(event))

    def advance(self, time_ns: int) -> list[AccountFill]:
        return self.apply(self.venue.advance(time_ns))

    def apply(self, reports: Iterable[Report]) -> list[AccountFill]:
        """Book venue reports in the account; returns the account fills they made."""
        out: list[AccountFill] = []
        for r in reports:
            aid = self.account_ids.get(r.order_id)
            if aid is None:
                raise UnknownOrder(f"report for venue order {r.order_id!r}, which was not sent through this account")
            if isinstance(r, BookFill):
                signed = r.quantity if r.side == Side.BUY else -r.quantity
                out += self.account.fill(aid, signed, r.price, r.fee, r.time_ns)
            elif isinstance(r, OrderClosed):
                if aid in self.account.orders:  # a part is unfilled: release its reservation
                    self.account.cancel(aid)
                del self.account_ids[r.order_id]
        self.fills += out
        return out

    def run(self, events: Iterable[MarketEvent], strategy: Strategy) -> list[AccountFill]:
        """Replay ``events`` (in exchange-time order) through the venue; ``strategy`` sees each one
        feed-latency later and may submit or cancel with ``decided_ns`` = the time it is given.
        Returns every account fill made."""
        feed = self.venue.latency.feed_ns
        seen: deque[MarketEvent] = deque()
        first = len(self.fills)
        for event in events:
            t = event.exchange_time_ns
            while seen and seen[0].exchange_time_ns + feed <= t:  # the strategy decides before t applies
                e = seen.popleft()
                strategy(e, e.exchange_time_ns + feed, self)
            self.on_event(event)
            seen.append(event)
        while seen:
            e = seen.popleft()
            self.advance(e.exchange_time_ns + feed)
            strategy(e, e.exchange_time_ns + feed, self)
        self.advance(max(self.venue.clock_ns, max((o.arrival_ns for o in self.venue.open_orders), default=0)))
        return self.fills[first:]

    def _reserve_price(self, order: BookOrder) -> float:
        if order.kind == OrderKind.LIMIT:
            assert order.price is not None
            return order.price
        side = ASK if order.side == Side.BUY else BID
        prices, sizes = self.venue.book.depth(side)
        if prices.size == 0:
            raise DataError(f"market order on an empty {side.name} side: pass reserve_price")
        k = int((sizes.cumsum() < order.quantity).sum())  # index of the level that completes it
        return float(prices[min(k, prices.size - 1)])
