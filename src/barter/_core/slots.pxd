cimport cython

cdef enum:
    MAX_FIELDS = 8


@cython.final
cdef class SlotsBuilder:
    cdef readonly type cls
    cdef readonly tuple fields             # the slots written, in argument order
    cdef Py_ssize_t offsets[MAX_FIELDS]    # of each field's slot in the object
    cdef Py_ssize_t n
