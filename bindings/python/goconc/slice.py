"""goconc.Slice: a thread-safe Go slice of fixed-size struct elements, and
goconc.View, its immutable snapshot."""

import ctypes
import operator
import struct
from collections.abc import Sequence

from . import _lib
from ._bytes import out_buffer
from ._handle import Handle
from .errors import check

L = _lib.lib


class _Format:
    """A struct format and whether its elements are scalars (one field) or
    tuples (several fields)."""
    __slots__ = ("st", "scalar")

    def __init__(self, fmt):
        self.st = fmt if isinstance(fmt, struct.Struct) else struct.Struct(fmt)
        self.scalar = len(self.st.unpack(bytes(self.st.size))) == 1

    def pack(self, x):
        return self.st.pack(x) if self.scalar else self.st.pack(*x)

    def pack_many(self, items):
        if self.scalar:
            return b"".join(self.st.pack(x) for x in items)
        return b"".join(self.st.pack(*x) for x in items)

    def unpack_from(self, buf, offset=0):
        r = self.st.unpack_from(buf, offset)
        return r[0] if self.scalar else r

    def iter_unpack(self, buf):
        if self.scalar:
            return (t[0] for t in self.st.iter_unpack(buf))
        return self.st.iter_unpack(buf)


class Slice(Handle, Sequence):
    """A Go slice of fixed-size elements described by a struct format
    ("q", "d", "16s", "qd", ...): single-field formats give scalars,
    others tuples.  Every call is atomic with respect to every other call
    on slices sharing the storage, from any number of threads.

    Slice(fmt, items=None, *, length=0, capacity=0): a new slice of
    @length zeroed elements and capacity max(@capacity, @length), then
    @items appended.
    """
    _kind = "Slice"

    def __init__(self, fmt, items=None, *, length=0, capacity=0):
        Handle.__init__(self)
        _lib.require("slice")
        self._fmt = _Format(fmt)
        out = ctypes.c_void_p()
        check(L.goconc_slice_new(ctypes.byref(out), self._fmt.st.size, length,
                                 max(capacity, length)))
        self._adopt(out.value)
        if items is not None:
            self.extend(items)

    @classmethod
    def _wrap(cls, fmt, ptr):
        self = cls.__new__(cls)
        Handle.__init__(self)
        self._fmt = fmt
        self._adopt(ptr)
        return self

    def _free(self, ptr):
        L.goconc_slice_free(ptr)

    @property
    def format(self):
        return self._fmt.st.format

    @property
    def itemsize(self):
        return self._fmt.st.size

    def __len__(self):
        h = self._enter()
        try:
            return L.goconc_slice_len(h)
        finally:
            self._exit()

    def cap(self):
        """Go's cap(s)."""
        h = self._enter()
        try:
            return L.goconc_slice_cap(h)
        finally:
            self._exit()

    def append(self, x):
        """Append one element; returns its index."""
        return self._append(self._fmt.pack(x), 1)

    def extend(self, items):
        """Append every element of @items in one atomic append (their
        indices are consecutive); returns the first index."""
        data = self._fmt.pack_many(items)
        return self._append(data, len(data) // self._fmt.st.size)

    def _append(self, data, n):
        first = ctypes.c_size_t()
        h = self._enter()
        try:
            if n == 0:
                return L.goconc_slice_len(h)
            st = L.goconc_slice_append(h, data, n, ctypes.byref(first))
        finally:
            self._exit()
        check(st)
        return first.value

    def _index(self, i, h):
        i = operator.index(i)
        if i < 0:
            i += L.goconc_slice_len(h)
            if i < 0:
                raise IndexError("goconc.Slice index out of range")
        return i

    def __getitem__(self, i):
        if isinstance(i, slice):
            with self.snapshot() as v:
                return v[i]
        size = self._fmt.st.size
        buf, _ = out_buffer(size)
        h = self._enter()
        try:
            st = L.goconc_slice_get(h, self._index(i, h), buf)
        finally:
            self._exit()
        if st == _lib.ERANGE:
            raise IndexError("goconc.Slice index out of range")
        check(st)
        return self._fmt.unpack_from(buf)

    def __setitem__(self, i, x):
        if isinstance(i, slice):
            raise TypeError("goconc.Slice does not support slice assignment")
        data = self._fmt.pack(x)
        h = self._enter()
        try:
            st = L.goconc_slice_set(h, self._index(i, h), data)
        finally:
            self._exit()
        if st == _lib.ERANGE:
            raise IndexError("goconc.Slice assignment index out of range")
        check(st)

    def __iter__(self):
        # Over a snapshot: a stable sequence even while others append.
        return self.snapshot()._iter_and_release()

    def snapshot(self):
        """An immutable View of the elements now; it never changes, whatever
        other threads append or set.  Release it with close() / `with`."""
        return View(self)

    def tolist(self):
        with self.snapshot() as v:
            return v.tolist()

    def reslice(self, low, high, max=None):
        """Go's s[low:high:max] as a new Slice sharing this storage (a set
        through one is seen through the other).  IndexError unless
        0 <= low <= high <= max <= cap."""
        out = ctypes.c_void_p()
        h = self._enter()
        try:
            if max is None:
                max = L.goconc_slice_cap(h)
            if low < 0 or high < 0 or max < 0:
                raise IndexError("goconc.Slice bounds out of range")
            st = L.goconc_slice_reslice(h, low, high, max, ctypes.byref(out))
        finally:
            self._exit()
        if st == _lib.ERANGE:
            raise IndexError("goconc.Slice bounds out of range")
        check(st)
        return Slice._wrap(self._fmt, out.value)

    def clone(self):
        """A new Slice with its own storage, the same elements, cap == len."""
        out = ctypes.c_void_p()
        h = self._enter()
        try:
            st = L.goconc_slice_clone(h, ctypes.byref(out))
        finally:
            self._exit()
        check(st)
        return Slice._wrap(self._fmt, out.value)

    def copy_from(self, src):
        """Go's copy(self, src): min(len) elements, overlap-safe; returns
        the count.  The formats must have the same element size."""
        copied = ctypes.c_size_t()
        h = self._enter()
        try:
            hs = src._enter()
            try:
                st = L.goconc_slice_copy(h, hs, ctypes.byref(copied))
            finally:
                src._exit()
        finally:
            self._exit()
        check(st)
        return copied.value

    def __repr__(self):
        if self.closed:
            return "<goconc.Slice %r (closed)>" % self.format
        return "<goconc.Slice %r len=%d cap=%d>" % (self.format, len(self),
                                                    self.cap())


class View(Handle, Sequence):
    """An immutable snapshot of a Slice (goconc_view): its contents never
    change, even while others append to or set the slice or after the slice
    is closed.  Holds the snapshot's storage until close()."""
    _kind = "View"

    def __init__(self, s):
        Handle.__init__(self)
        self._fmt = s._fmt
        self._view = _lib.View()
        h = s._enter()
        try:
            st = L.goconc_slice_snapshot(h, ctypes.byref(self._view))
        finally:
            s._exit()
        check(st)
        self._adopt(ctypes.addressof(self._view))
        self._len = self._view.len
        nbytes = self._len * self._view.elem_size
        # The bytes stay valid and unchanged until goconc_view_release; no
        # buffer over them is handed out, so none can outlive the view.
        self._mem = memoryview((ctypes.c_char * nbytes).from_address(
            self._view.data)).cast("B") if nbytes else memoryview(b"")

    def _free(self, ptr):
        self._mem = memoryview(b"")
        L.goconc_view_release(ctypes.byref(self._view))

    def __len__(self):
        return self._len

    def _item(self, i):
        i = operator.index(i)
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError("goconc.View index out of range")
        return self._fmt.unpack_from(self._mem, i * self._fmt.st.size)

    def __getitem__(self, i):
        self._enter()
        try:
            if isinstance(i, slice):
                start, stop, step = i.indices(self._len)
                if step == 1:
                    size = self._fmt.st.size
                    if stop <= start:
                        return []
                    return list(self._fmt.iter_unpack(
                        self._mem[start * size:stop * size]))
                return [self._item(j) for j in range(start, stop, step)]
            return self._item(i)
        finally:
            self._exit()

    def __iter__(self):
        self._enter()
        try:
            yield from self._fmt.iter_unpack(self._mem)
        finally:
            self._exit()

    def _iter_and_release(self):
        try:
            yield from self
        finally:
            self.close()

    def tolist(self):
        return self[:]

    def tobytes(self):
        """The snapshot's raw bytes (len * itemsize)."""
        self._enter()
        try:
            return self._mem.tobytes()
        finally:
            self._exit()

    @property
    def format(self):
        return self._fmt.st.format

    @property
    def itemsize(self):
        return self._fmt.st.size

    def __repr__(self):
        return "<goconc.View %r len=%d%s>" % (self.format, self._len,
                                              " (closed)" if self.closed else "")
