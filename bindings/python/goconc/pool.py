# SPDX-License-Identifier: MIT
"""goconc.Pool: Go's sync.Pool of Python objects over goconc_pool.

The C pool caches object pointers (each holding a reference) in per-thread
caches (Python threads are OS threads, so each gets its own) with shared
levels behind them.  The library never calls Python code: new() runs in
the bindings when the pool has nothing to give, reset() before the put,
and the objects the pool drops (trim, max_idle, close, a thread's exit)
are released with the GIL at the next call into the bindings.  So no
library exit handler runs Python, and interpreter exit cannot hang on a
pool held by a dying thread.
"""

from collections import namedtuple

from . import _goconc

PoolStats = namedtuple("PoolStats", "gets puts hits news drops idle")


class Pool(_goconc.PoolBase):
    """A pool of reusable Python objects with per-thread caches (Go's
    sync.Pool).  Pool(new=None, *, reset=None, max_idle=0): get() returns a
    cached object or new() (None when empty and new is None); put(obj)
    calls reset(obj) first when given (an exception from it keeps obj out
    and propagates).  Objects idle across two trim() calls are dropped, as
    Go drops them across two garbage collections.  A Pool cannot be copied
    or pickled: its cached objects are a per-thread cache, not contents."""

    __slots__ = ("__weakref__",)

    def stats(self):
        """PoolStats(gets, puts, hits, news, drops, idle)."""
        return PoolStats(*self._stats())

    def __reduce_ex__(self, protocol):
        raise TypeError("cannot copy or pickle a goconc.Pool")

    def __reduce__(self):
        raise TypeError("cannot copy or pickle a goconc.Pool")

    def __repr__(self):
        if self.closed:
            return "<goconc.Pool (closed)>"
        return "<goconc.Pool idle=%d>" % self.stats().idle
