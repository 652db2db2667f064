cimport cython
from libc.stdint cimport int64_t


@cython.final
cdef class EMA:
    cdef readonly int period
    cdef double k, value
    cdef bint seeded
    cpdef double update(self, double x) except? -1.0


@cython.final
cdef class SMA:
    cdef readonly int period
    cdef double[::1] window
    cdef double total
    cdef int64_t count
    cpdef double update(self, double x) except? -1.0


@cython.final
cdef class RSI:
    cdef readonly int period
    cdef double k, up, down, prev
    cdef bint seeded
    cpdef double update(self, double x) except? -1.0


@cython.final
cdef class WilderRSI:
    cdef readonly int period
    cdef double avg_gain, avg_loss, prev
    cdef int64_t count
    cpdef double update(self, double x) except? -1.0
