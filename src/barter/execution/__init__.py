"""Execution: orders become fills. ``SimulatedExecution`` fills in the compiled core at the close;
``BookExecution`` walks a trader's L2 book at a ``MatchingVenue``, which matches orders against an
L2 book with queues and latency (docs/execution.md)."""
from barter.execution.book_execution import BookExecution, LimitOrder
from barter.execution.events import Fees, FillEvent, OrderEvent, OrderType
from barter.execution.matching import MatchingVenue
from barter.execution.matching_account import VenueAccount
from barter.execution.matching_types import (BookFill, BookOrder, Latency, Liquidity, MakerTakerFees, OrderClosed,
                                             OrderKind, OrderStatus, QueueRule, TimeInForce)
from barter.execution.simulated import SimulatedExecution

__all__ = ["BookExecution", "BookFill", "BookOrder", "Fees", "FillEvent", "Latency", "LimitOrder", "Liquidity", "MakerTakerFees", "MatchingVenue",
           "OrderClosed", "OrderEvent", "OrderKind", "OrderStatus", "OrderType", "QueueRule", "SimulatedExecution",
           "TimeInForce", "VenueAccount"]
