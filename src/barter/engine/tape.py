"""Columnar market data of every trader, merged by time into one compiled ``Tape``."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from barter._core.dispatch import Tape
from barter.data.event import CANDLE, TRADE
from barter.errors import ConfigError


def columns(data: Any) -> tuple[int, tuple[np.ndarray, ...]]:
    """(kind, (time_ns, open, high, low, close, volume, side)) of a historic feed.

    A trade's price stands in for open, high, low and close (the same array, not a copy).
    """
    if hasattr(data, "price"):
        return TRADE, (data.time_ns, data.price, data.price, data.price, data.price, data.amount, data.side)
    if hasattr(data, "close"):
        return CANDLE, (data.time_ns, data.open, data.high, data.low, data.close, data.volume, None)
    raise ConfigError(f"trader data must be HistoricalCandles or HistoricalTrades, was {type(data).__name__}")


def build_tape(feeds: Sequence[Any], markets: list) -> tuple[Tape, Optional[np.ndarray]]:
    """The merged tape and the merge order (indices into the concatenated feeds; None for one feed).

    Events are ordered by time; ties keep trader order, then row order (a stable sort), so the same
    inputs always give the same sequence.
    """
    kinds, cols = zip(*(columns(f) for f in feeds))
    if len(feeds) == 1:
        return Tape(*cols[0], None, markets, list(kinds)), None
    lengths = [len(c[0]) for c in cols]
    time_ns = np.concatenate([c[0] for c in cols])
    order = np.argsort(time_ns, kind="stable")
    merged = [np.ascontiguousarray(np.concatenate([c[k] for c in cols])[order]) for k in range(6)]
    side = None
    if any(c[6] is not None for c in cols):
        side = np.concatenate([c[6] if c[6] is not None else np.zeros(n, np.int8)
                               for c, n in zip(cols, lengths)])[order]
    market_id = np.repeat(np.arange(len(feeds), dtype=np.int32), lengths)[order]
    return Tape(*merged, side, market_id, markets, list(kinds)), order
