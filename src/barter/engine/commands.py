"""Commands an engine takes while it runs (the seed's ``Command``), from any thread."""
from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field

from barter.instrument import Market


@dataclass(frozen=True)
class Terminate:
    """Exit every open position, then stop before the next market event (as the seed's engine)."""

    reason: str = ""


@dataclass(frozen=True)
class ExitPosition:
    """Exit ``market``'s open position at its last marked price (the seed's SignalForceExit)."""

    market: Market


@dataclass(frozen=True)
class ExitAllPositions:
    """Exit every open position."""


@dataclass(frozen=True)
class FetchOpenPositions:
    """``reply`` (a Future) receives the open positions."""

    reply: Future = field(default_factory=Future, compare=False)


Command = Terminate | ExitPosition | ExitAllPositions | FetchOpenPositions
