"""Risk evaluation (the seed's OrderEvaluator)."""
from __future__ import annotations

import dataclasses
from typing import Optional

from barter.execution.events import OrderEvent, OrderType


class DefaultRisk:
    """Approves every order as a market order. Subclass and return None from ``evaluate_order``
    to veto one."""

    def evaluate_order(self, order: OrderEvent) -> Optional[OrderEvent]:
        return dataclasses.replace(order, order_type=OrderType.MARKET)

    def __repr__(self) -> str:
        return "DefaultRisk()"
