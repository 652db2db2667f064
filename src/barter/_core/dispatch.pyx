"""The per-event dispatch loop over columnar market data.

Per event, in the seed's order (SEED.md §6): the strategy sees the market event and may return a
``Signal``; the open position is marked to market; a signal goes through allocation and risk to an
order, a simulated fill and the position/balance update, and an exit feeds the statistics.

What keeps it fast (DESIGN.md "The hot path"): the strategy's bound method is looked up once; it gets
one reused ``MarketView`` whose typed fields are overwritten in place; nothing is allocated per event
unless the strategy returns a signal; accounting runs on C structs. With precomputed decisions no
Python runs per event at all and the loop releases the GIL.
"""
cimport cython
from libc.math cimport NAN, isfinite, isnan
from libc.stdint cimport int8_t, int32_t, int64_t

from barter._core.position cimport PortfolioCore, portfolio_observe, position_mark

import numpy as np

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
    returned for every event.
    """

    def __init__(self, signals):
        cdef int i
        for i in range(4):
            self.strengths[i] = NAN
        for decision, strength in dict(signals).items():
            d = Decision(decision)
            s = float(strength)
            if not (isfinite(s) and s > 0.0):
                raise ValueError(f"strength of {d.name} must be finite and > 0, was {strength!r}")
            self.strengths[<int> d] = s

    @staticmethod
    def long(strength=1.0):
        return Signal({Decision.LONG: strength})

    @staticmethod
    def close_long(strength=1.0):
        return Signal({Decision.CLOSE_LONG: strength})

    @staticmethod
    def short(strength=1.0):
        return Signal({Decision.SHORT: strength})

    @staticmethod
    def close_short(strength=1.0):
        return Signal({Decision.CLOSE_SHORT: strength})

    @property
    def signals(self):
        """``{Decision: strength}`` of the decisions present."""
        return {d: self.strengths[<int> d] for d in _DECISIONS if not isnan(self.strengths[<int> d])}

    def __eq__(self, other):
        return isinstance(other, Signal) and self.signals == other.signals

    def __hash__(self):
        return hash(tuple(sorted(self.signals.items())))

    def __repr__(self):
        inner = ", ".join(f"{d.name}: {s!r}" for d, s in self.signals.items())
        return f"Signal({{{inner}}})"


@cython.final
cdef class MarketView:
    """A read-only view of the market event being processed, reused for every event.

    Valid only during the strategy call: the engine overwrites it for the next event. Keep
    ``view.copy()`` (an immutable ``MarketEvent``) instead of the view. For a trade, ``price`` is
    ``close`` and ``amount`` is ``volume`` (and ``open``/``high``/``low`` equal the price).
    """

    @property
    def price(self):
        return self.close

    @property
    def amount(self):
        return self.volume

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
    """Columnar events in processing order (time-sorted, ties stable), of one or more markets.

    For trades pass the price array as open, high, low and close (no copy) and amounts as volume.
    ``market_id`` (int32, per event) may be None when every event is market 0.
    """

    def __init__(self, time_ns, open, high, low, close, volume, side, market_id, list markets, kinds):
        self.length = len(time_ns)
        for name, col in (("open", open), ("high", high), ("low", low), ("close", close), ("volume", volume)):
            if len(col) != self.length:
                raise ValueError(f"column {name} has {len(col)} rows, time_ns has {self.length}")
        self.time_ns = time_ns
        self.open, self.high, self.low, self.close, self.volume = open, high, low, close, volume
        self.has_side = side is not None
        if self.has_side:
            self.side = side
        self.has_market_id = market_id is not None
        if self.has_market_id:
            self.market_id = market_id
        elif len(markets) != 1:
            raise ValueError("market_id is required with more than one market")
        self.markets = markets
        self.kinds = np.ascontiguousarray(kinds, dtype=np.intc)
        if len(self.kinds) != len(markets):
            raise ValueError(f"need one kind per market, got {len(self.kinds)} for {len(markets)}")


# Called only with 0 <= i < tape.length, the length of every column.
@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline void _load(MarketView view, Tape tape, Py_ssize_t i, int32_t mid) noexcept:
    view.time_ns = tape.time_ns[i]
    view.open = tape.open[i]
    view.high = tape.high[i]
    view.low = tape.low[i]
    view.close = tape.close[i]
    view.volume = tape.volume[i]
    view.side = tape.side[i] if tape.has_side else 0
    if mid != view.market_id:
        view.market_id = mid
        view.market = tape.markets[mid]
        view.kind = tape.kinds[mid]


def _check_equity(equity, Tape tape):
    if equity is not None and len(equity) != tape.length:
        raise ValueError(f"equity buffer has {len(equity)} rows, tape has {tape.length}")


cdef inline int _step(PortfolioCore pf, MarketView view, object cb, object emit, double* equity) except -1:
    """One loaded event, in the seed's order: strategy, mark, signal -> order -> fill, statistics,
    then the event stream. Writes the portfolio equity after the event to ``equity``."""
    cdef int32_t mid = view.market_id
    cdef int64_t t = view.time_ns
    cdef Py_ssize_t fills
    cdef object result = cb(view) if cb is not None else None
    position_mark(&pf.positions[mid], view.close, t)
    fills = pf.n_fills
    if result is not None:
        if type(result) is not Signal:
            raise StrategyError(f"generate_signal must return a Signal or None, returned "
                                f"{type(result).__name__} for {view.market} at time_ns={t}")
        pf.on_signal(mid, (<Signal> result).strengths, view.close, t)
    equity[0] = portfolio_observe(pf, mid, t, pf.n_fills != fills)
    if emit is not None:
        emit(view, result, fills)
    return 0


cdef inline void _note(BaseException exc, MarketView view, str where):
    """Say where an error happened: a note for people, attributes for the engine's error event."""
    if hasattr(exc, "add_note"):
        exc.add_note(where)
    try:
        exc.barter_market = view.market
        exc.barter_time_ns = view.time_ns
    except AttributeError:
        pass


@cython.boundscheck(False)  # i < tape.length, the length of every column (checked in Tape)
@cython.wraparound(False)
def run_strategies(Tape tape, PortfolioCore pf, list callbacks, double[::1] equity=None,
                   emit=None, drain=None):
    """Run Python ``generate_signal`` callbacks (one per market id, or None) over the tape.

    ``equity``, if given, receives the portfolio equity after each event. ``emit(view, signal,
    fills_before)``, if given, is called after each event (the event stream; with None it costs one
    branch). While ``pf.interrupt`` is set, ``drain(index)`` runs before the event (commands); it
    returns True to stop. Returns the number of events processed.
    """
    cdef Py_ssize_t i = 0
    cdef int32_t mid
    cdef double value
    cdef bint record = equity is not None
    cdef MarketView view = MarketView()
    cdef object cb = callbacks[0]
    cdef bint many = tape.has_market_id            # locals: not re-read from the tape per event
    cdef const int32_t[::1] market_id = tape.market_id if many else None
    _check_equity(equity, tape)
    if len(callbacks) != len(tape.markets):
        raise ValueError(f"need one callback per market, got {len(callbacks)} for {len(tape.markets)}")
    if pf.n_markets != len(tape.markets):
        raise ValueError(f"portfolio has {pf.n_markets} markets, tape has {len(tape.markets)}")
    view.market_id = -1
    try:
        while i < tape.length:
            if pf.interrupt and drain is not None and drain(i):
                break
            mid = market_id[i] if many else 0
            _load(view, tape, i, mid)
            if many:
                cb = callbacks[mid]
            _step(pf, view, cb, emit, &value)
            if record:
                equity[i] = value
            i += 1
    except BaseException as exc:
        _note(exc, view, f"while processing event {i} of {view.market} (time_ns={view.time_ns})")
        raise
    return i


@cython.final
cdef class Dispatcher:
    """The loop's per-event work for events that arrive one at a time (live and paper trading).

    Same order and accounting as ``run_strategies``; ``process`` returns the equity afterwards.
    """

    cdef PortfolioCore pf
    cdef public list callbacks
    cdef list markets
    cdef MarketView view
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
        for x in (open, high, low, close):
            if not (isfinite(x) and x > 0.0):
                raise ValueError(f"prices must be finite and > 0, got {open!r}, {high!r}, {low!r}, {close!r}")
        view.time_ns, view.open, view.high, view.low, view.close = time_ns, open, high, low, close
        view.volume, view.side = volume, side
        view.market_id, view.market, view.kind = mid, self.markets[mid], kind
        try:
            _step(self.pf, view, self.callbacks[mid], self.emit, &value)
        except BaseException as exc:
            _note(exc, view, f"while processing {view.market} at time_ns={time_ns}")
            raise
        return value


@cython.boundscheck(False)  # i < tape.length == len(decisions) == len(strength) (checked below)
@cython.wraparound(False)
def run_decisions(Tape tape, PortfolioCore pf, const int8_t[::1] decisions,
                  const double[::1] strength=None, double[::1] equity=None, drain=None):
    """Run precomputed decisions: ``decisions[i]`` is a bit mask of decision codes
    (1 Long, 2 CloseLong, 4 Short, 8 CloseShort; 0 none) for event i; ``strength[i]`` (default
    1.0) applies to each. No Python runs per event (the GIL is released) except ``drain(index)``
    while ``pf.interrupt`` is set, as in ``run_strategies``. Returns the number of events processed.
    """
    cdef Py_ssize_t i
    cdef int32_t mid
    cdef int k
    cdef int8_t code
    cdef double s, value
    cdef double strengths[4]
    cdef Py_ssize_t fills
    cdef bint record = equity is not None
    cdef bint has_strength = strength is not None
    cdef const double[::1] close = tape.close        # locals: the loop keeps data pointers in registers
    cdef const int64_t[::1] time_ns = tape.time_ns
    cdef bint many = tape.has_market_id
    cdef const int32_t[::1] market_id = tape.market_id if many else None
    cdef int64_t t
    _check_equity(equity, tape)
    if len(decisions) != tape.length or (has_strength and len(strength) != tape.length):
        raise ValueError(f"decisions and strength need {tape.length} rows")
    if pf.n_markets != len(tape.markets):
        raise ValueError(f"portfolio has {pf.n_markets} markets, tape has {len(tape.markets)}")
    if tape.length and (np.min(decisions) < 0 or np.max(decisions) > 15):
        raise ValueError("decision codes must be bit masks in [0, 15]")
    cdef bint stop = False
    with nogil:
        for i in range(tape.length):
            if pf.interrupt and drain is not None:
                with gil:
                    stop = drain(i)
                if stop:
                    break
            mid = market_id[i] if many else 0
            t = time_ns[i]
            position_mark(&pf.positions[mid], close[i], t)
            code = decisions[i]
            fills = pf.n_fills
            if code != 0:
                s = strength[i] if has_strength else 1.0
                for k in range(4):
                    strengths[k] = s if code & (1 << k) else NAN
                pf.on_signal(mid, strengths, close[i], t)
            value = portfolio_observe(pf, mid, t, pf.n_fills != fills)
            if record:
                equity[i] = value
        else:
            i = tape.length
    return i
