"""Orders, fills and fees (the seed's OrderEvent and FillEvent)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

from barter.errors import ConfigError
from barter.instrument import Market
from barter.decision import Decision


@dataclass(frozen=True, slots=True)
class Fees:
    """Fees by kind. As execution rates they are fractions of the fill value (the seed's
    ``simulated_fees_pct``: ``exchange=0.1`` is 10%); on a fill they are quote-currency amounts.
    ``exchange`` may be negative: a maker rebate (``MakerTakerFees(maker=-0.0001)``)."""

    exchange: float = 0.0
    slippage: float = 0.0
    network: float = 0.0

    def __post_init__(self) -> None:
        for name in ("exchange", "slippage", "network"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or (value < 0 and name != "exchange"):
                raise ConfigError(f"fee {name} must be a finite number{'' if name == 'exchange' else ' >= 0'}, "
                                  f"was {value!r}")

    @property
    def total(self) -> float:
        return self.exchange + self.slippage + self.network


class OrderType(IntEnum):
    MARKET = 0
    LIMIT = 1
    BRACKET = 2


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """An order the portfolio generated.

    Attributes
    ----------
    time_ns : int
        Market event time, UNIX epoch ns (UTC).
    close : float
        The market price the order was sized at (the seed's ``market_meta.close``), quote per base.
    quantity : float
        Signed base units: + buys, - sells.
    """

    time_ns: int
    market: Market
    decision: Decision
    close: float
    quantity: float = 0.0
    order_type: OrderType = OrderType.MARKET


@dataclass(frozen=True, slots=True)
class FillEvent:
    """A fill: ``fill_value_gross`` = |quantity| * price before fees; fees in quote currency."""

    time_ns: int
    market: Market
    decision: Decision
    price: float
    quantity: float
    fill_value_gross: float
    fees: Fees
