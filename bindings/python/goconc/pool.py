"""goconc.Pool: Go's sync.Pool of Python objects over goconc_pool.

The C pool caches pointers in per-thread caches (Python threads are OS
threads, so each Python thread gets its own cache) with shared levels
behind them.  The pointer cached for a Python object is the address of a
fresh _Box around it, entered in the pool's own dict until the pool gives
it back (get) or drops it (free_obj: trim, max_idle, close); the dict is
what keeps cached objects alive.

Callbacks: new_obj runs inside goconc_pool_get on the calling thread (its
exception is saved per thread and raised by get); free_obj only pops the
dict.  reset runs in Python before goconc_pool_put, so an exception from it
keeps the object out of the pool and propagates from put.  The callbacks
refer to a _State, not to the Pool, so a Pool is freed by reference
counting as soon as it is unreachable.
"""

import ctypes
import threading
from collections import namedtuple

from . import _lib
from ._handle import Handle
from .errors import check

L = _lib.lib

PoolStats = namedtuple("PoolStats", "gets puts hits news drops idle")

_pending = threading.local()


class _Box:
    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj


class _State:
    __slots__ = ("new", "objs", "c_new", "c_free")

    def __init__(self, new):
        self.new = new
        self.objs = {}
        objs = self.objs

        def new_obj(ctx):
            try:
                box = _Box(new())
            except BaseException as e:      # noqa: B902 - raised by get()
                _pending.exc = e
                return None
            objs[id(box)] = box
            return id(box)

        def free_obj(ctx, p):
            objs.pop(p, None)

        self.c_new = _lib.POOL_NEW_FN(new_obj) if new is not None else None
        self.c_free = _lib.POOL_OBJ_FN(free_obj)


class Pool(Handle):
    """A pool of reusable Python objects with per-thread caches (Go's
    sync.Pool).  Pool(new=None, *, reset=None, max_idle=0): get() returns a
    cached object or new() (None when empty and new is None); put(obj)
    calls reset(obj) first when given.  Objects idle across two trim()
    calls are dropped, as Go drops them across two garbage collections."""
    _kind = "Pool"

    def __init__(self, new=None, *, reset=None, max_idle=0):
        Handle.__init__(self)
        _lib.require("pool")
        self._reset = reset
        self._state = _State(new)
        opts = _lib.PoolOptions()
        opts.struct_size = ctypes.sizeof(_lib.PoolOptions)
        if self._state.c_new is not None:
            opts.new_obj = self._state.c_new
        opts.free_obj = self._state.c_free
        opts.max_idle = max_idle
        out = ctypes.c_void_p()
        check(L.goconc_pool_new(ctypes.byref(out), ctypes.byref(opts)))
        self._adopt(out.value)

    def _free(self, ptr):
        # Every cached object goes through free_obj here; the callbacks in
        # _state must outlive this call, and do (self holds _state).
        L.goconc_pool_free(ptr)

    def get(self):
        """A cached object if this thread can take one without waiting,
        else new(), else None."""
        _pending.exc = None
        h = self._enter()
        try:
            p = L.goconc_pool_get(h)
        finally:
            self._exit()
        exc, _pending.exc = _pending.exc, None
        if exc is not None:
            raise exc
        if not p:
            return None
        return self._state.objs.pop(p).obj

    def put(self, obj):
        """Give @obj back to the pool (None is ignored)."""
        if obj is None:
            return
        if self._reset is not None:
            self._reset(obj)
        box = _Box(obj)
        addr = id(box)
        self._state.objs[addr] = box
        h = self._enter()
        try:
            L.goconc_pool_put(h, addr)
        finally:
            self._exit()

    def trim(self):
        """Go's GC step: drop the objects idle since the previous trim."""
        h = self._enter()
        try:
            L.goconc_pool_trim(h)
        finally:
            self._exit()

    def stats(self):
        st = _lib.PoolStats()
        st.struct_size = ctypes.sizeof(_lib.PoolStats)
        h = self._enter()
        try:
            rc = L.goconc_pool_stats_get(h, ctypes.byref(st))
        finally:
            self._exit()
        check(rc)
        return PoolStats(st.gets, st.puts, st.hits, st.news, st.drops, st.idle)

    def __repr__(self):
        return "<goconc.Pool%s>" % (" (closed)" if self.closed else "")
