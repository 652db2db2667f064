"""Columnar market data of every trader, merged by time into one compiled ``Tape``."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from barter._core.dispatch import Tape
from barter.data.event import CANDLE, TRADE
from barter.errors import ConfigError


Columns = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, Optional[np.ndarray]]


def columns(data: Any) -> tuple[int, Columns]:
    """(kind, (time_ns, open, high, low, close, volume, side)) of a historic feed.

    A trade's price stands in for open, high, low and close (the same array, not a copy).
    """
    if hasattr(data, "price"):
        return TRADE, (data.time_ns, data.price, data.price, data.price, data.price, data.amount, data.side)
    if hasattr(data, "close"):
        return CANDLE, (data.time_ns, data.open, data.high, data.low, data.close, data.volume, None)
    raise ConfigError(f"trader data must be HistoricalCandles or HistoricalTrades, was {type(data).__name__}")


def build_tape(feeds: Sequence[Any], markets: list) -> tuple[Tape, Optional[np.ndarray], np.ndarray]:
    """The merged tape, the merge order (indices into the concatenated feeds; None for one feed) and
    the merged event times.

    Events are ordered by time; ties keep trader order, then row order (a stable sort), so the same
    inputs always give the same sequence.
    """
    kinds = [columns(f)[0] for f in feeds]
    cols = [columns(f)[1] for f in feeds]
    if len(feeds) == 1:
        t, o, h, lo, c, v, side = cols[0]
        return Tape(t, o, h, lo, c, v, side, None, markets, kinds), None, t
    lengths = [len(col[0]) for col in cols]
    order = np.argsort(np.concatenate([col[0] for col in cols]), kind="stable")
    t, o, h, lo, c, v = (np.ascontiguousarray(np.concatenate([col[k] for col in cols])[order])  # type: ignore[misc]
                         for k in range(6))
    side = None
    if any(col[6] is not None for col in cols):
        side = np.concatenate([col[6] if col[6] is not None else np.zeros(n, np.int8)
                               for col, n in zip(cols, lengths)])[order]
    market_id = np.repeat(np.arange(len(feeds), dtype=np.int32), lengths)[order]
    return Tape(t, o, h, lo, c, v, side, market_id, markets, kinds), order, t
