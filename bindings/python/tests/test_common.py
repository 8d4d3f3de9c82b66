# SPDX-License-Identifier: MIT
"""Loading, version, status codes and exceptions, struct layouts."""

import ctypes
import os
import subprocess
import sys
import textwrap
import unittest

import goconc
from goconc import _goconc
from goconc.errors import error_for


HERE = os.path.dirname(os.path.abspath(__file__))
PKG_ROOT = os.path.dirname(HERE)


def run_python(*parts, **env):
    """Run the concatenation of @parts (each dedented) in a fresh
    interpreter that imports goconc from this checkout."""
    code = "".join(textwrap.dedent(p) for p in parts)
    full = dict(os.environ)
    full["PYTHONPATH"] = PKG_ROOT + os.pathsep + full.get("PYTHONPATH", "")
    full.update(env)
    return subprocess.run([sys.executable, "-c", code],
                          env=full, capture_output=True, text=True, timeout=60)


class TestVersion(unittest.TestCase):
    def test_version_string_matches_number(self):
        n = goconc.version_number()
        self.assertEqual(goconc.version(),
                         "%d.%d.%d" % (n // 10000, n // 100 % 100, n % 100))

    def test_major_is_one(self):
        self.assertEqual(goconc.version_number() // 10000, 1)
        self.assertTrue(goconc.version().startswith("1."))

    def test_library_path(self):
        # The file really loaded: the preloaded GOCONC_LIBRARY when set.
        path = goconc.library_path()
        self.assertTrue(os.path.isabs(path), path)
        self.assertTrue(os.path.exists(path), path)
        want = os.environ.get("GOCONC_LIBRARY")
        if want:
            self.assertEqual(os.path.realpath(path), os.path.realpath(want))

    def test_found_without_variables(self):
        # The extension's run path finds the library it was built against.
        env = {k: v for k, v in os.environ.items()
               if k not in ("GOCONC_LIBRARY", "LD_LIBRARY_PATH")}
        r = subprocess.run(
            [sys.executable, "-c",
             "import goconc; print(goconc.library_path()); "
             "m = goconc.Map(); m[b'k'] = b'v'; print(m[b'k'])"],
            env=dict(env, PYTHONPATH=PKG_ROOT), capture_output=True,
            text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        path, val = r.stdout.split()
        self.assertTrue(os.path.exists(path), path)
        self.assertEqual(val, "b'v'")


class TestLoading(unittest.TestCase):
    def test_bad_goconc_library_is_import_error(self):
        r = run_python("""
            try:
                import goconc
            except ImportError as e:
                print("ImportError", e)
            """, GOCONC_LIBRARY="/nonexistent/libgoconc.so.1")
        self.assertIn("ImportError", r.stdout, r.stderr)
        self.assertIn("GOCONC_LIBRARY", r.stdout)


class TestErrors(unittest.TestCase):
    def test_status_values_are_pinned(self):
        self.assertEqual(
            (goconc.OK, goconc.NOTFOUND, goconc.EXISTS, goconc.CHANGED,
             goconc.STOPPED, goconc.ENOMEM, goconc.EBUSY, goconc.EINVAL,
             goconc.ERANGE, goconc.EDEADLK, goconc.EOVERFLOW),
            (0, 1, 2, 3, 4, -12, -16, -22, -34, -35, -75))

    def test_strerror_never_empty(self):
        for st in (0, 1, 2, 3, 4, -12, -16, -22, -34, -35, -75, 12345, -1):
            self.assertTrue(goconc.strerror(st))
        self.assertNotEqual(goconc.strerror(goconc.ENOMEM),
                            goconc.strerror(goconc.EINVAL))

    def test_builtin_bases(self):
        cases = [
            (goconc.ENOMEM, MemoryError, goconc.GoconcMemoryError),
            (goconc.EINVAL, ValueError, goconc.GoconcValueError),
            (goconc.ERANGE, IndexError, goconc.GoconcIndexError),
            (goconc.EOVERFLOW, OverflowError, goconc.GoconcOverflowError),
            (goconc.EDEADLK, RuntimeError, goconc.GoconcDeadlockError),
            (goconc.EBUSY, goconc.GoconcError, goconc.GoconcBusyError),
        ]
        for status, builtin, cls in cases:
            e = error_for(status)
            self.assertIsInstance(e, builtin)
            self.assertIsInstance(e, goconc.GoconcError)
            self.assertIs(type(e), cls)
            self.assertEqual(e.status, status)
            self.assertEqual(str(e), goconc.strerror(status))
            self.assertTrue(e.name.startswith("GOCONC_"))

    def test_unknown_status(self):
        e = error_for(-9999)
        self.assertIs(type(e), goconc.GoconcError)
        self.assertEqual(e.status, -9999)
        self.assertIsNone(e.name)

    def test_pickle_roundtrip(self):
        import pickle
        e = pickle.loads(pickle.dumps(error_for(goconc.EINVAL)))
        self.assertIsInstance(e, ValueError)
        self.assertEqual(e.status, goconc.EINVAL)

    def test_barrier_and_synchronize(self):
        self.assertIsNone(goconc.barrier())
        self.assertIsNone(goconc.synchronize())

    def test_barrier_inside_read_section_is_deadlock_error(self):
        _goconc._read_lock()
        try:
            with self.assertRaises(goconc.GoconcDeadlockError) as cm:
                goconc.barrier()
        finally:
            _goconc._read_unlock()
        self.assertEqual(cm.exception.status, goconc.EDEADLK)


class TestLayout(unittest.TestCase):
    """The extension was compiled against headers with the public structs'
    sizes (LP64 numbers, as tests/abi/structs.h) and the loaded library's
    version."""

    @unittest.skipUnless(ctypes.sizeof(ctypes.c_void_p) == 8, "LP64 sizes")
    def test_struct_sizes(self):
        self.assertEqual(_goconc.SIZEOF_ONCE, 16)
        self.assertEqual(_goconc.SIZEOF_VIEW, 56)

    def test_header_matches_library_major(self):
        self.assertEqual(_goconc.GOCONC_VERSION_NUMBER // 10000,
                         goconc.version_number() // 10000)


# The allocator can only be swapped while nothing is alive, so these run in
# a fresh interpreter: they drive real ENOMEM and EBUSY statuses through
# the bindings.
_ALLOC_PRELUDE = """
    import ctypes, goconc
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    ALLOC = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
    FREE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
    class Allocator(ctypes.Structure):
        _fields_ = [("struct_size", ctypes.c_size_t), ("alloc", ALLOC),
                    ("free", FREE), ("ctx", ctypes.c_void_p)]
    fail = [False]
    @ALLOC
    def alloc(ctx, size):
        return None if fail[0] else libc.malloc(size)
    @FREE
    def free(ctx, p):
        libc.free(p)
    a = Allocator(ctypes.sizeof(Allocator), alloc, free, None)
    set_allocator = ctypes.CDLL(goconc.library_path()).goconc_set_allocator
    set_allocator.argtypes = [ctypes.c_void_p]
    set_allocator.restype = ctypes.c_int
"""


class TestRealStatuses(unittest.TestCase):
    def test_enomem_is_memory_error_and_ebusy(self):
        # The allocator's callbacks are Python functions: the process ends
        # with os._exit so that no library destructor calls them after the
        # interpreter is gone.
        r = run_python(_ALLOC_PRELUDE, """
            import os, sys, traceback
            try:
                assert set_allocator(ctypes.byref(a)) == 0, "set_allocator"
                fail[0] = True
                try:
                    goconc.Map()
                except MemoryError as e:
                    assert isinstance(e, goconc.GoconcError)
                    print("ENOMEM", e.status)
                fail[0] = False
                m = goconc.Map()
                model = {}
                fail[0] = True
                for i in range(10000):      # until a store needs memory
                    k, v = b"k%d" % i, bytes(1000)
                    try:
                        m[k] = v
                    except MemoryError:
                        print("store ENOMEM")
                        break
                    model[k] = v
                fail[0] = False
                assert dict(m.items()) == model, "unchanged after ENOMEM"
                m[b"after"] = b"ok"            # and still usable
                assert m[b"after"] == b"ok"
                print("EBUSY", set_allocator(None))
                m.close()
                goconc.barrier()
                print("restored", set_allocator(None))
                code = 0
            except BaseException:
                traceback.print_exc()
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
            """)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ENOMEM -12", r.stdout)
        self.assertIn("store ENOMEM", r.stdout)
        self.assertIn("EBUSY -16", r.stdout)
        self.assertIn("restored 0", r.stdout)

    def test_einval_is_value_error(self):
        with self.assertRaises(ValueError) as cm:
            goconc.Map(shards=3)            # not a power of two
        self.assertEqual(cm.exception.status, goconc.EINVAL)


if __name__ == "__main__":
    unittest.main()
