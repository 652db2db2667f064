cimport cython
from libc.stdint cimport int64_t


@cython.final
cdef class CandleAggregator:
    cdef readonly int64_t interval_ns
    cdef int64_t end_ns                 # end of the bar being built, when building
    cdef bint building                  # a bar is being built (any end_ns, 0 included, is a real time)
    cdef double b_open, b_high, b_low, b_close, b_volume
    cdef int64_t b_count
    cdef readonly int64_t time_ns       # the last completed bar: its end time and fields
    cdef readonly double open, high, low, close, volume
    cdef readonly int64_t trade_count
    cdef readonly int64_t bars
    cpdef bint update(self, int64_t time_ns, double open, double high, double low, double close,
                      double volume) except -1
    cpdef bint flush(self) except -1
