cimport cython
from libc.stdint cimport int8_t, int32_t, int64_t, uint64_t


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
    cdef public object book        # the market's L2 OrderBook for BOOK events (live), else None


cdef struct Feed:
    # One market's columns (borrowed from NumPy arrays the Tape keeps alive) and its merge position.
    const int64_t* time_ns
    const double* open
    const double* high
    const double* low
    const double* close
    const double* volume
    const int8_t* side            # NULL: unknown
    const int8_t* decisions       # NULL: none precomputed
    const double* strength        # NULL: 1.0
    Py_ssize_t length, row        # rows, and the next row to process


@cython.final
cdef class Tape:
    cdef Feed* feeds
    cdef readonly int32_t n_markets
    cdef readonly Py_ssize_t length
    cdef list arrays
    cdef readonly list markets
    cdef int* kinds
    cdef int32_t last_mid           # the market and time of the last event merged (-1: none yet)
    cdef int64_t last_t
    cdef uint64_t tied              # (2..64 markets) bit m: market m's next event was at last_t
    cdef uint64_t clock, in_round   # markets on one clock (_one_clock), those still to run this round
    cdef Py_ssize_t rounds          # whole rounds of them still to run after this one
    cdef _set(self, int32_t m, tuple cols, decisions, strength)
    cdef const void* _pointer(self, array, dtype, Py_ssize_t n, str name) except? NULL
