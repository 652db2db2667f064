"""Compiled readers of Binance's two hottest combined-stream frames, depth diffs and trades.

msgspec's typed decoders (``barter.data.exchange._binance_typed``) spend most of a depth frame's
cost being general: field lookup by name, lax-mode number strings, a struct and its tuples. These
readers accept only the plain form Binance sends, without whitespace or escapes:

    {"stream":"bnbbtc@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,
     "b":[["0.0024","10"]],"a":[]}}

and return ``None`` for anything else (other whitespace, escapes, exponents, leading zeros, more
than 15 significant digits, an unknown field that is not a plain string or integer, a value a
constraint rejects, ...). The caller then decodes the frame with msgspec, which decides. So a
frame either reads to exactly what msgspec gives, or falls back to it: the result never differs.

Decimal strings become the correctly rounded double the way msgspec (and ``float()``) gives it,
by Clinger's fast path: a mantissa below 2**53 and at most 22 fraction digits are both exact
doubles, and one IEEE division of exact operands is correctly rounded.
"""
cimport cython
from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport realloc
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM

cdef extern from "Python.h":
    bint PyUnicode_IS_COMPACT_ASCII(object o)
    void* PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    object PyUnicode_DecodeASCII(const char* s, Py_ssize_t n, const char* errors)

cdef enum:
    MAX_FRACTION = 22  # 10**22 is the largest exact power of ten
cdef uint64_t MAX_EXACT = 1ULL << 53  # every integer below it is an exact double

cdef double* _POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]

NONE = -1  # an absent optional id or time, as in ``_binance_typed``


cdef struct Levels:
    # Rows read from one "b" or "a" array: price, size pairs, kept across frames.
    double* rows
    Py_ssize_t n, cap


cdef Levels _bids, _asks  # reused by every call (the GIL is held throughout)


# -- tokens: each returns 1 and advances, or 0 (the frame is not in the plain form) -----------------

cdef inline bint _char(Cursor* c, char ch) noexcept nogil:
    if c.p < c.end and c.p[0] == ch:
        c.p += 1
        return 1
    return 0


cdef inline bint _text(Cursor* c, const char** start, Py_ssize_t* n) noexcept nogil:
    """A string without escapes, control or non-ASCII characters (what JSON would need decoding)."""
    if not _char(c, c'"'):
        return 0
    cdef const char* p = c.p
    while p < c.end and p[0] != c'"':
        if p[0] == c'\\' or <unsigned char> p[0] < 0x20 or <unsigned char> p[0] >= 0x80:
            return 0
        p += 1
    if p == c.end:
        return 0
    start[0], n[0] = c.p, p - c.p
    c.p = p + 1
    return 1


cdef inline bint _key(Cursor* c, const char** k, Py_ssize_t* n) noexcept nogil:
    return _text(c, k, n) and _char(c, c':')


cdef inline bint _is(const char* k, Py_ssize_t n, const char* name, Py_ssize_t m) noexcept nogil:
    cdef Py_ssize_t i
    if n != m:
        return 0
    for i in range(n):
        if k[i] != name[i]:
            return 0
    return 1


cdef inline bint _digit(Cursor* c) noexcept nogil:
    return c.p < c.end and c'0' <= c.p[0] <= c'9'


cdef bint _id(Cursor* c, int64_t* out) noexcept nogil:
    """A non-negative JSON integer of at most 18 digits (fits int64); a fraction or exponent is not."""
    cdef const char* start = c.p
    cdef int64_t v = 0
    while _digit(c):
        v = v * 10 + (c.p[0] - c'0')
        c.p += 1
    cdef Py_ssize_t n = c.p - start
    if n == 0 or n > 18 or (start[0] == c'0' and n > 1):
        return 0
    if c.p < c.end and (c.p[0] == c'.' or c.p[0] == c'e' or c.p[0] == c'E'):
        return 0
    out[0] = v
    return 1


cdef bint _decimal(Cursor* c, double* out) noexcept nogil:
    """A string "123" or "0.00245": at most 15 significant digits (so the mantissa is exact)."""
    if not _char(c, c'"'):
        return 0
    cdef uint64_t m = 0
    cdef int digits = 0, fraction = 0
    cdef const char* start = c.p
    while _digit(c):
        m = m * 10 + <uint64_t> (c.p[0] - c'0')
        digits += m != 0  # leading zeros are not significant
        c.p += 1
    if c.p == start or (start[0] == c'0' and c.p - start > 1):
        return 0
    if _char(c, c'.'):
        start = c.p
        while _digit(c):
            m = m * 10 + <uint64_t> (c.p[0] - c'0')
            digits += m != 0
            c.p += 1
        fraction = c.p - start
        if fraction == 0:
            return 0
    if digits > 15 or fraction > MAX_FRACTION or m >= MAX_EXACT or not _char(c, c'"'):
        return 0
    out[0] = <double> m / _POW10[fraction]
    return 1


cdef bint _skip(Cursor* c) noexcept nogil:
    """An ignored field's value: a plain string, a non-negative integer, true, false or null."""
    cdef const char* s
    cdef Py_ssize_t n
    cdef int64_t v
    if c.p == c.end:
        return 0
    if c.p[0] == c'"':
        return _text(c, &s, &n)
    if c.p[0] == c't':
        return _word(c, b"true", 4)
    if c.p[0] == c'f':
        return _word(c, b"false", 5)
    if c.p[0] == c'n':
        return _word(c, b"null", 4)
    return _id(c, &v)


cdef inline bint _word(Cursor* c, const char* w, Py_ssize_t n) noexcept nogil:
    if c.end - c.p < n or not _is(c.p, n, w, n):
        return 0
    c.p += n
    return 1


cdef inline int _next(Cursor* c, char close) noexcept nogil:
    """After a member: 1 if another follows (","), 2 at the closing bracket, 0 otherwise."""
    if _char(c, c','):
        return 1
    return 2 if _char(c, close) else 0


# -- levels -----------------------------------------------------------------------------------------

cdef int _grow(Levels* lv) except -1:
    cdef Py_ssize_t cap = lv.cap * 2 if lv.cap else 256
    cdef double* rows = <double*> realloc(lv.rows, 2 * cap * sizeof(double))
    if rows == NULL:
        raise MemoryError()
    lv.rows, lv.cap = rows, cap
    return 0


cdef int _levels(Cursor* c, Levels* lv) except -1:
    """[["price","size"], ...] into ``lv``: 1, or 0 if not plain or a price is 0 (msgspec's gt=0)."""
    lv.n = 0
    if not _char(c, c'['):
        return 0
    if _char(c, c']'):
        return 1
    cdef int more = 1
    cdef double* row
    while more == 1:
        if lv.n == lv.cap:
            _grow(lv)
        row = lv.rows + 2 * lv.n
        if not (_char(c, c'[') and _decimal(c, &row[0]) and _char(c, c',') and _decimal(c, &row[1])
                and _char(c, c']')) or row[0] == 0.0:
            return 0
        lv.n += 1
        more = _next(c, c']')
    return more == 2


cdef tuple _rows(const Levels* lv):
    """The rows as msgspec gives them: a tuple of (price, size) float tuples."""
    cdef tuple out = PyTuple_New(lv.n)
    cdef Py_ssize_t i
    for i in range(lv.n):
        row = (lv.rows[2 * i], lv.rows[2 * i + 1])
        Py_INCREF(row)
        PyTuple_SET_ITEM(out, i, row)
    return out


# -- frames -----------------------------------------------------------------------------------------

cdef bint _start(object raw, Cursor* c) except -1:
    """Point ``c`` at a str's (ASCII only) or bytes' characters."""
    if type(raw) is str:
        if not PyUnicode_IS_COMPACT_ASCII(raw):
            return 0
        c.p = <const char*> PyUnicode_DATA(raw)
        c.end = c.p + PyUnicode_GET_LENGTH(raw)
        return 1
    if type(raw) is bytes:
        c.p = PyBytes_AS_STRING(raw)
        c.end = c.p + PyBytes_GET_SIZE(raw)
        return 1
    return 0


cdef bint _enter_data(Cursor* c) noexcept nogil:
    """Past '{"stream":"...","data":' (the stream name is not read: the data says it all)."""
    cdef const char* k
    cdef Py_ssize_t n
    if not (_char(c, c'{') and _key(c, &k, &n)):
        return 0
    if _is(k, n, b"stream", 6):
        if not (_text(c, &k, &n) and _char(c, c',') and _key(c, &k, &n)):
            return 0
    return _is(k, n, b"data", 4)


cdef bint _leave_data(Cursor* c) noexcept nogil:
    """After the data object: '}' ending the frame, or ',"stream":"..."}'."""
    cdef const char* k
    cdef Py_ssize_t n
    if _char(c, c','):
        if not (_key(c, &k, &n) and _is(k, n, b"stream", 6) and _text(c, &k, &n)):
            return 0
    return _char(c, c'}') and c.p == c.end


# Depth fields, as bits of the ones seen (each may appear once).
cdef enum:
    D_E = 1 << 0
    D_EV = 1 << 1
    D_S = 1 << 2
    D_FIRST = 1 << 3
    D_LAST = 1 << 4
    D_B = 1 << 5
    D_A = 1 << 6
    D_T = 1 << 7
    D_PU = 1 << 8
    D_REQUIRED = D_E | D_S | D_FIRST | D_LAST | D_B | D_A


cdef struct Depth:
    const char* symbol
    Py_ssize_t symbol_n
    int64_t first, last, event_ms, time_ms, prev  # NONE when absent (the last three)


cdef bint _depth(Cursor* c, Depth* d) except -1:
    """The data object of a depthUpdate frame and the frame's end; levels into ``_bids``/``_asks``."""
    cdef const char* k
    cdef Py_ssize_t n
    cdef int seen = 0, bit, more = 1
    d.event_ms = d.time_ms = d.prev = NONE
    if not _char(c, c'{'):
        return 0
    while more == 1:
        if not _key(c, &k, &n) or n == 0:
            return 0
        if n == 1 and k[0] == c'e':
            bit = D_E
            if not (_text(c, &k, &n) and _is(k, n, b"depthUpdate", 11)):
                return 0
        elif n == 1 and k[0] == c's':
            bit = D_S
            if not _text(c, &d.symbol, &d.symbol_n):
                return 0
        elif n == 1 and k[0] == c'U':
            bit = D_FIRST
            if not _id(c, &d.first):
                return 0
        elif n == 1 and k[0] == c'u':
            bit = D_LAST
            if not _id(c, &d.last):
                return 0
        elif n == 1 and k[0] == c'E':
            bit = D_EV
            if not _id(c, &d.event_ms):
                return 0
        elif n == 1 and k[0] == c'T':
            bit = D_T
            if not _id(c, &d.time_ms):
                return 0
        elif n == 2 and k[0] == c'p' and k[1] == c'u':
            bit = D_PU
            if not _id(c, &d.prev):
                return 0
        elif n == 1 and k[0] == c'b':
            bit = D_B
            if not _levels(c, &_bids):
                return 0
        elif n == 1 and k[0] == c'a':
            bit = D_A
            if not _levels(c, &_asks):
                return 0
        else:
            return 0  # msgspec would ignore it, but it may hold anything: let msgspec decide
        if seen & bit:
            return 0
        seen |= bit
        more = _next(c, c'}')
    return more == 2 and seen & D_REQUIRED == D_REQUIRED and _leave_data(c)


def depth_update(raw):
    """A combined-stream ``depthUpdate`` frame as ``(s, U, u, E, T, pu, b, a)`` (``NONE`` for an
    absent ``E``, ``T`` or ``pu``; ``b`` and ``a`` tuples of ``(price, size)`` floats), exactly as
    ``_binance_typed.DEPTH`` decodes it; or None if the frame is not in the plain form."""
    cdef Cursor c
    cdef Depth d
    if not (_start(raw, &c) and _enter_data(&c) and _depth(&c, &d)):
        return None
    return (PyUnicode_DecodeASCII(d.symbol, d.symbol_n, NULL), d.first, d.last, d.event_ms, d.time_ms, d.prev,
            _rows(&_bids), _rows(&_asks))


# Trade fields, as bits of the ones seen.
cdef enum:
    T_E = 1 << 0
    T_S = 1 << 1
    T_P = 1 << 2
    T_Q = 1 << 3
    T_T = 1 << 4
    T_M = 1 << 5
    T_X = 1 << 6
    T_REQUIRED = T_E | T_S | T_P | T_Q | T_T | T_M


cdef struct TradeFields:
    const char* symbol
    Py_ssize_t symbol_n
    double price, qty
    int64_t time_ms
    bint maker


cdef bint _trade(Cursor* c, TradeFields* t) except -1:
    """The data object of a trade frame printed by the market, and the frame's end."""
    cdef const char* k
    cdef Py_ssize_t n
    cdef int seen = 0, bit, more = 1
    if not _char(c, c'{'):
        return 0
    while more == 1:
        if not _key(c, &k, &n) or n == 0:
            return 0
        bit = 0
        if n == 1 and k[0] == c'e':
            bit = T_E
            if not (_text(c, &k, &n) and (_is(k, n, b"aggTrade", 8) or _is(k, n, b"trade", 5))):
                return 0
        elif n == 1 and k[0] == c's':
            bit = T_S
            if not _text(c, &t.symbol, &t.symbol_n):
                return 0
        elif n == 1 and k[0] == c'p':
            bit = T_P
            if not _decimal(c, &t.price) or t.price == 0.0:
                return 0
        elif n == 1 and k[0] == c'q':
            bit = T_Q
            if not _decimal(c, &t.qty) or t.qty == 0.0:
                return 0
        elif n == 1 and k[0] == c'T':
            bit = T_T
            if not _id(c, &t.time_ms):
                return 0
        elif n == 1 and k[0] == c'm':
            bit = T_M
            if _word(c, b"true", 4):
                t.maker = 1
            elif _word(c, b"false", 5):
                t.maker = 0
            else:
                return 0
        elif n == 1 and k[0] == c'X':
            bit = T_X
            if not (_text(c, &k, &n) and _is(k, n, b"MARKET", 6)):
                return 0
        elif not _skip(c):  # an ignored field (a, f, l, t, E, M, ...) of a plain value
            return 0
        if seen & bit:
            return 0
        seen |= bit
        more = _next(c, c'}')
    return more == 2 and seen & T_REQUIRED == T_REQUIRED and _leave_data(c)


def trade(raw):
    """A combined-stream ``trade`` or ``aggTrade`` frame printed by the market (``X`` absent or
    ``MARKET``) as ``(s, p, q, T, m)``, exactly as ``_binance_typed.TRADE`` decodes it; or None
    if the frame is not in the plain form (or not a market trade: msgspec's path decides)."""
    cdef Cursor c
    cdef TradeFields t
    if not (_start(raw, &c) and _enter_data(&c) and _trade(&c, &t)):
        return None
    return PyUnicode_DecodeASCII(t.symbol, t.symbol_n, NULL), t.price, t.qty, t.time_ms, t.maker


# -- events -----------------------------------------------------------------------------------------

cdef int64_t MAX_MS = 9223372036854  # (2**63 - 1) // 10**6: the last ms whose ns fit int64


@cython.final
cdef class BinanceReader:
    """Depth diffs and trades of ``markets`` (symbol -> Market) straight to their events, in one call:
    what ``BinanceParser``'s typed path builds from msgspec's decoding, with its constructors."""

    def __init__(self, dict markets, new_event, new_trade, new_l2, buy, sell):
        self.markets = markets
        self.new_event, self.new_trade, self.new_l2 = new_event, new_trade, new_l2
        self.buy, self.sell = buy, sell

    def read(self, raw):
        """``[event]`` for a depth diff or market trade in the plain form, for a known symbol, with
        a time; None for anything else (the parser's own path decides)."""
        cdef Cursor c
        cdef const char* p
        if not (_start(raw, &c) and _enter_data(&c)):
            return None
        p = c.p  # dispatch on the data's leading "e", as Binance writes it
        if c.end - p > 20 and _is(p, 18, b'{"e":"depthUpdate"', 18):
            return self._depth_event(&c)
        if c.end - p > 20 and (_is(p, 15, b'{"e":"aggTrade"', 15) or _is(p, 12, b'{"e":"trade"', 12)):
            return self._trade_event(&c)
        return None

    cdef object _depth_event(self, Cursor* c):
        cdef Depth d
        if not _depth(c, &d):
            return None
        market = self.markets.get(PyUnicode_DecodeASCII(d.symbol, d.symbol_n, NULL))
        cdef int64_t time_ms = d.time_ms if d.time_ms != NONE else d.event_ms
        if market is None or time_ms == NONE or time_ms > MAX_MS or d.first > d.last:
            return None
        update = self.new_l2(d.first, d.last, None if d.prev == NONE else d.prev, _rows(&_bids), _rows(&_asks),
                             None)
        return [self.new_event(time_ms * 1_000_000, market, update)]

    cdef object _trade_event(self, Cursor* c):
        cdef TradeFields t
        if not _trade(c, &t):
            return None
        market = self.markets.get(PyUnicode_DecodeASCII(t.symbol, t.symbol_n, NULL))
        if market is None or t.time_ms > MAX_MS:
            return None
        trade = self.new_trade(t.price, t.qty, self.sell if t.maker else self.buy)
        return [self.new_event(t.time_ms * 1_000_000, market, trade)]
