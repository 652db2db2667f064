"""Position and balance accounting on C structs, indexed by a dense market id.

Semantics are the seed's (barter 0.8, SEED.md §1): one position per market, entered by one fill and
exited in full by the next; entry reserves value + fees from the available balance; unrealised PnL
counts the entry fees twice (the second copy estimates the exit fees); realised PnL and the PnL
return are booked on exit, which also feeds the market's and the portfolio's statistics.
Beyond the seed, a close fill smaller than the position reduces it at average cost (a partial exit);
the position then exits, as one trade, with its final leg.
Everything here runs without the GIL except the optional Python order hook.
"""
cimport cython
from libc.math cimport floor, isfinite, isnan
from libc.stdint cimport INT64_MAX, INT64_MIN, int32_t, int64_t, uint8_t
from libc.stdlib cimport calloc, free, realloc

from barter._core.stats cimport (CurveFeed, EquityCurve, TradeSummary, equity_init, equity_state, feed_flush, feed_init,
                                 trades_init,
                                 trades_state, trades_update)

import numpy as np

_DECISION_NAMES = ("Long", "CloseLong", "Short", "CloseShort")  # barter.decision.Decision's order


def _decision_name(int decision):
    """The seed's name of a decision code, for error messages (the code itself when unknown)."""
    return _DECISION_NAMES[decision] if 0 <= decision < 4 else str(decision)


# A close fill within this relative distance of the position's quantity closes all of it (its own
# quantity is booked); a smaller one is a partial exit.
cdef double FULL_EXIT_REL = 1e-12


cdef inline double _abs(double x) noexcept nogil:
    return x if x >= 0.0 else -x


cdef inline double _fees_total(const Fees* f) noexcept nogil:
    return f.exchange + f.slippage + f.network


cdef inline Fees _fees_scaled(const Fees* f, double r) noexcept nogil:
    return Fees(r * f.exchange, r * f.slippage, r * f.network)


cdef inline Fees _fees_sum(const Fees* a, const Fees* b) noexcept nogil:
    return Fees(a.exchange + b.exchange, a.slippage + b.slippage, a.network + b.network)


cdef inline bint _close_fits(const Position* p, int decision, double quantity) noexcept nogil:
    """A close fill matches the position's side, takes the opposite sign and does not exceed it."""
    return ((decision == CLOSE_LONG) == (p.side > 0) and (quantity > 0.0) != (p.quantity > 0.0)
            and _abs(quantity) <= _abs(p.quantity) * (1.0 + FULL_EXIT_REL))


cdef int _grow(void** buf, Py_ssize_t* cap, size_t item) except -1 nogil:
    cdef Py_ssize_t new_cap = cap[0] * 2 if cap[0] else 1024
    cdef void* grown = realloc(buf[0], new_cap * item)
    if grown == NULL:
        with gil:
            raise MemoryError(f"cannot grow an accounting buffer to {new_cap} records")
    buf[0] = grown
    cap[0] = new_cap
    return 0


@cython.final
cdef class PortfolioCore:
    """Balances, one position per market, fills and exits, and the seed statistics.

    Parameters
    ----------
    n_markets : int
        Markets are ids ``0 .. n_markets - 1``.
    starting_cash : float
        Quote currency.
    fee_rates : sequence of (exchange, slippage, network)
        Per market, fractions of the fill value (the seed's ``simulated_fees_pct``).
    order_value : float
        DefaultAllocator's order value in quote currency.
    size_decimals : int or None
        Entry quantities are floored to this many decimals (the seed: 4); None: no rounding.
    starting_equity : float
        StatisticConfig.starting_equity: where the seed's drawdown trackers over exit balances and
        the per-market equity curves (starting_equity + that market's PnL) start. The total equity
        curve (cash + unrealised PnL) starts at ``starting_cash`` (at ``starting_equity`` only
        when ``starting_cash`` is 0, where no return is defined).
    risk_free_return : float
        StatisticConfig.risk_free_return, the target of downside deviations.
    order_hook : callable or None
        ``hook(market_id, decision, strength, price, time_ns) -> quantity | None`` replacing the
        compiled DefaultAllocator + DefaultRisk; None (vetoed) or 0 refuses the order.

    A market given an execution with ``route`` sends its orders there instead of filling them at
    the signal's price; the execution books its fills with ``apply_fill``. While the market has an
    order in flight (``set_in_flight``) its signals and force exits make no new order.
    """

    def __cinit__(self, int n_markets, double starting_cash, fee_rates, double order_value,
                  size_decimals, double starting_equity, double risk_free_return=0.0, order_hook=None):
        cdef int32_t i
        if n_markets < 1:
            raise ValueError(f"n_markets must be >= 1, was {n_markets}")
        if not (isfinite(starting_cash) and starting_cash >= 0.0):
            raise ValueError(f"starting_cash must be finite and >= 0, was {starting_cash!r}")
        if not (isfinite(order_value) and order_value > 0.0):
            raise ValueError(f"order_value must be finite and > 0, was {order_value!r}")
        if len(fee_rates) != n_markets:
            raise ValueError(f"need fee rates for {n_markets} markets, got {len(fee_rates)}")
        self.n_markets = n_markets
        self.positions = <Position*> calloc(n_markets, sizeof(Position))
        self.legs = <Legs*> calloc(n_markets, sizeof(Legs))
        if self.legs == NULL:
            raise MemoryError()
        self.fee_rates = <Fees*> calloc(n_markets, sizeof(Fees))
        if not (isfinite(starting_equity) and starting_equity > 0.0):
            raise ValueError(f"starting_equity must be finite and > 0, was {starting_equity!r}")
        self.market_stats = <TradeSummary*> calloc(n_markets, sizeof(TradeSummary))
        self.market_curves = <EquityCurve*> calloc(n_markets, sizeof(EquityCurve))
        self.realised = <double*> calloc(n_markets, sizeof(double))
        self.first_ns = <int64_t*> calloc(n_markets, sizeof(int64_t))
        self.last_ns = <int64_t*> calloc(n_markets, sizeof(int64_t))
        self.feeds = <CurveFeed*> calloc(n_markets, sizeof(CurveFeed))
        self.routed = <uint8_t*> calloc(n_markets, sizeof(uint8_t))
        self.in_flight = <uint8_t*> calloc(n_markets, sizeof(uint8_t))
        self.executions = [None] * n_markets
        if (self.positions == NULL or self.fee_rates == NULL or self.market_stats == NULL
                or self.market_curves == NULL or self.realised == NULL or self.first_ns == NULL
                or self.last_ns == NULL or self.feeds == NULL or self.routed == NULL
                or self.in_flight == NULL):
            raise MemoryError()
        for i in range(n_markets):
            exchange, slippage, network = fee_rates[i]
            self.fee_rates[i] = Fees(exchange, slippage, network)
            trades_init(&self.market_stats[i], starting_equity, risk_free_return)
            equity_init(&self.market_curves[i], starting_equity, risk_free_return)
            self.first_ns[i] = INT64_MAX
            feed_init(&self.feeds[i])
        trades_init(&self.total_stats, starting_equity, risk_free_return)
        # the total curve is the portfolio's equity: its first peak and first daily return's base
        # are the cash it starts with, whatever StatisticConfig.starting_equity says
        equity_init(&self.total_curve, starting_cash if starting_cash > 0.0 else starting_equity,
                    risk_free_return)
        self.total_first_ns = INT64_MAX
        feed_init(&self.total_feed)
        self.starting_equity = starting_equity
        # starting equity + realised + unrealised of the only market is then the portfolio equity
        self.one_curve = n_markets == 1 and starting_cash == starting_equity
        self.bal = Balance(0, starting_cash, starting_cash)
        self.starting_cash = starting_cash
        self.order_value = order_value
        self.size_scale = 0.0 if size_decimals is None else 10.0 ** int(size_decimals)
        self.order_hook = order_hook

    def __dealloc__(self):
        free(self.positions)
        free(self.legs)
        free(self.fee_rates)
        free(self.market_stats)
        free(self.market_curves)
        free(self.realised)
        free(self.first_ns)
        free(self.last_ns)
        free(self.feeds)
        free(self.routed)
        free(self.in_flight)
        free(self.fills)
        free(self.exits)

    # -- the hot path -------------------------------------------------------------------------

    cdef int on_signal(self, int32_t mid, const double* strengths, double price, int64_t t) except -1 nogil:
        """The seed's generate_order then fill: ``strengths[d]`` is NaN when decision d is absent."""
        cdef Position* p = &self.positions[mid]
        cdef int decision
        cdef double strength, quantity
        if self.in_flight[mid]:
            return 0  # the market's last order is still at its venue
        if p.is_open:
            if p.side > 0 and not isnan(strengths[CLOSE_LONG]):
                decision = CLOSE_LONG
            elif p.side < 0 and not isnan(strengths[CLOSE_SHORT]):
                decision = CLOSE_SHORT
            else:
                return 0
        else:
            if self.bal.available == 0.0:
                return 0
            if isnan(strengths[LONG]) == isnan(strengths[SHORT]):
                return 0  # neither or both: no entry, as the seed
            decision = SHORT if isnan(strengths[LONG]) else LONG
        strength = strengths[decision]
        if self.order_hook is not None:
            with gil:
                quantity = self._hook_quantity(mid, decision, strength, price, t)
        elif p.is_open:
            quantity = -p.quantity
        else:
            quantity = self.order_value / price
            if self.size_scale != 0.0:
                quantity = floor(quantity * self.size_scale) / self.size_scale
            quantity *= strength if decision == LONG else -strength
        if quantity == 0.0 or not isfinite(quantity):
            self.n_refused += 1  # e.g. the order value buys less than one lot
            return 0
        if self.routed[mid]:
            with gil:
                self.executions[mid](mid, decision, quantity, price, t)
            return 0
        return self.fill(mid, decision, quantity, price, t)

    cdef double _hook_quantity(self, int32_t mid, int decision, double strength, double price,
                               int64_t t) except? -1.0:
        q = self.order_hook(mid, decision, strength, price, t)
        return 0.0 if q is None else float(q)

    cdef int fill(self, int32_t mid, int decision, double quantity, double price, int64_t t) except -1 nogil:
        """Simulated execution at ``price``: each fee = its rate × |quantity| × price."""
        cdef Fees* rate = &self.fee_rates[mid]
        cdef double value = price * (quantity if quantity >= 0.0 else -quantity)
        return self.book(mid, decision, quantity, price, t,
                         Fees(rate.exchange * value, rate.slippage * value, rate.network * value))

    cdef int book(self, int32_t mid, int decision, double quantity, double price, int64_t t,
                  Fees fees) except -1 nogil:
        """The seed's update_from_fill: a fill on a market with a position open exits it, in full or
        (beyond the seed) in part when its quantity is smaller. A bad fill raises and changes nothing."""
        cdef Position* p = &self.positions[mid]
        cdef Fill* f
        if (decision == CLOSE_LONG or decision == CLOSE_SHORT) != p.is_open:
            with gil:
                raise RuntimeError(f"decision {_decision_name(decision)} does not match the position "
                                   f"of market {mid} ({'open' if p.is_open else 'none open'})")
        if p.is_open and not _close_fits(p, decision, quantity):
            self._refuse_close(mid, decision, quantity)
        if self.n_fills == self.cap_fills:
            _grow(<void**> &self.fills, &self.cap_fills, sizeof(Fill))
        f = &self.fills[self.n_fills]
        f[0] = Fill(mid, decision, t, price, quantity,
                    price * (quantity if quantity >= 0.0 else -quantity), fees)
        self.n_fills += 1
        self.bal.time_ns = t
        if not p.is_open:
            self._enter(mid, f)
        elif _abs(quantity) < _abs(p.quantity) * (1.0 - FULL_EXIT_REL):
            self._reduce(mid, f)
        else:
            self._exit(mid, f)
        self._resum()
        return 0

    cdef int _refuse_close(self, int32_t mid, int decision, double quantity) except -1 nogil:
        """Raise the reason ``_close_fits`` refused a close fill."""
        cdef const Position* p = &self.positions[mid]
        with gil:
            if (decision == CLOSE_LONG) != (p.side > 0):
                raise RuntimeError(f"decision {_decision_name(decision)} does not match the "
                                   f"{'long' if p.side > 0 else 'short'} position of market {mid}")
            if (quantity > 0.0) == (p.quantity > 0.0):
                raise RuntimeError(f"a close fill of market {mid} must have the opposite sign of its "
                                   f"position quantity {p.quantity!r}, was {quantity!r}")
            raise RuntimeError(f"a close fill of market {mid} must not exceed its position quantity "
                               f"{p.quantity!r}, was {quantity!r}")

    cdef void _enter(self, int32_t mid, const Fill* f) noexcept nogil:
        cdef Position* p = &self.positions[mid]
        p.is_open = True
        p.side = 1 if f.decision == LONG else -1
        p.quantity = f.quantity
        p.enter_time_ns = f.time_ns
        p.update_time_ns = f.time_ns
        p.enter_fees = f.fees
        p.enter_fees_total = _fees_total(&f.fees)
        p.enter_value_gross = f.fill_value_gross
        p.enter_avg_price_gross = f.fill_value_gross / (f.quantity if f.quantity >= 0.0 else -f.quantity)
        p.current_symbol_price = p.enter_avg_price_gross
        p.current_value_gross = f.fill_value_gross
        p.unrealised_pnl = -2.0 * p.enter_fees_total
        self.legs[mid].exited_quantity = 0.0
        self.bal.available -= p.enter_value_gross + p.enter_fees_total
        self.n_open += 1

    cdef void _reduce(self, int32_t mid, const Fill* f) noexcept nogil:
        """A partial exit at average cost: the leg takes r = |q| / |Q| of the entry value and fees
        and is booked by the seed's exit rule; the rest stays open at the same average entry price."""
        cdef Position* p = &self.positions[mid]
        cdef Legs* g = &self.legs[mid]
        cdef double r = _abs(f.quantity) / _abs(p.quantity)
        cdef double rest = p.quantity + f.quantity  # exact when the leg is most of the position
        cdef double keep = _abs(rest) / _abs(p.quantity)  # not 1 - r, which cancels as r nears 1
        cdef double value = r * p.enter_value_gross, fees = r * p.enter_fees_total
        cdef double exit_fees_total = _fees_total(&f.fees)
        cdef double gross = f.fill_value_gross - value
        cdef double realised = (gross if p.side > 0 else -gross) - (fees + exit_fees_total)
        self.bal.available += value + realised + fees
        self.bal.total += realised
        self.realised[mid] += realised
        if g.exited_quantity == 0.0:  # the first leg: keep the entry as opened
            g[0] = Legs(0.0, p.quantity, p.enter_value_gross, p.enter_fees, Fees(0.0, 0.0, 0.0), 0.0, 0.0, 0.0)
        g.exited_quantity += _abs(f.quantity)
        g.exit_fees = _fees_sum(&g.exit_fees, &f.fees)
        g.exit_fees_total += exit_fees_total
        g.exit_value_gross += f.fill_value_gross
        g.realised_pnl += realised
        p.quantity = rest
        p.enter_value_gross *= keep
        p.enter_fees = _fees_scaled(&p.enter_fees, keep)
        p.enter_fees_total *= keep
        position_mark(p, p.current_symbol_price, f.time_ns)  # the rest's unrealised PnL

    cdef int _exit(self, int32_t mid, const Fill* f) except -1 nogil:
        cdef Position* p = &self.positions[mid]
        cdef Exit* e
        cdef double exit_fees_total = _fees_total(&f.fees)
        cdef double gross = f.fill_value_gross - p.enter_value_gross
        cdef double realised = (gross if p.side > 0 else -gross) - (p.enter_fees_total + exit_fees_total)
        if self.n_exits == self.cap_exits:
            _grow(<void**> &self.exits, &self.cap_exits, sizeof(Exit))
        p.unrealised_pnl = realised
        p.update_time_ns = f.time_ns
        # The seed's exit balance: total with the realised PnL, available before the release.
        e = &self.exits[self.n_exits]
        e[0] = Exit(mid, p[0], f.time_ns, f.fees, exit_fees_total,
                    f.fill_value_gross / (f.quantity if f.quantity >= 0.0 else -f.quantity),
                    f.fill_value_gross, realised, self.bal.total + realised, self.bal.available,
                    self.n_fills - 1)
        if self.legs[mid].exited_quantity != 0.0:
            _whole_trade(e, &self.legs[mid], _abs(f.quantity))
        self.n_exits += 1
        self.bal.available += p.enter_value_gross + realised + p.enter_fees_total
        self.bal.total += realised
        p.is_open = False
        self.n_open -= 1
        self.realised[mid] += realised
        # one trade per position: its realised PnL over the value of its whole entry
        trades_update(&self.market_stats[mid], p.enter_time_ns, f.time_ns,
                      e.realised_pnl / e.entry.enter_value_gross, e.realised_pnl, self.bal.total)
        trades_update(&self.total_stats, p.enter_time_ns, f.time_ns,
                      e.realised_pnl / e.entry.enter_value_gross, e.realised_pnl, self.bal.total)
        return 0

    cdef double equity(self) noexcept nogil:
        """Total balance plus the open positions' unrealised PnL (quote currency)."""
        return self.bal.total + self.unrealised

    cdef void _resum(self) noexcept nogil:
        """The unrealised total summed afresh (after each fill), so marking's running sum never
        drifts further than one fill apart."""
        cdef int32_t i
        self.unrealised = 0.0
        for i in range(self.n_markets):
            if self.positions[i].is_open:
                self.unrealised += self.positions[i].unrealised_pnl

    # -- the Python surface -------------------------------------------------------------------

    cdef int _check_mid(self, int32_t mid) except -1:
        if mid < 0 or mid >= self.n_markets:
            raise IndexError(f"market id must be in [0, {self.n_markets}), was {mid}")
        return 0

    def mark(self, int32_t mid, double price, int64_t time_ns):
        """Revalue market ``mid``'s open position at ``price`` (quote per base unit)."""
        self._check_mid(mid)
        if not (isfinite(price) and price > 0.0):
            raise ValueError(f"price must be finite and > 0, was {price!r}")
        portfolio_mark(self, mid, price, time_ns)

    def signal(self, int32_t mid, strengths, double price, int64_t time_ns):
        """Act on a signal: ``strengths`` has 4 entries (Long, CloseLong, Short, CloseShort), NaN
        where absent. Returns True when it filled."""
        cdef double s[4]
        cdef Py_ssize_t before = self.n_fills
        self._check_mid(mid)
        if not (isfinite(price) and price > 0.0):
            raise ValueError(f"price must be finite and > 0, was {price!r}")
        for i in range(4):
            s[i] = strengths[i]
        self.on_signal(mid, s, price, time_ns)
        return self.n_fills > before

    def force_exit(self, int32_t mid, int64_t time_ns=-1):
        """The seed's generate_exit_order: exit at the position's last marked price; no allocator
        or risk. Returns False when no position is open."""
        self._check_mid(mid)
        cdef Position* p = &self.positions[mid]
        cdef int decision = CLOSE_LONG if p.side > 0 else CLOSE_SHORT
        cdef int64_t t = p.update_time_ns if time_ns < 0 else time_ns
        if not p.is_open or self.in_flight[mid]:
            return False
        if self.routed[mid]:
            self.executions[mid](mid, decision, -p.quantity, p.current_symbol_price, t)
        else:
            self.fill(mid, decision, -p.quantity, p.current_symbol_price, t)
        return True

    def route(self, int32_t mid, execution):
        """Send market ``mid``'s orders to ``execution(mid, decision, quantity, price, time_ns)``
        (quantity signed, price the signal's) instead of filling them; None fills them again."""
        self._check_mid(mid)
        if execution is not None and not callable(execution):
            raise TypeError(f"execution must be callable, was {type(execution).__name__}")
        self.executions[mid] = execution
        self.routed[mid] = execution is not None

    def set_in_flight(self, int32_t mid, bint flag):
        """Mark market ``mid`` as having an order at its venue (no new order until cleared)."""
        self._check_mid(mid)
        self.in_flight[mid] = flag

    def is_in_flight(self, int32_t mid):
        self._check_mid(mid)
        return bool(self.in_flight[mid])

    def apply_fill(self, int32_t mid, int decision, double quantity, double price, int64_t time_ns,
                   fees):
        """Book a recorded fill with its fee amounts ``(exchange, slippage, network)`` (replay, or an
        execution's fill). A close fill smaller than the position exits part of it; a fill that does
        not fit the position raises ``RuntimeError`` and changes nothing."""
        self._check_mid(mid)
        if not (isfinite(price) and price > 0.0 and isfinite(quantity) and quantity != 0.0):
            raise ValueError(f"fill needs a finite price > 0 and quantity != 0, was {price!r}, {quantity!r}")
        exchange, slippage, network = fees
        self.book(mid, decision, quantity, price, time_ns, Fees(exchange, slippage, network))

    def fill_record(self, Py_ssize_t k):
        """Fill ``k`` (0-based, in order) as a dict."""
        if not 0 <= k < self.n_fills:
            raise IndexError(f"fill {k} of {self.n_fills}")
        f = &self.fills[k]
        return {"market_id": f.market_id, "decision": f.decision, "time_ns": f.time_ns, "price": f.price,
                "quantity": f.quantity, "fill_value_gross": f.fill_value_gross,
                "fees": (f.fees.exchange, f.fees.slippage, f.fees.network)}

    @property
    def balance(self):
        """(time_ns, total, available), quote currency."""
        return self.bal.time_ns, self.bal.total, self.bal.available

    @property
    def equity_value(self):
        return self.equity()

    def position(self, int32_t mid):
        """The open position of market ``mid`` as a dict, or None."""
        self._check_mid(mid)
        if not self.positions[mid].is_open:
            return None
        d = _position_dict(&self.positions[mid])
        d["market_id"] = mid
        d.update(_legs_dict(&self.legs[mid]))
        return d

    def fills_columns(self):
        """Every fill, in order, as a dict of NumPy columns."""
        cdef Py_ssize_t i, n = self.n_fills
        cols = {k: np.empty(n, dtype=t) for k, t in _FILL_COLUMNS}
        for i in range(n):
            f = &self.fills[i]
            for k, v in zip(cols, (f.market_id, f.decision, f.time_ns, f.price, f.quantity,
                                   f.fill_value_gross, f.fees.exchange, f.fees.slippage, f.fees.network)):
                cols[k][i] = v
        return cols

    def exits_list(self, Py_ssize_t start=0):
        """Exited positions from ``start`` on, in exit order, as dicts."""
        out = []
        cdef Py_ssize_t i
        for i in range(max(start, 0), self.n_exits):
            e = &self.exits[i]
            d = _position_dict(&e.entry)
            d.update(market_id=e.market_id, exit_time_ns=e.exit_time_ns,
                     exit_fees=(e.exit_fees.exchange, e.exit_fees.slippage, e.exit_fees.network),
                     exit_fees_total=e.exit_fees_total, exit_avg_price_gross=e.exit_avg_price_gross,
                     exit_value_gross=e.exit_value_gross, realised_pnl=e.realised_pnl,
                     unrealised_pnl=e.realised_pnl,
                     exit_balance=(e.exit_time_ns, e.exit_balance_total, e.exit_balance_available),
                     fill_index=e.fill_index)
            out.append(d)
        return out

    def observe(self, int32_t mid, int64_t time_ns, bint filled=False):
        """What the loop does after each event: feed the equity curves; returns the equity."""
        self._check_mid(mid)
        return portfolio_observe(self, mid, time_ns, filled)

    def market_statistics(self, int32_t mid):
        """Trade, equity-curve and activity state of market ``mid`` (dicts of plain values)."""
        self._check_mid(mid)
        if self.one_curve:
            return self.total_statistics()
        return self._statistics(&self.market_stats[mid], &self.market_curves[mid], &self.feeds[mid],
                                self.first_ns[mid], self.last_ns[mid], mid, mid + 1)

    def total_statistics(self):
        return self._statistics(&self.total_stats, &self.total_curve, &self.total_feed,
                                self.total_first_ns, self.total_last_ns, 0, self.n_markets)

    cdef dict _statistics(self, const TradeSummary* trades, const EquityCurve* curve, const CurveFeed* feed,
                          int64_t first_ns, int64_t last_ns, int32_t lo, int32_t hi):
        """Time held by the positions of markets lo..hi-1 still open counts toward exposure, up to
        the latest event."""
        cdef int64_t open_ns = 0
        cdef int32_t i
        cdef EquityCurve now = curve[0]
        feed_flush(&now, feed)  # on a copy: reading changes nothing
        for i in range(lo, hi):
            if self.positions[i].is_open:
                open_ns += last_ns - self.positions[i].enter_time_ns
        return {"trades": trades_state(trades), "equity": equity_state(&now),
                "first_ns": first_ns if first_ns != INT64_MAX else 0, "last_ns": last_ns,
                "open_holding_ns": open_ns}


cdef void _whole_trade(Exit* e, const Legs* g, double last_quantity) noexcept nogil:
    """The exit of a position closed in legs: its whole entry, and every leg's exit summed."""
    e.entry.quantity = g.opened_quantity
    e.entry.enter_value_gross = g.opened_value_gross
    e.entry.enter_fees = g.opened_fees
    e.entry.enter_fees_total = _fees_total(&g.opened_fees)  # as _enter summed it
    e.exit_fees = _fees_sum(&g.exit_fees, &e.exit_fees)
    e.exit_fees_total += g.exit_fees_total
    e.exit_value_gross += g.exit_value_gross
    e.exit_avg_price_gross = e.exit_value_gross / (g.exited_quantity + last_quantity)
    e.realised_pnl += g.realised_pnl
    e.entry.unrealised_pnl = e.realised_pnl


_FILL_COLUMNS = (("market_id", np.int32), ("decision", np.int8), ("time_ns", np.int64),
                 ("price", np.float64), ("quantity", np.float64), ("fill_value_gross", np.float64),
                 ("fee_exchange", np.float64), ("fee_slippage", np.float64), ("fee_network", np.float64))


cdef dict _position_dict(const Position* p):
    return {
        "is_open": p.is_open, "side": p.side, "quantity": p.quantity,
        "enter_time_ns": p.enter_time_ns, "update_time_ns": p.update_time_ns,
        "enter_fees": (p.enter_fees.exchange, p.enter_fees.slippage, p.enter_fees.network),
        "enter_fees_total": p.enter_fees_total, "enter_avg_price_gross": p.enter_avg_price_gross,
        "enter_value_gross": p.enter_value_gross, "current_symbol_price": p.current_symbol_price,
        "current_value_gross": p.current_value_gross, "unrealised_pnl": p.unrealised_pnl,
    }


cdef dict _legs_dict(const Legs* g):
    """An open position's partial exits so far, in the seed's exit fields (zeros without any)."""
    if g.exited_quantity == 0.0:
        return {"realised_pnl": 0.0, "exit_fees": (0.0, 0.0, 0.0), "exit_fees_total": 0.0,
                "exit_value_gross": 0.0, "exit_avg_price_gross": 0.0}
    return {"realised_pnl": g.realised_pnl,
            "exit_fees": (g.exit_fees.exchange, g.exit_fees.slippage, g.exit_fees.network),
            "exit_fees_total": g.exit_fees_total, "exit_value_gross": g.exit_value_gross,
            "exit_avg_price_gross": g.exit_value_gross / g.exited_quantity}
