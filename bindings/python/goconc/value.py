# SPDX-License-Identifier: MIT
"""goconc.Value: Go's atomic.Value holding any Python object.

The library stores the object's pointer and owns one reference to it.
load() takes its own reference inside a read section, so it returns the
very object stored, never blocks, and costs one atomic load.  A replaced
object is released once no reader can see it: the library's deferred
destroy (which may run on any thread, at a thread's exit, even after the
interpreter is gone) only parks it, and it is dropped, with the GIL, at the
next call into the bindings (or goconc.barrier()).  Objects still parked at
interpreter exit go with the process.
"""

import copy as _copy
import reprlib

from . import _goconc


class Value(_goconc.ValueBase):
    """An atomic value: load() returns the object the last store() put
    there (None while empty); every operation is atomic and linearizable.
    Any object but None can be stored (Go panics on storing nil).
    compare_and_swap(old, new) compares by ==, as Go compares interfaces.

    Value(initial=None)"""

    __slots__ = ("__weakref__",)

    def __init__(self, initial=None):
        super().__init__()
        if initial is not None:
            self.store(initial)

    def __reduce__(self):
        return (type(self), (self.load(),))

    def __copy__(self):
        return type(self)(self.load())

    def __deepcopy__(self, memo):
        return type(self)(_copy.deepcopy(self.load(), memo))

    def __repr__(self):
        if self.closed:
            return "<goconc.Value (closed)>"
        obj = self.load()
        return "<goconc.Value %s>" % ("empty" if obj is None
                                      else reprlib.repr(obj))
