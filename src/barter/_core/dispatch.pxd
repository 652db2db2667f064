cimport cython
from libc.stdint cimport int8_t, int32_t, int64_t


cdef enum:
    CANDLE = 0
    TRADE = 1


@cython.final
cdef class Signal:
    cdef double strengths[4]     # by decision code; NaN where the decision is absent


@cython.final
cdef class MarketView:
    cdef readonly int64_t time_ns
    cdef readonly int32_t market_id
    cdef readonly int kind
    cdef readonly double open, high, low, close, volume
    cdef readonly int side
    cdef readonly object market


@cython.final
cdef class Tape:
    cdef readonly Py_ssize_t length
    cdef const int64_t[::1] time_ns
    cdef const double[::1] open, high, low, close, volume
    cdef const int8_t[::1] side
    cdef const int32_t[::1] market_id
    cdef bint has_side, has_market_id
    cdef readonly list markets
    cdef int[::1] kinds
