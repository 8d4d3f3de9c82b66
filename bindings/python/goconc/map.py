"""goconc.Map: a concurrent MutableMapping of bytes to bytes."""

import ctypes
from collections import namedtuple
from collections.abc import ItemsView, MutableMapping, ValuesView

from . import _lib
from ._bytes import as_bytes, out_buffer, take
from ._handle import Handle
from .errors import check

L = _lib.lib

MapStats = namedtuple("MapStats", "len shards buckets shards_migrating bytes "
                                  "grows shrinks buckets_moved")


class _Keep:
    """The sentinel a Map.compute function returns to leave the entry as
    it is."""
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self):
        return "goconc.KEEP"

    def __reduce__(self):
        return (_Keep, ())


KEEP = _Keep()

_MISSING = object()


class _Call:
    """Per-call context handed through the C ctx argument."""
    __slots__ = ("fn", "exc", "items", "want_values", "limit", "newval",
                 "result")

    def __init__(self, fn=None, want_values=True, limit=None):
        self.fn = fn
        self.exc = None
        self.items = []
        self.want_values = want_values
        self.limit = limit
        self.newval = None
        self.result = None


@_lib.VISIT_FN
def _collect(ctx, key, klen, val, vlen):
    # Runs inside the library's read section, holding the GIL: copy out and
    # return at once.
    try:
        k = take(key, klen)
        ctx.items.append((k, take(val, vlen)) if ctx.want_values else k)
        return 1 if ctx.limit is not None and len(ctx.items) >= ctx.limit else 0
    except BaseException as e:      # noqa: B902 - re-raised by the caller
        ctx.exc = e
        return 1


@_lib.UPDATE_FN
def _update(ctx, old, oldlen, found, newval, newlen):
    try:
        new = ctx.fn(take(old, oldlen) if found else None)
        if new is KEEP:
            ctx.result = take(old, oldlen) if found else None
            return _lib.UPDATE_KEEP
        if new is None:
            ctx.result = None
            return _lib.UPDATE_DELETE
        new = as_bytes(new, "value")
        # The library copies *newval before update returns; ctx (alive for
        # the whole call) keeps the buffer valid until then.
        ctx.newval = ctypes.c_char_p(new)
        ctx.result = new
        newval[0] = ctypes.cast(ctx.newval, ctypes.c_void_p)
        newlen[0] = len(new)
        return _lib.UPDATE_STORE
    except BaseException as e:      # noqa: B902 - re-raised by the caller
        ctx.exc = e
        return _lib.CALLBACK_FAILED


class Map(Handle, MutableMapping):
    """A sharded concurrent hash map of bytes keys to bytes values
    (goconc_map).  Any number of threads may use one Map at once; every
    single-key operation is atomic.  Keys and values are copied in and out.

    Map(mapping_or_pairs=None, *, shards=0, capacity_hint=0, seed=0)
    """
    _kind = "Map"

    def __init__(self, initial=None, *, shards=0, capacity_hint=0, seed=0):
        Handle.__init__(self)
        _lib.require("map")
        opts = _lib.MapOptions(ctypes.sizeof(_lib.MapOptions), shards,
                               capacity_hint, seed, None, None)
        out = ctypes.c_void_p()
        check(L.goconc_map_new(ctypes.byref(out), ctypes.byref(opts)))
        self._adopt(out.value)
        if initial is not None:
            self.update(initial)

    def _free(self, ptr):
        L.goconc_map_free(ptr)

    # -- the copy-out loop: a short buffer gives ERANGE and the needed size
    # (and changes nothing), so the call is repeated with room for that.
    # The bytes are taken only when the status is @copied, the one that
    # means "value copied out".
    def _copy_out(self, copied, call, *args):
        buf, n = out_buffer()
        while True:
            n.value = 0
            st = call(*args, buf, len(buf), ctypes.byref(n))
            if st != _lib.ERANGE:
                if st != copied:
                    return st, None
                if n.value > len(buf):
                    raise SystemError("libgoconc reported a copy larger than the buffer")
                return st, take(buf, n.value)
            buf, n = out_buffer(n.value)

    # ------------------------------------------------------ Mapping protocol
    def __getitem__(self, key):
        key = as_bytes(key)
        h = self._enter()
        try:
            st, val = self._copy_out(_lib.OK, L.goconc_map_load, h, key,
                                      len(key))
        finally:
            self._exit()
        if st == _lib.NOTFOUND:
            raise KeyError(key)
        check(st)
        return val

    def __setitem__(self, key, value):
        key = as_bytes(key)
        value = as_bytes(value, "value")
        h = self._enter()
        try:
            st = L.goconc_map_store(h, key, len(key), value, len(value))
        finally:
            self._exit()
        check(st)

    def __delitem__(self, key):
        key = as_bytes(key)
        h = self._enter()
        try:
            st = L.goconc_map_delete(h, key, len(key))
        finally:
            self._exit()
        if st == _lib.NOTFOUND:
            raise KeyError(key)
        check(st)

    def __contains__(self, key):
        key = as_bytes(key)
        h = self._enter()
        try:
            st = L.goconc_map_load(h, key, len(key), None, 0, None)
        finally:
            self._exit()
        # A NULL buffer with cap 0 may answer ERANGE for a non-empty value.
        if st in (_lib.OK, _lib.ERANGE):
            return True
        if st == _lib.NOTFOUND:
            return False
        check(st)
        return False

    def __len__(self):
        h = self._enter()
        try:
            return L.goconc_map_len(h)
        finally:
            self._exit()

    def _range(self, want_values, limit=None):
        ctx = _Call(want_values=want_values, limit=limit)
        h = self._enter()
        try:
            st = L.goconc_map_range(h, _collect, ctx)
        finally:
            self._exit()
        if ctx.exc is not None:
            raise ctx.exc
        check(st)
        return ctx.items

    def __iter__(self):
        # goconc_map_range visits every key present for the whole call
        # exactly once; the keys are collected first so that no read section
        # stays open while the caller's loop body runs.
        return iter(self._range(False))

    def items(self):
        return _ItemsView(self)

    def values(self):
        return _ValuesView(self)

    def __repr__(self):
        if self.closed:
            return "<goconc.Map (closed)>"
        return "<goconc.Map len=%d>" % len(self)

    # --------------------------------------------- atomic, Go-style methods
    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def load_or_store(self, key, value):
        """Go's LoadOrStore: (existing, True) when @key was present (nothing
        stored), else (value, False) after storing @value."""
        key = as_bytes(key)
        value = as_bytes(value, "value")
        h = self._enter()
        try:
            st, old = self._copy_out(_lib.EXISTS, L.goconc_map_load_or_store,
                                     h, key, len(key), value, len(value))
        finally:
            self._exit()
        if st == _lib.EXISTS:
            return old, True
        check(st)
        return value, False

    def setdefault(self, key, default=b""):
        return self.load_or_store(key, default)[0]

    def load_and_delete(self, key):
        """Go's LoadAndDelete: (value, True) after deleting @key, or
        (None, False) when it was absent."""
        key = as_bytes(key)
        h = self._enter()
        try:
            st, old = self._copy_out(_lib.OK, L.goconc_map_load_and_delete,
                                     h, key, len(key))
        finally:
            self._exit()
        if st == _lib.NOTFOUND:
            return None, False
        check(st)
        return old, True

    def pop(self, key, default=_MISSING):
        val, loaded = self.load_and_delete(key)
        if loaded:
            return val
        if default is _MISSING:
            raise KeyError(as_bytes(key))
        return default

    def popitem(self):
        while True:
            keys = self._range(False, limit=1)
            if not keys:
                raise KeyError("popitem(): goconc.Map is empty")
            val, loaded = self.load_and_delete(keys[0])
            if loaded:
                return keys[0], val

    def swap(self, key, value):
        """Go's Swap: store @value and return (previous, True), or
        (None, False) when @key was absent."""
        key = as_bytes(key)
        value = as_bytes(value, "value")
        h = self._enter()
        try:
            st, old = self._copy_out(_lib.OK, L.goconc_map_swap, h, key,
                                     len(key), value, len(value))
        finally:
            self._exit()
        if st == _lib.NOTFOUND:
            return None, False
        check(st)
        return old, True

    def compare_and_swap(self, key, old, new):
        """Store @new only if @key holds @old; True when swapped."""
        key = as_bytes(key)
        old = as_bytes(old, "value")
        new = as_bytes(new, "value")
        h = self._enter()
        try:
            st = L.goconc_map_compare_and_swap(h, key, len(key), old, len(old),
                                               new, len(new))
        finally:
            self._exit()
        return check(st) == _lib.OK

    def compare_and_delete(self, key, old):
        """Delete @key only if it holds @old; True when deleted."""
        key = as_bytes(key)
        old = as_bytes(old, "value")
        h = self._enter()
        try:
            st = L.goconc_map_compare_and_delete(h, key, len(key), old,
                                                 len(old))
        finally:
            self._exit()
        return check(st) == _lib.OK

    def compute(self, key, fn):
        """Atomically replace @key's value with fn(old), where old is the
        current value or None.  fn returns bytes to store, None to delete,
        or goconc.KEEP to leave the entry as it is; compute returns the
        value left in the map (None when absent).

        fn runs exactly once, holding @key's write side: other writers of
        this key wait (readers do not), and a write to this map from inside
        fn raises GoconcDeadlockError.  An exception from fn leaves the map
        unchanged and propagates.  (MutableMapping.update keeps its dict
        meaning, hence the name.)"""
        key = as_bytes(key)
        ctx = _Call(fn)
        h = self._enter()
        try:
            st = L.goconc_map_update(h, key, len(key), _update, ctx)
        finally:
            self._exit()
        if ctx.exc is not None:
            raise ctx.exc
        check(st)
        return ctx.result

    def clear(self):
        """Delete every entry (atomic per shard)."""
        h = self._enter()
        try:
            st = L.goconc_map_clear(h)
        finally:
            self._exit()
        check(st)

    def reserve(self, entries):
        """Grow ahead of a known load (still incrementally)."""
        h = self._enter()
        try:
            st = L.goconc_map_reserve(h, entries)
        finally:
            self._exit()
        check(st)

    def maintain(self, max_buckets=1 << 30):
        """Advance pending migrations by up to @max_buckets buckets; returns
        how many moved."""
        moved = ctypes.c_size_t()
        h = self._enter()
        try:
            st = L.goconc_map_maintain(h, max_buckets, ctypes.byref(moved))
        finally:
            self._exit()
        check(st)
        return moved.value

    def stats(self):
        """A MapStats named tuple (exact when nothing else runs)."""
        st = _lib.MapStats()
        st.struct_size = ctypes.sizeof(_lib.MapStats)
        h = self._enter()
        try:
            rc = L.goconc_map_stats_get(h, ctypes.byref(st))
        finally:
            self._exit()
        check(rc)
        return MapStats(st.len, st.shards, st.buckets, st.shards_migrating,
                        st.bytes, st.grows, st.shrinks, st.buckets_moved)


class _ItemsView(ItemsView):
    def __iter__(self):
        # One range pass: pairs as they were, with no KeyError for a key
        # deleted between listing and loading it.
        return iter(self._mapping._range(True))


class _ValuesView(ValuesView):
    def __iter__(self):
        return (v for _, v in self._mapping._range(True))
