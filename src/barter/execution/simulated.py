"""Simulated execution: the seed's instant fill at the event's close, with fees by kind."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from barter.errors import ConfigError
from barter.execution.events import Fees


def fee_rate_range(name: str) -> str:
    """The rates ``SimulatedExecution`` takes for fee kind ``name``: the exchange's may be a rebate."""
    return "(-1, 1)" if name == "exchange" else "[0, 1)"


def fee_rate_ok(name: str, value: Any) -> bool:
    """Whether ``value`` is a rate of fee kind ``name`` in ``fee_rate_range(name)``: the one rule the
    API, the config file's ``[execution.fees]`` and the CLI's ``--*-fee`` options check."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return False
    return -1.0 < value < 1.0 if name == "exchange" else 0.0 <= value < 1.0


@dataclass(frozen=True, slots=True)
class SimulatedExecution:
    """Fill each order in full at the close of the market event that caused it.

    ``fees`` are fractions of the fill value: each fee = rate * |quantity| * close (the seed's
    reading; ``Fees(exchange=0.001)`` is 0.1%). Each rate is below 1; the exchange rate may be a
    rebate above -1. The fill time is the market event's time. The default is no fees
    (``barter.backtest`` and the CLI default to ``DEFAULT_FEES``, 0.1% + 0.05% slippage).
    """

    fees: Fees = field(default_factory=Fees)

    def __post_init__(self) -> None:
        if not isinstance(self.fees, Fees):
            raise ConfigError(f"fees must be barter.execution.Fees (rates, e.g. Fees(exchange=0.001)), "
                              f"was {self.fees!r}")
        for name, rate in zip(("exchange", "slippage", "network"), self.rates()):
            if not fee_rate_ok(name, rate):  # Fees has checked the signs
                raise ConfigError(f"fee rate {name} must be a fraction of the fill value in "
                                  f"{fee_rate_range(name)}, was {rate!r}")

    def rates(self) -> tuple[float, float, float]:
        return (self.fees.exchange, self.fees.slippage, self.fees.network)
