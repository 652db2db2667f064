"""Book execution for the engine: a market's orders walk its L2 book at a simulated venue."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from barter._core.book import OrderBook
from barter.errors import ConfigError
from barter.execution.matching import MatchingVenue
from barter.execution.matching_types import Latency, MakerTakerFees, TimeInForce


@dataclass(frozen=True, slots=True)
class LimitOrder:
    """How a signal's order is placed under ``BookExecution``: a limit order at ``price``.

    ``Signal.long(order=LimitOrder(99.5))``. ``tif`` GTC rests in the book until filled or until
    ``expire_ns`` after it was decided (then cancelled; None: never); IOC takes what it can up to
    ``price`` and drops the rest; FOK fills in full or not at all. ``post_only`` rejects an order
    that would take liquidity. A resting order fills as a maker: when prints at its level have
    used up the volume ahead of it (trades in ``HistoricalBook.trades``, or live trade events), or
    when the book moves through its price. The quantity is the signal's, as for market orders.
    """

    price: float
    tif: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    expire_ns: Optional[int] = None

    def __post_init__(self) -> None:
        if isinstance(self.price, bool) or not isinstance(self.price, (int, float)) or not (
                math.isfinite(self.price) and self.price > 0):
            raise ConfigError(f"limit price must be finite and > 0, was {self.price!r}")
        try:  # "FOK", "fok" as well as TimeInForce.FOK and 2
            tif = TimeInForce[self.tif.upper()] if isinstance(self.tif, str) else TimeInForce(self.tif)
        except (KeyError, ValueError):
            raise ConfigError(f"tif must be one of {', '.join(t.name for t in TimeInForce)}, "
                              f"was {self.tif!r}") from None
        object.__setattr__(self, "tif", tif)
        if self.expire_ns is not None and (isinstance(self.expire_ns, bool) or not isinstance(self.expire_ns, int)
                                           or self.expire_ns <= 0):
            raise ConfigError(f"expire_ns must be an int > 0 or None, was {self.expire_ns!r}")


@dataclass(frozen=True, slots=True)
class BookExecution:
    """Fill a trader's orders against its market's L2 book instead of at a price.

    The trader's data must be an L2 book: ``HistoricalBook`` in a backtest, L2 snapshot and update
    events live. Each order is a market order decided ``latency.feed_ns`` after the event that
    caused it (the strategy saw the event that late) and matched ``latency.order_ns`` after that,
    against the book as it then stands (``MatchingVenue``): it takes the opposite side level by level
    from the best, less what this run's earlier orders took from those levels until the exchange
    updates them. What the book lacks is not filled: an entry opens smaller, an exit leaves the rest
    of the position open. Each order books one fill when it ends: its quantity, its volume-weighted
    price over the levels taken, and the maker/taker fees as the seed's ``exchange`` fee (the
    slippage is in the price, so the ``slippage`` fee is 0). While an order is in flight or resting
    its market makes no new order. With no latency a market order fills at the event that caused
    it, as with ``SimulatedExecution``. A signal with a ``LimitOrder`` places a limit order instead.
    """

    fees: MakerTakerFees = field(default_factory=MakerTakerFees)
    latency: Latency = field(default_factory=Latency)

    def rates(self) -> tuple[float, float, float]:
        """No fee rates for the core: every fill comes from the venue with its fee."""
        return (0.0, 0.0, 0.0)

    @property
    def delay_ns(self) -> int:
        """From the event that caused an order to its match at the venue."""
        return self.latency.feed_ns + self.latency.order_ns

    def venue(self, book: OrderBook) -> MatchingVenue:
        """A venue matching against ``book``, which its owner keeps up to date."""
        return MatchingVenue(self.fees, self.latency, book=book)
