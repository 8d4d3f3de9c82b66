# SPDX-License-Identifier: MIT
"""goconc.Map: a concurrent MutableMapping of bytes to bytes."""

import reprlib
from collections import namedtuple
from collections.abc import ItemsView, Mapping, MutableMapping, ValuesView

from . import _goconc

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

# repr shows at most this many entries.
_REPR_MAX = 16


class Map(_goconc.MapBase, MutableMapping):
    """A sharded concurrent hash map of bytes keys to bytes values
    (goconc_map).  Any number of threads may use one Map at once; every
    single-key operation is atomic.  Keys and values are copied in and out
    (any bytes-like object is accepted; bytes come out).  Nothing is
    lent, so replacing a value of at most 8 bytes under a key of at most 8
    bytes by one of the same length is a single atomic store.

    Map(mapping_or_pairs=None, *, shards=0, capacity_hint=0, seed=0)

    Implemented natively: m[k], m[k] = v, del m[k], k in m, len(m), get,
    load_or_store, load_and_delete, swap, compare_and_swap,
    compare_and_delete, compute, clear, reserve, maintain.

    compute(key, fn) atomically replaces key's value with fn(old), where
    old is the current value or None; fn returns bytes to store, None to
    delete, or goconc.KEEP to leave the entry; compute returns the value
    left (None when absent).  fn runs exactly once, holding key's write
    side: other writers of this key wait (readers do not), and a write to
    this map from inside fn raises GoconcDeadlockError.  An exception from
    fn leaves the map unchanged and propagates.
    """
    __slots__ = ("__weakref__",)

    def __init__(self, initial=None, *, shards=0, capacity_hint=0, seed=0):
        super().__init__(shards=shards, capacity_hint=capacity_hint, seed=seed)
        if initial is not None:
            self.update(initial)

    # ------------------------------------------------------ Mapping protocol
    def __iter__(self):
        # goconc_map_range visits every key present for the whole call
        # exactly once; the keys are collected first so that no read section
        # stays open while the caller's loop body runs.
        return iter(self._range(False))

    def items(self):
        return _ItemsView(self)

    def values(self):
        return _ValuesView(self)

    def setdefault(self, key, default=b""):
        """The value of @key, storing @default first when absent (one
        atomic load_or_store)."""
        return self.load_or_store(key, default)[0]

    def pop(self, key, default=_MISSING):
        val, loaded = self.load_and_delete(key)
        if loaded:
            return val
        if default is _MISSING:
            raise KeyError(bytes(key))
        return default

    def popitem(self):
        """Remove and return some (key, value) pair; KeyError when empty."""
        while True:
            keys = self._range(False, 1)
            if not keys:
                raise KeyError("popitem(): goconc.Map is empty")
            val, loaded = self.load_and_delete(keys[0])
            if loaded:
                return keys[0], val

    def stats(self):
        """A MapStats named tuple (exact when nothing else runs)."""
        return MapStats(*self._stats())

    # ------------------------------------------------- dict-like extras
    @classmethod
    def fromkeys(cls, keys, value=b""):
        m = cls()
        for k in keys:
            m[k] = value
        return m

    def copy(self):
        """A new, independent Map with the same entries (one range pass)."""
        return type(self)(self._range(True))

    __copy__ = copy

    def __deepcopy__(self, memo):
        return self.copy()      # keys and values are immutable bytes

    def __reduce__(self):
        return (type(self), (dict(self._range(True)),))

    def __or__(self, other):
        if not isinstance(other, Mapping):
            return NotImplemented
        m = self.copy()
        m.update(other)
        return m

    def __ror__(self, other):
        if not isinstance(other, Mapping):
            return NotImplemented
        m = type(self)(other)
        m.update(self._range(True))
        return m

    def __ior__(self, other):
        self.update(other)
        return self

    def __repr__(self):
        if self.closed:
            return "<goconc.Map (closed)>"
        items = self._range(True, _REPR_MAX + 1)
        body = ", ".join("%s: %s" % (reprlib.repr(k), reprlib.repr(v))
                         for k, v in items[:_REPR_MAX])
        if len(items) > _REPR_MAX:
            return "goconc.Map({%s, ...}) (len=%d)" % (body, len(self))
        return "goconc.Map({%s})" % body


class _ItemsView(ItemsView):
    def __iter__(self):
        # One range pass: pairs as they were, with no KeyError for a key
        # deleted between listing and loading it.
        return iter(self._mapping._range(True))


class _ValuesView(ValuesView):
    def __iter__(self):
        return (v for _, v in self._mapping._range(True))
