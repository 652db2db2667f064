"""Simulated execution: the seed's instant fill at the event's close, with fees by kind."""
from __future__ import annotations

from dataclasses import dataclass, field

from barter.execution.events import Fees


@dataclass(frozen=True, slots=True)
class SimulatedExecution:
    """Fill each order in full at the close of the market event that caused it.

    ``fees`` are fractions of the fill value: each fee = rate * |quantity| * close (the seed's
    reading; ``Fees(exchange=0.001)`` is 0.1%). The fill time is the market event's time.
    """

    fees: Fees = field(default_factory=Fees)

    def rates(self) -> tuple[float, float, float]:
        return (self.fees.exchange, self.fees.slippage, self.fees.network)
