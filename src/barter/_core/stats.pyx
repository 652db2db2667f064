"""One-pass statistics on C structs: O(1) memory each, updated in C as positions exit and as equity
points arrive, readable at any time.

- ``Welford``: count, sum, mean, M2 and range (Welford 1962; merge by Chan et al. 1979), stable for
  long streams with a large offset.
- ``Downside``: sum of squared shortfalls below a target over all samples (Sortino's denominator).
- ``Drawdowns``: an equity curve's drawdowns below its running peak: current, deepest, episodes
  (peak to recovery) with mean depth and duration, and the time spent under water.
- ``DailyReturns``: the equity curve resampled to UTC days (each day's last value over the last
  value of the previous day that had points; a day without points is not a day of the series, the
  next return spans the gap), into a Welford and a Downside accumulator.
- ``TradeSummary``: PnL returns and PnL of exited positions, plus the seed's drawdown over the
  balance at each exit (SEED.md §3).

Reading a state folds what is still open (the current day, a drawdown in progress) into a copy, so
reading never changes the running state. The Python classes at the end expose each accumulator.
"""
cimport cython
from libc.math cimport NAN, fabs, isfinite, signbit, sqrt
from libc.stdint cimport INT64_MIN, int64_t, uint64_t

cdef int64_t DAY_NS = 86_400_000_000_000
cdef int64_t NO_TIME = INT64_MIN

# -- Welford and downside -----------------------------------------------------------------------

@cython.cdivision(True)  # w.n >= 1 after the increment
cdef void welford_push(Welford* w, double x) noexcept nogil:
    cdef double prev = w.mean, y
    if w.n == 0:
        w.shift = x
        w.low = x
        w.high = x
    y = x - w.shift
    w.n += 1
    w.sum += x
    w.mean = prev + (y - prev) / w.n
    w.m2 += (y - prev) * (y - w.mean)
    if x < w.low:
        w.low = x
    if x > w.high:
        w.high = x


cdef void welford_merge(Welford* a, const Welford* b) noexcept nogil:
    """Chan et al.: the accumulator of a's stream followed by b's."""
    cdef int64_t n = a.n + b.n
    cdef double delta
    if b.n == 0:
        return
    if a.n == 0:
        a[0] = b[0]
        return
    delta = (b.mean + (b.shift - a.shift)) - a.mean
    a.m2 += b.m2 + delta * delta * (<double> a.n) * (<double> b.n) / n
    a.mean += delta * b.n / n
    a.sum += b.sum
    a.low = b.low if b.low < a.low else a.low
    a.high = b.high if b.high > a.high else a.high
    a.n = n


cdef enum:
    BLOCK = 256  # samples per block in welford_push_block: fits in L1, long enough to pipeline


@cython.boundscheck(False)  # i < n, the block's length
@cython.wraparound(False)
@cython.cdivision(True)  # n >= 1
cdef void welford_push_block(Welford* w, const double* xs, Py_ssize_t n) noexcept nogil:
    """Add a block: its mean and M2 by the corrected two-pass algorithm over the block (in cache,
    no serial division chain), then merged (Chan et al.). Equals pushing each sample up to rounding.
    """
    cdef Py_ssize_t i
    cdef double shift = w.shift if w.n else xs[0]
    cdef double total = 0.0, shifted = 0.0, lo = xs[0], hi = xs[0], mean, d, dev = 0.0, sq = 0.0
    cdef Welford b
    for i in range(n):
        total += xs[i]
        shifted += xs[i] - shift  # the mean comes from shifted values: no overflow, no offset loss
        lo = xs[i] if xs[i] < lo else lo
        hi = xs[i] if xs[i] > hi else hi
    mean = shifted / n
    for i in range(n):
        d = (xs[i] - shift) - mean
        dev += d
        sq += d * d
    b = Welford(n, shift, total, mean + dev / n, sq - dev * dev / n, lo, hi)
    welford_merge(w, &b)


cdef void downside_push(Downside* d, double x) noexcept nogil:
    cdef double shortfall = x - d.target
    d.n += 1
    if shortfall < 0.0:
        d.sum_sq += shortfall * shortfall


cdef dict _welford_dict(const Welford* w):
    return {"count": w.n, "sum": w.sum, "mean": w.shift + w.mean if w.n else 0.0, "m2": w.m2,
            "low": w.low, "high": w.high}


cdef dict _downside_dict(const Downside* d):
    return {"count": d.n, "target": d.target, "sum_sq": d.sum_sq}

# -- drawdowns of an equity curve ---------------------------------------------------------------

cdef void _end_episode(Drawdowns* d, int64_t t) noexcept nogil:
    cdef int64_t duration = t - d.episode_start_ns
    d.episodes += 1
    d.mean_depth += (d.episode_depth - d.mean_depth) / d.episodes
    d.mean_duration_ns += (duration - d.mean_duration_ns) / d.episodes
    if duration > d.max_duration_ns:
        d.max_duration_ns = duration


@cython.cdivision(True)  # d.peak >= the first equity, which every caller checks is > 0
cdef void drawdowns_update(Drawdowns* d, int64_t t, double equity) noexcept nogil:
    if d.n == 0:
        d.peak = equity
    if d.last_ns == NO_TIME:  # the first point, or the starting equity whose time was unknown
        d.peak_ns = t
        d.last_ns = t
    if d.current < 0.0:
        d.underwater_ns += t - d.last_ns
    d.last_ns = t
    d.n += 1
    if equity >= d.peak:
        if d.current < 0.0:
            _end_episode(d, t)
            d.current = 0.0
        d.peak = equity
        d.peak_ns = t
        return
    if d.current == 0.0:
        d.episode_start_ns = d.peak_ns
        d.episode_depth = 0.0
    d.current = (equity - d.peak) / d.peak
    if d.current < d.episode_depth:
        d.episode_depth = d.current
    if d.current < d.max_depth:
        d.max_depth = d.current


cdef dict _drawdowns_dict(const Drawdowns* d):
    """A drawdown still in progress counts as an episode lasting until the latest point."""
    cdef Drawdowns f = d[0]
    if f.current < 0.0:
        _end_episode(&f, f.last_ns)
    return {
        "points": d.n, "peak": d.peak, "current": d.current, "max": d.max_depth,
        "max_duration_ns": f.max_duration_ns, "episodes": f.episodes, "mean": f.mean_depth,
        "mean_duration_ns": f.mean_duration_ns, "underwater_ns": d.underwater_ns,
        "current_duration_ns": d.last_ns - d.episode_start_ns if d.current < 0.0 else 0,
    }

# -- daily returns ------------------------------------------------------------------------------

cdef inline void _push_return(DailyReturns* d, double r) noexcept nogil:
    welford_push(&d.returns, r)
    downside_push(&d.downside, r)


cdef void _daily_update(DailyReturns* d, int64_t t, double equity) noexcept nogil:
    """A day without points (a weekend of an equity feed) adds no return: the next day's return is
    over the last value before the gap, as a daily-bar series has it."""
    if d.n == 0:
        d.next_day_ns = day_start(t) + DAY_NS
    elif t >= d.next_day_ns:
        _push_return(d, d.last / d.prev_close - 1.0)
        d.prev_close = d.last
        d.next_day_ns = day_start(t) + DAY_NS
    d.n += 1
    d.last = equity
    d.last_ns = t


cdef dict _daily_dict(const DailyReturns* d):
    """The current (possibly partial) day counts as a day."""
    cdef DailyReturns f = d[0]
    if f.n:
        _push_return(&f, f.last / f.prev_close - 1.0)
    return {"points": d.n, "last": d.last, "last_ns": d.last_ns,
            "returns": _welford_dict(&f.returns), "downside": _downside_dict(&f.downside)}

# -- equity curve -------------------------------------------------------------------------------

cdef void equity_init(EquityCurve* c, double starting_equity, double target) noexcept nogil:
    c.start = starting_equity
    c.drawdowns = Drawdowns(1, NO_TIME, NO_TIME, NO_TIME, 0, starting_equity, 0.0, 0.0, 0.0, 0, 0, 0.0, 0.0)
    # next_day_ns = NO_TIME until the first point: no time is before it (equity_push relies on it)
    c.daily = DailyReturns(0, NO_TIME, NO_TIME, starting_equity, starting_equity,
                           Welford(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0), Downside(0, target, 0.0))


cdef void equity_update(EquityCurve* c, int64_t t, double equity) noexcept nogil:
    drawdowns_update(&c.drawdowns, t, equity)
    _daily_update(&c.daily, t, equity)


cdef void equity_catch_up(EquityCurve* c, int64_t t) noexcept nogil:
    """Apply the latest of the points skipped since the last update (time ``t``, equity unchanged):
    for an unchanged value the last one leaves the same state as all of them would have. Out of
    line: it runs once per stretch of flat times."""
    if t != NO_TIME and (c.drawdowns.last_ns == NO_TIME or t > c.drawdowns.last_ns):
        equity_push(c, t, c.daily.last)


cdef void feed_flat_day(EquityCurve* c, CurveFeed* q) noexcept nogil:
    """``feed_event``'s finished flat time ``q.pending_ns`` is on a later UTC day than the flat
    time stored: that one, the earlier day's last, is applied (so its day is a day of the daily
    returns). Out of line: once per day, and it keeps ``feed_event`` small enough to inline."""
    if q.pending_ns == INT64_MIN:  # no event yet
        return
    if q.flat_ns != INT64_MIN:
        equity_catch_up(c, q.flat_ns)
    q.flat_day_end = day_start(q.pending_ns) + (<int64_t> 86_400) * 1_000_000_000


cdef void feed_run(EquityCurve* c, CurveFeed* q, const int64_t* times, const double* equity,
                   Py_ssize_t stride, uint64_t moved, int n) noexcept nogil:
    """``feed_event`` for ``n`` (<= 64) events at strictly increasing times: event k at ``times[k]``,
    equity ``equity[k * stride]``, moved where bit k of ``moved`` is set. Runs where no event moved
    (a flat market) or every one did (an open position) leave the same state in fewer steps."""
    cdef int k
    cdef uint64_t every = (~(<uint64_t> 0)) >> (64 - n) if n else 0
    cdef int64_t t
    cdef double value
    if n == 0:
        return
    feed_event(c, q, times[0], moved & 1, equity[0])
    if (moved & every) == every:  # each finished time moved: pushed, the last stays pending
        t, value = q.pending_ns, q.pending_equity
        for k in range(1, n):
            equity_push(c, t, value)
            t, value = times[k], equity[k * stride]
        q.pending_ns, q.pending_equity = t, value
    elif (moved & every) == 0 and not q.moved and n > 1 and times[n - 2] < q.flat_day_end:
        q.flat_ns, q.pending_ns = times[n - 2], times[n - 1]  # flat within a day (q.moved: the first
        # event was at the pending time of a command's fill, which the next one pushes)
    else:
        for k in range(1, n):
            feed_event(c, q, times[k], (moved >> k) & 1, equity[k * stride])


cdef dict equity_state(const EquityCurve* c):
    return {"start": c.start, "drawdowns": _drawdowns_dict(&c.drawdowns), "daily": _daily_dict(&c.daily)}

# -- exited positions ---------------------------------------------------------------------------

cdef void trades_init(TradeSummary* s, double starting_equity, double target) noexcept nogil:
    cdef Welford empty = Welford(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    s.starting_equity = starting_equity
    s.start_ns = 0
    s.end_ns = 0
    s.holding_ns = 0
    s.returns = empty
    s.losses = empty
    s.pnl = empty
    s.downside = Downside(0, target, 0.0)
    s.gross_profit = 0.0
    s.gross_loss = 0.0
    s.seed_dd = SeedDrawdown(starting_equity, starting_equity, 0.0, 0, 0)
    s.seed_max_dd = 0.0
    s.seed_avg_dd = 0.0
    s.seed_avg_duration_ns = 0.0
    s.seed_max_duration_ns = 0
    s.seed_dd_count = 0


cdef inline void _seed_fold(TradeSummary* s, const SeedDrawdown* d) noexcept nogil:
    # The seed's MaxDrawdown keeps the deepest; AvgDrawdown a running mean of depth and duration.
    if fabs(d.drawdown) > fabs(s.seed_max_dd):
        s.seed_max_dd = d.drawdown
        s.seed_max_duration_ns = d.duration_ns
    s.seed_dd_count += 1
    s.seed_avg_dd += (d.drawdown - s.seed_avg_dd) / s.seed_dd_count
    s.seed_avg_duration_ns += (d.duration_ns - s.seed_avg_duration_ns) / s.seed_dd_count


cdef void _seed_drawdown(TradeSummary* s, int64_t t, double equity) noexcept nogil:
    """The seed's four cases on (waiting for a new peak, equity above the peak)."""
    cdef SeedDrawdown* d = &s.seed_dd
    cdef bint waiting = d.drawdown == 0.0
    if waiting and equity > d.high:
        d.high = equity
    elif waiting:
        d.start_ns = t
        d.low = equity
        d.drawdown = -(d.high - d.low) / d.high
    elif equity <= d.high:
        d.duration_ns = t - d.start_ns
        if equity < d.low:
            d.low = equity
        d.drawdown = -(d.high - d.low) / d.high
    else:
        _seed_fold(s, d)
        d.drawdown = 0.0
        d.duration_ns = 0
        d.high = equity


cdef void trades_update(TradeSummary* s, int64_t enter_ns, int64_t exit_ns, double pnl_return,
                        double pnl, double equity) noexcept nogil:
    # the first entry, whichever trade exits first (the Total row's markets' trades overlap)
    if s.returns.n == 0 or enter_ns < s.start_ns:
        s.start_ns = enter_ns
    if exit_ns > s.end_ns:
        s.end_ns = exit_ns
    s.holding_ns += exit_ns - enter_ns
    welford_push(&s.returns, pnl_return)
    welford_push(&s.pnl, pnl)
    downside_push(&s.downside, pnl_return)
    if signbit(pnl_return):  # as the seed: -0.0 counts as a loss
        welford_push(&s.losses, pnl_return)
        s.gross_loss += pnl
    else:
        s.gross_profit += pnl
    _seed_drawdown(s, exit_ns, equity)


cdef dict trades_state(const TradeSummary* s):
    """Plain-dict snapshot; the seed's drawdown still open is folded into max and average."""
    cdef TradeSummary f = s[0]
    if f.seed_dd.drawdown != 0.0:
        _seed_fold(&f, &f.seed_dd)
    return {
        "starting_equity": s.starting_equity, "start_ns": s.start_ns, "end_ns": s.end_ns,
        "holding_ns": s.holding_ns, "returns": _welford_dict(&s.returns),
        "losses": _welford_dict(&s.losses), "pnl": _welford_dict(&s.pnl),
        "downside": _downside_dict(&s.downside), "gross_profit": s.gross_profit,
        "gross_loss": s.gross_loss, "seed_current_drawdown": s.seed_dd.drawdown,
        "seed_max_drawdown": f.seed_max_dd, "seed_max_drawdown_duration_ns": f.seed_max_duration_ns,
        "seed_drawdown_count": f.seed_dd_count, "seed_avg_drawdown": f.seed_avg_dd,
        "seed_avg_drawdown_duration_ns": f.seed_avg_duration_ns,
    }

# -- the Python surface -------------------------------------------------------------------------

cdef inline int _finite(double x, str what) except -1:
    if not isfinite(x):
        raise ValueError(f"{what} must be finite, was {x!r}")
    return 0


@cython.final
cdef class RunningStats:
    """Streaming count, sum, mean, variance and range (Welford), mergeable (Chan et al.).

    With no samples mean, variances and the range are NaN; with one, the population variance is
    0 and the sample variance NaN. No warnings, no division by zero.
    """

    cpdef int push(self, double x) except -1:
        _finite(x, "sample")
        welford_push(&self.w, x)
        return 0

    @cython.boundscheck(False)  # i < n == xs.shape[0]
    @cython.wraparound(False)
    cpdef Py_ssize_t push_many(self, const double[::1] xs) except -1:
        cdef Py_ssize_t i, n = _check_samples(xs)
        i = 0
        with nogil:
            while i < n:
                welford_push_block(&self.w, &xs[i], min(<Py_ssize_t> BLOCK, n - i))
                i += BLOCK
        return n

    def merge(self, RunningStats other):
        """Combine with ``other`` as if its samples followed this one's; returns self."""
        welford_merge(&self.w, &other.w)
        return self

    @property
    def count(self):
        return self.w.n

    @property
    def sum(self):
        return self.w.sum

    @property
    def mean(self):
        return self.w.shift + self.w.mean if self.w.n else NAN

    @property
    def m2(self):
        return self.w.m2

    @property
    def variance(self):
        """Population variance M2 / n."""
        return self.w.m2 / self.w.n if self.w.n else NAN

    @property
    def sample_variance(self):
        """Sample variance M2 / (n - 1)."""
        return self.w.m2 / (self.w.n - 1) if self.w.n > 1 else NAN

    @property
    def std(self):
        return sqrt(self.variance)

    @property
    def sample_std(self):
        return sqrt(self.sample_variance)

    @property
    def min(self):
        return self.w.low if self.w.n else NAN

    @property
    def max(self):
        return self.w.high if self.w.n else NAN

    @property
    def range(self):
        return self.w.high - self.w.low if self.w.n else NAN

    def __repr__(self):
        return f"RunningStats(count={self.count}, mean={self.mean!r}, std={self.std!r})"


@cython.final
cdef class DownsideDeviation:
    """Root-mean-square shortfall below ``target`` over all samples: sqrt(Σ min(x − target, 0)² / n)."""

    def __init__(self, double target=0.0):
        _finite(target, "target")
        self.d = Downside(0, target, 0.0)

    cpdef int push(self, double x) except -1:
        _finite(x, "sample")
        downside_push(&self.d, x)
        return 0

    @cython.boundscheck(False)  # i < n == xs.shape[0]
    @cython.wraparound(False)
    cpdef Py_ssize_t push_many(self, const double[::1] xs) except -1:
        cdef Py_ssize_t i, n = _check_samples(xs)
        with nogil:
            for i in range(n):
                downside_push(&self.d, xs[i])
        return n

    def merge(self, DownsideDeviation other):
        if other.d.target != self.d.target:
            raise ValueError(f"cannot merge targets {self.d.target!r} and {other.d.target!r}")
        self.d.n += other.d.n
        self.d.sum_sq += other.d.sum_sq
        return self

    @property
    def count(self):
        return self.d.n

    @property
    def target(self):
        return self.d.target

    @property
    def value(self):
        return sqrt(self.d.sum_sq / self.d.n) if self.d.n else NAN


@cython.boundscheck(False)  # i < n == xs.shape[0]
@cython.wraparound(False)
cdef Py_ssize_t _check_samples(const double[::1] xs) except -1:
    """Validate before pushing, so a bad sample leaves the state unchanged; returns the count."""
    cdef Py_ssize_t i, n = xs.shape[0]
    for i in range(n):
        if not isfinite(xs[i]):
            raise ValueError(f"sample {i} must be finite, was {xs[i]!r}")
    return n


cdef int _check_point(int64_t last_ns, int64_t t, double equity) except -1:
    _finite(equity, "equity")
    if equity <= 0.0:
        raise ValueError(f"equity must be > 0 for drawdown fractions, was {equity!r}")
    if last_ns != NO_TIME and t < last_ns:
        raise ValueError(f"time_ns went backwards: {t} after {last_ns}")
    return 0


@cython.boundscheck(False)  # i < n, both arrays checked to have n rows
@cython.wraparound(False)
cdef Py_ssize_t _check_points(int64_t last_ns, const int64_t[::1] time_ns, const double[::1] equity) except -1:
    """Validate a batch of equity points after ``last_ns``; returns the count."""
    cdef Py_ssize_t i, n = time_ns.shape[0]
    if equity.shape[0] != n:
        raise ValueError(f"{n} times but {equity.shape[0]} equity values")
    for i in range(n):
        _check_point(last_ns if i == 0 else time_ns[i - 1], time_ns[i], equity[i])
    return n


@cython.final
cdef class DrawdownTracker:
    """Drawdowns (fractions ≤ 0) of an equity curve below its running peak. See ``state()``."""

    def __init__(self):
        self.d = Drawdowns(0, NO_TIME, NO_TIME, NO_TIME, 0, NAN, 0.0, 0.0, 0.0, 0, 0, 0.0, 0.0)

    cpdef int update(self, int64_t time_ns, double equity) except -1:
        _check_point(self.d.last_ns, time_ns, equity)
        drawdowns_update(&self.d, time_ns, equity)
        return 0

    @cython.boundscheck(False)  # i < n, both arrays checked to have n rows
    @cython.wraparound(False)
    cpdef Py_ssize_t update_many(self, const int64_t[::1] time_ns, const double[::1] equity) except -1:
        cdef Py_ssize_t i, n = _check_points(self.d.last_ns, time_ns, equity)
        with nogil:
            for i in range(n):
                drawdowns_update(&self.d, time_ns[i], equity[i])
        return n

    def state(self):
        """current, max (deepest), episodes with mean depth and duration (peak to recovery; one in
        progress counts until the latest point), max_duration_ns, underwater_ns (time below the peak)."""
        return _drawdowns_dict(&self.d)


@cython.final
cdef class EquityStats:
    """An equity curve's drawdowns and its UTC-daily returns, from ``starting_equity``.

    Daily returns are over the UTC days that have points: each such day's last equity over the
    previous such day's (``starting_equity`` before the first); a day without points adds no return.
    """

    def __init__(self, double starting_equity, double risk_free_return=0.0):
        _check_point(NO_TIME, 0, starting_equity)
        _finite(risk_free_return, "risk_free_return")
        equity_init(&self.c, starting_equity, risk_free_return)

    cpdef int update(self, int64_t time_ns, double equity) except -1:
        _check_point(self.c.drawdowns.last_ns, time_ns, equity)
        equity_update(&self.c, time_ns, equity)
        return 0

    @cython.boundscheck(False)  # i < n, both arrays checked to have n rows
    @cython.wraparound(False)
    cpdef Py_ssize_t update_many(self, const int64_t[::1] time_ns, const double[::1] equity) except -1:
        cdef Py_ssize_t i, n = _check_points(self.c.drawdowns.last_ns, time_ns, equity)
        with nogil:
            for i in range(n):
                equity_update(&self.c, time_ns[i], equity[i])
        return n

    def state(self):
        return equity_state(&self.c)


@cython.final
cdef class TradeStats:
    """Exited positions' returns and PnL, and the seed's drawdown over exit balances."""

    def __init__(self, double starting_equity, double risk_free_return=0.0):
        _check_point(NO_TIME, 0, starting_equity)
        _finite(risk_free_return, "risk_free_return")
        trades_init(&self.s, starting_equity, risk_free_return)

    cpdef int push(self, int64_t enter_ns, int64_t exit_ns, double pnl_return, double pnl,
                   double equity) except -1:
        _finite(pnl_return, "pnl_return")
        _finite(pnl, "pnl")
        _check_point(NO_TIME, 0, equity)
        trades_update(&self.s, enter_ns, exit_ns, pnl_return, pnl, equity)
        return 0

    @cython.boundscheck(False)  # i < n, every array checked to have n rows
    @cython.wraparound(False)
    cpdef Py_ssize_t push_many(self, const int64_t[::1] enter_ns, const int64_t[::1] exit_ns,
                               const double[::1] pnl_return, const double[::1] pnl,
                               const double[::1] equity) except -1:
        cdef Py_ssize_t i, n = enter_ns.shape[0]
        if not (exit_ns.shape[0] == pnl_return.shape[0] == pnl.shape[0] == equity.shape[0] == n):
            raise ValueError("every column needs the same number of rows")
        for i in range(n):  # validate first: a bad row leaves the state unchanged
            if not (isfinite(pnl_return[i]) and isfinite(pnl[i]) and isfinite(equity[i]) and equity[i] > 0.0):
                raise ValueError(f"row {i}: pnl_return, pnl and equity must be finite and equity > 0, "
                                 f"were {pnl_return[i]!r}, {pnl[i]!r}, {equity[i]!r}")
        with nogil:
            for i in range(n):
                trades_update(&self.s, enter_ns[i], exit_ns[i], pnl_return[i], pnl[i], equity[i])
        return n

    def state(self):
        return trades_state(&self.s)
