"""Immutable market events: what ``MarketView.copy()`` returns and what a user may keep."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

import numpy as np

from barter.instrument import Market, Side

if TYPE_CHECKING:
    from barter._core.dispatch import MarketView
    from barter.data.exchange.events import OrderBookL1

CANDLE, TRADE, QUOTE, BOOK = 0, 1, 2, 3  # the core's kind codes (QUOTE: L1; BOOK: L2, live only)


@dataclass(frozen=True, slots=True)
class Candle:
    """OHLCV bar. Prices in quote currency per base unit; volume in base units."""

    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class Trade:
    """Public trade. ``price`` in quote per base unit, ``amount`` in base units."""

    price: float
    amount: float
    side: Side | None


@dataclass(frozen=True, slots=True)
class MarketEvent:
    """A market event of one market.

    Attributes
    ----------
    exchange_time_ns : int
        Exchange time, UNIX epoch ns (UTC); for a candle its close time.
    market : Market
    kind : Candle | Trade | OrderBookL1
    """

    exchange_time_ns: int
    market: Market
    kind: Union[Candle, Trade, "OrderBookL1"]

    @property
    def exchange_time(self) -> np.datetime64:
        return np.datetime64(self.exchange_time_ns, "ns")

    @classmethod
    def from_view(cls, view: MarketView) -> MarketEvent:
        """The event as it stands; for an L2 book, its top level (``OrderBookL1``)."""
        from barter.data.exchange.events import OrderBookL1
        kind: Union[Candle, Trade, OrderBookL1]
        if view.kind == TRADE:
            kind = Trade(view.close, view.volume, Side(view.side) if view.side else None)
        elif view.kind in (QUOTE, BOOK):
            kind = OrderBookL1(view.bid_price, view.bid_amount, view.ask_price, view.ask_amount)
        else:
            kind = Candle(view.open, view.high, view.low, view.close, view.volume)
        return cls(view.time_ns, view.market, kind)
