"""Book execution for the engine: a market's orders walk its L2 book at a simulated venue."""
from __future__ import annotations

from dataclasses import dataclass, field

from barter._core.book import OrderBook
from barter.execution.matching import MatchingVenue
from barter.execution.matching_types import Latency, MakerTakerFees


@dataclass(frozen=True, slots=True)
class BookExecution:
    """Fill a trader's orders against its market's L2 book instead of at a price.

    The trader's data must be an L2 book: ``HistoricalBook`` in a backtest, L2 snapshot and update
    events live. Each order is a market order decided ``latency.feed_ns`` after the event that
    caused it (the strategy saw the event that late) and matched ``latency.order_ns`` after that,
    against the book as it then stands (``MatchingVenue``): it takes the opposite side level by level
    from the best, less what this run's earlier orders took from those levels until the exchange
    updates them. What the book lacks is not filled: an entry opens smaller, an exit leaves the rest
    of the position open. Each order books one fill: its quantity, its volume-weighted price over
    the levels taken, and the taker fee as the seed's ``exchange`` fee (the slippage is in the price,
    so the ``slippage`` fee is 0). While an order is in flight its market makes no new order.
    With no latency an order fills at the event that caused it, as with ``SimulatedExecution``.
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
