"""One-pass statistics on C structs: Welford dispersion and the seed's drawdown tracker.

``SeedSummary`` holds what the seed's ``TradingSummary`` needs, updated in C on each exited
position; ``summary_state`` copies it out once, for the Python ``TradingSummary`` to derive ratios.
A drawdown still open when the state is read is folded into the maximum and average there (the
seed drops it: listed in docs/seed-differences.md), without changing the running state.
"""
from libc.math cimport fabs, signbit
from libc.stdint cimport int64_t


cdef void welford_push(Welford* w, double x) noexcept nogil:
    cdef double prev = w.mean
    w.n += 1
    w.sum += x
    w.mean = prev + (x - prev) / w.n
    w.m2 += (x - prev) * (x - w.mean)
    if w.n == 1 or x < w.low:
        w.low = x
    if w.n == 1 or x > w.high:
        w.high = x


cdef void summary_init(SeedSummary* s, double starting_equity) noexcept nogil:
    s.starting_equity = starting_equity
    s.start_ns = 0
    s.end_ns = 0
    s.total = Welford(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    s.losses = Welford(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    s.current = Drawdown(starting_equity, starting_equity, 0.0, 0, 0)
    s.max_drawdown = 0.0
    s.max_drawdown_duration_ns = 0
    s.avg_count = 0
    s.avg_drawdown = 0.0
    s.avg_duration_ns = 0.0


cdef inline void _fold_ended(SeedSummary* s, const Drawdown* d) noexcept nogil:
    # MaxDrawdown keeps the deepest; AvgDrawdown is a running mean of depth and duration.
    if fabs(d.drawdown) > fabs(s.max_drawdown):
        s.max_drawdown = d.drawdown
        s.max_drawdown_duration_ns = d.duration_ns
    s.avg_count += 1
    s.avg_drawdown += (d.drawdown - s.avg_drawdown) / s.avg_count
    s.avg_duration_ns += (d.duration_ns - s.avg_duration_ns) / s.avg_count


cdef void _drawdown_update(SeedSummary* s, int64_t t, double equity) noexcept nogil:
    """The seed's four cases on (waiting for a new peak, equity above the peak)."""
    cdef Drawdown* d = &s.current
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
        _fold_ended(s, d)
        d.drawdown = 0.0
        d.duration_ns = 0
        d.high = equity


cdef void summary_update(SeedSummary* s, int64_t enter_ns, int64_t exit_ns, double pnl_return,
                         double equity) noexcept nogil:
    if s.total.n == 0:
        s.start_ns = enter_ns
    if exit_ns > s.end_ns:
        s.end_ns = exit_ns
    welford_push(&s.total, pnl_return)
    if signbit(pnl_return):  # as the seed: -0.0 counts as a loss
        welford_push(&s.losses, pnl_return)
    _drawdown_update(s, exit_ns, equity)


cdef dict _welford_dict(const Welford* w):
    return {"count": w.n, "sum": w.sum, "mean": w.mean, "m2": w.m2, "low": w.low, "high": w.high}


cdef dict summary_state(const SeedSummary* s):
    """Plain-dict snapshot, with a still-open drawdown folded into max and average."""
    cdef SeedSummary folded = s[0]
    if folded.current.drawdown != 0.0:
        _fold_ended(&folded, &folded.current)
    return {
        "starting_equity": folded.starting_equity,
        "start_ns": folded.start_ns,
        "end_ns": folded.end_ns,
        "total": _welford_dict(&folded.total),
        "losses": _welford_dict(&folded.losses),
        "current_drawdown": s.current.drawdown,
        "max_drawdown": folded.max_drawdown,
        "max_drawdown_duration_ns": folded.max_drawdown_duration_ns,
        "drawdown_count": folded.avg_count,
        "avg_drawdown": folded.avg_drawdown,
        "avg_drawdown_duration_ns": folded.avg_duration_ns,
    }
