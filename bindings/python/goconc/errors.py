"""Status codes to exceptions (after pygit2's errors.py).

Every exception the bindings raise for a library status is a GoconcError
carrying the status in .status; where a built-in exception means the same
thing the class derives from it too, so `except MemoryError` and
`except ValueError` work as a Python programmer expects:

    GOCONC_ENOMEM     -> GoconcMemoryError   (GoconcError, MemoryError)
    GOCONC_EINVAL     -> GoconcValueError    (GoconcError, ValueError)
    GOCONC_ERANGE     -> GoconcIndexError    (GoconcError, IndexError)
    GOCONC_EOVERFLOW  -> GoconcOverflowError (GoconcError, OverflowError)
    GOCONC_EDEADLK    -> GoconcDeadlockError (GoconcError, RuntimeError)
    GOCONC_EBUSY      -> GoconcBusyError     (GoconcError)
    anything else     -> GoconcError

The positive statuses (NOTFOUND, EXISTS, CHANGED, STOPPED) are answers, not
failures: each method turns them into its return value or into KeyError /
IndexError where Python's own containers would raise those.
"""

from . import _lib


class GoconcError(Exception):
    """A libgoconc call failed; .status is the GOCONC_* status code."""

    def __init__(self, status, message=None):
        self.status = status
        if message is None:
            message = strerror(status)
        super().__init__(message)

    @property
    def name(self):
        """The status's GOCONC_* name, or None for an unknown value."""
        return _NAMES.get(self.status)

    def __reduce__(self):
        return (type(self), (self.status, str(self)))


class GoconcMemoryError(GoconcError, MemoryError):
    """GOCONC_ENOMEM: allocation failed; the object is unchanged."""


class GoconcValueError(GoconcError, ValueError):
    """GOCONC_EINVAL: a bad argument."""


class GoconcIndexError(GoconcError, IndexError):
    """GOCONC_ERANGE: an index or bounds out of range."""


class GoconcOverflowError(GoconcError, OverflowError):
    """GOCONC_EOVERFLOW: a size computation would overflow size_t."""


class GoconcDeadlockError(GoconcError, RuntimeError):
    """GOCONC_EDEADLK: the call would deadlock (a re-entered Once, a write
    to a map from inside its own update function)."""


class GoconcBusyError(GoconcError):
    """GOCONC_EBUSY: the operation is not allowed now."""


_NAMES = {
    _lib.OK: "GOCONC_OK",
    _lib.NOTFOUND: "GOCONC_NOTFOUND",
    _lib.EXISTS: "GOCONC_EXISTS",
    _lib.CHANGED: "GOCONC_CHANGED",
    _lib.STOPPED: "GOCONC_STOPPED",
    _lib.ENOMEM: "GOCONC_ENOMEM",
    _lib.EBUSY: "GOCONC_EBUSY",
    _lib.EINVAL: "GOCONC_EINVAL",
    _lib.ERANGE: "GOCONC_ERANGE",
    _lib.EDEADLK: "GOCONC_EDEADLK",
    _lib.EOVERFLOW: "GOCONC_EOVERFLOW",
}

_CLASSES = {
    _lib.ENOMEM: GoconcMemoryError,
    _lib.EINVAL: GoconcValueError,
    _lib.ERANGE: GoconcIndexError,
    _lib.EOVERFLOW: GoconcOverflowError,
    _lib.EDEADLK: GoconcDeadlockError,
    _lib.EBUSY: GoconcBusyError,
}


def strerror(status):
    """goconc_strerror(status) as str."""
    return _lib.lib.goconc_strerror(status).decode("utf-8", "replace")


def error_for(status):
    """The exception instance for a failing status."""
    return _CLASSES.get(status, GoconcError)(status)


def check(status):
    """Return @status unless it is negative (a failure), which is raised."""
    if status < 0:
        raise error_for(status)
    return status
