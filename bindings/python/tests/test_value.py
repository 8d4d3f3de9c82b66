"""goconc.Value."""

import gc
import struct
import threading
import unittest

import goconc
from goconc import value as value_module

from .support import needs, run_threads


def settled():
    """The number of registered objects once nothing is pending: collect
    cyclic garbage (a traceback can hold a Value) and run the deferred
    destroys."""
    gc.collect()
    goconc.barrier()
    return len(value_module._objects)


@needs("value")
class TestValue(unittest.TestCase):
    def test_empty(self):
        with goconc.Value() as v:
            self.assertIsNone(v.load())
            self.assertIn("empty", repr(v))

    def test_store_load_returns_the_same_object(self):
        v = goconc.Value()
        b = b"hello" * 10
        v.store(b)
        self.assertIs(v.load(), b)
        v.store(b"x")
        self.assertEqual(v.load(), b"x")
        v.close()

    def test_initial(self):
        self.assertEqual(goconc.Value(b"init").load(), b"init")

    def test_bytes_like_is_copied(self):
        ba = bytearray(b"abc")
        v = goconc.Value(ba)
        ba[0] = ord("z")
        self.assertEqual(v.load(), b"abc")
        self.assertIs(type(v.load()), bytes)

    def test_bad_arguments(self):
        v = goconc.Value()
        with self.assertRaises(ValueError):
            v.store(None)
        with self.assertRaises(ValueError):
            v.swap(None)
        with self.assertRaises(ValueError):
            v.compare_and_swap(None, None)
        with self.assertRaises(TypeError):
            v.store("text")
        self.assertIsNone(v.load())

    def test_swap(self):
        v = goconc.Value()
        self.assertIsNone(v.swap(b"a"))
        self.assertEqual(v.swap(b"b"), b"a")
        self.assertEqual(v.load(), b"b")

    def test_compare_and_swap_by_equality(self):
        v = goconc.Value()
        self.assertFalse(v.compare_and_swap(b"x", b"y"))     # empty
        self.assertTrue(v.compare_and_swap(None, b"first"))  # only if empty
        self.assertFalse(v.compare_and_swap(None, b"second"))
        self.assertEqual(v.load(), b"first")
        # An equal but distinct bytes object compares equal, as in Go.
        self.assertTrue(v.compare_and_swap(bytes(bytearray(b"first")), b"2"))
        self.assertFalse(v.compare_and_swap(b"first", b"3"))
        self.assertEqual(v.load(), b"2")

    def test_same_object_stored_twice(self):
        b = b"shared"
        v, w = goconc.Value(b), goconc.Value(b)
        v.store(b)
        v.store(b"other")
        goconc.barrier()
        self.assertIs(w.load(), b)
        self.assertEqual(v.load(), b"other")

    def test_replaced_objects_are_released(self):
        base = settled()
        v = goconc.Value()
        for i in range(200):
            v.store(b"%d" % i)
        self.assertEqual(settled(), base + 1)   # only the current one
        v.close()
        self.assertEqual(settled(), base)

    def test_failed_cas_registers_nothing(self):
        v = goconc.Value(b"a")
        base = settled()
        for _ in range(50):
            self.assertFalse(v.compare_and_swap(b"zz", b"b"))
        self.assertEqual(settled(), base)

    def test_closed(self):
        v = goconc.Value(b"a")
        v.close()
        with self.assertRaises(ValueError):
            v.load()
        with self.assertRaises(ValueError):
            v.store(b"b")
        goconc.barrier()


@needs("value")
class TestValueThreads(unittest.TestCase):
    def test_loads_are_linearizable(self):
        # Writers store (writer, seq); each reader must never see a writer's
        # sequence go backwards.
        v = goconc.Value(struct.pack("<II", 0, 0))
        stop = threading.Event()
        bad = []

        def reader():
            last = {}
            while not stop.is_set():
                w, seq = struct.unpack("<II", v.load())
                if seq < last.get(w, 0):
                    bad.append((w, seq, last[w]))
                last[w] = seq

        readers = [threading.Thread(target=reader, daemon=True)
                   for _ in range(2)]
        for r in readers:
            r.start()
        try:
            run_threads(3, lambda t: [v.store(struct.pack("<II", t + 1, i))
                                      for i in range(1, 3001)])
        finally:
            stop.set()
            for r in readers:
                r.join(10)
        self.assertEqual(bad, [])
        v.close()
        goconc.barrier()

    def test_cas_counter(self):
        v = goconc.Value(b"0")
        per = 400

        def incr(_):
            for _ in range(per):
                while True:
                    old = v.load()
                    if v.compare_and_swap(old, b"%d" % (int(old) + 1)):
                        break

        run_threads(4, incr)
        self.assertEqual(int(v.load()), 4 * per)
        v.close()
        goconc.barrier()


if __name__ == "__main__":
    unittest.main()
