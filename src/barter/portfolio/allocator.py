"""Order allocation (the seed's OrderAllocator)."""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Optional

from barter.errors import ConfigError
from barter.execution.events import OrderEvent
from barter.portfolio.position import Position
from barter.decision import Decision


class DefaultAllocator:
    """Entries buy ``default_order_value`` of quote currency at the order's close, the quantity
    floored to ``size_decimals`` (the seed: 4; None: no rounding) and scaled by the signal
    strength (negative for Short); exits close the whole position.

    The compiled core runs exactly this when the portfolio uses this class unchanged;
    ``allocate_order`` is the same rule in Python, called for subclasses.
    """

    def __init__(self, default_order_value: float = 100.0, size_decimals: Optional[int] = 4) -> None:
        if not (isinstance(default_order_value, (int, float)) and math.isfinite(default_order_value)
                and default_order_value > 0):
            raise ConfigError(f"default_order_value must be finite and > 0, was {default_order_value!r}")
        if size_decimals is not None and not (isinstance(size_decimals, int) and 0 <= size_decimals <= 12):
            raise ConfigError(f"size_decimals must be an int in [0, 12] or None, was {size_decimals!r}")
        self.default_order_value = float(default_order_value)
        self.size_decimals = size_decimals

    def allocate_order(self, order: OrderEvent, position: Optional[Position], strength: float) -> OrderEvent:
        if position is not None:
            return dataclasses.replace(order, quantity=-position.quantity)
        size = self.default_order_value / order.close
        if self.size_decimals is not None:
            scale = 10.0 ** self.size_decimals
            size = math.floor(size * scale) / scale
        sign = 1.0 if order.decision == Decision.LONG else -1.0
        return dataclasses.replace(order, quantity=sign * size * strength)

    def __repr__(self) -> str:
        return f"DefaultAllocator(default_order_value={self.default_order_value}, size_decimals={self.size_decimals})"


class FixedFractionAllocator:
    """Entries risk a fixed fraction of the portfolio's equity: quantity = fraction * equity / close,
    scaled by the signal strength (clamped to [0, 1]) unless ``scale_by_strength`` is False, and
    floored to ``size_decimals``; exits close the whole position.

    Parameters
    ----------
    fraction : float
        In (0, 1]: 0.02 puts 2% of equity into each new position.
    """

    def __init__(self, fraction: float = 0.02, size_decimals: Optional[int] = None,
                 scale_by_strength: bool = True) -> None:
        if not (isinstance(fraction, (int, float)) and 0 < fraction <= 1):
            raise ConfigError(f"fraction must be in (0, 1], was {fraction!r}")
        if size_decimals is not None and not (isinstance(size_decimals, int) and 0 <= size_decimals <= 12):
            raise ConfigError(f"size_decimals must be an int in [0, 12] or None, was {size_decimals!r}")
        self.fraction = float(fraction)
        self.size_decimals = size_decimals
        self.scale_by_strength = scale_by_strength
        self.portfolio: Optional[Any] = None

    def bind(self, portfolio: Any) -> None:
        """Called by the portfolio it sizes orders for (it reads the equity)."""
        self.portfolio = portfolio

    def allocate_order(self, order: OrderEvent, position: Optional[Position], strength: float) -> OrderEvent:
        if position is not None:
            return dataclasses.replace(order, quantity=-position.quantity)
        if self.portfolio is None:
            raise ConfigError("FixedFractionAllocator is not bound to a portfolio")
        size = self.fraction * max(self.portfolio.equity, 0.0) / order.close
        if self.scale_by_strength:
            size *= min(max(strength, 0.0), 1.0)
        if self.size_decimals is not None:
            scale = 10.0 ** self.size_decimals
            size = math.floor(size * scale) / scale
        return dataclasses.replace(order, quantity=size if order.decision == Decision.LONG else -size)

    def __repr__(self) -> str:
        return (f"FixedFractionAllocator(fraction={self.fraction}, size_decimals={self.size_decimals}, "
                f"scale_by_strength={self.scale_by_strength})")
