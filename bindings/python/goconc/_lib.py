"""Loading libgoconc.so.1 and declaring its C prototypes (ctypes).

The library is loaded with ctypes.CDLL, not PyDLL: every foreign call
releases the GIL for its duration and takes it back afterwards, so a Python
thread blocked in the library (a Once waiter, a map update waiting for the
key's write side, goconc_barrier) lets the other Python threads run, and two
threads can be inside the library at the same time.  Callbacks that the
library makes into Python (CFUNCTYPE trampolines) take the GIL back for as
long as the Python code runs.

Where the library comes from: the GOCONC_LIBRARY environment variable (a
path to the shared object), else "libgoconc.so.1" through the dynamic
loader's usual search (LD_LIBRARY_PATH, ld.so.cache, the system dirs).
"""

import ctypes
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_int, c_size_t,
                    c_uint, c_uint64, c_void_p, py_object)

# ------------------------------------------------------------ status codes
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

UPDATE_KEEP = 16
UPDATE_STORE = 17
UPDATE_DELETE = 18

# Returned by our own callbacks when the Python code raised: a negative
# value, so the library aborts the operation and hands it back; the caller
# then re-raises the saved exception (the number itself is never shown).
CALLBACK_FAILED = -1


# ----------------------------------------------------------------- structs
class MapOptions(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("shards", c_uint),
        ("capacity_hint", c_size_t),
        ("seed", c_uint64),
        ("on_drop", c_void_p),
        ("ctx", c_void_p),
    ]


class MapStats(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("len", c_size_t),
        ("shards", c_size_t),
        ("buckets", c_size_t),
        ("shards_migrating", c_size_t),
        ("bytes", c_size_t),
        ("grows", c_uint64),
        ("shrinks", c_uint64),
        ("buckets_moved", c_uint64),
    ]


class View(Structure):
    _fields_ = [
        ("data", c_void_p),
        ("len", c_size_t),
        ("elem_size", c_size_t),
        ("internal", c_void_p * 4),
    ]


class Once(Structure):
    _fields_ = [("opaque", c_uint64 * 2)]


class PoolStats(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("gets", c_uint64),
        ("puts", c_uint64),
        ("hits", c_uint64),
        ("news", c_uint64),
        ("drops", c_uint64),
        ("idle", c_size_t),
    ]


class ReclaimStats(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("pending", c_size_t),
        ("threads", c_size_t),
        ("epoch", c_uint64),
        ("reclaimed", c_uint64),
    ]


# -------------------------------------------------------- callback types
# The ctx argument of the callbacks we pass a per-call Python object through
# is declared py_object: ctypes hands the object itself to the trampoline
# (the caller's frame keeps it alive for the whole call).
DESTROY_FN = CFUNCTYPE(None, c_void_p, c_void_p)
VISIT_FN = CFUNCTYPE(c_int, py_object, c_void_p, c_size_t, c_void_p, c_size_t)
UPDATE_FN = CFUNCTYPE(c_int, py_object, c_void_p, c_size_t, c_int,
                      POINTER(c_void_p), POINTER(c_size_t))
ONCE_TRY_FN = CFUNCTYPE(c_int, py_object)
POOL_NEW_FN = CFUNCTYPE(c_void_p, c_void_p)
POOL_OBJ_FN = CFUNCTYPE(None, c_void_p, c_void_p)


class PoolOptions(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("new_obj", POOL_NEW_FN),
        ("free_obj", POOL_OBJ_FN),
        ("reset_obj", POOL_OBJ_FN),
        ("ctx", c_void_p),
        ("max_idle", c_size_t),
    ]


_P = c_void_p
_SZ = c_size_t
_PSZ = POINTER(c_size_t)

# name: (restype, argtypes), grouped by the module that exports them.
PROTOTYPES = {
    "core": {
        "goconc_strerror": (c_char_p, [c_int]),
        "goconc_version_number": (c_uint, []),
        "goconc_version_string": (c_char_p, []),
        "goconc_read_lock": (None, []),
        "goconc_read_unlock": (None, []),
        "goconc_synchronize": (c_int, []),
        "goconc_barrier": (c_int, []),
        "goconc_reclaim_stats_get": (c_int, [POINTER(ReclaimStats)]),
        "goconc_once_do": (c_int, [POINTER(Once), _P, _P]),
        "goconc_once_try": (c_int, [POINTER(Once), ONCE_TRY_FN, py_object]),
        "goconc_once_done": (c_int, [POINTER(Once)]),
    },
    "map": {
        "goconc_map_new": (c_int, [POINTER(_P), POINTER(MapOptions)]),
        "goconc_map_free": (None, [_P]),
        "goconc_map_load": (c_int, [_P, _P, _SZ, _P, _SZ, _PSZ]),
        "goconc_map_store": (c_int, [_P, _P, _SZ, _P, _SZ]),
        "goconc_map_load_or_store": (c_int, [_P, _P, _SZ, _P, _SZ, _P, _SZ, _PSZ]),
        "goconc_map_load_and_delete": (c_int, [_P, _P, _SZ, _P, _SZ, _PSZ]),
        "goconc_map_delete": (c_int, [_P, _P, _SZ]),
        "goconc_map_swap": (c_int, [_P, _P, _SZ, _P, _SZ, _P, _SZ, _PSZ]),
        "goconc_map_compare_and_swap": (c_int, [_P, _P, _SZ, _P, _SZ, _P, _SZ]),
        "goconc_map_compare_and_delete": (c_int, [_P, _P, _SZ, _P, _SZ]),
        "goconc_map_update": (c_int, [_P, _P, _SZ, UPDATE_FN, py_object]),
        "goconc_map_range": (c_int, [_P, VISIT_FN, py_object]),
        "goconc_map_reserve": (c_int, [_P, _SZ]),
        "goconc_map_maintain": (c_int, [_P, _SZ, _PSZ]),
        "goconc_map_len": (c_size_t, [_P]),
        "goconc_map_clear": (c_int, [_P]),
        "goconc_map_stats_get": (c_int, [_P, POINTER(MapStats)]),
    },
    "slice": {
        "goconc_slice_new": (c_int, [POINTER(_P), _SZ, _SZ, _SZ]),
        "goconc_slice_free": (None, [_P]),
        "goconc_slice_len": (c_size_t, [_P]),
        "goconc_slice_cap": (c_size_t, [_P]),
        "goconc_slice_elem_size": (c_size_t, [_P]),
        "goconc_slice_get": (c_int, [_P, _SZ, _P]),
        "goconc_slice_set": (c_int, [_P, _SZ, _P]),
        "goconc_slice_append": (c_int, [_P, _P, _SZ, _PSZ]),
        "goconc_slice_reslice": (c_int, [_P, _SZ, _SZ, _SZ, POINTER(_P)]),
        "goconc_slice_copy": (c_int, [_P, _P, _PSZ]),
        "goconc_slice_clone": (c_int, [_P, POINTER(_P)]),
        "goconc_slice_snapshot": (c_int, [_P, POINTER(View)]),
        "goconc_view_release": (None, [POINTER(View)]),
    },
    "value": {
        "goconc_value_new": (c_int, [POINTER(_P), DESTROY_FN, _P]),
        "goconc_value_free": (None, [_P]),
        "goconc_value_load": (_P, [_P]),
        "goconc_value_store": (c_int, [_P, _P]),
        "goconc_value_swap": (c_int, [_P, _P, POINTER(_P)]),
        "goconc_value_compare_and_swap": (c_int, [_P, _P, _P]),
        "goconc_value_acquire": (_P, [_P]),
        "goconc_value_ref_get": (_P, [_P]),
        "goconc_value_release": (None, [_P]),
    },
    "pool": {
        "goconc_pool_new": (c_int, [POINTER(_P), POINTER(PoolOptions)]),
        "goconc_pool_free": (None, [_P]),
        "goconc_pool_get": (_P, [_P]),
        "goconc_pool_put": (None, [_P, _P]),
        "goconc_pool_trim": (None, [_P]),
        "goconc_pool_stats_get": (c_int, [_P, POINTER(PoolStats)]),
    },
}


def _open():
    path = os.environ.get("GOCONC_LIBRARY")
    name = path if path else "libgoconc.so.1"
    try:
        return ctypes.CDLL(name), name
    except OSError as e:
        where = ("GOCONC_LIBRARY=%r" % path) if path else \
            "libgoconc.so.1 (set GOCONC_LIBRARY to the library's path)"
        raise ImportError("goconc: cannot load %s: %s" % (where, e)) from e


lib, path = _open()

# Modules whose symbols this library lacks (a development build made with
# meson -Donly=...): the classes that need them raise ImportError on use.
missing = {}
for _module, _protos in PROTOTYPES.items():
    for _name, (_res, _args) in _protos.items():
        try:
            _f = getattr(lib, _name)
        except AttributeError:
            missing.setdefault(_module, []).append(_name)
            continue
        _f.restype = _res
        _f.argtypes = _args
if "core" in missing:
    raise ImportError("goconc: %s lacks %s" % (path, ", ".join(missing["core"])))


def require(module):
    """Raise ImportError when the loaded library lacks @module's symbols."""
    if module in missing:
        raise ImportError("goconc: the library at %s was built without the %s "
                          "module (missing %s)"
                          % (path, module, ", ".join(missing[module])))
