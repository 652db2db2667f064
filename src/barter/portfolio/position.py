"""Positions and balances as users see them: immutable snapshots of the compiled accounting."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from barter.execution.events import Fees
from barter.instrument import Market, Side


@dataclass(frozen=True, slots=True)
class Balance:
    """Cash in the quote currency: ``total`` and what is ``available`` to enter new positions."""

    time_ns: int
    total: float
    available: float


@dataclass(frozen=True, slots=True)
class Position:
    """The seed's Position. Money in quote currency, prices quote per base unit, times UNIX ns UTC.

    ``unrealised_profit_loss`` subtracts the entry fees twice while open: the second copy estimates
    the exit fees. On exit it equals ``realised_profit_loss`` = ±(exit value − entry value) − all fees.

    Beyond the seed, close fills smaller than the position exit it in legs (docs/portfolio.md):
    while open, the entry fields are the part still open and ``realised_profit_loss`` and the
    ``exit_*`` fields hold the legs so far; once exited, the position is the whole trade.
    """

    position_id: str
    market: Market
    side: Side
    quantity: float
    enter_time_ns: int
    update_time_ns: int
    enter_fees: Fees
    enter_fees_total: float
    enter_avg_price_gross: float
    enter_value_gross: float
    current_symbol_price: float
    current_value_gross: float
    unrealised_profit_loss: float
    realised_profit_loss: float = 0.0
    exit_fees: Fees = Fees()
    exit_fees_total: float = 0.0
    exit_avg_price_gross: float = 0.0
    exit_value_gross: float = 0.0
    exit_time_ns: Optional[int] = None
    exit_balance: Optional[Balance] = None

    @property
    def is_open(self) -> bool:
        return self.exit_time_ns is None

    @property
    def pnl_return(self) -> float:
        """Realised PnL / entry value (the seed's calculate_profit_loss_return)."""
        return self.realised_profit_loss / self.enter_value_gross

    @classmethod
    def from_core(cls, engine_id: str, market: Market, d: dict[str, Any]) -> Position:
        """Build from a ``PortfolioCore`` position or exit record."""
        exit_balance = d.get("exit_balance")
        return cls(
            position_id=position_id(engine_id, market),
            market=market,
            side=Side(d["side"]),
            quantity=d["quantity"],
            enter_time_ns=d["enter_time_ns"],
            update_time_ns=d.get("exit_time_ns", d["update_time_ns"]),
            enter_fees=Fees(*d["enter_fees"]),
            enter_fees_total=d["enter_fees_total"],
            enter_avg_price_gross=d["enter_avg_price_gross"],
            enter_value_gross=d["enter_value_gross"],
            current_symbol_price=d["current_symbol_price"],
            current_value_gross=d["current_value_gross"],
            unrealised_profit_loss=d["unrealised_pnl"],
            realised_profit_loss=d.get("realised_pnl", 0.0),
            exit_fees=Fees(*d.get("exit_fees", (0.0, 0.0, 0.0))),
            exit_fees_total=d.get("exit_fees_total", 0.0),
            exit_avg_price_gross=d.get("exit_avg_price_gross", 0.0),
            exit_value_gross=d.get("exit_value_gross", 0.0),
            exit_time_ns=d.get("exit_time_ns"),
            exit_balance=Balance(*exit_balance) if exit_balance else None,
        )


def position_id(engine_id: str, market: Market) -> str:
    """The seed's key: ``{engine_id}_{exchange}_{instrument}_position``."""
    return f"{engine_id}_{market.exchange}_{market.instrument}_position"
