cimport cython
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, uint64_t


cdef enum:
    CANDLE = 0
    TRADE = 1
    WATCH_MAX = 8


@cython.final
cdef class Signal:
    cdef double strengths[4]     # by decision code; NaN where the decision is absent
    cdef readonly object order   # how to place the order (a LimitOrder for BookExecution), or None


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
    # An L2 book feed (kind BOOK): row r's level updates are level_start[r] .. level_start[r + 1] - 1,
    # a snapshot (the book replaced first) where snapshot[r]; level_start is NULL for other feeds.
    const int64_t* level_start
    const int8_t* snapshot
    const int8_t* level_side
    const double* level_price
    const double* level_size
    Py_ssize_t length, row        # rows, and the next row to process


@cython.final
cdef class MarketView:
    cdef readonly int64_t time_ns
    cdef readonly int32_t market_id
    cdef readonly int kind
    cdef readonly double close     # a field, not a lazy read: every event marks positions with it
    cdef readonly object market
    cdef public object book        # the market's L2 OrderBook for BOOK events (live), else None
    # open, high, low, volume and side are read from row `row` of `feed` only when asked for, so an
    # event touches just the columns its strategy reads. `feed` is a Tape's (run_strategies, which
    # keeps the tape in `source`) or `own`, one row of the view's own (Dispatcher.process).
    cdef const Feed* feed
    cdef Py_ssize_t row
    cdef object source
    cdef Feed own
    cdef double own_values[5]      # own's open, high, low, close, volume
    cdef int8_t own_side


@cython.final
cdef class Tape:
    cdef Feed* feeds
    cdef readonly int32_t n_markets
    cdef readonly Py_ssize_t length
    cdef list arrays
    cdef readonly list markets
    cdef int* kinds
    cdef list books                 # per market: its OrderBook (book feeds) or None
    cdef list hooks                 # per market: what takes a book row while the market is active
    cdef uint8_t* active            # per market: its execution has orders or watched levels
    # Per market, while its execution only watches a few levels (no order open or in flight): those
    # levels (WATCH_MAX at most); a row touching none of them needs no hook. watch_n -1: no filter.
    cdef int* watch_n
    cdef int8_t* watch_sides
    cdef double* watch_prices
    cdef int32_t last_mid           # the market and time of the last event merged (-1: none yet)
    cdef int64_t last_t
    cdef uint64_t tied              # (2..64 markets) bit m: market m's next event was at last_t
    cdef uint64_t clock, in_round   # markets on one clock (_one_clock), those still to run this round
    cdef Py_ssize_t rounds          # whole rounds of them still to run after this one
    cdef _set(self, int32_t m, tuple cols, decisions, strength)
    cdef _set_book(self, int32_t m, tuple levels)
    cdef const void* _pointer(self, array, dtype, Py_ssize_t n, str name) except? NULL
