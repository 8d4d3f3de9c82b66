"""goconc: Python bindings for libgoconc, Go's concurrency-safe containers
for C (slice, map, value, once, pool), over ctypes.

    import goconc
    m = goconc.Map()
    m[b"k"] = b"v"

The library is libgoconc.so.1, or the file GOCONC_LIBRARY names.  Every
call into it releases the GIL (ctypes.CDLL), so Python threads really do
share the containers concurrently.  See doc/bindings.md.
"""

from . import _lib
from .errors import (GoconcBusyError, GoconcDeadlockError, GoconcError,
                     GoconcIndexError, GoconcMemoryError, GoconcOverflowError,
                     GoconcValueError, strerror)
from .errors import check as _check
from .map import KEEP, Map, MapStats
from .once import Once
from .pool import Pool, PoolStats
from .slice import Slice, View
from .value import Value

__version__ = "1.0.0"

OK = _lib.OK
NOTFOUND = _lib.NOTFOUND
EXISTS = _lib.EXISTS
CHANGED = _lib.CHANGED
STOPPED = _lib.STOPPED
ENOMEM = _lib.ENOMEM
EBUSY = _lib.EBUSY
EINVAL = _lib.EINVAL
ERANGE = _lib.ERANGE
EDEADLK = _lib.EDEADLK
EOVERFLOW = _lib.EOVERFLOW


def version():
    """The loaded library's version string, e.g. "1.0.0"."""
    return _lib.lib.goconc_version_string().decode("ascii")


def version_number():
    """The loaded library's GOCONC_VERSION_NUMBER (major*10000+minor*100+patch)."""
    return _lib.lib.goconc_version_number()


def library_path():
    """What was loaded: GOCONC_LIBRARY's value, or "libgoconc.so.1"."""
    return _lib.path


def synchronize():
    """goconc_synchronize(): wait until every read section open now has
    closed (the GIL is released meanwhile)."""
    _check(_lib.lib.goconc_synchronize())


def barrier():
    """goconc_barrier(): wait until every destroy deferred so far has run
    (e.g. the bytes that Value stores replaced are released)."""
    _check(_lib.lib.goconc_barrier())

__all__ = [
    "Map", "MapStats", "KEEP", "Slice", "View", "Value", "Once", "Pool",
    "PoolStats", "GoconcError", "GoconcMemoryError", "GoconcValueError",
    "GoconcIndexError", "GoconcOverflowError", "GoconcDeadlockError",
    "GoconcBusyError", "strerror", "version", "version_number",
    "library_path", "synchronize", "barrier",
]
