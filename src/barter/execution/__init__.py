"""Execution: orders become fills. ``SimulatedExecution`` fills in the compiled core."""
from barter.execution.events import Fees, FillEvent, OrderEvent, OrderType
from barter.execution.simulated import SimulatedExecution

__all__ = ["Fees", "FillEvent", "OrderEvent", "OrderType", "SimulatedExecution"]
