from libc.stdint cimport int64_t


cdef struct Welford:
    # One-pass count, sum, mean and M2 (sum of squared deviations), plus the range.
    int64_t n
    double sum, mean, m2, low, high


cdef struct Drawdown:
    # The seed's Drawdown over equity points: a fraction <= 0, with the time it started and lasted.
    double high, low, drawdown
    int64_t start_ns, duration_ns


cdef struct SeedSummary:
    # The seed's TradingSummary state: PnL returns of exited positions and drawdowns of the equity
    # (portfolio balance total) at each exit.
    double starting_equity
    int64_t start_ns, end_ns          # first position's entry time, latest exit time
    Welford total, losses
    Drawdown current
    double max_drawdown
    int64_t max_drawdown_duration_ns
    int64_t avg_count
    double avg_drawdown, avg_duration_ns


cdef void welford_push(Welford* w, double x) noexcept nogil
cdef void summary_init(SeedSummary* s, double starting_equity) noexcept nogil
cdef void summary_update(SeedSummary* s, int64_t enter_ns, int64_t exit_ns, double pnl_return,
                         double equity) noexcept nogil
cdef dict summary_state(const SeedSummary* s)
