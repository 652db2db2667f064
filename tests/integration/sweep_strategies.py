"""Strategies for the sweep tests, in a module of their own so that worker processes can import
them (pool workers get the test process's ``sys.path``; Ray and Dask get them pickled by value)."""
from __future__ import annotations

import os
import signal
from typing import Optional

from barter.decision import Decision
from barter.strategy import RSIStrategy, Signal, Strategy

LONG = Signal({Decision.LONG: 1.0})
SHORT = Signal({Decision.SHORT: 1.0})


class FaultyRSI(Strategy):
    """The seed's RSI strategy that, with ``fault`` "raise" or "kill", raises or SIGKILLs its own
    process at bar ``after`` (mid-run)."""

    def __init__(self, rsi_period: int = 14, fault: str = "none", after: int = 100) -> None:
        self.inner = RSIStrategy(rsi_period)
        self.fault, self.after, self.bars = fault, after, 0

    def generate_signal(self, market):  # type: ignore[no-untyped-def]
        self.bars += 1
        if self.bars == self.after and self.fault == "raise":
            raise RuntimeError(f"boom at bar {self.bars}")
        if self.bars == self.after and self.fault == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        return self.inner.generate_signal(market)


class Hold(Strategy):
    """Enters ``side`` ("long" or "short") at the first bar and holds to the end."""

    def __init__(self, side: str) -> None:
        if side not in ("long", "short"):
            raise ValueError(f"side must be 'long' or 'short', was {side!r}")
        self.signal: Optional[Signal] = LONG if side == "long" else SHORT

    def generate_signal(self, market):  # type: ignore[no-untyped-def]
        return self.signal
