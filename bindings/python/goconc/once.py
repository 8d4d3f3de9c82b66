"""goconc.Once: Go's sync.Once over goconc_once."""

import ctypes

from . import _lib
from .errors import check

L = _lib.lib


class _Call:
    __slots__ = ("fn", "exc")

    def __init__(self, fn):
        self.fn = fn
        self.exc = None


@_lib.ONCE_TRY_FN
def _run(ctx):
    try:
        ctx.fn()
        return 0
    except BaseException as e:      # noqa: B902 - re-raised by do()
        ctx.exc = e
        return _lib.CALLBACK_FAILED


class Once:
    """Runs a function exactly once, however many threads call do().

    do(fn) calls fn() if no earlier call completed; callers that arrive
    while fn runs wait (in the library, with the GIL released) and return
    after it has returned.  If fn raises, the Once stays not done and the
    exception propagates from that do(); a waiting or later caller runs its
    own fn (goconc_once_try).  That differs from Go, where a panicking f
    counts as done; a failed initialisation that the other threads took for
    done is a worse surprise in Python.  Calling do() on the same Once from
    inside fn raises GoconcDeadlockError.

    A Once owns no C resource (a goconc_once is 16 bytes held inline), so
    it needs no close()."""

    __slots__ = ("_o", "__weakref__")

    def __init__(self):
        self._o = _lib.Once()

    def do(self, fn):
        ctx = _Call(fn)
        st = L.goconc_once_try(ctypes.byref(self._o), _run, ctx)
        if ctx.exc is not None:
            raise ctx.exc
        check(st)

    @property
    def done(self):
        """True once a do() has completed."""
        return bool(L.goconc_once_done(ctypes.byref(self._o)))

    def __repr__(self):
        return "<goconc.Once %s>" % ("done" if self.done else "not done")
