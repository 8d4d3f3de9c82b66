# SPDX-License-Identifier: MIT
"""goconc.Slice: a thread-safe Go slice of fixed-size struct elements, and
goconc.View, its immutable snapshot."""

import struct
from collections.abc import Sequence

from . import _goconc
from .errors import ElementTypeError

# Native single-field formats the extension packs itself; any other format
# goes through struct (a method call per element).
_NATIVE = frozenset("bBhHiIlLqQnNfd")

_INTS = frozenset("bBhHiIlLqQnNP")
_FLOATS = frozenset("efd")
_BYTES = frozenset("sp")


def _codes(fmt):
    """The field codes of struct format @fmt, one per value."""
    out, count = [], ""
    for ch in fmt.lstrip("@=<>!"):
        if ch.isdigit():
            count += ch
        elif ch.isspace():
            continue
        else:
            n = int(count) if count else 1
            if ch in _BYTES:
                out.append(ch)
            elif ch != "x":
                out.extend(ch * n)
            count = ""
    return out


def _fits(code, x):
    if code in _INTS:
        return hasattr(type(x), "__index__")
    if code in _FLOATS:
        return hasattr(type(x), "__float__") or hasattr(type(x), "__index__")
    if code in _BYTES:
        return isinstance(x, (bytes, bytearray))
    return True


class _Format:
    """A struct format and whether its elements are scalars (one field) or
    tuples (several fields)."""
    __slots__ = ("st", "scalar", "code", "codes")

    def __init__(self, fmt):
        self.st = fmt if isinstance(fmt, struct.Struct) else struct.Struct(fmt)
        self.scalar = len(self.st.unpack(bytes(self.st.size))) == 1
        f = self.st.format
        f = f.decode() if isinstance(f, bytes) else f
        self.codes = _codes(f)
        # Only native-order single characters ("q", "@d"): "<q" has the
        # same size but no alignment promise worth a special case.
        bare = f[1:] if f[:1] == "@" else f
        self.code = bare if len(bare) == 1 and bare in _NATIVE else ""

    def _type_error(self, values, e):
        """e as ElementTypeError when a value has the wrong type."""
        for code, x in zip(self.codes, values):
            if not _fits(code, x):
                return ElementTypeError(
                    "goconc: element of format %r cannot hold %s"
                    % (self.st.format, type(x).__name__))
        if len(values) != len(self.codes):
            return ElementTypeError(str(e))
        return None

    def pack(self, x):
        if self.scalar:
            values = (x,)
        else:
            try:
                values = tuple(x)
            except TypeError as e:
                raise ElementTypeError(
                    "goconc: format %r needs a sequence of %d values, not %s"
                    % (self.st.format, len(self.codes), type(x).__name__)) from e
        try:
            return self.st.pack(*values)
        except struct.error as e:
            err = self._type_error(values, e)
            if err is None:
                raise
            raise err from e

    def pack_many(self, items):
        return b"".join(self.pack(x) for x in items)

    def unpack(self, b):
        r = self.st.unpack(b)
        return r[0] if self.scalar else r

    def iter_unpack(self, buf):
        if self.scalar:
            return (t[0] for t in self.st.iter_unpack(buf))
        return self.st.iter_unpack(buf)


def _is_sequence(other):
    return isinstance(other, (list, tuple, Slice, View)) or (
        isinstance(other, Sequence) and
        not isinstance(other, (str, bytes, bytearray, memoryview)))


class Slice(_goconc.SliceBase, Sequence):
    """A Go slice of fixed-size elements described by a struct format
    ("q", "d", "16s", "qd", ...): single-field formats give scalars,
    others tuples.  Every call is atomic with respect to every other call
    on slices sharing the storage, from any number of threads.  An element
    of the wrong type raises ElementTypeError (a TypeError and a
    struct.error); a number out of the format's range raises struct.error.

    Slice(fmt, items=None, *, length=0, capacity=0): a new slice of
    @length zeroed elements and capacity max(@capacity, @length), then
    @items appended.
    """
    __slots__ = ("__weakref__",)

    def __init__(self, fmt, items=None, *, length=0, capacity=0):
        f = _Format(fmt)
        self._init(f, f.code, f.st.size, length, capacity)
        if items is not None:
            self.extend(items)

    @property
    def format(self):
        return self._fmt.st.format

    @property
    def itemsize(self):
        return self._fmt.st.size

    def extend(self, items):
        """Append every element of @items in one atomic append (their
        indices are consecutive); returns the first index."""
        return self._append_bytes(self._fmt.pack_many(items))

    def __iadd__(self, items):
        self.extend(items)
        return self

    def _getslice(self, sl):
        with self.snapshot() as v:
            return v[sl]

    def __iter__(self):
        # Over a snapshot: a stable sequence even while others append.
        with self.snapshot() as v:
            data = v.tobytes()
        return self._fmt.iter_unpack(data)

    def snapshot(self):
        """An immutable View of the elements now; it never changes, whatever
        other threads append or set.  Release it with close() / `with`."""
        return View(self)

    def tolist(self):
        with self.snapshot() as v:
            return v.tolist()

    def __eq__(self, other):
        if not _is_sequence(other):
            return NotImplemented
        return self.tolist() == list(other)

    __hash__ = None

    def __copy__(self):
        return self.clone()

    def __deepcopy__(self, memo):
        return self.clone()     # elements are immutable values

    def __reduce__(self):
        return (_rebuild_slice, (type(self), self.format, self.tolist()))

    def __repr__(self):
        if self.closed:
            return "<goconc.Slice %r (closed)>" % (self.format,)
        return "<goconc.Slice %r len=%d cap=%d>" % (self.format, len(self),
                                                    self.cap())


def _rebuild_slice(cls, fmt, items):
    return cls(fmt, items)


class View(_goconc.ViewBase, Sequence):
    """An immutable snapshot of a Slice (goconc_view): its contents never
    change, even while others append to or set the slice or after the slice
    is closed.  Holds the snapshot's storage until close(); after that every
    use, len() included, raises ValueError.  Copying or pickling a View
    gives a list of its elements."""
    __slots__ = ("__weakref__",)

    def _getslice(self, sl):
        start, stop, step = sl.indices(len(self))
        if step == 1:
            if stop <= start:
                return []
            return list(self._fmt.iter_unpack(self._bytes(start, stop)))
        return [self[j] for j in range(start, stop, step)]

    def __iter__(self):
        data = self._bytes()
        yield from self._fmt.iter_unpack(data)

    def tolist(self):
        return list(self._fmt.iter_unpack(self._bytes()))

    def tobytes(self):
        """The snapshot's raw bytes (len * itemsize)."""
        return self._bytes()

    @property
    def format(self):
        return self._fmt.st.format

    @property
    def itemsize(self):
        return self._fmt.st.size

    def __eq__(self, other):
        if not _is_sequence(other):
            return NotImplemented
        return self.tolist() == list(other)

    __hash__ = None

    def __reduce__(self):
        return (list, (self.tolist(),))

    def __repr__(self):
        if self.closed:
            return "<goconc.View %r (closed)>" % (self.format,)
        return "<goconc.View %r len=%d>" % (self.format, len(self))
