"""Compiled constructors of frozen slots dataclasses, for the feed parsers' hot paths.

A frozen dataclass's generated ``__init__`` sets each field through ``object.__setattr__``, and a
Python-level shortcut still calls ``object.__new__`` and one slot descriptor per field: building a
``MarketEvent`` and its ``Trade`` cost as much as decoding the frame. ``SlotsBuilder.new`` allocates
the object and writes its slots directly, in one C call, giving an object equal to (and
indistinguishable from) what ``cls(...)`` gives. Which classes may skip their ``__init__`` is
decided in Python (``barter.data.exchange.events.slots_constructor``); this module only checks the
memory layout: direct subclasses of ``object`` whose fields are all slots of their own.
"""
cimport cython
from cpython.object cimport PyObject, PyTypeObject

import types

cdef extern from "Python.h":
    # A slot of a class is a member descriptor over a PyMemberDef holding the slot's offset.
    ctypedef struct PyMemberDef:
        int type
        Py_ssize_t offset
        int flags
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member
    enum: T_OBJECT_EX
    object generic_alloc "PyType_GenericAlloc"(PyTypeObject* cls, Py_ssize_t n)
    void incref "Py_INCREF"(PyObject* o)

cdef object _NO = object()  # "argument not given" (no field's value can be this object)


@cython.final
cdef class SlotsBuilder:
    """Builds instances of ``cls`` from all of ``fields`` (its slots, in ``__init__`` order),
    skipping ``__init__``: ``SlotsBuilder(cls, fields).new(*values)`` equals ``cls(*values)``
    where ``__init__`` only stores its arguments."""

    def __init__(self, type cls, tuple fields):
        if cls.__base__ is not object or "__dict__" in cls.__dict__ or not 0 < len(fields) <= MAX_FIELDS:
            raise TypeError(f"{cls.__name__}: need a direct subclass of object with 1 to {MAX_FIELDS} slots "
                            f"and no __dict__")
        cdef Py_ssize_t i
        for i, name in enumerate(fields):
            desc = cls.__dict__.get(name)
            if type(desc) is not types.MemberDescriptorType or desc.__objclass__ is not cls:
                raise TypeError(f"{cls.__name__}.{name} is not a slot of {cls.__name__}")
            member = (<PyMemberDescrObject*> <PyObject*> desc).d_member
            if member.type != T_OBJECT_EX or member.flags != 0:
                raise TypeError(f"{cls.__name__}.{name} is not a writable object slot")
            self.offsets[i] = member.offset
        self.cls, self.fields, self.n = cls, fields, len(fields)

    def new(self, a0, a1=_NO, a2=_NO, a3=_NO, a4=_NO, a5=_NO, a6=_NO, a7=_NO):
        """A new instance with the fields set to the arguments, in order (all of them)."""
        cdef PyObject* args[MAX_FIELDS]
        args[:] = [<PyObject*> a0, <PyObject*> a1, <PyObject*> a2, <PyObject*> a3, <PyObject*> a4,
                   <PyObject*> a5, <PyObject*> a6, <PyObject*> a7]
        cdef Py_ssize_t i, given = MAX_FIELDS
        while given > 1 and args[given - 1] == <PyObject*> _NO:
            given -= 1
        if given != self.n:
            raise TypeError(f"{self.cls.__name__} takes {self.n} fields ({', '.join(self.fields)}), "
                            f"{given} given")
        # Zero-filled, so no slot holds a reference yet; tracked by the GC, whose traversal skips the
        # NULL slots until they are written (nothing between here and the return allocates).
        obj = generic_alloc(<PyTypeObject*> self.cls, 0)
        cdef char* base = <char*> <PyObject*> obj
        for i in range(self.n):
            incref(args[i])
            (<PyObject**> (base + self.offsets[i]))[0] = args[i]
        return obj
