# SPDX-License-Identifier: MIT
"""Copying, pickling, argument ranges and the dict/list-like protocol."""

import copy
import pickle
import struct
import threading
import unittest

import goconc


class TestCopyAndPickle(unittest.TestCase):
    """A copy is a new, independent object (as for dict and list): closing
    or changing one never touches the other, and nothing is freed twice."""

    def check_independent(self, a, b, mutate, read):
        self.assertIsNot(a, b)
        before = read(b)
        mutate(a)
        self.assertEqual(read(b), before)
        a.close()
        self.assertEqual(read(b), before)   # b's handle is its own
        b.close()

    def test_map(self):
        for how in (copy.copy, copy.deepcopy,
                    lambda m: pickle.loads(pickle.dumps(m)), goconc.Map.copy):
            m = goconc.Map({b"a": b"1", b"b": b"2"})
            c = how(m)
            self.assertIsInstance(c, goconc.Map)
            self.assertEqual(dict(c.items()), {b"a": b"1", b"b": b"2"})

            def mutate(x):
                x[b"a"] = b"changed"
                del x[b"b"]
            self.check_independent(m, c, mutate, lambda x: dict(x.items()))

    def test_slice(self):
        for fmt, items in (("q", [1, 2, 3]), ("qd", [(1, 0.5), (2, 1.5)]),
                           ("4s", [b"ab", b"cd"])):
            for how in (copy.copy, copy.deepcopy,
                        lambda s: pickle.loads(pickle.dumps(s))):
                s = goconc.Slice(fmt, items)
                c = how(s)
                self.assertIsInstance(c, goconc.Slice)
                self.assertEqual(c.format, s.format)
                self.assertEqual(c.tolist(), s.tolist())

                def mutate(x, first=items[0]):
                    x.append(first)
                    x[0] = items[-1]
                self.check_independent(s, c, mutate, lambda x: x.tolist())

    def test_value(self):
        for how in (copy.copy, copy.deepcopy,
                    lambda v: pickle.loads(pickle.dumps(v))):
            v = goconc.Value([1, 2])
            c = how(v)
            self.assertIsInstance(c, goconc.Value)
            self.assertEqual(c.load(), [1, 2])
            self.check_independent(v, c, lambda x: x.store([3]),
                                   lambda x: x.load())
        v = goconc.Value()
        self.assertIsNone(copy.copy(v).load())
        inner = [1]
        self.assertIs(copy.copy(goconc.Value(inner)).load(), inner)
        self.assertIsNot(copy.deepcopy(goconc.Value(inner)).load(), inner)

    def test_view_copies_and_pickles_as_a_list(self):
        s = goconc.Slice("i", [4, 5, 6])
        with s.snapshot() as view:
            for how in (copy.copy, copy.deepcopy,
                        lambda x: pickle.loads(pickle.dumps(x))):
                self.assertEqual(how(view), [4, 5, 6])
                self.assertIs(type(how(view)), list)

    def test_once_and_pool_refuse(self):
        for obj in (goconc.Once(), goconc.Pool(list)):
            for how in (copy.copy, copy.deepcopy, pickle.dumps):
                with self.assertRaises(TypeError, msg=(obj, how)):
                    how(obj)

    def test_closed_objects_do_not_copy(self):
        for obj in (goconc.Map(), goconc.Slice("q"), goconc.Value(b"x")):
            obj.close()
            with self.assertRaises(ValueError):
                copy.copy(obj)


class TestArgumentRanges(unittest.TestCase):
    """Integers that do not fit the C argument raise instead of wrapping."""

    def test_map_options(self):
        for kw in ({"shards": 2 ** 32}, {"shards": 2 ** 33},
                   {"capacity_hint": 2 ** 64}, {"seed": 2 ** 64}):
            with self.assertRaises(OverflowError, msg=kw):
                goconc.Map(**kw)
        for kw in ({"shards": -1}, {"capacity_hint": -1}, {"seed": -1}):
            with self.assertRaises(ValueError, msg=kw):
                goconc.Map(**kw)
        with self.assertRaises(TypeError):
            goconc.Map(shards=1.5)
        with goconc.Map(shards=4, capacity_hint=10, seed=2 ** 64 - 1) as m:
            self.assertEqual(m.stats().shards, 4)

    def test_map_methods(self):
        with goconc.Map() as m:
            with self.assertRaises(ValueError):
                m.reserve(-1)
            with self.assertRaises(OverflowError):
                m.reserve(2 ** 64)
            with self.assertRaises(ValueError):
                m.maintain(-5)

    def test_pool_and_slice(self):
        with self.assertRaises(ValueError):
            goconc.Pool(max_idle=-1)
        with self.assertRaises(OverflowError):
            goconc.Pool(max_idle=2 ** 64)
        with self.assertRaises(ValueError):
            goconc.Slice("q", length=-1)
        with self.assertRaises(OverflowError):
            goconc.Slice("q", capacity=2 ** 64)
        with self.assertRaises(IndexError):
            goconc.Slice("q", [1])[2 ** 70]


class TestMapProtocol(unittest.TestCase):
    def setUp(self):
        self.m = goconc.Map({b"a": b"1", b"b": b"2"})

    def tearDown(self):
        self.m.close()

    def test_wrong_key_type_is_absent(self):
        self.assertNotIn("a", self.m)
        self.assertNotIn(1, self.m)
        self.assertNotIn(None, self.m)
        self.assertIsNone(self.m.get("a"))
        self.assertEqual(self.m.get(1, b"d"), b"d")
        with self.assertRaises(TypeError):
            self.m["a"]                 # as a lookup, it is still an error

    def test_equality(self):
        self.assertEqual(self.m, {b"a": b"1", b"b": b"2"})
        self.assertEqual({b"a": b"1", b"b": b"2"}, self.m)
        self.assertEqual(self.m, goconc.Map({b"b": b"2", b"a": b"1"}))
        self.assertNotEqual(self.m, {b"a": b"1"})
        self.assertNotEqual(self.m, goconc.Map({b"a": b"1", b"b": b"3"}))
        self.assertNotEqual(self.m, [b"a", b"b"])
        with self.assertRaises(TypeError):
            hash(self.m)

    def test_union_operators(self):
        u = self.m | {b"b": b"x", b"c": b"3"}
        self.assertIsInstance(u, goconc.Map)
        self.assertEqual(u, {b"a": b"1", b"b": b"x", b"c": b"3"})
        self.assertEqual(self.m, {b"a": b"1", b"b": b"2"})
        r = {b"b": b"x", b"c": b"3"} | self.m
        self.assertEqual(r, {b"a": b"1", b"b": b"2", b"c": b"3"})
        m = self.m
        m |= {b"z": b"26"}
        self.assertIs(m, self.m)
        self.assertEqual(self.m[b"z"], b"26")
        with self.assertRaises(TypeError):
            self.m | [1]

    def test_fromkeys_setdefault_popitem(self):
        f = goconc.Map.fromkeys([b"x", b"y"], b"0")
        self.assertEqual(f, {b"x": b"0", b"y": b"0"})
        self.assertEqual(goconc.Map.fromkeys([b"k"]), {b"k": b""})
        self.assertEqual(self.m.setdefault(b"a", b"no"), b"1")
        self.assertEqual(self.m.setdefault(b"n", b"new"), b"new")
        seen = {}
        while self.m:
            k, v = self.m.popitem()
            seen[k] = v
        self.assertEqual(seen, {b"a": b"1", b"b": b"2", b"n": b"new"})

    def test_repr(self):
        self.assertEqual(repr(goconc.Map({b"k": b"v"})), "goconc.Map({b'k': b'v'})")
        big = goconc.Map({b"%03d" % i: b"v" for i in range(100)})
        r = repr(big)
        self.assertIn("...", r)
        self.assertIn("len=100", r)
        self.assertEqual(r.count(": b'v'"), 16)
        r = repr(goconc.Map({b"k": b"x" * 100000}))
        self.assertLess(len(r), 200)
        self.assertIn("...", r)
        self.assertLess(len(repr(goconc.Value(list(range(100000))))), 200)


class TestSequenceProtocol(unittest.TestCase):
    def test_equality(self):
        s = goconc.Slice("q", [1, 2, 3])
        self.assertEqual(s, [1, 2, 3])
        self.assertEqual([1, 2, 3], s)
        self.assertEqual(s, (1, 2, 3))
        self.assertEqual(s, goconc.Slice("i", [1, 2, 3]))
        self.assertNotEqual(s, [1, 2])
        self.assertNotEqual(s, b"\x01\x02\x03")
        with s.snapshot() as v:
            self.assertEqual(v, s)
            self.assertEqual(v, [1, 2, 3])
            s.append(4)
            self.assertNotEqual(v, s)
        with self.assertRaises(TypeError):
            hash(s)

    def test_iadd(self):
        s = goconc.Slice("d", [0.5])
        t = s
        t += [1.5, 2.5]
        self.assertIs(t, s)
        self.assertEqual(s, [0.5, 1.5, 2.5])

    def test_wrong_element_type_is_type_error(self):
        for fmt, bad in (("q", "1"), ("q", 1.5), ("Q", None), ("d", "x"),
                         ("f", b"x"), ("qd", (1, "x")), ("qd", 5),
                         ("4s", 7), ("H", [1]), ("?h", (True,))):
            s = goconc.Slice(fmt)
            with self.assertRaises(TypeError, msg=(fmt, bad)):
                s.append(bad)
            with self.assertRaises(goconc.ElementTypeError, msg=(fmt, bad)):
                s.extend([bad])
            # Also a struct.error, as struct.pack raised before.
            with self.assertRaises(struct.error, msg=(fmt, bad)):
                s.append(bad)
            self.assertEqual(len(s), 0)

    def test_out_of_range_is_struct_error_not_type_error(self):
        for fmt, big in (("b", 128), ("B", -1), ("h", 1 << 15), ("H", 1 << 16),
                         ("i", 1 << 31), ("I", 1 << 32), ("q", 1 << 63),
                         ("Q", 1 << 64), ("3b", (1, 2, 300))):
            s = goconc.Slice(fmt)
            with self.assertRaises(struct.error, msg=(fmt, big)) as cm:
                s.append(big)
            self.assertNotIsInstance(cm.exception, TypeError)

    def test_native_formats_round_trip(self):
        cases = {"b": [-128, 127], "B": [0, 255], "h": [-32768, 32767],
                 "H": [0, 65535], "i": [-2 ** 31, 2 ** 31 - 1],
                 "I": [0, 2 ** 32 - 1], "l": [-2 ** 63, 2 ** 63 - 1],
                 "L": [0, 2 ** 64 - 1], "q": [-2 ** 63, 2 ** 63 - 1],
                 "Q": [0, 2 ** 64 - 1], "n": [-1, 5], "N": [0, 7],
                 "f": [0.5, -2.25], "d": [1e300, -0.0],
                 "<q": [1, -1], "@d": [0.1]}
        for fmt, vals in cases.items():
            s = goconc.Slice(fmt, vals)
            self.assertEqual([s[i] for i in range(len(vals))], vals, fmt)
            self.assertEqual(s.tolist(), vals, fmt)
            self.assertEqual(s.snapshot().tobytes(),
                             struct.pack("%d%s" % (len(vals), fmt.lstrip("<@")),
                                         *vals) if fmt[0] not in "<" else
                             b"".join(struct.pack(fmt, v) for v in vals))

    def test_consistent_after_close(self):
        s = goconc.Slice("q", [1, 2])
        v = s.snapshot()
        v.close()
        for op in (len, list, lambda x: x[0], lambda x: x[0:1],
                   lambda x: x.tobytes(), lambda x: x.tolist(),
                   lambda x: 1 in x):
            with self.assertRaises(ValueError, msg=op):
                op(v)
        self.assertIn("closed", repr(v))
        s.close()
        for op in (len, list, lambda x: x[0], lambda x: x.append(1),
                   lambda x: x.extend([1]), lambda x: x.snapshot(),
                   lambda x: x.cap(), lambda x: x.tolist()):
            with self.assertRaises(ValueError, msg=op):
                op(s)
        self.assertIn("closed", repr(s))


class TestValueObjects(unittest.TestCase):
    def test_holds_any_object_and_compares_by_equality(self):
        v = goconc.Value({"a": 1})
        self.assertFalse(v.compare_and_swap({"a": 2}, "x"))
        self.assertTrue(v.compare_and_swap({"a": 1}, "x"))
        self.assertEqual(v.load(), "x")
        self.assertEqual(v.swap(42), "x")
        self.assertEqual(v.load(), 42)

    def test_cas_compare_may_run_python_and_other_threads(self):
        # == runs Python code (which may switch threads); the compared
        # object stays referenced meanwhile, and a store in between makes
        # the swap retry instead of swapping a stale object.
        v = goconc.Value()
        calls = []

        class Slow:
            def __eq__(self, other):
                calls.append(1)
                if len(calls) == 1:
                    t = threading.Thread(target=v.store, args=(Slow(),))
                    t.start()
                    t.join()
                return True

            __hash__ = None

        v.store(Slow())
        self.assertTrue(v.compare_and_swap(Slow(), "done"))
        self.assertEqual(len(calls), 2)
        self.assertEqual(v.load(), "done")


if __name__ == "__main__":
    unittest.main()
