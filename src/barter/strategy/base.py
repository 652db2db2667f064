"""The strategy interface and the precomputed-signals fast path."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from barter._core.dispatch import MarketView, Signal
from barter.errors import ConfigError
from barter.instrument import Market

SignalStrength = float
"""The seed's SignalStrength: a positive multiplier of the allocator's entry size."""


class Strategy:
    """Base class of a strategy: implement ``generate_signal``.

    ``generate_signal(market)`` is called once per market event with a reused, read-only
    ``MarketView`` that is valid only during the call (keep ``market.copy()`` if needed). Return a
    ``Signal`` or None. Returning prebuilt constant signals allocates nothing per event.
    """

    def generate_signal(self, market: MarketView) -> Optional[Signal]:
        raise NotImplementedError(f"{type(self).__name__} must implement generate_signal(market)")


@dataclass(frozen=True, slots=True)
class SignalForceExit:
    """Exit the open position of ``market`` now (the seed's SignalForceExit, from a command)."""

    market: Market
    time_ns: int = -1


class PrecomputedSignals(Strategy):
    """Decisions computed ahead of time, one per event of the trader's data: no Python per event.

    Parameters
    ----------
    decisions : array of int8
        Bit mask per event: ``Decision.LONG.mask`` (1), ``CLOSE_LONG`` (2), ``SHORT`` (4),
        ``CLOSE_SHORT`` (8), or 0 for no signal. The seed RSI's "oversold" signal is ``1 | 8``.
    strength : array of float, optional
        Strength per event (finite, > 0); 1.0 when omitted.
    """

    def __init__(self, decisions: np.ndarray, strength: Optional[np.ndarray] = None) -> None:
        codes = np.asarray(decisions)
        if codes.ndim != 1 or not np.issubdtype(codes.dtype, np.integer):
            raise ConfigError(f"decisions must be a 1-d integer array, was {codes.dtype}{codes.shape}")
        if codes.size and (codes.min() < 0 or codes.max() > 15):
            raise ConfigError("decisions must be bit masks in [0, 15]")
        self.decisions = np.ascontiguousarray(codes, dtype=np.int8)
        self.strength = None
        if strength is not None:
            s = np.ascontiguousarray(strength, dtype=np.float64)
            if s.shape != self.decisions.shape or not (np.isfinite(s).all() and (s > 0).all()):
                raise ConfigError("strength must be finite, > 0 and as long as decisions")
            self.strength = s

    def generate_signal(self, market: MarketView) -> Optional[Signal]:
        raise ConfigError("PrecomputedSignals runs inside the compiled loop, not per event")
