"""Multi-asset ledger: balances per asset and one average-cost position per market.

Past the seed's one-shot positions: a fill may open, increase, partly reduce, close or flip a
position. A flip is booked as two fills (the part that closes, the part that opens), the fee
split by quantity, so each position keeps exactly its own fills and

    realised PnL of a position = sum of its fills' cash flows (-quantity * price) - its fees

once it is flat. Balances move by the fill's assets: the base by +quantity, the quote by
-(quantity * price) - fee. Available = total - reserved (reserved by open orders); a fill that
would take an available balance below zero is refused, state unchanged, unless margin is allowed.

Equity is in one account asset: each asset is converted through a chain of markets' last prices
(resolved once, breadth first from the account asset). The hot path (``apply_many``) runs nogil
on C arrays; errors are codes turned into exceptions with the GIL, after nothing has changed.

``_book`` checks and books one fill. The common case -- a position grows, or shrinks and stays
open -- has no data-dependent branch (whether a random fill grows or shrinks its position cannot
be predicted): both outcomes are computed and one is picked by the sign bits. Opening, closing,
flipping, a full fill buffer and every refusal go to ``_check``/``_apply``. A batch grows the fill
buffer once and asks for transparent huge pages on it: writing fresh memory costs a page fault per
4 KiB otherwise, which was most of a batch's time on a VM.
"""
cimport cython
from libc.math cimport INFINITY, NAN, fabs, isfinite
from libc.stdint cimport INT64_MIN, int32_t, int64_t
from libc.stdlib cimport calloc, free, realloc

from cpython.bytes cimport PyBytes_FromStringAndSize

import numpy as np

from barter.errors import DataError, InsufficientBalance, UnknownMarket

cdef enum:
    OK = 0
    E_MARKET = 1
    E_QUANTITY = 2
    E_PRICE = 3
    E_FEE = 4
    E_TIME = 5
    E_QUOTE = 6
    E_BASE = 7
    E_MEMORY = 8

FILL_DTYPE = np.dtype([("market_id", np.int32), ("time_ns", np.int64), ("quantity", np.float64),
                       ("price", np.float64), ("fee", np.float64), ("realised", np.float64),
                       ("position_id", np.int64), ("prev_fill", np.int64)], align=True)

# DUST (1e-9, a C constant): a position whose |quantity| falls to this fraction of what it was is
# flat: partial reductions that sum to the whole leave float dust, and dust must not keep a position open.


cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #endif
    #define BARTER_DUST 1e-9
    static inline uint64_t barter_bits(double x) { uint64_t u; memcpy(&u, &x, sizeof u); return u; }
    /* _check's tests of the values, on their IEEE 754 bits and without a branch: quantity finite
       and != 0 (either sign), price finite and > 0, fee finite and >= 0 (-0.0 too). NaN fails each. */
    static inline int barter_values_ok(double qty, double price, double fee) {
        const uint64_t inf = 0x7FF0000000000000ULL;
        uint64_t q = barter_bits(qty) << 1, p = barter_bits(price), f = barter_bits(fee);
        return (q - 1 < (inf << 1) - 1) & (p - 1 < inf - 1) & ((f < inf) | (f == 0x8000000000000000ULL));
    }
    /* a and b of one sign ? if_same : if_opposite, by their sign bits and without a branch (a mask):
       for a condition the predictor cannot learn */
    static inline double barter_by_sign(double a, double b, double if_same, double if_opposite) {
    #if defined(__SSE2__)
        __m128i x = _mm_castpd_si128(_mm_xor_pd(_mm_set_sd(a), _mm_set_sd(b)));
        __m128d m = _mm_castsi128_pd(_mm_shuffle_epi32(_mm_srai_epi32(x, 31), _MM_SHUFFLE(1, 1, 1, 1)));
        return _mm_cvtsd_f64(_mm_or_pd(_mm_andnot_pd(m, _mm_set_sd(if_same)), _mm_and_pd(m, _mm_set_sd(if_opposite))));
    #else
        uint64_t m = -((barter_bits(a) ^ barter_bits(b)) >> 63);
        uint64_t u = (barter_bits(if_same) & ~m) | (barter_bits(if_opposite) & m);
        memcpy(&a, &u, sizeof a);
        return a;
    #endif
    }
    #if defined(__linux__)
    #include <sys/mman.h>
    #endif
    /* Ask for transparent huge pages on a large buffer (Linux with THP in "madvise" mode): one
       page fault per 2 MiB instead of per 4 KiB, and faults are what writing fresh memory costs.
       The range is rounded out to whole pages, so a buffer that is a mapping of its own (glibc
       mmaps any block this large) is advised whole and its mapping is not split (a split mapping
       makes a later realloc copy instead of mremap). Advice only: errors are ignored. */
    static void barter_huge_pages(void* p, size_t size) {
    #if defined(__linux__) && defined(MADV_HUGEPAGE)
        uintptr_t page = 4096, a = (uintptr_t)p & ~(page - 1);
        uintptr_t b = ((uintptr_t)p + size + page - 1) & ~(page - 1);
        if (size >= ((size_t)32 << 20)) madvise((void*)a, b - a, MADV_HUGEPAGE);
    #else
        (void)p; (void)size;
    #endif
    }
    """
    double _by_sign "barter_by_sign" (double a, double b, double if_same, double if_opposite) noexcept nogil
    bint _values_ok "barter_values_ok" (double qty, double price, double fee) noexcept nogil
    const double DUST "BARTER_DUST"   # a position whose |quantity| falls to this fraction of what it was is flat
    void barter_huge_pages(void* p, size_t size) noexcept nogil


cdef inline double _sign(double x) noexcept nogil:
    return 1.0 if x > 0 else -1.0


cdef inline bint _short_of(double available, double need) noexcept nogil:
    # Refuse only a real shortfall: a relative tolerance for the cost's own rounding.
    return available - need < -1e-9 * (1.0 + fabs(need))


cdef inline Holding _flat(double mark, int64_t t) noexcept nogil:
    cdef Holding h
    h.quantity = 0.0
    h.avg_price = 0.0
    h.realised = 0.0
    h.fees = 0.0
    h.max_quantity = 0.0
    h.mark = mark
    h.open_time_ns = INT64_MIN
    h.update_time_ns = t
    h.position_id = -1
    h.last_fill = -1
    return h


@cython.final
cdef class Ledger:
    """Balances per asset and average-cost positions per market.

    Parameters
    ----------
    base, quote : sequence of int
        Per market, the asset index of its base and of its quote.
    balances : sequence of float
        Starting total per asset (``n_assets`` values, each finite; negative only with margin).
    account_asset : int
        The asset equity is expressed in.
    allow_margin : bool
        When True, fills may take balances below zero (borrowing); when False they are refused.
    asset_names, market_names : sequence of str, optional
        What error messages call each asset and market (``"usdt"``, ``"binance_btc_usdt_spot"``);
        ``"asset 1"`` and ``"market 0"`` when not given.
    """

    def __cinit__(self, base, quote, balances, int account_asset=0, bint allow_margin=False, *,
                  asset_names=None, market_names=None):
        cdef int i, a
        self.n_markets = len(base)
        self.n_assets = len(balances)
        self.asset_names = tuple(f"asset {i}" for i in range(self.n_assets)) if asset_names is None \
            else tuple(str(x) for x in asset_names)
        self.market_names = tuple(f"market {i}" for i in range(self.n_markets)) if market_names is None \
            else tuple(str(x) for x in market_names)
        if len(self.asset_names) != self.n_assets or len(self.market_names) != self.n_markets:
            raise ValueError(f"asset_names and market_names must have {self.n_assets} and {self.n_markets} "
                             f"names, had {len(self.asset_names)} and {len(self.market_names)}")
        if len(quote) != self.n_markets or self.n_markets == 0:
            raise ValueError(f"base and quote must be non-empty and of one length, were {len(base)} and {len(quote)}")
        if not 0 <= account_asset < self.n_assets:
            raise ValueError(f"account_asset must be in [0, {self.n_assets}), was {account_asset}")
        self.account_asset = account_asset
        self.allow_margin = allow_margin
        self._base = <int32_t*>calloc(self.n_markets, sizeof(int32_t))
        self._quote = <int32_t*>calloc(self.n_markets, sizeof(int32_t))
        self._hold = <Holding*>calloc(self.n_markets, sizeof(Holding))
        self._total = <double*>calloc(self.n_assets, sizeof(double))
        self._reserved = <double*>calloc(self.n_assets, sizeof(double))
        self._rate = <double*>calloc(self.n_assets, sizeof(double))
        self._rate_plan = <int32_t*>calloc(3 * self.n_assets, sizeof(int32_t))
        self._fill_cap = 1024
        self._closed_cap = 256
        self._fills = <LedgerFill*>calloc(self._fill_cap, sizeof(LedgerFill))
        self._closed = <Closed*>calloc(self._closed_cap, sizeof(Closed))
        if not (self._base and self._quote and self._hold and self._total and self._reserved
                and self._rate and self._rate_plan and self._fills and self._closed):
            raise MemoryError()
        for i in range(self.n_markets):
            for a in (base[i], quote[i]):
                if not 0 <= a < self.n_assets:
                    raise ValueError(f"{self.market_names[i]}: asset index {a} out of [0, {self.n_assets})")
            if base[i] == quote[i]:
                raise ValueError(f"{self.market_names[i]}: base and quote are the same asset "
                                 f"{self.asset_names[base[i]] if 0 <= base[i] < self.n_assets else base[i]}")
            self._base[i] = base[i]
            self._quote[i] = quote[i]
            self._hold[i] = _flat(NAN, INT64_MIN)
        for a in range(self.n_assets):
            if not isfinite(balances[a]) or (balances[a] < 0 and not allow_margin):
                raise ValueError(f"{self.asset_names[a]}: starting balance must be finite and >= 0, was {balances[a]!r}")
            self._total[a] = balances[a]
        self._plan_rates()

    def __dealloc__(self):
        free(self._base); free(self._quote); free(self._hold); free(self._total)
        free(self._reserved); free(self._rate); free(self._rate_plan); free(self._fills); free(self._closed)

    cdef void _plan_rates(self):
        # Breadth first from the account asset: each asset gets the first market linking it to an
        # asset already resolved; direction +1 means rate = mark * rate(quote), -1 rate = rate(base) / mark.
        cdef int m, changed = 1
        cdef bint* known = <bint*>calloc(self.n_assets, sizeof(bint))
        known[self.account_asset] = 1
        self._n_plan = 0
        while changed:
            changed = 0
            for m in range(self.n_markets):
                if known[self._quote[m]] and not known[self._base[m]]:
                    self._push_plan(self._base[m], m, 1)
                    known[self._base[m]] = 1
                    changed = 1
                elif known[self._base[m]] and not known[self._quote[m]]:
                    self._push_plan(self._quote[m], m, -1)
                    known[self._quote[m]] = 1
                    changed = 1
        free(known)

    cdef void _push_plan(self, int asset, int market, int direction):
        self._rate_plan[3 * self._n_plan] = asset
        self._rate_plan[3 * self._n_plan + 1] = market
        self._rate_plan[3 * self._n_plan + 2] = direction
        self._n_plan += 1

    # -- Python API -----------------------------------------------------------------------------

    def apply(self, int market_id, int64_t time_ns, double quantity, double price, double fee=0.0):
        """Book one fill: ``quantity`` signed base units at ``price`` (quote per base), ``fee`` in quote.

        Returns the PnL it realised (quote, fee taken off). Raises with the ledger unchanged on a
        bad value, a time before the market's last, or (without margin) a shortfall.
        """
        cdef int code
        cdef int64_t k = self.n_fills
        cdef double realised = 0.0
        code = _book(self, market_id, time_ns, quantity, price, fee)
        if code != OK:
            self._raise(code, market_id, time_ns, quantity, price, fee, -1)
        while k < self.n_fills:  # one fill, or two for a flip
            realised += self._fills[k].realised
            k += 1
        return realised

    @cython.boundscheck(False)  # every array is checked to have n rows first
    @cython.wraparound(False)
    def apply_many(self, const int32_t[::1] market_id, const int64_t[::1] time_ns,
                   const double[::1] quantity, const double[::1] price, const double[::1] fee):
        """Book fills in order, nogil. A bad row raises naming its index; the rows before it are
        booked, it and the rows after are not."""
        cdef Py_ssize_t i = 0, n = market_id.shape[0]
        cdef int code = OK
        cdef const int32_t* mp
        cdef const int64_t* tp
        cdef const double* qp
        cdef const double* pp
        cdef const double* fp
        if not (time_ns.shape[0] == quantity.shape[0] == price.shape[0] == fee.shape[0] == n):
            raise ValueError("market_id, time_ns, quantity, price and fee must have one length")
        if n == 0:
            return 0
        # once, not by doubling: copies and page faults cost. A flip books two fills: 1/16 spare
        _grow_fills(self, self.n_fills + n + (n >> 4))
        # raw pointers: n > 0 rows in each (checked above), so [0] is in bounds
        mp, tp, qp, pp, fp = &market_id[0], &time_ns[0], &quantity[0], &price[0], &fee[0]
        with nogil:
            while i < n:
                code = _book(self, mp[i], tp[i], qp[i], pp[i], fp[i])
                if code != OK:
                    break
                i += 1
        if code != OK:
            self._raise(code, market_id[i], time_ns[i], quantity[i], price[i], fee[i], i)
        return n

    def _raise(self, int code, int mid, int64_t t, double qty, double price, double fee, Py_ssize_t row):
        at = f"row {row}: " if row >= 0 else ""
        if code == E_MARKET:
            raise UnknownMarket(f"{at}market id {mid} is not in [0, {self.n_markets})")
        if code == E_QUANTITY:
            raise DataError(f"{at}fill quantity must be finite and non-zero, was {qty!r}")
        if code == E_PRICE:
            raise DataError(f"{at}fill price must be finite and > 0, was {price!r}")
        if code == E_FEE:
            raise DataError(f"{at}fill fee must be finite and >= 0, was {fee!r}")
        if code == E_TIME:
            raise DataError(f"{at}{self.market_names[mid]}: fill time {t} is before its last time "
                            f"{self._hold[mid].update_time_ns}")
        if code == E_QUOTE or code == E_BASE:
            a = self._quote[mid] if code == E_QUOTE else self._base[mid]
            raise InsufficientBalance(f"{at}{self.market_names[mid]}: fill of {qty!r} at {price!r} (fee {fee!r}) "
                                      f"needs more {self.asset_names[a]} than the {self.available(a)!r} available")
        raise MemoryError(f"{at}no memory to record a fill")

    def mark(self, int market_id, double price, int64_t time_ns):
        """Revalue a market at ``price`` (a trade or a close)."""
        if market_id < 0 or market_id >= self.n_markets:
            raise UnknownMarket(f"market id {market_id} is not in [0, {self.n_markets})")
        if not isfinite(price) or price <= 0:
            raise DataError(f"mark price must be finite and > 0, was {price!r}")
        if time_ns < self._hold[market_id].update_time_ns:
            raise DataError(f"{self.market_names[market_id]}: mark time {time_ns} is before its last time "
                            f"{self._hold[market_id].update_time_ns}")
        self._hold[market_id].mark = price
        self._hold[market_id].update_time_ns = time_ns

    def reserve(self, int asset, double amount):
        """Set aside ``amount`` of ``asset`` for an open order (negative releases it)."""
        self._asset(asset)
        if not isfinite(amount):
            raise DataError(f"reserved amount must be finite, was {amount!r}")
        if amount > 0 and not self.allow_margin and _short_of(self.available(asset), amount):
            raise InsufficientBalance(f"cannot reserve {amount!r} of {self.asset_names[asset]}: "
                                      f"{self.available(asset)!r} available")
        if self._reserved[asset] + amount < -1e-9 * (1.0 + fabs(amount)):
            raise DataError(f"cannot release {-amount!r} of {self.asset_names[asset]}: "
                            f"only {self._reserved[asset]!r} reserved")
        self._reserved[asset] = max(0.0, self._reserved[asset] + amount)

    cdef int _asset(self, int asset) except -1:
        if not 0 <= asset < self.n_assets:
            raise IndexError(f"asset {asset} is not in [0, {self.n_assets})")
        return 0

    # -- reading ----------------------------------------------------------------------------------

    def total(self, int asset):
        self._asset(asset)
        return self._total[asset]

    def reserved(self, int asset):
        self._asset(asset)
        return self._reserved[asset]

    def available(self, int asset):
        self._asset(asset)
        return self._total[asset] - self._reserved[asset]

    def holding(self, int market_id):
        """The market's position as a dict (quantity 0 and position_id -1 when flat)."""
        if market_id < 0 or market_id >= self.n_markets:
            raise UnknownMarket(f"market id {market_id} is not in [0, {self.n_markets})")
        return dict(self._hold[market_id])

    def unrealised(self, int market_id):
        """Open PnL at the last mark, quote asset: quantity * (mark - average price); no exit fee."""
        cdef Holding* h
        if market_id < 0 or market_id >= self.n_markets:
            raise UnknownMarket(f"market id {market_id} is not in [0, {self.n_markets})")
        h = &self._hold[market_id]
        return 0.0 if h.quantity == 0 else h.quantity * (h.mark - h.avg_price)

    def rates(self):
        """Each asset's value in the account asset at the last marks (NaN when not linked or unpriced)."""
        cdef int k, a, m
        for a in range(self.n_assets):
            self._rate[a] = NAN
        self._rate[self.account_asset] = 1.0
        for k in range(self._n_plan):
            a, m = self._rate_plan[3 * k], self._rate_plan[3 * k + 1]
            if self._rate_plan[3 * k + 2] > 0:
                self._rate[a] = self._hold[m].mark * self._rate[self._quote[m]]
            else:
                self._rate[a] = self._rate[self._base[m]] / self._hold[m].mark
        return [self._rate[a] for a in range(self.n_assets)]

    def equity(self):
        """Sum of every asset's total balance in the account asset (NaN if a held asset has no rate)."""
        cdef double s = 0.0
        cdef int a
        self.rates()
        for a in range(self.n_assets):
            if self._total[a] != 0:
                s += self._total[a] * self._rate[a]
        return s

    def fill(self, int64_t k):
        if not 0 <= k < self.n_fills:
            raise IndexError(f"fill {k} of {self.n_fills}")
        return dict(self._fills[k])

    def closed(self, int64_t k):
        if not 0 <= k < self.n_closed:
            raise IndexError(f"closed position {k} of {self.n_closed}")
        return dict(self._closed[k])

    def position_fills(self, int64_t last_fill):
        """Indices of one position's fills, oldest first, from its newest fill's index."""
        out = []
        while last_fill >= 0:
            out.append(last_fill)
            last_fill = self._fills[last_fill].prev_fill
        out.reverse()
        return out

    def fills_array(self, start=0, stop=None):
        """Fills ``start:stop`` (default all) as a NumPy structured array (a copy), in booking order."""
        cdef int64_t a = start, b = self.n_fills if stop is None else stop
        if not 0 <= a <= b <= self.n_fills:
            raise IndexError(f"fills {start}:{stop} of {self.n_fills}")
        if FILL_DTYPE.itemsize != sizeof(LedgerFill):
            raise AssertionError("FILL_DTYPE does not match the LedgerFill struct")
        raw = PyBytes_FromStringAndSize(<char*>(self._fills + a), (b - a) * sizeof(LedgerFill))
        return np.frombuffer(raw, FILL_DTYPE).copy()

    # -- state for repositories -------------------------------------------------------------------

    def state(self):
        """Everything needed to rebuild this ledger, as plain JSON-able values."""
        return {
            "balances": [self._total[a] for a in range(self.n_assets)],
            "reserved": [self._reserved[a] for a in range(self.n_assets)],
            "holdings": [dict(self._hold[m]) for m in range(self.n_markets)],
            "fills": [dict(self._fills[k]) for k in range(self.n_fills)],
            "closed": [dict(self._closed[k]) for k in range(self.n_closed)],
            "next_position_id": self.next_position_id,
        }

    def restore(self, state):
        """Load ``state()`` output into this (freshly built, same-shaped) ledger."""
        if self.n_fills or self.n_closed:
            raise ValueError("restore needs a fresh ledger")
        if len(state["balances"]) != self.n_assets or len(state["holdings"]) != self.n_markets:
            raise ValueError(f"state has {len(state['balances'])} assets and {len(state['holdings'])} markets, "
                             f"this ledger {self.n_assets} and {self.n_markets}")
        cdef int a, m
        for a in range(self.n_assets):
            self._total[a] = state["balances"][a]
            self._reserved[a] = state["reserved"][a]
        for m in range(self.n_markets):
            self._hold[m] = state["holdings"][m]
        for f in state["fills"]:
            self._record_raw(f)
        for c in state["closed"]:
            if self.n_closed == self._closed_cap:
                self._closed = <Closed*>realloc(self._closed, 2 * self._closed_cap * sizeof(Closed))
                self._closed_cap *= 2
            self._closed[self.n_closed] = c
            self.n_closed += 1
        self.next_position_id = state["next_position_id"]

    cdef _record_raw(self, dict f):
        if self.n_fills == self._fill_cap and _grow_fills(self, 2 * self._fill_cap) != OK:
            raise MemoryError()
        self._fills[self.n_fills] = f
        self.n_fills += 1


# -- the hot path: module-level inline functions, so the compiler can inline them into the loop --

cdef inline int _book(Ledger self, int mid, int64_t t, double qty, double price, double fee) noexcept nogil:
    # Check and book one fill. The common case (a position grows, or shrinks and stays open, and
    # the fill buffer has room) runs here without a data-dependent branch: both outcomes are
    # computed and one is selected. Opening, closing, flipping, growing the buffer and every
    # refusal go through _check/_apply, which name the first bad value.
    cdef Holding* h
    cdef int64_t nf
    cdef int code
    cdef double q, aq, aqty, nq, avg, r
    cdef bint ok
    # one branch for all values (no short circuit): the same tests as _check, NaN fails each
    ok = (<unsigned int>mid < <unsigned int>self.n_markets) & _values_ok(qty, price, fee)
    if not ok:
        return _check(self, mid, t, qty, price, fee)
    h = &self._hold[mid]
    if t < h.update_time_ns:
        return E_TIME
    if not self.allow_margin:
        code = _check_balances(self, mid, qty, price, fee)
        if code != OK:
            return code
    q = h.quantity
    aq = fabs(q)
    nq = q + qty
    nf = self.n_fills
    # The common case: the position keeps its sign and does not fall to dust (|nq| > |q| * DUST).
    # Then an increase, or a reduction with |qty| < |q| <= |q| * (1 + DUST) that does not close,
    # exactly as in _apply. nq * q > 0 is false for q == 0 (an open), for a sign change (a flip, or
    # a close), and when the product underflows: all of those are left to _apply, which is exact.
    if not ((nq * q > 0) & (fabs(nq) > aq * DUST) & (nf < self._fill_cap)):
        return _apply(self, mid, t, qty, price, fee)
    self._total[self._base[mid]] += qty
    self._total[self._quote[mid]] -= qty * price + fee
    avg = h.avg_price
    aqty = fabs(qty)
    # by the signs of q and qty (neither is 0 here): an increase takes the average cost and
    # realises nothing but the fee; a reduction realises -qty * (price - avg) - fee (= |qty| *
    # (price - avg) * sign(q) - fee exactly: the signs are opposite, negation is exact)
    r = _by_sign(q, qty, -fee, -qty * (price - avg) - fee)
    h.avg_price = _by_sign(q, qty, _div(aq * avg + aqty * price, aq + aqty), avg)
    h.max_quantity = _by_sign(q, qty, max(h.max_quantity, fabs(nq)), h.max_quantity)
    h.quantity = nq
    h.mark = price
    h.update_time_ns = t
    return _record(self, mid, t, qty, price, fee, r)  # room checked above: it never grows here

@cython.cdivision(True)  # only called with b = |q| + |qty| > 0 (_book: qty != 0)
cdef inline double _div(double a, double b) noexcept nogil:
    return a / b

cdef inline int _check_balances(Ledger self, int mid, double qty, double price, double fee) noexcept nogil:
    cdef int b = self._base[mid], q = self._quote[mid]
    if qty > 0 and _short_of(self._total[q] - self._reserved[q], qty * price + fee):
        return E_QUOTE
    if qty < 0 and (_short_of(self._total[b] - self._reserved[b], -qty)
                    or _short_of(self._total[q] - self._reserved[q], fee + qty * price)):
        return E_BASE
    return OK

cdef int _check(Ledger self, int mid, int64_t t, double qty, double price, double fee) noexcept nogil:
    if mid < 0 or mid >= self.n_markets:
        return E_MARKET
    if not isfinite(qty) or qty == 0:
        return E_QUANTITY
    if not isfinite(price) or price <= 0:
        return E_PRICE
    if not isfinite(fee) or fee < 0:
        return E_FEE
    if t < self._hold[mid].update_time_ns:
        return E_TIME
    if self.allow_margin:
        return OK
    return _check_balances(self, mid, qty, price, fee)

@cython.cdivision(True)  # denominators |q| + |qty| and |qty| are > 0: _check refused qty == 0
cdef int _apply(Ledger self, int mid, int64_t t, double qty, double price, double fee) noexcept nogil:
    cdef Holding* h = &self._hold[mid]
    cdef double q = h.quantity, part, f1, r
    self._total[self._base[mid]] += qty
    self._total[self._quote[mid]] -= qty * price + fee
    h.mark = price
    h.update_time_ns = t
    if q == 0:
        return _open(self, mid, t, qty, price, fee)
    if (q > 0) == (qty > 0):
        h.avg_price = (fabs(q) * h.avg_price + fabs(qty) * price) / (fabs(q) + fabs(qty))
        h.quantity = q + qty
        h.max_quantity = max(h.max_quantity, fabs(h.quantity))
        return _record(self, mid, t, qty, price, fee, -fee)
    if fabs(qty) <= fabs(q) * (1.0 + DUST):
        r = fabs(qty) * (price - h.avg_price) * _sign(q) - fee
        h.quantity = q + qty
        if _record(self, mid, t, qty, price, fee, r) < 0:
            return E_MEMORY
        if fabs(h.quantity) <= fabs(q) * DUST:
            return _close(self, mid, t, _sign(q))
        return OK
    # a flip: close all of q, open the rest the other way; the fee split by quantity
    part = -q
    f1 = fee * fabs(part) / fabs(qty)
    r = fabs(part) * (price - h.avg_price) * _sign(q) - f1
    h.quantity = 0.0
    if _record(self, mid, t, part, price, f1, r) < 0 or _close(self, mid, t, _sign(q)) < 0:
        return E_MEMORY
    return _open(self, mid, t, qty - part, price, fee - f1)

cdef inline int _open(Ledger self, int mid, int64_t t, double qty, double price, double fee) noexcept nogil:
    cdef Holding* h = &self._hold[mid]
    h.quantity = qty
    h.avg_price = price
    h.max_quantity = fabs(qty)
    h.realised = 0.0
    h.fees = 0.0
    h.open_time_ns = t
    h.position_id = self.next_position_id
    h.last_fill = -1
    self.next_position_id += 1
    return _record(self, mid, t, qty, price, fee, -fee)

cdef inline int _grow_fills(Ledger self, int64_t capacity) noexcept nogil:
    cdef void* grown
    if capacity <= self._fill_cap:
        return OK
    grown = realloc(self._fills, capacity * sizeof(LedgerFill))
    if grown == NULL:
        return E_MEMORY
    self._fills = <LedgerFill*>grown
    self._fill_cap = capacity
    barter_huge_pages(grown, capacity * sizeof(LedgerFill))
    return OK

cdef inline int _record(Ledger self, int mid, int64_t t, double qty, double price, double fee,
                 double realised) noexcept nogil:
    cdef Holding* h = &self._hold[mid]
    cdef LedgerFill* f
    if self.n_fills == self._fill_cap and _grow_fills(self, 2 * self._fill_cap) != OK:
        return E_MEMORY
    f = &self._fills[self.n_fills]
    f.market_id = mid
    f.time_ns = t
    f.quantity = qty
    f.price = price
    f.fee = fee
    f.realised = realised
    f.position_id = h.position_id
    f.prev_fill = h.last_fill
    h.last_fill = self.n_fills
    h.realised += realised
    h.fees += fee
    self.n_fills += 1
    return OK

cdef inline int _close(Ledger self, int mid, int64_t t, double side) noexcept nogil:
    cdef Holding* h = &self._hold[mid]
    cdef Closed* c
    cdef void* grown
    if self.n_closed == self._closed_cap:
        grown = realloc(self._closed, 2 * self._closed_cap * sizeof(Closed))
        if grown == NULL:
            return E_MEMORY
        self._closed = <Closed*>grown
        self._closed_cap *= 2
    c = &self._closed[self.n_closed]
    c.market_id = mid
    c.position_id = h.position_id
    c.side = <int>side
    c.open_time_ns = h.open_time_ns
    c.close_time_ns = t
    c.max_quantity = h.max_quantity
    c.realised = h.realised
    c.fees = h.fees
    c.last_fill = h.last_fill
    self.n_closed += 1
    h[0] = _flat(h.mark, t)
    return OK
