# SPDX-License-Identifier: MIT
"""goconc.Pool."""

import gc
import threading
import unittest
import weakref

import goconc

from .support import run_threads


class Obj:
    def __init__(self, n):
        self.n = n


def alive(refs):
    """How many of @refs still have their object, once the objects the
    pool dropped are released."""
    goconc.barrier()
    return sum(r() is not None for r in refs)


class TestPool(unittest.TestCase):
    def test_new_then_reuse_on_the_same_thread(self):
        made = []

        def new():
            b = bytearray(64)
            made.append(b)
            return b

        with goconc.Pool(new) as p:
            a = p.get()
            self.assertIs(a, made[0])
            p.put(a)
            self.assertIs(p.get(), a)       # this thread's cache
            b = p.get()                     # empty again: new()
            self.assertIsNot(b, a)
            self.assertEqual(len(made), 2)
            st = p.stats()
            self.assertEqual((st.gets, st.puts, st.hits, st.news),
                             (3, 1, 1, 2))

    def test_without_new(self):
        p = goconc.Pool()
        self.assertIsNone(p.get())
        p.put([1])
        self.assertEqual(p.get(), [1])
        self.assertIsNone(p.get())
        p.put(None)                         # ignored
        self.assertIsNone(p.get())
        p.close()

    def test_reset_runs_on_put(self):
        p = goconc.Pool(list, reset=lambda obj: obj.clear())
        x = p.get()
        x.extend([1, 2])
        p.put(x)
        y = p.get()
        self.assertIs(y, x)
        self.assertEqual(y, [])
        p.close()

    def test_reset_exception_keeps_object_out(self):
        def reset(obj):
            raise ValueError("dirty")
        p = goconc.Pool(reset=reset)
        with self.assertRaises(ValueError):
            p.put([1])
        self.assertIsNone(p.get())
        self.assertEqual(p.stats().puts, 0)
        p.close()

    def test_new_exception_propagates_from_get(self):
        def new():
            raise OSError("no")
        p = goconc.Pool(new)
        with self.assertRaises(OSError):
            p.get()
        p.put("cached")
        self.assertEqual(p.get(), "cached")
        p.close()

    def test_cached_objects_are_exactly_the_idle_ones(self):
        p = goconc.Pool(max_idle=8)
        refs = []
        for i in range(100):
            o = Obj(i)
            refs.append(weakref.ref(o))
            p.put(o)
        del o
        st = p.stats()
        self.assertEqual(alive(refs), st.idle)
        self.assertEqual(st.drops + st.idle, 100)
        p.trim()
        p.trim()                            # idle across two trims: dropped
        st = p.stats()
        self.assertEqual(st.idle, 0)
        self.assertEqual(alive(refs), 0)
        self.assertEqual(st.drops, 100)
        p.close()

    def test_close_drops_everything(self):
        p = goconc.Pool()
        refs = []
        for i in range(10):
            o = Obj(i)
            refs.append(weakref.ref(o))
            p.put(o)
        del o
        p.close()
        self.assertEqual(alive(refs), 0)
        with self.assertRaises(ValueError):
            p.get()
        with self.assertRaises(ValueError):
            p.put(Obj(0))

    def test_unreferenced_pool_is_freed(self):
        p = goconc.Pool(list)
        o = Obj(1)
        ref = weakref.ref(o)
        p.put(o)
        del p, o
        gc.collect()
        goconc.barrier()
        self.assertIsNone(ref())

    def test_bad_arguments(self):
        with self.assertRaises(ValueError):
            goconc.Pool(max_idle=-1)
        with self.assertRaises(OverflowError):
            goconc.Pool(max_idle=2 ** 64)
        with self.assertRaises(TypeError):
            goconc.Pool(new=42)

    def test_threads_never_share_an_object(self):
        p = goconc.Pool(lambda: {"owner": None})
        conflicts = []
        lock = threading.Lock()

        def worker(t):
            for _ in range(2000):
                obj = p.get()
                with lock:
                    if obj["owner"] is not None:
                        conflicts.append(obj)
                    obj["owner"] = t
                with lock:
                    obj["owner"] = None
                p.put(obj)

        run_threads(4, worker)
        self.assertEqual(conflicts, [])
        st = p.stats()
        self.assertEqual(st.gets, 8000)
        self.assertEqual(st.puts, 8000)
        self.assertEqual(st.hits + st.news, 8000)
        self.assertLessEqual(st.news, 4 + st.drops + st.idle)
        p.close()


if __name__ == "__main__":
    unittest.main()
