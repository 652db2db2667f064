"""Incremental indicators: one ``update(x)`` per input, O(1) time and memory, NaN until warm.

Each is a final ``cdef class`` with a ``cpdef double update(double)`` so a Python strategy calls it
at C speed (DESIGN.md "The hot path"). Inputs must be finite: a NaN would poison the state forever,
so it is rejected with ``ValueError`` instead.
"""
cimport cython
from libc.math cimport NAN, isfinite
from libc.stdint cimport int64_t

import numpy as np


cdef inline int _check(double x) except -1:
    if not isfinite(x):
        raise ValueError(f"indicator input must be finite, was {x!r}")
    return 0


cdef inline int _check_period(object period) except -1:
    """An int (a NumPy integer too) >= 1: a float or a bool would be truncated silently."""
    if isinstance(period, bool) or not isinstance(period, (int, np.integer)):
        raise TypeError(f"period must be an int, was {period!r}")
    if period < 1:
        raise ValueError(f"period must be >= 1, was {period!r}")
    return 0


@cython.final
cdef class EMA:
    """Exponential moving average, k = 2 / (period + 1), seeded by the first input (ta 0.5)."""

    def __init__(self, period):
        _check_period(period)
        self.period = period
        self.k = 2.0 / (period + 1.0)
        self.seeded = False
        self.value = NAN

    cpdef double update(self, double x) except? -1.0:
        _check(x)
        if self.seeded:
            self.value = self.k * x + (1.0 - self.k) * self.value
        else:
            self.value = x
            self.seeded = True
        return self.value

    def __repr__(self):
        return f"EMA(period={self.period}, value={self.value!r})"


@cython.final
cdef class SMA:
    """Simple moving average over the last ``period`` inputs; NaN until ``period`` inputs.

    The running total is recomputed from the window every ``period`` inputs so rounding errors do
    not accumulate over long series.
    """

    def __init__(self, period):
        _check_period(period)
        self.period = period
        self.window = np.zeros(period)
        self.total = 0.0
        self.count = 0

    cpdef double update(self, double x) except? -1.0:
        cdef Py_ssize_t slot = self.count % self.period
        cdef Py_ssize_t i
        _check(x)
        self.total += x - self.window[slot]
        self.window[slot] = x
        self.count += 1
        if slot == self.period - 1:
            self.total = 0.0
            for i in range(self.period):
                self.total += self.window[i]
        if self.count < self.period:
            return NAN
        return self.total / self.period

    def __repr__(self):
        return f"SMA(period={self.period}, count={self.count})"


@cython.final
cdef class RSI:
    """The seed's RSI (ta 0.5 ``RelativeStrengthIndex``): EMA-smoothed gains and losses.

    The first input seeds gain = loss = 0.1, so the first value is 50.0 and there is no warm-up;
    then gain = max(x - prev, 0), loss = max(prev - x, 0), each smoothed by an EMA with
    k = 2 / (period + 1) seeded by its first input; RSI = 100 * gain / (gain + loss).
    When both smoothed values are 0 (no movement: period 1 and an unchanged close, or a long run of
    unchanged closes that underflows them) the RSI is 50.0, as in ``WilderRSI``; when only the loss
    is 0 it is 100.0 and when only the gain is 0 it is 0.0, which the formula already gives.
    """

    def __init__(self, period=14):
        _check_period(period)
        self.period = period
        self.k = 2.0 / (period + 1.0)
        self.seeded = False

    cpdef double update(self, double x) except? -1.0:
        cdef double up = 0.0, down = 0.0
        _check(x)
        if not self.seeded:
            self.seeded = True
            self.up = 0.1
            self.down = 0.1
        else:
            if x > self.prev:
                up = x - self.prev
            else:
                down = self.prev - x
            self.up = self.k * up + (1.0 - self.k) * self.up
            self.down = self.k * down + (1.0 - self.k) * self.down
        self.prev = x
        if self.up + self.down == 0.0:  # no movement: neither overbought nor oversold
            return 50.0
        return 100.0 * self.up / (self.up + self.down)

    def __repr__(self):
        return f"RSI(period={self.period})"


@cython.final
cdef class WilderRSI:
    """Wilder's RSI: NaN for the first ``period`` inputs; at input ``period + 1`` the averages are
    the simple means of the first ``period`` gains and losses, then Wilder smoothing
    (alpha = 1 / period). RSI = 100 when the average loss is 0 (and 50 when both are 0).
    """

    def __init__(self, period=14):
        _check_period(period)
        self.period = period
        self.count = 0
        self.avg_gain = 0.0
        self.avg_loss = 0.0

    cpdef double update(self, double x) except? -1.0:
        cdef double change, gain, loss
        _check(x)
        self.count += 1
        if self.count == 1:
            self.prev = x
            return NAN
        change = x - self.prev
        self.prev = x
        gain = change if change > 0.0 else 0.0
        loss = -change if change < 0.0 else 0.0
        if self.count <= self.period + 1:
            self.avg_gain += gain / self.period
            self.avg_loss += loss / self.period
            if self.count <= self.period:
                return NAN
        else:
            self.avg_gain += (gain - self.avg_gain) / self.period
            self.avg_loss += (loss - self.avg_loss) / self.period
        if self.avg_loss == 0.0:
            return 50.0 if self.avg_gain == 0.0 else 100.0
        return 100.0 - 100.0 / (1.0 + self.avg_gain / self.avg_loss)

    def __repr__(self):
        return f"WilderRSI(period={self.period}, count={self.count})"
