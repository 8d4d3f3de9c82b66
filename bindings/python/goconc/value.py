"""goconc.Value: Go's atomic.Value holding immutable bytes.

How the stored bytes stay alive (the library only ever sees a pointer):
each store wraps the bytes object in a fresh _Box and enters it in the
module's _objects dict, keyed by the box's address, which is the pointer
handed to goconc_value_store.  A box lives until the library's destroy
callback for it has run, so its address is never reused while the library
still knows it, and two stores of the same bytes object are two boxes with
two addresses (each destroyed once).

The destroy callback (_destroy) is deferred by the library: it runs after a
grace period, on whatever thread happens to reclaim (possibly a thread
Python did not create), and ctypes takes the GIL around it.  All it does is
one dict.pop, atomic under the GIL, which drops the box and with it the
bytes; it touches no Value and no lock, so it cannot deadlock against a
Python thread that holds the GIL and calls into the library (ctypes releases
the GIL for every foreign call).

A load runs inside a read section: the box of the pointer it gets cannot be
popped before the section closes, so the lookup in _objects always hits and
the caller gets back the very bytes object that was stored (no copy).

At interpreter exit nothing is drained: destroys still pending then are
never run (libgoconc runs no deferred destroy at process exit), and the
bytes they would release go with the process.
"""

import ctypes

from . import _lib
from ._bytes import as_bytes
from ._handle import Handle
from .errors import check

L = _lib.lib

_objects = {}


class _Box:
    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj


@_lib.DESTROY_FN
def _destroy(ctx, obj):
    _objects.pop(obj, None)


def _register(b):
    box = _Box(as_bytes(b, "value"))
    addr = id(box)
    _objects[addr] = box
    return addr


def _unregister(addr):
    _objects.pop(addr, None)


class Value(Handle):
    """An atomic value of immutable bytes: load never blocks and returns
    the very bytes object a store put there; every operation is atomic and
    linearizable.  Value(initial=None)."""
    _kind = "Value"

    def __init__(self, initial=None):
        Handle.__init__(self)
        _lib.require("value")
        out = ctypes.c_void_p()
        check(L.goconc_value_new(ctypes.byref(out), _destroy, None))
        self._adopt(out.value)
        if initial is not None:
            self.store(initial)

    def _free(self, ptr):
        L.goconc_value_free(ptr)

    def load(self):
        """The stored bytes, or None while nothing was stored."""
        h = self._enter()
        try:
            L.goconc_read_lock()
            try:
                p = L.goconc_value_load(h)
                return _objects[p].obj if p else None
            finally:
                L.goconc_read_unlock()
        finally:
            self._exit()

    def store(self, b):
        """Store @b (bytes-like; copied unless it is bytes).  ValueError
        for None (Go panics on storing nil)."""
        if b is None:
            raise ValueError("goconc.Value cannot store None")
        addr = _register(b)
        h = self._enter()
        try:
            st = L.goconc_value_store(h, addr)
        finally:
            self._exit()
        if st < 0:
            _unregister(addr)   # the library did not take it
            check(st)

    def swap(self, b):
        """Store @b and return the bytes it replaced (None if empty)."""
        if b is None:
            raise ValueError("goconc.Value cannot store None")
        addr = _register(b)
        old = ctypes.c_void_p()
        h = self._enter()
        try:
            st = L.goconc_value_swap(h, addr, ctypes.byref(old))
        finally:
            self._exit()
        if st < 0:
            _unregister(addr)
            check(st)
        if not old.value:
            return None
        try:
            # The reference keeps the replaced box registered until released.
            return _objects[L.goconc_value_ref_get(old.value)].obj
        finally:
            L.goconc_value_release(old.value)

    def compare_and_swap(self, old, new):
        """Store @new if the current bytes equal @old (None: only if empty),
        as Go's CompareAndSwap does; True when stored."""
        if new is None:
            raise ValueError("goconc.Value cannot store None")
        if old is not None:
            old = as_bytes(old, "value")
        addr = _register(new)
        h = self._enter()
        try:
            while True:
                # The pointer compared and the pointer swapped are the same
                # one, read in the same read section: it cannot be destroyed
                # and reused meanwhile (no ABA).  CHANGED means another store
                # came in between: compare again, as Go's loop does.
                L.goconc_read_lock()
                try:
                    p = L.goconc_value_load(h)
                    cur = _objects[p].obj if p else None
                    if (cur is None) != (old is None) or (
                            cur is not None and cur != old):
                        st = _lib.CHANGED
                        break
                    st = L.goconc_value_compare_and_swap(h, p, addr)
                finally:
                    L.goconc_read_unlock()
                if st != _lib.CHANGED:
                    break
        finally:
            self._exit()
        if st != _lib.OK:
            _unregister(addr)
        check(st)
        return st == _lib.OK

    def __repr__(self):
        if self.closed:
            return "<goconc.Value (closed)>"
        v = self.load()
        return "<goconc.Value %s>" % ("empty" if v is None else "%d bytes" % len(v))
