cimport cython
from libc.stdint cimport int8_t, int64_t


cdef enum:
    # Book sides; Python sees them as ``BookSide``.
    BID = 0
    ASK = 1


cdef struct Ladder:
    # One side's levels sorted by ascending key: the key is the price on the bid side and minus
    # the price on the ask side, so the best level is the LAST on both sides and a change near the
    # top moves only the few levels above it.
    double* keys
    double* sizes   # base units at each level; always > 0
    Py_ssize_t n, cap


cdef Py_ssize_t ladder_find(const Ladder* ld, double key) noexcept nogil
cdef int ladder_set(Ladder* ld, double key, double size) except -1 nogil


@cython.final
cdef class OrderBook:
    cdef Ladder sides[2]           # by BookSide
    cdef readonly int64_t updates, missing_deletes
    cdef int set_level(self, int side, double price, double size) except -1 nogil
    cdef int apply_message(self, bint snapshot, const int8_t* sides, const double* prices,
                           const double* sizes, Py_ssize_t n) except -1 nogil
    cdef double best_price(self, int side) noexcept nogil
    cdef double best_size(self, int side) noexcept nogil
    cdef bint crossed(self) noexcept nogil
    cdef double mid(self) noexcept nogil
    cdef double micro(self) noexcept nogil
    cdef double _one_side(self) noexcept nogil
