"""Strategies: plain-Python signal generators on compiled indicators (the seed's SignalGenerator)."""
from barter._core.dispatch import MarketView, Signal
from barter._core.indicators import EMA, RSI, SMA, WilderRSI
from barter.strategy.base import PrecomputedSignals, SignalForceExit, SignalStrength, Strategy
from barter.decision import Decision
from barter.strategy.rsi import RSIStrategy

__all__ = [
    "EMA", "RSI", "SMA", "WilderRSI", "Decision", "MarketView", "PrecomputedSignals", "RSIStrategy",
    "Signal", "SignalForceExit", "SignalStrength", "Strategy",
]
