"""Per-level state of the simulated venue: the user's orders and what the venue knows about a
watched price level (its last exchange size, the size the user's takers consumed from it and the
trade volume printed at it since), with the queue-position rules.

A level is *watched* while a user order rests at it or user takers consumed part of it; the
exchange's next update of the level replaces its size and clears both counters.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from barter.execution.matching_types import BookOrder, QueueRule

EPS = 1e-12  # relative: a remaining quantity below EPS * ordered counts as filled (float residue)


@dataclass(slots=True, eq=False)
class VenueOrder:
    """An order inside the venue. ``ahead`` is the market volume (base units) ahead of it in its
    level's queue while it rests."""

    order_id: int
    order: BookOrder
    arrival_ns: int
    filled: float = 0.0
    ahead: float = 0.0
    resting: bool = False

    @property
    def remaining(self) -> float:
        return self.order.quantity - self.filled

    @property
    def limit(self) -> float:
        """The limit price, quote per base (every resting or maker order has one)."""
        assert self.order.price is not None
        return self.order.price

    @property
    def done(self) -> bool:
        return self.remaining <= self.order.quantity * EPS


@dataclass(slots=True, eq=False)
class Level:
    """A watched price level on one side.

    Attributes
    ----------
    size : float
        The exchange's last size at the level, base units (0 when absent).
    consumed : float
        Base units the user's takers took since that update: not available to take again.
    traded : float
        Trade volume printed at the level since that update, base units: the part of the next
        size drop that trades explain, so it is not counted again as cancels.
    orders : list of VenueOrder
        The user's orders resting here, in time priority.
    """

    size: float
    consumed: float = 0.0
    traded: float = 0.0
    orders: list[VenueOrder] = field(default_factory=list)

    @property
    def available(self) -> float:
        return max(0.0, self.size - self.consumed)


def update_level(level: Level, new_size: float, rule: QueueRule) -> None:
    """The exchange set the level to ``new_size``: move each resting order's ``ahead`` by the
    cancels (the drop that printed trades do not explain), then take the new size as is."""
    after_trades = max(0.0, level.size - level.traded)
    cancelled = max(0.0, after_trades - new_size)
    for o in level.orders:
        if rule == QueueRule.PROPORTIONAL and after_trades > 0.0:
            o.ahead -= cancelled * o.ahead / after_trades
        o.ahead = min(max(o.ahead, 0.0), new_size)  # never more ahead than the level holds
    level.size, level.consumed, level.traded = new_size, 0.0, 0.0


def trade_at_level(level: Level, quantity: float, at_price: bool, budget: float) -> list[tuple[VenueOrder, float]]:
    """A trade of ``quantity`` printed at the level (``at_price``) or through it: returns the
    (order, fill quantity) pairs, in time priority, using at most ``budget`` base units of it.

    At the price, each order's ``ahead`` shrinks by the print, and it fills with what the print
    had left past both the market volume and the user's own orders ahead of it; through the price
    no market volume was ahead. The shared budget keeps one print from filling two orders with the
    same volume across levels.
    """
    out, own_ahead = [], 0.0
    for o in level.orders:
        remaining = o.remaining
        if at_price:
            past = quantity - o.ahead - own_ahead
            o.ahead = max(0.0, o.ahead - quantity)
        else:
            past, o.ahead = quantity - own_ahead, 0.0
        own_ahead += remaining
        q = min(remaining, past, budget)
        if q > 0.0:
            out.append((o, q))
            budget -= q
    return out
