"""Every trader's columnar market data as one compiled ``Tape``, merged by time as it is processed."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from barter._core.dispatch import Tape
from barter.data.event import BOOK, CANDLE, QUOTE, TRADE
from barter.errors import ConfigError

Columns = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, Optional[np.ndarray]]


def columns(data: Any) -> tuple[int, Columns]:
    """(kind, (time_ns, open, high, low, close, volume, side)) of a historic feed.

    A trade's price stands in for open, high, low and close (the same array, not a copy). A quote
    is (bid price, ask price, bid amount, volume-weighted mid, ask amount): ``MarketView`` reads
    them back as ``bid_price``, ``ask_price``, ``bid_amount``, ``close`` and ``ask_amount``. An L2
    book (``HistoricalBook``) has the same columns, from the top of its book after each message.
    """
    if hasattr(data, "snapshot"):
        return BOOK, (data.time_ns, data.bid_price, data.ask_price, data.bid_amount, data.mid_price,
                      data.ask_amount, None)
    if hasattr(data, "bid_price"):
        return QUOTE, (data.time_ns, data.bid_price, data.ask_price, data.bid_amount, data.mid_price,
                       data.ask_amount, None)
    if hasattr(data, "price"):
        return TRADE, (data.time_ns, data.price, data.price, data.price, data.price, data.amount, data.side)
    if hasattr(data, "close"):
        return CANDLE, (data.time_ns, data.open, data.high, data.low, data.close, data.volume, None)
    raise ConfigError(f"trader data must be HistoricalCandles, HistoricalTrades, HistoricalQuotes or HistoricalBook, "
                      f"was {type(data).__name__}")


def build_tape(feeds: Sequence[Any], markets: list, decisions: Optional[list] = None,
               strength: Optional[list] = None) -> Tape:
    """The tape of ``feeds`` (one per market). Events are processed in time order; ties keep
    trader order, then row order, so the same inputs always give the same sequence."""
    kinds, cols = zip(*(columns(f) for f in feeds))
    books = [(f.start, f.snapshot, f.side, f.price, f.size) if k == BOOK else None for f, k in zip(feeds, kinds)]
    return Tape(list(markets), list(kinds), list(cols), decisions, strength, books)
