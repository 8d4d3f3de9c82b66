"""The lifetime of a C handle owned by a Python object.

A handle is freed by close(), by leaving a `with` block, or by __del__ when
the object is collected.  close() is safe against other threads using the
object at the same time: every method brackets its C calls with _enter() /
_exit(), and a close() that finds calls in flight only marks the object
closed; the last of those calls frees the handle when it returns.  Calls
that start after close() raise ValueError, as they do on a closed file.
The small lock is held only for the bookkeeping, never across a C call.
"""

import threading


class Handle:
    _kind = "object"

    def __init__(self):
        self._ptr = None
        self._lock = threading.Lock()
        self._active = 0
        self._closing = False

    def _adopt(self, ptr):
        self._ptr = ptr

    def _free(self, ptr):  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def _enter(self):
        with self._lock:
            if self._closing or self._ptr is None:
                raise ValueError("operation on a closed goconc.%s" % self._kind)
            self._active += 1
            return self._ptr

    def _exit(self):
        with self._lock:
            self._active -= 1
            if self._active or not self._closing:
                return
            ptr, self._ptr = self._ptr, None
        if ptr:
            self._free(ptr)

    def close(self):
        """Free the C object now (idempotent).  Calls already running on
        other threads finish first; later calls raise ValueError."""
        lock = getattr(self, "_lock", None)
        if lock is None:        # __init__ failed before Handle.__init__
            return
        with lock:
            if self._closing:
                return
            self._closing = True
            if self._active:
                return
            ptr, self._ptr = self._ptr, None
        if ptr:
            self._free(ptr)

    @property
    def closed(self):
        return self._closing

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:       # interpreter shutdown: module globals gone
            pass
