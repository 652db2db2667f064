"""Multi-timeframe candles: trades or short candles aggregated into longer candles, incrementally.

Times are bar close times (the seed's candles carry their close time): a bar of ``interval_ns``
covers (end − interval, end], aligned to UTC multiples of the interval. A bar completes when the
first input of a later bar arrives (or on ``flush`` at the end of data): only then is it certain
that no more inputs belong to it, so a strategy never sees a bar before it is whole. ``update`` then
returns True and the completed bar's fields are readable until the next completion.
"""
cimport cython
from libc.math cimport isfinite
from libc.stdint cimport int64_t

import numpy as np


@cython.cdivision(True)  # interval > 0 (checked); the sign is corrected for times before 1970
cdef inline int64_t _bar_end(int64_t t, int64_t interval) noexcept nogil:
    cdef int64_t r = t % interval
    if r < 0:
        r += interval
    return t if r == 0 else t - r + interval


@cython.final
cdef class CandleAggregator:
    """Aggregates (time, open, high, low, close, volume) inputs into ``interval_ns`` candles.

    For trades pass the price as open, high, low and close and the amount as volume. Inputs must
    not go back in time. ``update`` returns True when a bar completed; read it from ``time_ns``,
    ``open``, ``high``, ``low``, ``close``, ``volume``, ``trade_count`` (inputs in the bar).
    """

    def __init__(self, int64_t interval_ns):
        if interval_ns <= 0:
            raise ValueError(f"interval_ns must be > 0, was {interval_ns}")
        self.interval_ns = interval_ns

    cpdef bint update(self, int64_t time_ns, double open, double high, double low, double close,
                      double volume) except -1:
        cdef int64_t end = _bar_end(time_ns, self.interval_ns)
        cdef bint completed = False
        if not (isfinite(open) and isfinite(high) and isfinite(low) and isfinite(close) and isfinite(volume)):
            raise ValueError(f"inputs must be finite, got {open!r}, {high!r}, {low!r}, {close!r}, {volume!r}")
        if self.building and end < self.end_ns:
            raise ValueError(f"time went backwards: {time_ns} is before the bar ending {self.end_ns}")
        if self.building and end > self.end_ns:
            completed = self.flush()
        if not self.building:
            self.building, self.end_ns = True, end
            self.b_open, self.b_high, self.b_low = open, high, low
            self.b_volume, self.b_count = 0.0, 0
        self.b_high = high if high > self.b_high else self.b_high
        self.b_low = low if low < self.b_low else self.b_low
        self.b_close = close
        self.b_volume += volume
        self.b_count += 1
        return completed

    cpdef bint flush(self) except -1:
        """Complete the bar being built now (at the end of data); False if there is none."""
        if not self.building:
            return False
        self.time_ns, self.open, self.high, self.low = self.end_ns, self.b_open, self.b_high, self.b_low
        self.close, self.volume, self.trade_count = self.b_close, self.b_volume, self.b_count
        self.building = False
        self.bars += 1
        return True

    def update_view(self, view):
        """``update`` from a ``MarketView`` (candle or trade)."""
        return self.update(view.time_ns, view.open, view.high, view.low, view.close, view.volume)

    def __repr__(self):
        return f"CandleAggregator(interval_ns={self.interval_ns}, bars={self.bars})"


@cython.boundscheck(False)  # i < n, every column checked to have n rows
@cython.wraparound(False)
def resample(int64_t interval_ns, const int64_t[::1] time_ns, const double[::1] open,
             const double[::1] high, const double[::1] low, const double[::1] close,
             const double[::1] volume):
    """Aggregate whole columns; returns (time_ns, open, high, low, close, volume, count) arrays
    of the completed bars, the last (possibly partial) bar included."""
    cdef Py_ssize_t i, k = 0, n = time_ns.shape[0]
    cdef CandleAggregator agg = CandleAggregator(interval_ns)
    if not (open.shape[0] == high.shape[0] == low.shape[0] == close.shape[0] == volume.shape[0] == n):
        raise ValueError("every column needs the same number of rows")
    out_t = np.empty(n, dtype=np.int64)
    out = np.empty((5, n))
    count = np.empty(n, dtype=np.int64)
    cdef int64_t[::1] ot = out_t
    cdef double[:, ::1] o = out
    cdef int64_t[::1] oc = count
    for i in range(n + 1):
        if (agg.flush() if i == n else agg.update(time_ns[i], open[i], high[i], low[i], close[i], volume[i])):
            ot[k], oc[k] = agg.time_ns, agg.trade_count
            o[0, k], o[1, k], o[2, k], o[3, k], o[4, k] = agg.open, agg.high, agg.low, agg.close, agg.volume
            k += 1
    return out_t[:k].copy(), out[0, :k].copy(), out[1, :k].copy(), out[2, :k].copy(), out[3, :k].copy(), \
        out[4, :k].copy(), count[:k].copy()
