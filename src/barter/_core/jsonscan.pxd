cimport cython
from libc.stdint cimport int64_t


cdef struct Cursor:
    # The characters of a frame not read yet.
    const char* p
    const char* end


@cython.final
cdef class BinanceReader:
    cdef dict markets                      # symbol -> Market (the parser's own dict)
    cdef object new_event, new_trade, new_l2  # the parser's event constructors
    cdef object buy, sell                  # Side members, for a trade's aggressor
    cdef object _depth_event(self, Cursor* c)
    cdef object _trade_event(self, Cursor* c)
