# SPDX-License-Identifier: MIT
"""goconc.Once: Go's sync.Once over goconc_once."""

from . import _goconc


class Once(_goconc.OnceBase):
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
    it needs no close().  It cannot be copied or pickled: a copy would be
    a second Once, running fn a second time."""

    __slots__ = ("__weakref__",)

    def __reduce_ex__(self, protocol):
        raise TypeError("cannot copy or pickle a goconc.Once")

    def __reduce__(self):
        raise TypeError("cannot copy or pickle a goconc.Once")

    def __repr__(self):
        return "<goconc.Once %s>" % ("done" if self.done else "not done")
