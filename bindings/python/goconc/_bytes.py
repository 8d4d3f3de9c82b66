"""Helpers shared by the modules: bytes arguments and per-thread buffers."""

import ctypes
import threading

_tls = threading.local()

# The per-thread output buffer starts small and grows to the largest value
# seen, but a buffer above this size is not kept for the next call.
_INITIAL = 256
_KEEP_MAX = 1 << 16


def as_bytes(obj, what="key"):
    """@obj as bytes: bytes as is, other bytes-like objects copied."""
    if type(obj) is bytes:
        return obj
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return bytes(obj)
    raise TypeError("goconc: %s must be bytes-like, not %s"
                    % (what, type(obj).__name__))


def out_buffer(size=0):
    """This thread's output buffer, at least @size bytes (and a ctypes
    c_size_t for the length the library reports)."""
    buf = getattr(_tls, "buf", None)
    if buf is None or len(buf) < size:
        buf = ctypes.create_string_buffer(max(size, _INITIAL))
        if len(buf) <= _KEEP_MAX:
            _tls.buf = buf
    n = getattr(_tls, "n", None)
    if n is None:
        n = _tls.n = ctypes.c_size_t()
    return buf, n


def take(buf, n):
    """The first @n bytes of @buf as a new bytes object."""
    return ctypes.string_at(buf, n) if n else b""
