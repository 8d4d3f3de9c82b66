# SPDX-License-Identifier: MIT
"""goconc: Python bindings for libgoconc, Go's concurrency-safe containers
for C (slice, map, value, once, pool), over a native extension.

    import goconc
    m = goconc.Map()
    m[b"k"] = b"v"

The extension goconc._goconc links libgoconc.so.1: the one it was built
against (its run path), or the file GOCONC_LIBRARY names, loaded first.
Short calls keep the GIL; calls that can block or run long release it, so
Python threads really do share the containers.  See doc/bindings.md.
"""

import os as _os


def _preload():
    # A library loaded first under the soname libgoconc.so.1 is the one the
    # extension's dependency binds to.
    path = _os.environ.get("GOCONC_LIBRARY")
    if not path:
        return None
    import ctypes
    try:
        return ctypes.CDLL(path)
    except OSError as e:
        raise ImportError("goconc: cannot load GOCONC_LIBRARY=%r: %s"
                          % (path, e)) from e


_preloaded = _preload()

try:
    from . import _goconc
except ImportError as e:       # not built, or libgoconc.so.1 not found
    raise ImportError(
        "goconc: cannot import the native extension goconc._goconc (%s); "
        "build it (`python3 setup.py build_ext --inplace` in bindings/python, "
        "or pip install bindings/python) against libgoconc, or point "
        "GOCONC_LIBRARY at libgoconc.so.1" % e) from e

from .errors import (CHANGED, EBUSY, EDEADLK, EINVAL, ENOMEM, EOVERFLOW,  # noqa: E402
                     ERANGE, EXISTS, NOTFOUND, OK, STOPPED, ElementTypeError,
                     GoconcBusyError, GoconcDeadlockError, GoconcError,
                     GoconcIndexError, GoconcMemoryError, GoconcOverflowError,
                     GoconcValueError, strerror)
from . import errors as _errors  # noqa: E402
from .map import KEEP, Map, MapStats  # noqa: E402
from .once import Once  # noqa: E402
from .pool import Pool, PoolStats  # noqa: E402
from .slice import Slice, View  # noqa: E402
from .value import Value  # noqa: E402

_goconc._setup(GoconcError, dict(_errors._CLASSES), KEEP)

__version__ = "1.1.0"


def version():
    """The loaded library's version string, e.g. "1.1.0"."""
    return _goconc.version()


def version_number():
    """The loaded library's GOCONC_VERSION_NUMBER (major*10000+minor*100+patch)."""
    return _goconc.version_number()


def library_path():
    """The path of the libgoconc shared object actually loaded."""
    return _goconc.library_path()


def synchronize():
    """goconc_synchronize(): wait until every read section open now has
    closed (the GIL is released meanwhile)."""
    _goconc.synchronize()


def barrier():
    """goconc_barrier(): wait until every destroy deferred so far has run,
    then drop the Python objects they released (the objects a Value
    replaced, those a Pool dropped)."""
    _goconc.barrier()


__all__ = [
    "Map", "MapStats", "KEEP", "Slice", "View", "Value", "Once", "Pool",
    "PoolStats", "GoconcError", "GoconcMemoryError", "GoconcValueError",
    "GoconcIndexError", "GoconcOverflowError", "GoconcDeadlockError",
    "GoconcBusyError", "ElementTypeError", "strerror", "version",
    "version_number", "library_path", "synchronize", "barrier",
    "OK", "NOTFOUND", "EXISTS", "CHANGED", "STOPPED", "ENOMEM", "EBUSY",
    "EINVAL", "ERANGE", "EDEADLK", "EOVERFLOW",
]
