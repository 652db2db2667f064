"""Risk evaluation (the seed's OrderEvaluator): approve, or veto with a reason."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Optional

from barter.errors import ConfigError
from barter.execution.events import OrderEvent, OrderType
from barter.decision import Decision
from barter.instrument import Market


@dataclass(frozen=True, slots=True)
class OrderVetoed:
    """An event: the risk manager refused an order; ``reason`` says which limit."""

    time_ns: int
    market: Market
    decision: Decision
    quantity: float
    reason: str


class DefaultRisk:
    """Approves every order as a market order. Subclass and return None from ``evaluate_order``
    to veto one (set ``last_veto`` to say why)."""

    last_veto: Optional[str] = None

    def evaluate_order(self, order: OrderEvent) -> Optional[OrderEvent]:
        return dataclasses.replace(order, order_type=OrderType.MARKET)

    def __repr__(self) -> str:
        return "DefaultRisk()"


class RiskManager(DefaultRisk):
    """Limits on new positions; exits are always approved (they only reduce risk).

    Parameters (None: no limit)
    ----------
    max_position_value : float
        Quote value (|quantity| * price) of one new position.
    max_gross_exposure : float
        Sum of the open positions' current values plus the new one.
    max_open_positions : int
        Open positions, across markets, before a new one.
    max_drawdown : float
        In (0, 1): a kill switch. Once equity falls this fraction below its peak (the starting
        cash and the equity seen at each order), every entry is vetoed until ``reset()``.
    allow_margin : bool
        When False, an entry costing more than the available balance is vetoed.
    """

    def __init__(self, max_position_value: Optional[float] = None, max_gross_exposure: Optional[float] = None,
                 max_open_positions: Optional[int] = None, max_drawdown: Optional[float] = None,
                 allow_margin: bool = True) -> None:
        for name, value in (("max_position_value", max_position_value), ("max_gross_exposure", max_gross_exposure)):
            if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ConfigError(f"{name} must be a finite number > 0 or None, was {value!r}")
        if max_open_positions is not None and not (isinstance(max_open_positions, int) and max_open_positions >= 0):
            raise ConfigError(f"max_open_positions must be an int >= 0 or None, was {max_open_positions!r}")
        if max_drawdown is not None and not (isinstance(max_drawdown, (int, float)) and 0 < max_drawdown < 1):
            raise ConfigError(f"max_drawdown must be in (0, 1) or None, was {max_drawdown!r}")
        self.max_position_value = max_position_value
        self.max_gross_exposure = max_gross_exposure
        self.max_open_positions = max_open_positions
        self.max_drawdown = max_drawdown
        self.allow_margin = allow_margin
        self.portfolio: Optional[Any] = None
        self.peak_equity = -math.inf
        self.killed = False
        self.last_veto = None

    def bind(self, portfolio: Any) -> None:
        """Called by the portfolio whose orders it evaluates."""
        self.portfolio = portfolio
        self.peak_equity = portfolio.starting_cash

    def reset(self) -> None:
        """Re-arm the drawdown kill switch from the current equity."""
        self.killed = False
        if self.portfolio is not None:
            self.peak_equity = self.portfolio.equity

    def evaluate_order(self, order: OrderEvent) -> Optional[OrderEvent]:
        self.last_veto = None
        if order.decision in (Decision.LONG, Decision.SHORT):
            self.last_veto = self.veto_reason(order)
        return None if self.last_veto else super().evaluate_order(order)

    def veto_reason(self, order: OrderEvent) -> Optional[str]:
        """Why an entry breaks a limit, or None."""
        if self.portfolio is None:
            raise ConfigError("RiskManager is not bound to a portfolio")
        value = abs(order.quantity) * order.close
        equity = self.portfolio.equity
        self.peak_equity = max(self.peak_equity, equity)
        if self.max_drawdown is not None and equity <= self.peak_equity * (1 - self.max_drawdown):
            self.killed = True
        if self.killed:
            return f"drawdown kill switch: equity {equity:.6g} fell {self.max_drawdown:.2%} below its peak {self.peak_equity:.6g}"
        if self.max_position_value is not None and value > self.max_position_value:
            return f"position value {value:.6g} > max_position_value {self.max_position_value:.6g}"
        open_positions = self.portfolio.open_positions()
        if self.max_open_positions is not None and len(open_positions) >= self.max_open_positions:
            return f"{len(open_positions)} open positions >= max_open_positions {self.max_open_positions}"
        gross = sum(p.current_value_gross for p in open_positions) + value
        if self.max_gross_exposure is not None and gross > self.max_gross_exposure:
            return f"gross exposure {gross:.6g} > max_gross_exposure {self.max_gross_exposure:.6g}"
        available = self.portfolio.balance.available
        if not self.allow_margin and value > available:
            return f"entry value {value:.6g} > available balance {available:.6g} (margin not allowed)"
        return None

    def __repr__(self) -> str:
        return (f"RiskManager(max_position_value={self.max_position_value}, max_gross_exposure="
                f"{self.max_gross_exposure}, max_open_positions={self.max_open_positions}, "
                f"max_drawdown={self.max_drawdown}, allow_margin={self.allow_margin})")
