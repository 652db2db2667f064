cimport cython
from libc.stdint cimport int32_t, int64_t

from barter._core.stats cimport SeedSummary


cdef enum:
    # Decision codes (barter.strategy.Decision has the same values).
    LONG = 0
    CLOSE_LONG = 1
    SHORT = 2
    CLOSE_SHORT = 3


cdef struct Fees:
    # Money in the quote currency (or, as execution rates, fractions of the fill value).
    double exchange, slippage, network


cdef struct Position:
    # The seed's Position (barter 0.8) for one market; prices are quote per base unit.
    bint is_open
    int side                      # +1 buy (long), -1 sell (short)
    double quantity               # signed base units: + long, - short
    int64_t enter_time_ns, update_time_ns
    Fees enter_fees
    double enter_fees_total, enter_avg_price_gross, enter_value_gross
    double current_symbol_price, current_value_gross, unrealised_pnl


cdef struct Fill:
    int32_t market_id
    int decision
    int64_t time_ns               # the market event's time (the seed used the wall clock)
    double price                  # the close it filled at
    double quantity               # signed base units
    double fill_value_gross       # |quantity| * price, before fees
    Fees fees


cdef struct Exit:
    # An exited position: its entry as it stood, and how it ended.
    int32_t market_id
    Position entry
    int64_t exit_time_ns
    Fees exit_fees
    double exit_fees_total, exit_avg_price_gross, exit_value_gross, realised_pnl
    double exit_balance_total, exit_balance_available


cdef struct Balance:
    int64_t time_ns
    double total, available


cdef inline void position_mark(Position* p, double price, int64_t t) noexcept nogil:
    """The seed's Position::update: revalue at ``price``; exit fees estimated as the entry fees."""
    if not p.is_open:
        return
    p.update_time_ns = t
    p.current_symbol_price = price
    p.current_value_gross = price * (p.quantity if p.quantity >= 0.0 else -p.quantity)
    if p.side > 0:
        p.unrealised_pnl = p.current_value_gross - p.enter_value_gross - 2.0 * p.enter_fees_total
    else:
        p.unrealised_pnl = p.enter_value_gross - p.current_value_gross - 2.0 * p.enter_fees_total


@cython.final
cdef class PortfolioCore:
    cdef readonly int32_t n_markets
    cdef Position* positions
    cdef Fees* fee_rates
    cdef SeedSummary* market_stats
    cdef SeedSummary total_stats
    cdef Balance bal
    cdef readonly double starting_cash
    cdef double order_value, size_scale
    cdef object order_hook
    cdef Fill* fills
    cdef readonly Py_ssize_t n_fills
    cdef Py_ssize_t cap_fills
    cdef Exit* exits
    cdef readonly Py_ssize_t n_exits
    cdef Py_ssize_t cap_exits
    cdef readonly Py_ssize_t n_refused

    cdef int on_signal(self, int32_t mid, const double* strengths, double price, int64_t t) except -1 nogil
    cdef int fill(self, int32_t mid, int decision, double quantity, double price, int64_t t) except -1 nogil
    cdef double equity(self) noexcept nogil
    cdef double _hook_quantity(self, int32_t mid, int decision, double strength, double price,
                               int64_t t) except? -1.0
    cdef void _enter(self, int32_t mid, const Fill* f) noexcept nogil
    cdef int _exit(self, int32_t mid, const Fill* f) except -1 nogil
    cdef int _check_mid(self, int32_t mid) except -1
