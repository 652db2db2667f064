"""Value types of the simulated book venue (``barter.execution.matching``): orders as a user sends
them, the venue's configuration (fees, latency, queue rule) and the reports it emits (fills and
order closes). See docs/execution.md for the model.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Optional

from barter.errors import ConfigError, DataError, InvalidOrder
from barter.execution.events import Fees
from barter.instrument import Side


class OrderKind(IntEnum):
    MARKET = 0
    LIMIT = 1


class TimeInForce(IntEnum):
    """GTC rests until filled or cancelled; IOC fills what it can at once and expires the rest;
    FOK fills in full at once or not at all."""

    GTC = 0
    IOC = 1
    FOK = 2


class Liquidity(IntEnum):
    """Who a fill's order was: MAKER (it rested in the book) or TAKER (it crossed the spread)."""

    MAKER = 0
    TAKER = 1


class OrderStatus(IntEnum):
    """How an order ended: FILLED in full, CANCELLED by the user, EXPIRED (the unfilled part of a
    market, IOC or FOK order), REJECTED (a post-only order that would have crossed)."""

    FILLED = 0
    CANCELLED = 1
    EXPIRED = 2
    REJECTED = 3


class QueueRule(IntEnum):
    """How a drop of a level's size that trades do not explain (cancels) moves a resting order's
    volume ahead: PESSIMISTIC assumes the cancels were behind it (ahead only shrinks to the new
    size), PROPORTIONAL spreads them over the queue (ahead shrinks by the same fraction)."""

    PESSIMISTIC = 0
    PROPORTIONAL = 1


def _number(name: str, value: Any, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DataError(f"{name} must be a finite number, was {value!r}")
    if value < 0 or (positive and value == 0):
        raise DataError(f"{name} must be {'> 0' if positive else '>= 0'}, was {value!r}")
    return float(value)


def _ns(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name} must be an int >= 0 (ns), was {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class BookOrder:
    """An order for the simulated venue.

    Attributes
    ----------
    side : Side
        BUY takes asks and rests on the bid side; SELL the opposite.
    quantity : float
        Base units, > 0.
    kind : OrderKind
    price : float or None
        Limit price, quote per base unit (None for a market order).
    tif : TimeInForce
        Market orders are IOC (the unfilled rest expires) or FOK.
    post_only : bool
        A GTC limit order that is rejected instead of taking liquidity.
    """

    side: Side
    quantity: float
    kind: OrderKind = OrderKind.MARKET
    price: Optional[float] = None
    tif: TimeInForce = TimeInForce.IOC
    post_only: bool = False

    def __post_init__(self) -> None:
        if self.side not in (Side.BUY, Side.SELL):
            raise InvalidOrder(f"order side must be Side.BUY or Side.SELL, was {self.side!r}")
        object.__setattr__(self, "quantity", _number("order quantity", self.quantity, positive=True))
        if self.kind == OrderKind.LIMIT:
            object.__setattr__(self, "price", _number("limit price", self.price, positive=True))
        elif self.price is not None:
            raise InvalidOrder(f"a market order has no price, was {self.price!r}")
        if self.kind == OrderKind.MARKET and self.tif == TimeInForce.GTC:
            raise InvalidOrder("a market order cannot rest: tif must be IOC or FOK, was GTC")
        if self.post_only and (self.kind != OrderKind.LIMIT or self.tif != TimeInForce.GTC):
            raise InvalidOrder(f"post_only needs a GTC limit order, was {self.kind.name} {self.tif.name}")

    @classmethod
    def market(cls, side: Side, quantity: float, tif: TimeInForce = TimeInForce.IOC) -> BookOrder:
        return cls(side, quantity, OrderKind.MARKET, None, tif)

    @classmethod
    def limit(cls, side: Side, quantity: float, price: float, tif: TimeInForce = TimeInForce.GTC,
              post_only: bool = False) -> BookOrder:
        return cls(side, quantity, OrderKind.LIMIT, price, tif, post_only)


@dataclass(frozen=True, slots=True)
class MakerTakerFees:
    """Fee rates as fractions of a fill's notional (``0.001`` is 0.1%); a negative maker rate is a
    rebate. Each fill's fee is ``rate * quantity * price`` in quote currency."""

    maker: float = 0.0
    taker: float = 0.0

    def __post_init__(self) -> None:
        for name in ("maker", "taker"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1 < value < 1:
                raise ConfigError(f"{name} fee rate must be a number in (-1, 1), was {value!r}")


@dataclass(frozen=True, slots=True)
class Latency:
    """Delays in ns. ``feed_ns``: exchange event to the strategy (and fill report to the user);
    ``order_ns``: an order or cancel decided at ``t`` reaches the venue at ``t + order_ns``."""

    feed_ns: int = 0
    order_ns: int = 0

    def __post_init__(self) -> None:
        _ns("feed latency", self.feed_ns)
        _ns("order latency", self.order_ns)


@dataclass(frozen=True, slots=True)
class BookFill:
    """A (partial) fill of one order against one price level.

    Attributes
    ----------
    order_id : int
        The venue's id from ``submit``.
    time_ns : int
        Venue (exchange) time of the match, UNIX epoch ns.
    received_ns : int
        When the user learns of it: ``time_ns`` + feed latency.
    side : Side
        The order's side.
    price : float
        Quote per base unit: the level's price (taker) or the order's limit price (maker).
    quantity : float
        Base units, > 0.
    fee : float
        Quote currency: the maker or taker rate times ``quantity * price``.
    liquidity : Liquidity
    """

    order_id: int
    time_ns: int
    received_ns: int
    side: Side
    price: float
    quantity: float
    fee: float
    liquidity: Liquidity

    @property
    def fees(self) -> Fees:
        """The fee as the seed's fee kinds (all of it is the exchange's); raises for a rebate."""
        return Fees(exchange=self.fee)


@dataclass(frozen=True, slots=True)
class OrderClosed:
    """An order that is done: ``filled + unfilled`` is its quantity (base units).

    Attributes
    ----------
    order_id : int
    time_ns : int
        Venue time, UNIX epoch ns.
    received_ns : int
        ``time_ns`` + feed latency.
    status : OrderStatus
    filled, unfilled : float
        Base units.
    reason : str
        Why it ended, for the unfilled part ("" when FILLED).
    """

    order_id: int
    time_ns: int
    received_ns: int
    status: OrderStatus
    filled: float
    unfilled: float
    reason: str = ""
