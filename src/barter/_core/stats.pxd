cimport cython
from libc.stdint cimport INT64_MIN, int64_t, uint64_t


cdef struct Welford:
    # One pass: count, sum, mean and M2 (sum of squared deviations from the mean), and the range.
    # ``mean`` is of x - shift (shift = the first sample), so a large offset costs no precision.
    int64_t n
    double shift, sum, mean, m2, low, high


cdef struct Downside:
    # Shortfalls below a target: n samples seen, sum of min(x - target, 0)^2 (Sortino's denominator).
    int64_t n
    double target, sum_sq


cdef struct SeedDrawdown:
    # The seed's drawdown over the balance total at each exit: a fraction <= 0.
    double high, low, drawdown
    int64_t start_ns, duration_ns


cdef struct Drawdowns:
    # Drawdowns of an equity curve, as fractions <= 0 below the running peak.
    int64_t n, peak_ns, last_ns, episode_start_ns, underwater_ns
    double peak, current, episode_depth, max_depth
    int64_t max_duration_ns, episodes
    double mean_depth, mean_duration_ns


cdef struct DailyReturns:
    # Equity resampled to UTC days: each day's last value over the last value of the previous day
    # that had points (or the start). A day without points is not a day of the series.
    int64_t n, next_day_ns, last_ns
    double prev_close, last
    Welford returns
    Downside downside


cdef struct EquityCurve:
    double start                # the equity before the first point (quote currency)
    Drawdowns drawdowns
    DailyReturns daily


cdef struct TradeSummary:
    # Exited positions of one market or of the whole portfolio.
    double starting_equity
    int64_t start_ns, end_ns, holding_ns
    Welford returns, losses, pnl
    Downside downside
    double gross_profit, gross_loss
    SeedDrawdown seed_dd
    double seed_max_dd, seed_avg_dd, seed_avg_duration_ns
    int64_t seed_max_duration_ns, seed_dd_count


cdef void welford_push(Welford* w, double x) noexcept nogil
cdef void welford_merge(Welford* a, const Welford* b) noexcept nogil
cdef void downside_push(Downside* d, double x) noexcept nogil
cdef void drawdowns_update(Drawdowns* d, int64_t t, double equity) noexcept nogil
cdef void equity_init(EquityCurve* c, double starting_equity, double target) noexcept nogil
cdef void equity_update(EquityCurve* c, int64_t t, double equity) noexcept nogil
cdef void trades_init(TradeSummary* s, double starting_equity, double target) noexcept nogil
cdef void trades_update(TradeSummary* s, int64_t enter_ns, int64_t exit_ns, double pnl_return,
                        double pnl, double equity) noexcept nogil
cdef dict trades_state(const TradeSummary* s)


@cython.cdivision(True)  # d.peak > 0, as in drawdowns_update
cdef inline void equity_push(EquityCurve* c, int64_t t, double equity) noexcept nogil:
    """``equity_update``, with its common cases inline: a point of the current day (so not the first
    point: ``next_day_ns`` starts at INT64_MIN) that stays at or above the peak while no drawdown
    runs, or below it while one runs. Anything else (a new day, a drawdown that starts or ends,
    NaN) goes through ``equity_update``; both leave the same state."""
    cdef Drawdowns* d = &c.drawdowns
    if t >= c.daily.next_day_ns:
        equity_update(c, t, equity)
        return
    if d.current < 0.0 and equity < d.peak:
        d.underwater_ns += t - d.last_ns
        d.current = (equity - d.peak) / d.peak
        if d.current < d.episode_depth:
            d.episode_depth = d.current
        if d.current < d.max_depth:
            d.max_depth = d.current
    elif d.current == 0.0 and equity >= d.peak:
        d.peak = equity
        d.peak_ns = t
    else:
        equity_update(c, t, equity)
        return
    d.last_ns = t
    d.n += 1
    c.daily.n += 1
    c.daily.last = equity
    c.daily.last_ns = t
cdef dict equity_state(const EquityCurve* c)


@cython.cdivision(True)  # the divisor is not 0; the sign is corrected so days start at UTC midnight
cdef inline int64_t day_start(int64_t t) noexcept nogil:
    """The UTC midnight at or before ``t`` (``t`` > INT64_MIN + one day)."""
    cdef int64_t day = (<int64_t> 86_400) * 1_000_000_000
    cdef int64_t r = t % day
    if r < 0:
        r += day
    return t - r


cdef void equity_catch_up(EquityCurve* c, int64_t t) noexcept nogil


cdef struct CurveFeed:
    # What a curve has not been given yet. A curve holds one point per time, the equity after the
    # last event at that time, so the point of time ``pending_ns`` waits until an event at another
    # time comes. A time whose events left the equity unchanged ("flat": no position open, no
    # fill) is not pushed; the latest one is applied (``equity_catch_up``) before the next push,
    # and the latest of each earlier UTC day as a later day's flat time comes, so every day that
    # had events is a day of the daily returns.
    int64_t pending_ns          # the time of the latest event (INT64_MIN: none yet)
    double pending_equity       # its equity, when ``moved``
    bint moved                  # an event at ``pending_ns`` may have changed the equity
    int64_t flat_ns             # the latest finished flat time not applied (INT64_MIN: none)
    int64_t flat_day_end        # the UTC midnight after the day of the latest flat time stored


cdef void feed_flat_day(EquityCurve* c, CurveFeed* q) noexcept nogil
cdef void feed_run(EquityCurve* c, CurveFeed* q, const int64_t* times, const double* equity,
                   Py_ssize_t stride, uint64_t moved, int n) noexcept nogil


cdef inline void feed_init(CurveFeed* q) noexcept nogil:
    q.pending_ns = INT64_MIN
    q.pending_equity = 0.0
    q.moved = False
    q.flat_ns = INT64_MIN
    q.flat_day_end = INT64_MIN


cdef inline void feed_event(EquityCurve* c, CurveFeed* q, int64_t t, bint moved, double equity) noexcept nogil:
    """An event at time ``t`` after which the curve's equity is ``equity`` (read only when
    ``moved``). Events at one time (several markets' bars of a minute, trades of a millisecond) are
    one instant: drawdowns never see a state half of its markets' events had reached."""
    if t != q.pending_ns:  # the pending time is finished
        if q.moved:
            equity_push(c, q.pending_ns, q.pending_equity)
            q.moved = False
        else:
            if q.pending_ns >= q.flat_day_end:  # a later day's flat time (or none yet): out of line
                feed_flat_day(c, q)
            q.flat_ns = q.pending_ns
        q.pending_ns = t
    if moved:
        if not q.moved and q.flat_ns != INT64_MIN:  # the time's first move: apply the flat time before
            equity_catch_up(c, q.flat_ns)
            q.flat_ns = INT64_MIN
        q.moved = True
        q.pending_equity = equity


cdef inline void feed_flush(EquityCurve* c, const CurveFeed* q) noexcept nogil:
    """Apply what ``q`` holds to ``c`` (a copy, for reading: the curve as if no event followed)."""
    if q.moved:
        equity_push(c, q.pending_ns, q.pending_equity)
        return
    if q.flat_ns != INT64_MIN and q.pending_ns >= q.flat_day_end:  # the pending time is a later day's
        equity_catch_up(c, q.flat_ns)
    equity_catch_up(c, q.pending_ns if q.pending_ns != INT64_MIN else q.flat_ns)


@cython.final
cdef class RunningStats:
    cdef Welford w
    cpdef int push(self, double x) except -1
    cpdef Py_ssize_t push_many(self, const double[::1] xs) except -1


@cython.final
cdef class DownsideDeviation:
    cdef Downside d
    cpdef int push(self, double x) except -1
    cpdef Py_ssize_t push_many(self, const double[::1] xs) except -1


@cython.final
cdef class DrawdownTracker:
    cdef Drawdowns d
    cpdef int update(self, int64_t time_ns, double equity) except -1
    cpdef Py_ssize_t update_many(self, const int64_t[::1] time_ns, const double[::1] equity) except -1


@cython.final
cdef class EquityStats:
    cdef EquityCurve c
    cpdef int update(self, int64_t time_ns, double equity) except -1
    cpdef Py_ssize_t update_many(self, const int64_t[::1] time_ns, const double[::1] equity) except -1


@cython.final
cdef class TradeStats:
    cdef TradeSummary s
    cpdef int push(self, int64_t enter_ns, int64_t exit_ns, double pnl_return, double pnl,
                   double equity) except -1
    cpdef Py_ssize_t push_many(self, const int64_t[::1] enter_ns, const int64_t[::1] exit_ns,
                               const double[::1] pnl_return, const double[::1] pnl,
                               const double[::1] equity) except -1
