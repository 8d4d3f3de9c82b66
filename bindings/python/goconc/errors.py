# SPDX-License-Identifier: MIT
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

from . import _goconc

# Pinned by the ABI (include/goconc/common.h).
OK = 0
NOTFOUND = 1
EXISTS = 2
CHANGED = 3
STOPPED = 4
ENOMEM = -12
EBUSY = -16
EINVAL = -22
ERANGE = -34
EDEADLK = -35
EOVERFLOW = -75

strerror = _goconc.strerror
ElementTypeError = _goconc.ElementTypeError


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
    OK: "GOCONC_OK",
    NOTFOUND: "GOCONC_NOTFOUND",
    EXISTS: "GOCONC_EXISTS",
    CHANGED: "GOCONC_CHANGED",
    STOPPED: "GOCONC_STOPPED",
    ENOMEM: "GOCONC_ENOMEM",
    EBUSY: "GOCONC_EBUSY",
    EINVAL: "GOCONC_EINVAL",
    ERANGE: "GOCONC_ERANGE",
    EDEADLK: "GOCONC_EDEADLK",
    EOVERFLOW: "GOCONC_EOVERFLOW",
}

_CLASSES = {
    ENOMEM: GoconcMemoryError,
    EINVAL: GoconcValueError,
    ERANGE: GoconcIndexError,
    EOVERFLOW: GoconcOverflowError,
    EDEADLK: GoconcDeadlockError,
    EBUSY: GoconcBusyError,
}


def error_for(status):
    """The exception instance for a failing status."""
    return _CLASSES.get(status, GoconcError)(status)


def check(status):
    """Return @status unless it is negative (a failure), which is raised."""
    if status < 0:
        raise error_for(status)
    return status
