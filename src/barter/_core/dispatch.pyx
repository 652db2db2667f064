"""The per-event dispatch loop over columnar market data.

Per event, in the seed's order (SEED.md §6): the strategy sees the market event and may return a
``Signal``; the open position is marked to market; a signal goes through allocation and risk to an
order, a simulated fill and the position/balance update, and an exit feeds the statistics.

What keeps it fast (DESIGN.md "The hot path"): the strategy's bound method is looked up once; it gets
one reused ``MarketView`` that points at the event's row (a column is read only when the strategy
asks for it); nothing is allocated per event unless the strategy returns a signal; accounting runs
on C structs. With precomputed decisions no Python runs per event at all and the loop releases
the GIL.
"""
cimport cython
from libc.math cimport NAN, isfinite, isnan
from libc.stdint cimport INT64_MAX, int8_t, int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport calloc, free
from libc.string cimport memcmp

from barter._core.book cimport OrderBook
from libc.stdint cimport INT64_MIN
from barter._core.position cimport (Position, PortfolioCore, market_equity, portfolio_mark, portfolio_observe,
                                    position_mark_in)
from barter._core.stats cimport CurveFeed, EquityCurve, feed_run

import numpy as np

cdef extern from *:
    """
    #if defined(_MSC_VER)
    #include <intrin.h>
    static __inline int barter_ctz64(unsigned __int64 x) { unsigned long i; _BitScanForward64(&i, x); return (int)i; }
    #else
    #define barter_ctz64(x) __builtin_ctzll(x)
    #endif
    """
    int barter_ctz64(uint64_t x) noexcept nogil  # the lowest set bit's index; x != 0

from barter.errors import StrategyError
from barter.decision import Decision

_DECISIONS = tuple(Decision)


@cython.final
@cython.freelist(16)
cdef class Signal:
    """Advisory decisions with strengths: ``Signal({Decision.LONG: 1.0, Decision.CLOSE_SHORT: 1.0})``.

    The seed's ``Signal.signals`` map. The portfolio picks the one decision that applies: with a
    long position open only CloseLong acts, with a short one only CloseShort, and with none exactly
    one of Long or Short (both or neither: nothing). Strength scales the entry size (> 0, finite).
    A signal carries no market or time: the engine knows both, so one constant ``Signal`` can be
    returned for every event. ``order``, for a trader with ``BookExecution``, says how to place the
    order (``barter.execution.LimitOrder``); None sends a market order.
    """

    def __init__(self, signals, order=None):
        cdef int i
        self.order = order
        for i in range(4):
            self.strengths[i] = NAN
        for decision, strength in dict(signals).items():
            d = Decision(decision)
            s = float(strength)
            if not (isfinite(s) and s > 0.0):
                raise ValueError(f"strength of {d.name} must be finite and > 0, was {strength!r}")
            self.strengths[<int> d] = s

    @staticmethod
    def long(strength=1.0, order=None):
        return Signal({Decision.LONG: strength}, order)

    @staticmethod
    def close_long(strength=1.0, order=None):
        return Signal({Decision.CLOSE_LONG: strength}, order)

    @staticmethod
    def short(strength=1.0, order=None):
        return Signal({Decision.SHORT: strength}, order)

    @staticmethod
    def close_short(strength=1.0, order=None):
        return Signal({Decision.CLOSE_SHORT: strength}, order)

    @property
    def signals(self):
        """``{Decision: strength}`` of the decisions present."""
        return {d: self.strengths[<int> d] for d in _DECISIONS if not isnan(self.strengths[<int> d])}

    def __eq__(self, other):
        return isinstance(other, Signal) and self.signals == other.signals and self.order == other.order

    def __hash__(self):
        return hash((tuple(sorted(self.signals.items())), self.order))

    def __repr__(self):
        inner = ", ".join(f"{d.name}: {s!r}" for d, s in self.signals.items())
        return f"Signal({{{inner}}})" if self.order is None else f"Signal({{{inner}}}, order={self.order!r})"


cdef enum:
    # Kinds from here on (2 L1 quote, 3 L2 book; barter.data.event) carry a quote in the columns:
    # open bid price, high ask price, low bid amount, volume ask amount, close the weighted mid.
    FIRST_QUOTE_KIND = 2


cdef inline double _quoted(MarketView view, double column):
    """A quote column of a quote or book event; NaN for candles and trades."""
    return column if view.kind >= FIRST_QUOTE_KIND else NAN


@cython.final
cdef class MarketView:
    """A read-only view of the market event being processed, reused for every event.

    Valid only during the strategy call: the engine overwrites it for the next event. Keep
    ``view.copy()`` (an immutable ``MarketEvent``) instead of the view. For a trade, ``price`` is
    ``close`` and ``amount`` is ``volume`` (and ``open``/``high``/``low`` equal the price). For an
    L1 quote or an L2 book (``kind`` 2 or 3) the best bid and ask are ``bid_price``/``ask_price``
    with their amounts, and ``close`` (= ``price``) is the seed's volume-weighted mid price, which
    marks positions; for a book ``book`` is the market's ``OrderBook``. The quote properties are
    NaN for candles and trades.
    """

    def __cinit__(self):
        self.own.open, self.own.high, self.own.low = &self.own_values[0], &self.own_values[1], &self.own_values[2]
        self.own.close, self.own.volume = &self.own_values[3], &self.own_values[4]
        self.own.side = &self.own_side
        self.own.length = 1
        self.feed, self.row = &self.own, 0

    @property
    def open(self):
        return self.feed.open[self.row]

    @property
    def high(self):
        return self.feed.high[self.row]

    @property
    def low(self):
        return self.feed.low[self.row]

    @property
    def volume(self):
        return self.feed.volume[self.row]

    @property
    def side(self):
        return self.feed.side[self.row] if self.feed.side != NULL else 0

    @property
    def price(self):
        return self.close

    @property
    def bid_price(self):
        return _quoted(self, self.feed.open[self.row])

    @property
    def ask_price(self):
        return _quoted(self, self.feed.high[self.row])

    @property
    def bid_amount(self):
        return _quoted(self, self.feed.low[self.row])

    @property
    def ask_amount(self):
        return _quoted(self, self.feed.volume[self.row])

    @property
    def amount(self):
        return self.feed.volume[self.row]

    def copy(self):
        """An immutable ``barter.data.MarketEvent`` of the current event."""
        from barter.data.event import MarketEvent
        return MarketEvent.from_view(self)

    def __repr__(self):
        return (f"MarketView(market={self.market}, time_ns={self.time_ns}, kind={self.kind}, "
                f"open={self.open}, high={self.high}, low={self.low}, close={self.close}, "
                f"volume={self.volume})")


@cython.final
cdef class Tape:
    """Columnar events of one or more markets, merged by time as they are processed.

    ``columns[m]`` is market m's ``(time_ns, open, high, low, close, volume, side)`` (side may be
    None); for trades pass the price array as open, high, low and close and amounts as volume. The
    merge picks, at each step, the market whose next event is earliest (ties: the lower market id),
    so the order is the stable merge of the feeds, and nothing is copied: a market's columns are
    read in place. ``decisions[m]`` (int8 masks) and ``strength[m]`` are optional, per market.

    ``books[m]``, for an L2 book feed (kind 3), is its messages' level updates ``(start, snapshot,
    side, price, size)`` (see ``barter.data.HistoricalBook``): ``run_strategies`` applies row r's
    updates to the market's ``OrderBook`` (``book(m)``) before the strategy sees the row, or, while
    the market is ``set_active``, hands the row to its hook (``set_hook``), which applies it.
    """

    def __init__(self, list markets, kinds, list columns, list decisions=None, list strength=None,
                 list books=None):
        cdef int32_t m
        self.n_markets = len(markets)
        if self.n_markets < 1 or len(columns) != self.n_markets or len(kinds) != self.n_markets:
            raise ValueError(f"need columns and a kind for each of {self.n_markets} markets (at least one)")
        self.feeds = <Feed*> calloc(self.n_markets, sizeof(Feed))
        self.kinds = <int*> calloc(self.n_markets, sizeof(int))
        self.active = <uint8_t*> calloc(self.n_markets, sizeof(uint8_t))
        self.watch_n = <int*> calloc(self.n_markets, sizeof(int))
        self.watch_sides = <int8_t*> calloc(self.n_markets * WATCH_MAX, sizeof(int8_t))
        self.watch_prices = <double*> calloc(self.n_markets * WATCH_MAX, sizeof(double))
        if (self.feeds == NULL or self.kinds == NULL or self.active == NULL or self.watch_n == NULL
                or self.watch_sides == NULL or self.watch_prices == NULL):
            raise MemoryError()
        for m in range(self.n_markets):
            self.watch_n[m] = -1
        self.markets, self.arrays, self.length = markets, [], 0
        self.books, self.hooks = [None] * self.n_markets, [None] * self.n_markets
        for m in range(self.n_markets):
            self.kinds[m] = kinds[m]
            self._set(m, columns[m], decisions[m] if decisions else None, strength[m] if strength else None)
            if books and books[m] is not None:
                self._set_book(m, books[m])
            self.length += self.feeds[m].length

    def __dealloc__(self):
        free(self.feeds)
        free(self.kinds)
        free(self.active)
        free(self.watch_n)
        free(self.watch_sides)
        free(self.watch_prices)

    cdef _set(self, int32_t m, tuple cols, decisions, strength):
        cdef Feed* f = &self.feeds[m]
        time_ns, open, high, low, close, volume, side = cols
        f.length = len(time_ns)
        f.time_ns = <const int64_t*> self._pointer(time_ns, np.int64, f.length, "time_ns")
        f.open = <const double*> self._pointer(open, np.float64, f.length, "open")
        f.high = <const double*> self._pointer(high, np.float64, f.length, "high")
        f.low = <const double*> self._pointer(low, np.float64, f.length, "low")
        f.close = <const double*> self._pointer(close, np.float64, f.length, "close")
        f.volume = <const double*> self._pointer(volume, np.float64, f.length, "volume")
        f.side = <const int8_t*> self._pointer(side, np.int8, f.length, "side")
        f.decisions = <const int8_t*> self._pointer(decisions, np.int8, f.length, "decisions")
        f.strength = <const double*> self._pointer(strength, np.float64, f.length, "strength")

    cdef _set_book(self, int32_t m, tuple levels):
        cdef Feed* f = &self.feeds[m]
        start, snapshot, side, price, size = levels
        n = len(side)
        if len(start) != f.length + 1 or (f.length and (start[0] != 0 or start[f.length] != n)):
            raise ValueError(f"market {m}: need {f.length + 1} level starts from 0 to {n}")
        f.level_start = <const int64_t*> self._pointer(start, np.int64, f.length + 1, "level start")
        f.snapshot = <const int8_t*> self._pointer(snapshot, np.int8, f.length, "snapshot")
        f.level_side = <const int8_t*> self._pointer(side, np.int8, n, "level side")
        f.level_price = <const double*> self._pointer(price, np.float64, n, "level price")
        f.level_size = <const double*> self._pointer(size, np.float64, n, "level size")
        if f.level_start == NULL:  # no rows: nothing to apply
            return
        if np.any(np.diff(np.asarray(start)) < 0):
            raise ValueError(f"market {m}: level starts must not decrease")
        self.books[m] = OrderBook()

    def next_row(self, int32_t m):
        """Market ``m``'s next row to process (its rows processed so far)."""
        return self.feeds[m].row

    def book(self, int32_t m):
        """Market ``m``'s ``OrderBook`` (book feeds), or None."""
        return self.books[m]

    def set_hook(self, int32_t m, hook):
        """``hook(row)`` takes market ``m``'s book rows while the market is active, and applies
        each itself (``apply_row``)."""
        self.hooks[m] = hook

    def set_active(self, int32_t m, bint flag, watched=None):
        """Hand market ``m``'s rows to its hook while ``flag``; ``watched``, a list of up to
        ``WATCH_MAX`` (side, price), says the hook needs only the rows that touch one of them."""
        cdef int k
        if flag and self.hooks[m] is None:
            raise ValueError(f"market {m} has no hook to take its rows")
        self.active[m] = flag
        self.watch_n[m] = -1
        if flag and watched is not None and len(watched) <= WATCH_MAX:
            for k, (side, price) in enumerate(watched):
                self.watch_sides[m * WATCH_MAX + k] = side
                self.watch_prices[m * WATCH_MAX + k] = price
            self.watch_n[m] = len(watched)

    def apply_row(self, int32_t m, Py_ssize_t row):
        """Apply market ``m``'s book row ``row`` to its book."""
        cdef Feed* f = &self.feeds[m]
        if f.level_start == NULL or not 0 <= row < f.length:
            raise IndexError(f"market {m} has no book row {row}")
        _apply_row(<OrderBook> self.books[m], f, row)

    cdef const void* _pointer(self, array, dtype, Py_ssize_t n, str name) except? NULL:
        """The data of ``array`` (C-contiguous, ``dtype``, ``n`` rows), kept alive by the tape."""
        if array is None or n == 0:
            return NULL
        a = np.ascontiguousarray(array, dtype=dtype)
        if a.ndim != 1 or a.shape[0] != n:
            raise ValueError(f"column {name} has shape {a.shape}, expected ({n},)")
        self.arrays.append(a)
        return <const void*> <size_t> a.ctypes.data

    def rewind(self):
        """Start the merge again from the first event of every market."""
        cdef int32_t m
        for m in range(self.n_markets):
            if self.books[m] is not None:
                self.books[m].clear()
        _restart(self)

    def merged_times(self, Py_ssize_t n):
        """The times of the first ``n`` events in the order the loops process them (int64 array),
        replayed on the time columns alone; books and the tape's position are left as they were.
        With several markets the engine asks for these after a run instead of writing a time per
        event (a second output stream, as large as the equity curve)."""
        cdef int32_t m
        if not 0 <= n <= self.length:
            raise ValueError(f"n must be in [0, {self.length}], was {n}")
        out = np.empty(n, dtype=np.int64)
        rows = [self.feeds[m].row for m in range(self.n_markets)]
        state = (self.last_mid, self.last_t, self.tied, self.clock, self.in_round, self.rounds)
        _restart(self)
        _replay_times(self, out)
        for m in range(self.n_markets):
            self.feeds[m].row = rows[m]
        self.last_mid, self.last_t, self.tied, self.clock, self.in_round, self.rounds = state
        return out


cdef void _restart(Tape tape) noexcept:
    """Every market back to its first row, and the merge's state with it (books untouched)."""
    cdef int32_t m
    for m in range(tape.n_markets):
        tape.feeds[m].row = 0
    tape.last_mid = -1
    tape.tied = tape.in_round = tape.clock = 0
    tape.rounds = 0


@cython.boundscheck(False)  # i < times.shape[0] <= tape.length: _next finds an event for each
@cython.wraparound(False)
cdef void _replay_times(Tape tape, int64_t[::1] times) noexcept:
    """``times[i]``: the time of the ``i``-th event ``_next`` merges, from the tape's position."""
    cdef Py_ssize_t i
    cdef Feed* f
    with nogil:
        for i in range(times.shape[0]):
            f = &tape.feeds[_next(tape)]
            times[i] = f.time_ns[f.row]
            f.row += 1


cdef enum:
    LOCK_ROWS = 256     # at most this many rounds of markets on one clock at once
    LOCK_CHUNK = 16     # rows checked at a time, so a check costs in proportion to the rows it allows


cdef inline Py_ssize_t _same_prefix(const int64_t* a, const int64_t* b, Py_ssize_t k) noexcept nogil:
    """How many of the first ``k`` values of ``a`` and ``b`` agree before the first that differs."""
    cdef Py_ssize_t r
    if memcmp(a, b, k * sizeof(int64_t)) == 0:
        return k
    for r in range(k):
        if a[r] != b[r]:
            return r
    return k


cdef Py_ssize_t _one_clock(Tape tape, uint64_t live) noexcept nogil:
    """How many rows from here the markets of ``live`` (all next at one time) run on one clock: the
    same times in each, strictly increasing, and no market with another event at the last row's
    time, so the merge is rounds of one event a market, by id. At most ``LOCK_ROWS``; 0 when a
    market has two events at the first time."""
    cdef const Feed* f0 = &tape.feeds[barter_ctz64(live)]
    cdef const Feed* f
    cdef const int64_t* t0 = f0.time_ns + f0.row
    cdef Py_ssize_t j, end, k, r = 0, rows = LOCK_ROWS
    cdef uint64_t rest = live
    while rest:
        f = &tape.feeds[barter_ctz64(rest)]
        rest &= rest - 1
        rows = min(rows, f.length - f.row)
    while r < rows:  # rows [0, r) agree and increase
        end = min(rows, r + LOCK_CHUNK)
        k = end
        rest = live & (live - 1)
        while rest:
            f = &tape.feeds[barter_ctz64(rest)]
            rest &= rest - 1
            k = r + _same_prefix(f.time_ns + f.row + r, t0 + r, k - r)
        for j in range(max(r, 1), k):
            if t0[j] <= t0[j - 1]:
                k = j
                break
        r = k
        if k < end:
            break
    rest = live
    while rest:  # the last round is whole only if no market has another event at its time
        f = &tape.feeds[barter_ctz64(rest)]
        rest &= rest - 1
        if f.row + r < f.length and f.time_ns[f.row + r] <= t0[r - 1]:
            return r - 1
    return r


cdef inline int _apply_row(OrderBook book, const Feed* f, Py_ssize_t row) except -1 nogil:
    """A book row's level updates (checked when the HistoricalBook was built)."""
    cdef int64_t lo = f.level_start[row]
    return book.apply_message(f.snapshot[row], &f.level_side[lo], &f.level_price[lo], &f.level_size[lo],
                              f.level_start[row + 1] - lo)


cdef inline int32_t _next(Tape tape) noexcept nogil:
    """The market whose next event comes first (ties: the lower id); -1 when all are done.

    After an event of market m at time T every market below m has its next event after T, so if
    some market's next event is also at T, the first such from m up is the answer: markets that
    tick together are merged without a full scan. Up to 64 markets, the scan that finds T also
    marks every market whose next event is at T (``tape.tied``); the answer is then the lowest
    marked market, and a market leaves the mark once its next event is no longer at T. When every
    market left is at T and their next rows run on one clock (``_one_clock``), the answers are
    rounds of those markets by id, with no scan until the rounds end.
    """
    cdef int32_t m, best = -1
    cdef int64_t best_t = 0, t
    cdef uint64_t tied, live = 0
    cdef Py_ssize_t k
    cdef Feed* f
    if tape.n_markets == 1:
        return 0 if tape.feeds[0].row < tape.feeds[0].length else -1
    if tape.n_markets > 64:
        return _next_scan(tape)
    if tape.in_round:  # rounds of markets on one clock (``_one_clock``)
        m = barter_ctz64(tape.in_round)
        tape.in_round &= tape.in_round - 1
        return m
    if tape.rounds:
        tape.rounds -= 1
        tape.in_round = tape.clock & (tape.clock - 1)
        return barter_ctz64(tape.clock)
    tied = tape.tied
    if tied:  # tape.last_mid is its lowest bit, the market just processed
        f = &tape.feeds[tape.last_mid]
        if f.row < f.length and f.time_ns[f.row] == tape.last_t:
            return tape.last_mid
        tied &= tied - 1
        if tied:
            tape.tied = tied
            tape.last_mid = barter_ctz64(tied)
            return tape.last_mid
    for m in range(tape.n_markets):
        f = &tape.feeds[m]
        if f.row < f.length:
            live |= (<uint64_t> 1) << m
            t = f.time_ns[f.row]
            if best < 0 or t < best_t:
                best = m
                best_t = t
                tied = (<uint64_t> 1) << m
            elif t == best_t:
                tied |= (<uint64_t> 1) << m
    tape.tied = tied  # still 0 when every market is done
    tape.last_mid = best
    tape.last_t = best_t
    k = _one_clock(tape, live) if tied and tied == live else 0
    if k:  # every market left is at best_t and the next k rows agree: k rounds, this is the first
        tape.clock, tape.rounds, tape.in_round, tape.tied = live, k - 1, live & (live - 1), 0
    return best


cdef int32_t _next_scan(Tape tape) noexcept nogil:
    """``_next`` for more than 64 markets: the markets tied at T are found from m up."""
    cdef int32_t m, best = -1
    cdef int64_t best_t = 0
    cdef Feed* f
    if tape.last_mid >= 0:
        for m in range(tape.last_mid, tape.n_markets):
            f = &tape.feeds[m]
            if f.row < f.length and f.time_ns[f.row] == tape.last_t:
                tape.last_mid = m
                return m
    for m in range(tape.n_markets):
        f = &tape.feeds[m]
        if f.row < f.length and (best < 0 or f.time_ns[f.row] < best_t):
            best = m
            best_t = f.time_ns[f.row]
    tape.last_mid = best
    tape.last_t = best_t
    return best


cdef inline void _load(MarketView view, Tape tape, const Feed* f, Py_ssize_t row, int32_t mid) noexcept:
    """Point the view at market ``mid``'s row ``row``; its other columns are read only if the
    strategy asks (with 5 markets, copying all of them is 30 memory streams per event)."""
    view.time_ns = f.time_ns[row]
    view.close = f.close[row]
    view.feed, view.row = f, row
    if mid != view.market_id:
        view.market_id = mid
        view.market = tape.markets[mid]
        view.kind = tape.kinds[mid]
        view.book = tape.books[mid]


cdef inline int _book_row(Tape tape, const Feed* f, Py_ssize_t row, int32_t mid) except -1:
    """Bring market ``mid``'s book to row ``row``: in the core, or through the hook of an active
    market whose execution needs to see the row."""
    if tape.active[mid] and (tape.watch_n[mid] < 0 or _touches_watched(tape, f, row, mid)):
        tape.hooks[mid](row)
    else:
        _apply_row(<OrderBook> tape.books[mid], f, row)
    return 0


cdef inline bint _touches_watched(Tape tape, const Feed* f, Py_ssize_t row, int32_t mid) noexcept nogil:
    """A snapshot, or a level update at one of the market's watched levels."""
    cdef int64_t j
    cdef int k, n = tape.watch_n[mid]
    cdef const int8_t* sides = &tape.watch_sides[mid * WATCH_MAX]
    cdef const double* prices = &tape.watch_prices[mid * WATCH_MAX]
    if f.snapshot[row]:
        return True
    for j in range(f.level_start[row], f.level_start[row + 1]):
        for k in range(n):
            if f.level_price[j] == prices[k] and f.level_side[j] == sides[k]:
                return True
    return False


def _check_outputs(equity, times, Tape tape):
    for name, out in (("equity", equity), ("times", times)):
        if out is not None and len(out) != tape.length:
            raise ValueError(f"{name} buffer has {len(out)} rows, tape has {tape.length}")


cdef int _commands(PortfolioCore pf, object drain, int64_t t, double[::1] equity, Py_ssize_t points) except -1:
    """``drain(t)``: waiting commands run at the engine's time ``t`` (the latest event's; the first
    event's before any), after point ``points - 1`` (that time's), whose equity they may change
    (their fills are points of its time on the curves). Returns 1 when one stops the run."""
    cdef bint stop = drain(t)
    if points and equity is not None:
        equity[points - 1] = pf.equity()
    return stop


cdef inline int _step(PortfolioCore pf, MarketView view, object cb, object emit, double* equity) except -1:
    """One loaded event, in the seed's order: strategy, mark, signal -> order -> fill, statistics,
    then the event stream. Writes the portfolio equity after the event to ``equity``."""
    cdef int32_t mid = view.market_id
    cdef int64_t t = view.time_ns
    cdef Py_ssize_t fills
    cdef object result = cb(view) if cb is not None else None
    portfolio_mark(pf, mid, view.close, t)
    fills = pf.n_fills
    if result is not None:
        if type(result) is not Signal:
            raise StrategyError(f"generate_signal must return a Signal or None, returned "
                                f"{type(result).__name__} for {view.market} at time_ns={t}")
        _signal(pf, mid, <Signal> result, view.close, t)
    equity[0] = portfolio_observe(pf, mid, t, pf.n_fills != fills)
    if emit is not None:
        emit(view, result, fills)
    return 0


cdef inline int _signal(PortfolioCore pf, int32_t mid, Signal signal, double price, int64_t t) except -1:
    """Act on a strategy's signal; its order spec goes with it to the market's execution."""
    if signal.order is None:
        return pf.on_signal(mid, signal.strengths, price, t)
    if not pf.routed[mid]:
        raise StrategyError(f"a Signal with an order ({signal.order!r}) needs BookExecution; "
                            f"market {mid} fills at the event's price")
    pf.next_order = signal.order
    try:
        pf.on_signal(mid, signal.strengths, price, t)
    finally:
        pf.next_order = None
    return 0


cdef Py_ssize_t _first_report(object progress, Py_ssize_t every) except -1:
    """The event count of the first ``progress`` call; 0 without a hook, which the count (compared
    after its increment) never equals: the loops pay one integer compare per event for progress."""
    if progress is None:
        return 0
    if every < 1:
        raise ValueError(f"progress_every must be >= 1, was {every}")
    if not callable(progress):
        raise TypeError(f"progress must be callable(events_done), was {type(progress).__name__}")
    return every


cdef inline void _note(BaseException exc, MarketView view, str where):
    """Say where an error happened: a note for people, attributes for the engine's error event."""
    if hasattr(exc, "add_note"):
        exc.add_note(where)
    try:
        exc.barter_market = view.market
        exc.barter_time_ns = view.time_ns
    except AttributeError:
        pass


@cython.boundscheck(False)  # i < tape.length, the length of equity and times (checked above)
@cython.wraparound(False)
def run_strategies(Tape tape, PortfolioCore pf, list callbacks, double[::1] equity=None,
                   int64_t[::1] times=None, emit=None, drain=None, progress=None,
                   Py_ssize_t progress_every=65536):
    """Run Python ``generate_signal`` callbacks (one per market id, or None) over the tape.

    ``equity`` and ``times``, if given, receive one point per time: the portfolio equity after the
    last event at that time, and the time (events at one time are one instant, as on the equity
    curves; a run with many markets on one clock keeps a point per bar, not per market's bar).
    ``emit(view, signal, fills_before)``, if given, is called after each event (the event stream;
    with None it costs one branch). While ``pf.interrupt`` is set, ``drain(time_ns)`` runs before
    the next event and after the last (commands); it returns True to stop. It runs at the latest
    event's time (before the first event: that one's), and that time's point is written again
    after it (the commands' fills belong to its time). ``progress(events_done)``, if given, is
    called after every ``progress_every`` events. Returns (events, points) processed; an exception
    leaving the loop gets them as ``events_done`` and ``points_done``.
    """
    cdef Py_ssize_t i = 0, row, points = 0
    cdef int64_t last_t = INT64_MIN
    cdef Py_ssize_t report_at = _first_report(progress, progress_every)
    cdef int32_t mid
    cdef double value
    cdef bint stopped = False
    cdef Feed* f
    cdef MarketView view = MarketView()
    _check_outputs(equity, times, tape)
    if len(callbacks) != tape.n_markets or pf.n_markets != tape.n_markets:
        raise ValueError(f"need one callback and portfolio market per tape market ({tape.n_markets})")
    view.market_id, view.source = -1, tape  # the tape keeps the columns the view reads alive
    tape.rewind()
    try:
        while i < tape.length:
            mid = _next(tape)
            f = &tape.feeds[mid]
            row = f.row
            if pf.interrupt and drain is not None and _commands(pf, drain, view.time_ns if i else f.time_ns[row],
                                                                 equity, points):
                stopped = True
                break
            f.row += 1
            _load(view, tape, f, row, mid)
            if f.level_start != NULL:
                _book_row(tape, f, row, mid)
            _step(pf, view, callbacks[mid], emit, &value)
            if view.time_ns != last_t:  # a new time: a new point
                last_t = view.time_ns
                if times is not None:
                    times[points] = last_t
                points += 1
            if equity is not None:
                equity[points - 1] = value
            i += 1
            if i == report_at:
                progress(i)
                report_at += progress_every
        if i and not stopped and pf.interrupt and drain is not None:  # commands sent during the last event
            _commands(pf, drain, view.time_ns, equity, points)
    except BaseException as exc:
        _note(exc, view, f"while processing event {i} of {view.market} (time_ns={view.time_ns})")
        try:
            exc.events_done, exc.points_done = i, points  # the engine keeps the equity before it
        except AttributeError:
            pass  # an exception type without attributes: the engine keeps none
        raise
    return i, points


@cython.final
cdef class Dispatcher:
    """The loop's per-event work for events that arrive one at a time (live and paper trading).

    Same order and accounting as ``run_strategies``; ``process`` returns the equity afterwards.
    """

    cdef PortfolioCore pf
    cdef public list callbacks
    cdef list markets
    cdef readonly MarketView view
    cdef object emit

    def __init__(self, PortfolioCore pf, list callbacks, list markets, emit=None):
        if not (len(callbacks) == len(markets) == pf.n_markets):
            raise ValueError(f"need one callback and market per portfolio market ({pf.n_markets})")
        self.pf, self.callbacks, self.markets, self.emit = pf, callbacks, markets, emit
        self.view = MarketView()
        self.view.market_id = -1

    cpdef double process(self, int32_t mid, int64_t time_ns, int kind, double open, double high, double low,
                         double close, double volume, int side=0) except? -1.0:
        cdef MarketView view = self.view
        cdef double value
        if mid < 0 or mid >= self.pf.n_markets:
            raise IndexError(f"market id must be in [0, {self.pf.n_markets}), was {mid}")
        for x in (open, high, close, low if kind < FIRST_QUOTE_KIND else 1.0):  # a quote's low is its bid amount
            if not (isfinite(x) and x > 0.0):
                raise ValueError(f"prices must be finite and > 0, got {open!r}, {high!r}, {low!r}, {close!r}")
        if kind >= FIRST_QUOTE_KIND and not (isfinite(low) and low >= 0.0 and isfinite(volume) and volume >= 0.0):
            raise ValueError(f"quote amounts must be finite and >= 0, got {low!r}, {volume!r}")
        view.own_values[0], view.own_values[1], view.own_values[2] = open, high, low
        view.own_values[3], view.own_values[4], view.own_side = close, volume, side
        view.time_ns, view.close, view.feed, view.row = time_ns, close, &view.own, 0
        view.market_id, view.market, view.kind = mid, self.markets[mid], kind
        try:
            _step(self.pf, view, self.callbacks[mid], self.emit, &value)
        except BaseException as exc:
            _note(exc, view, f"while processing {view.market} at time_ns={time_ns}")
            raise
        return value


cdef struct Sink:
    # Where run_decisions' loops put each time's point: equity and time (NULL: not kept), the
    # points so far and the latest event's time (commands run at it); progress hook state.
    double* equity
    int64_t* times
    Py_ssize_t points
    int64_t last_t
    Py_ssize_t done             # events done as of the last progress call or the loops' exit (errors)
    Py_ssize_t report_at, every
    bint draining               # a drain hook was given
    bint stop                   # the drain hook said stop


cdef inline int _act(PortfolioCore pf, const Feed* f, Py_ssize_t row, int32_t mid, Position* p,
                     int64_t t) except -1 nogil:
    """One event's precomputed decision, in the seed's order: mark, then the mask's signal. Returns
    whether the event moved the market's equity (its position ``p`` is open, or it filled)."""
    cdef double price = f.close[row]
    cdef int8_t code = f.decisions[row]
    cdef double s
    cdef double strengths[4]
    cdef Py_ssize_t fills = pf.n_fills
    cdef int k
    position_mark_in(pf, p, price, t)
    if code != 0:
        s = f.strength[row] if f.strength != NULL else 1.0
        for k in range(4):
            strengths[k] = s if code & (1 << k) else NAN
        pf.on_signal(mid, strengths, price, t)
    return p.is_open | (pf.n_fills != fills)


cdef inline int _decide(PortfolioCore pf, const Feed* f, Py_ssize_t row, int32_t mid, int64_t t,
                        double* equity) except -1 nogil:
    """``_act``, then the curves; writes the portfolio equity afterwards to ``equity``."""
    cdef bint moved = _act(pf, f, row, mid, &pf.positions[mid], t)
    equity[0] = portfolio_observe(pf, mid, t, moved)
    return 0


cdef int _drain(PortfolioCore pf, Sink* out, object drain, int64_t t) except -1 nogil:
    """``drain``, out of line: the loops keep their registers for the work of every event. After
    an event the commands run at the latest time and their fills are in its point
    (``_commands``); before the first event, at ``t`` (its time)."""
    with gil:
        out.stop = drain(out.last_t if out.points else t)
    if out.points and out.equity != NULL:
        out.equity[out.points - 1] = pf.equity()
    return out.stop


cdef int _report(Sink* out, Py_ssize_t done, object progress) except -1 nogil:
    """``progress(done)``, out of line as ``_drain``."""
    out.done = done
    with gil:
        progress(done)
    out.report_at += out.every
    return 0


cdef inline int _drained(PortfolioCore pf, Sink* out, object drain, int64_t t) except -1 nogil:
    """Run waiting commands (``drain``) before the event at ``t``; 1 when one stops the run."""
    if pf.interrupt and out.draining:
        return _drain(pf, out, drain, t)
    return 0


cdef inline void _point(Sink* out, int64_t t, double equity) noexcept nogil:
    """``equity`` is time ``t``'s point (a later event at the same time overwrites it)."""
    if t != out.last_t:
        out.last_t = t
        if out.times != NULL:
            out.times[out.points] = t
        out.points += 1
    if out.equity != NULL:
        out.equity[out.points - 1] = equity


cdef inline Py_ssize_t _put(Sink* out, Py_ssize_t i, double equity, int64_t t, object progress) except -1 nogil:
    """Record event ``i``: the portfolio equity after it is its time's point; returns the events
    done."""
    _point(out, t, equity)
    i += 1
    if i == out.report_at:
        _report(out, i, progress)
    return i


cdef inline Py_ssize_t _decide_rows(PortfolioCore pf, Feed* f, int32_t mid, Py_ssize_t end, Py_ssize_t i,
                                    Sink* out, object drain, object progress) except -1 nogil:
    """Market ``mid``'s events from its next row up to row ``end`` (exclusive), in order; ``i``
    events came before them. Returns the events done (fewer rows when ``drain`` stops the run)."""
    cdef Py_ssize_t row
    cdef int64_t t
    cdef double value
    try:
        for row in range(f.row, end):
            t = f.time_ns[row]
            if _drained(pf, out, drain, t):
                break
            f.row = row + 1
            _decide(pf, f, row, mid, t, &value)
            i = _put(out, i, value, t, progress)
        return i
    finally:  # an error: the events before it (run_decisions notes them)
        out.done = max(out.done, i)


cdef inline uint64_t _earliest(const int64_t* next_t, int32_t n, int64_t* at) noexcept nogil:
    """The markets (bits) whose next event time in ``next_t[:n]`` is the earliest, which goes to ``at``."""
    cdef int32_t m
    cdef int64_t t, best = next_t[0]
    cdef uint64_t tied = 1
    for m in range(1, n):
        t = next_t[m]
        if t < best:
            best = t
            tied = (<uint64_t> 1) << m
        elif t == best:
            tied |= (<uint64_t> 1) << m
    at[0] = best
    return tied


cdef enum:
    CURVE_BLOCK = 16    # rounds whose curve points wait, then are fed a curve at a time


cdef struct Rounds:
    # ``_decide_rounds``' state. Events run round by round (time-major, as the merge orders them);
    # the curves' points, the markets' and the total's (column n), wait for up to CURVE_BLOCK
    # rounds and are then fed a curve at a time (``feed_run``): a flat market's stretch costs next
    # to nothing, and an open one's points go straight to its curve.
    int32_t n
    int32_t ids[64]
    Feed* feeds[64]
    Position* positions[64]
    int64_t t                   # the current round's time
    int32_t recorded            # its events already in the sink
    int32_t rounds              # whole rounds waiting (the current one is row ``rounds``)
    int32_t fed[65]             # per column: its waiting rounds already fed to its curve
    int64_t times[CURVE_BLOCK]
    uint64_t moved[CURVE_BLOCK]  # per round: bit j, market j's event moved its equity
    double equity[CURVE_BLOCK * 65]  # round r, column j (market j; n: the total) at r * (n + 1) + j


cdef inline uint64_t _column_bits(const Rounds* rd, int32_t j, int32_t lo, int32_t hi, uint64_t any,
                                  uint64_t every) noexcept nogil:
    """Bit r - lo: column ``j``'s event of round r moved (the total's: any market's did). ``any``
    and ``every`` (the OR and AND of the rounds' masks) answer a flat or open market at once."""
    cdef int32_t r
    cdef uint64_t bits = 0
    if j < rd.n and not (any >> j) & 1:
        return 0
    if j < rd.n and (every >> j) & 1:
        return (~(<uint64_t> 0)) >> (64 - (hi - lo))
    for r in range(lo, hi):
        bits |= (<uint64_t> ((rd.moved[r] >> j) & 1 if j < rd.n else rd.moved[r] != 0)) << (r - lo)
    return bits


cdef void _feed_curves(PortfolioCore pf, Rounds* rd, int32_t at, uint64_t moved) noexcept nogil:
    """Feed the waiting points to the curves (``portfolio_observe``'s part): the whole rounds, and
    of the current round the first ``at`` events' (``moved`` their bits). The total takes the
    round so far, and again once it ends (its later events are at the same time)."""
    cdef int32_t j, r, lo, hi, mid
    cdef int32_t rows = rd.rounds + (at > 0)
    cdef int32_t stride = rd.n + 1
    cdef uint64_t any = 0, every = ~(<uint64_t> 0)
    cdef EquityCurve* curve
    cdef CurveFeed* feed
    cdef int64_t* first
    cdef int64_t* last
    if at:  # the current round's first events (the round is in the buffer: rounds < CURVE_BLOCK)
        rd.times[rd.rounds], rd.moved[rd.rounds] = rd.t, moved
    for r in range(rd.fed[rd.n], rows):
        any |= rd.moved[r]
        every &= rd.moved[r]
    for j in range(stride):
        lo, hi = rd.fed[j], rd.rounds + (j < at or (j == rd.n and at > 0))
        if lo == hi:
            continue
        if j < rd.n:
            mid = rd.ids[j]
            curve, feed, first, last = &pf.market_curves[mid], &pf.feeds[mid], &pf.first_ns[mid], &pf.last_ns[mid]
        else:
            curve, feed, first, last = &pf.total_curve, &pf.total_feed, &pf.total_first_ns, &pf.total_last_ns
        feed_run(curve, feed, &rd.times[lo], &rd.equity[lo * stride + j], stride,
                 _column_bits(rd, j, lo, hi, any, every), hi - lo)
        if rd.times[lo] < first[0]:
            first[0] = rd.times[lo]
        last[0] = rd.times[hi - 1]
        rd.fed[j] = hi if j < rd.n else rd.rounds  # the total's current round is fed again


cdef void _next_block(PortfolioCore pf, Rounds* rd) noexcept nogil:
    """A block of whole rounds is done: feed them, and the buffer starts over."""
    cdef int32_t j
    _feed_curves(pf, rd, 0, 0)
    rd.rounds = 0
    for j in range(rd.n + 1):
        rd.fed[j] = 0


cdef Py_ssize_t _record(PortfolioCore pf, Rounds* rd, Sink* out, Py_ssize_t i, int32_t done) noexcept nogil:
    """The current round's events up to ``done`` into the sink (its time's point) and the total's
    column; ``i`` events came before those not yet recorded. Returns the events done. Once a
    round, and again where a command, the progress hook or an error comes mid-round."""
    cdef double equity = pf.bal.total + pf.unrealised
    if done == rd.recorded:
        return i
    rd.equity[rd.rounds * (rd.n + 1) + rd.n] = equity
    _point(out, rd.t, equity)
    i += done - rd.recorded
    rd.recorded = done
    return i


cdef Py_ssize_t _decide_rounds(PortfolioCore pf, Tape tape, uint64_t live, Py_ssize_t k, Py_ssize_t i,
                               Sink* out, object drain, object progress) except -1 nogil:
    """``k`` rounds of the markets of ``live`` on one clock (``_one_clock``): each round one event
    of each, by id, as ``_next`` orders them. Wherever the state can be seen (commands, progress,
    an error, the end) it is the one ``_decide`` and ``_put`` leave after each event."""
    cdef Rounds rd
    cdef int32_t j, n = 0, mid, at = 0
    cdef Py_ssize_t r, row, until
    cdef uint64_t moved = 0
    cdef bint m
    cdef double* equity
    cdef Feed* f
    cdef Position* p
    while live:
        rd.ids[n] = barter_ctz64(live)
        rd.feeds[n] = &tape.feeds[rd.ids[n]]
        rd.positions[n] = &pf.positions[rd.ids[n]]
        rd.fed[n] = 0
        live &= live - 1
        n += 1
    rd.n, rd.rounds, rd.recorded, rd.fed[n] = n, 0, 0, 0
    try:
        for r in range(k):
            rd.t = rd.feeds[0].time_ns[rd.feeds[0].row]
            equity = &rd.equity[rd.rounds * (n + 1)]
            until = out.report_at - i  # the round's event after which progress is due
            for j in range(n):
                if pf.interrupt:  # commands run between two events, as elsewhere
                    if _drain_round(pf, &rd, out, &i, j, moved, drain):
                        return i
                    until = out.report_at - i + rd.recorded
                mid = rd.ids[j]
                f = rd.feeds[j]
                row = f.row
                f.row = row + 1
                p = rd.positions[j]
                m = _act(pf, f, row, mid, p, rd.t)
                at = j + 1
                moved |= (<uint64_t> m) << j
                equity[j] = market_equity(pf, mid, p)
                if at == until:
                    i = _record(pf, &rd, out, i, at)
                    _feed_curves(pf, &rd, at, moved)  # the hook may read the statistics
                    _report(out, i, progress)
                    until = out.report_at - i + rd.recorded
            i = _record(pf, &rd, out, i, at)
            rd.times[rd.rounds], rd.moved[rd.rounds] = rd.t, moved
            rd.rounds += 1
            at, moved, rd.recorded = 0, 0, 0
            if rd.rounds == CURVE_BLOCK:
                _next_block(pf, &rd)
        return i
    finally:  # also after an error: the events before it are recorded, as _decide leaves them
        i = _record(pf, &rd, out, i, at)
        _feed_curves(pf, &rd, at, moved)
        out.done = max(out.done, i)


cdef int _drain_round(PortfolioCore pf, Rounds* rd, Sink* out, Py_ssize_t* i, int32_t j, uint64_t moved,
                      object drain) except -1 nogil:
    """Commands before the round's event ``j``: the events before it recorded and fed first."""
    if not out.draining:
        return 0
    i[0] = _record(pf, rd, out, i[0], j)
    _feed_curves(pf, rd, j, moved)
    return _drain(pf, out, drain, rd.t)


cdef inline int64_t _advance(Tape tape, int32_t mid, int64_t* next_t, uint64_t* live) noexcept nogil:
    """Market ``mid``'s next event time, kept in ``next_t``; a market with none leaves ``live``."""
    cdef const Feed* f = &tape.feeds[mid]
    if f.row < f.length:
        next_t[mid] = f.time_ns[f.row]
    else:
        next_t[mid] = INT64_MAX
        live[0] &= ~((<uint64_t> 1) << mid)
    return next_t[mid]


cdef Py_ssize_t _decide_merged(PortfolioCore pf, Tape tape, int64_t* next_t, Sink* out, object drain,
                               object progress) except -1 nogil:
    """(2..64 markets) Every event of the tape in ``_next``'s order, one event per pass: ``tied``
    holds the markets still to run at time ``now``; a market with another event at ``now`` keeps
    its bit, which is then still the lowest, so its events at ``now`` run in a row. When every
    market left is in ``tied`` and they run on one clock, rows run as rounds (``_decide_rounds``)."""
    cdef Py_ssize_t i = 0, row, k
    cdef int32_t m, mid
    cdef double value
    cdef int64_t now = 0
    cdef uint64_t tied = 0, live = 0, rest
    cdef Feed* f
    for m in range(tape.n_markets):
        if tape.feeds[m].length:
            live |= (<uint64_t> 1) << m
    try:
        while live and not out.stop:
            if not tied:
                tied = _earliest(next_t, tape.n_markets, &now) & live
                k = _one_clock(tape, live) if tied == live else 0
                if k:  # every market left has an event at now, and the next k rows agree: rounds
                    i = _decide_rounds(pf, tape, live, k, i, out, drain, progress)
                    rest = live
                    while rest:
                        mid = barter_ctz64(rest)
                        rest &= rest - 1
                        _advance(tape, mid, next_t, &live)
                    tied = 0
                    continue
            mid = barter_ctz64(tied)
            tied &= tied - 1
            f = &tape.feeds[mid]
            row = f.row
            if _drained(pf, out, drain, now):
                break
            f.row = row + 1
            _decide(pf, f, row, mid, now, &value)
            i = _put(out, i, value, now, progress)
            if _advance(tape, mid, next_t, &live) == now:
                tied |= (<uint64_t> 1) << mid
        return i
    finally:  # an error: the events before it (run_decisions notes them)
        out.done = max(out.done, i)


@cython.boundscheck(False)  # i < tape.length, the length of equity and times (checked above)
@cython.wraparound(False)
def run_decisions(Tape tape, PortfolioCore pf, double[::1] equity=None, int64_t[::1] times=None,
                  drain=None, progress=None, Py_ssize_t progress_every=65536):
    """Run the tape's precomputed decisions: per event a bit mask of decision codes (1 Long,
    2 CloseLong, 4 Short, 8 CloseShort; 0 none) and a strength (default 1.0). No Python runs per
    event (the GIL is released) except ``drain(time_ns)`` while ``pf.interrupt`` is set and
    ``progress(events_done)`` every ``progress_every`` events, as in ``run_strategies``. Returns
    (events, points) processed, as ``run_strategies``.

    The merge runs in the order of ``_next``: the markets whose next event is at the earliest
    time T, by id, each with all its events at T in a row. Up to 64 markets the next event time of
    each is kept in an array, so finding them scans that array alone, and markets on one clock run
    as rounds with no scan (``_decide_merged``); above 64 each event comes from ``_next_scan``.
    """
    cdef Py_ssize_t i = 0
    cdef int32_t mid, m, n = tape.n_markets
    cdef int64_t next_t[64]      # (2..64 markets) each market's next event time; INT64_MAX when done
    cdef Feed* f
    cdef Sink out
    out.report_at = _first_report(progress, progress_every)
    out.every, out.draining, out.stop = progress_every, drain is not None, False
    out.points, out.last_t, out.done = 0, INT64_MIN, 0
    _check_outputs(equity, times, tape)
    out.equity = &equity[0] if equity is not None and tape.length else NULL
    out.times = &times[0] if times is not None and tape.length else NULL
    if pf.n_markets != n:
        raise ValueError(f"portfolio has {pf.n_markets} markets, tape has {n}")
    for m in range(n):
        if tape.feeds[m].length and tape.feeds[m].decisions == NULL:
            raise ValueError(f"market {m} of the tape has no decisions")
    tape.rewind()
    for m in range(n if n <= 64 else 0):
        f = &tape.feeds[m]
        next_t[m] = f.time_ns[0] if f.length else INT64_MAX
    try:
        with nogil:
            if n == 1:
                i = _decide_rows(pf, &tape.feeds[0], 0, tape.feeds[0].length, i, &out, drain, progress)
            elif n <= 64:
                i = _decide_merged(pf, tape, next_t, &out, drain, progress)
            while n > 64 and i < tape.length and not out.stop:
                mid = _next_scan(tape)
                i = _decide_rows(pf, &tape.feeds[mid], mid, tape.feeds[mid].row + 1, i, &out, drain, progress)
            if i and not out.stop:  # commands sent during the last event
                _drained(pf, &out, drain, out.last_t)
    except BaseException as exc:  # as run_strategies: the engine keeps the equity before the error
        try:
            exc.events_done, exc.points_done = out.done, out.points
        except AttributeError:
            pass
        raise
    return i, out.points
