"""Traders and the engine that runs them over one shared portfolio."""
from barter.engine.engine import Engine, Trader

__all__ = ["Engine", "Trader"]
