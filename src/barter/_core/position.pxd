cimport cython
from libc.stdint cimport INT64_MIN, int32_t, int64_t, uint8_t

from barter._core.stats cimport CurveFeed, EquityCurve, TradeSummary, feed_event


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


cdef struct Legs:
    # Partial exits of a market's open position (beyond the seed), kept beside the Position so
    # that it and every Exit record stay their seed size. While any leg has closed (exited_quantity
    # > 0), the Position's enter_* fields are the part still open; the entry as opened and the legs
    # summed make the whole trade at the final exit.
    double exited_quantity        # |base units| closed by partial exits; 0: none (the rest unset)
    double opened_quantity, opened_value_gross
    Fees opened_fees
    Fees exit_fees
    double exit_fees_total, exit_value_gross, realised_pnl


cdef struct Fill:
    int32_t market_id
    int decision
    int64_t time_ns               # the market event's time (the seed used the wall clock)
    double price                  # the close it filled at
    double quantity               # signed base units
    double fill_value_gross       # |quantity| * price, before fees
    Fees fees


cdef struct Exit:
    # An exited position: its entry as it stood (with the whole entry when it was closed in legs),
    # and how it ended, every leg summed.
    int32_t market_id
    Position entry
    int64_t exit_time_ns
    Fees exit_fees
    double exit_fees_total, exit_avg_price_gross, exit_value_gross, realised_pnl
    double exit_balance_total, exit_balance_available
    Py_ssize_t fill_index         # the fill that closed it


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
    cdef Legs* legs                # per market: the partial exits of its open position
    cdef Fees* fee_rates
    cdef TradeSummary* market_stats
    cdef TradeSummary total_stats
    cdef EquityCurve* market_curves
    cdef EquityCurve total_curve
    cdef double* realised          # cumulative realised PnL per market
    cdef int64_t* first_ns         # first and latest event time per market
    cdef int64_t* last_ns
    cdef int64_t total_first_ns, total_last_ns
    cdef CurveFeed* feeds           # per market: what its curve has not been given yet
    cdef CurveFeed total_feed
    cdef readonly int32_t n_open
    cdef double unrealised          # Σ unrealised PnL of open positions, kept as they are marked
    cdef bint one_curve             # one market whose equity curve is the portfolio's
    cdef readonly double starting_equity
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
    cdef public bint interrupt      # set by Python when a command waits; checked before each event
    cdef uint8_t* routed            # per market: orders go to executions[mid] instead of fill()
    cdef uint8_t* in_flight         # per market: an order is at its venue; no new order meanwhile
    cdef list executions
    cdef public object next_order   # the order spec of the signal being acted on (routed markets)

    cdef int on_signal(self, int32_t mid, const double* strengths, double price, int64_t t) except -1 nogil
    cdef int fill(self, int32_t mid, int decision, double quantity, double price, int64_t t) except -1 nogil
    cdef int book(self, int32_t mid, int decision, double quantity, double price, int64_t t,
                  Fees fees) except -1 nogil
    cdef double equity(self) noexcept nogil
    cdef double _hook_quantity(self, int32_t mid, int decision, double strength, double price,
                               int64_t t) except? -1.0
    cdef void _enter(self, int32_t mid, const Fill* f) noexcept nogil
    cdef int _refuse_close(self, int32_t mid, int decision, double quantity) except -1 nogil
    cdef void _reduce(self, int32_t mid, const Fill* f) noexcept nogil
    cdef int _exit(self, int32_t mid, const Fill* f) except -1 nogil
    cdef int _check_mid(self, int32_t mid) except -1
    cdef void _resum(self) noexcept nogil
    cdef dict _statistics(self, const TradeSummary* trades, const EquityCurve* curve, const CurveFeed* feed,
                          int64_t first_ns, int64_t last_ns, int32_t lo, int32_t hi)


cdef inline void portfolio_mark(PortfolioCore pf, int32_t mid, double price, int64_t t) noexcept nogil:
    """Mark market ``mid``'s open position and keep the portfolio's unrealised total with it."""
    position_mark_in(pf, &pf.positions[mid], price, t)


cdef inline void position_mark_in(PortfolioCore pf, Position* p, double price, int64_t t) noexcept nogil:
    """``portfolio_mark`` of position ``p`` (one of ``pf.positions``, which a run never moves)."""
    cdef double before
    if p.is_open:
        before = p.unrealised_pnl
        position_mark(p, price, t)
        pf.unrealised += p.unrealised_pnl - before


cdef inline double market_equity(PortfolioCore pf, int32_t mid, const Position* p) noexcept nogil:
    """Market ``mid``'s curve value: the starting equity, its realised PnL and the unrealised PnL of
    its position ``p`` while open."""
    return pf.starting_equity + pf.realised[mid] + (p.unrealised_pnl if p.is_open else 0.0)


cdef inline double portfolio_observe(PortfolioCore pf, int32_t mid, int64_t t, bint filled) noexcept nogil:
    """After each event: feed the equity curves (``feed_event``) and return the portfolio equity.
    Only a fill or a mark of an open position moves a curve (a partial exit is a fill and leaves
    the position open); the market's curve and the total move together."""
    cdef Position* p = &pf.positions[mid]
    cdef bint moved = p.is_open or filled
    cdef double equity = pf.bal.total + pf.unrealised  # pf.equity(), without the method call
    if t < pf.first_ns[mid]:
        pf.first_ns[mid] = t
    if t < pf.total_first_ns:
        pf.total_first_ns = t
    pf.last_ns[mid] = t
    pf.total_last_ns = t
    if not pf.one_curve:
        feed_event(&pf.market_curves[mid], &pf.feeds[mid], t, moved, market_equity(pf, mid, p))
    feed_event(&pf.total_curve, &pf.total_feed, t, moved, equity)
    return equity
