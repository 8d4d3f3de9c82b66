# SPDX-License-Identifier: MIT
"""goconc.Map."""

import sys
import threading
import time
import unittest
from collections.abc import MutableMapping

import goconc

from .support import run_threads


class TestMapBasics(unittest.TestCase):
    def setUp(self):
        self.m = goconc.Map()

    def tearDown(self):
        self.m.close()

    def test_is_mutable_mapping(self):
        self.assertIsInstance(self.m, MutableMapping)

    def test_set_get_del_contains_len(self):
        m = self.m
        self.assertEqual(len(m), 0)
        m[b"a"] = b"1"
        m[b"b"] = b"22"
        self.assertEqual(m[b"a"], b"1")
        self.assertEqual(m[b"b"], b"22")
        self.assertIn(b"a", m)
        self.assertNotIn(b"c", m)
        self.assertEqual(len(m), 2)
        m[b"a"] = b"one"
        self.assertEqual(m[b"a"], b"one")
        del m[b"a"]
        self.assertNotIn(b"a", m)
        self.assertEqual(len(m), 1)

    def test_values_of_every_length(self):
        # m[k] copies through a buffer on the stack up to 1 KiB and into a
        # bytes object of the reported length beyond; both sides of the
        # line, and overwrites that cross it either way.
        m = self.m
        lengths = [0, 1, 7, 8, 9, 255, 1023, 1024, 1025, 4096, 1 << 20]
        for n in lengths:
            m[b"k%d" % n] = bytes(range(256)) * (n // 256) + b"x" * (n % 256)
        for n in lengths:
            v = m[b"k%d" % n]
            self.assertEqual(len(v), n)
            self.assertEqual(v, m.get(b"k%d" % n))
        for a, b in zip(lengths, reversed(lengths)):
            m[b"k%d" % a] = b"y" * b
            self.assertEqual(m[b"k%d" % a], b"y" * b)

    def test_small_overwrites_read_back(self):
        # Keys and values of at most 8 bytes are rewritten in place (the
        # map lends nothing); every read sees the last value stored.
        m = self.m
        for i in range(2000):
            m[b"%07d" % (i % 50)] = b"%08d" % i
            self.assertEqual(m[b"%07d" % (i % 50)], b"%08d" % i)
        self.assertEqual(len(m), 50)
        self.assertEqual(m.swap(b"0000049", b"12345678"), (b"%08d" % 1999, True))
        self.assertEqual(m[b"0000049"], b"12345678")

    def test_missing_key_raises_key_error(self):
        with self.assertRaises(KeyError) as cm:
            self.m[b"nope"]
        self.assertEqual(cm.exception.args[0], b"nope")
        with self.assertRaises(KeyError):
            del self.m[b"nope"]
        self.assertIsNone(self.m.get(b"nope"))
        self.assertEqual(self.m.get(b"nope", b"d"), b"d")

    def test_key_types(self):
        self.m[bytearray(b"ba")] = memoryview(b"mv")
        self.assertEqual(self.m[b"ba"], b"mv")
        self.assertEqual(self.m[memoryview(b"ba")], b"mv")
        with self.assertRaises(TypeError):
            self.m["str"] = b"x"
        with self.assertRaises(TypeError):
            self.m[b"k"] = "str"
        with self.assertRaises(TypeError):
            self.m[1]

    def test_empty_key_and_value(self):
        self.m[b""] = b""
        self.assertIn(b"", self.m)
        self.assertEqual(self.m[b""], b"")
        self.assertEqual(list(self.m), [b""])

    def test_large_values_grow_the_buffer(self):
        for size in (255, 256, 257, 4096, 1 << 20):
            v = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
            self.m[b"big"] = v
            self.assertEqual(self.m[b"big"], v)
            self.assertEqual(self.m.swap(b"big", b"s"), (v, True))
            self.m[b"big"] = v
            self.assertEqual(self.m.load_or_store(b"big", b"no"), (v, True))
            self.assertEqual(self.m.load_and_delete(b"big"), (v, True))

    def test_iteration_views_and_dict_methods(self):
        ref = {b"k%d" % i: b"v%d" % i for i in range(100)}
        self.m.update(ref)
        self.assertEqual(sorted(self.m), sorted(ref))
        self.assertEqual(sorted(self.m.keys()), sorted(ref))
        self.assertEqual(sorted(self.m.items()), sorted(ref.items()))
        self.assertEqual(sorted(self.m.values()), sorted(ref.values()))
        self.assertEqual(dict(self.m), ref)
        self.assertEqual(self.m, ref)
        self.assertIn((b"k5", b"v5"), self.m.items())
        self.assertEqual(self.m.pop(b"k1"), b"v1")
        self.assertEqual(self.m.pop(b"k1", b"dflt"), b"dflt")
        with self.assertRaises(KeyError):
            self.m.pop(b"k1")
        self.assertEqual(self.m.setdefault(b"k2", b"zz"), b"v2")
        self.assertEqual(self.m.setdefault(b"new", b"zz"), b"zz")
        k, v = self.m.popitem()
        self.assertEqual(ref.get(k, b"zz"), v)
        self.assertNotIn(k, self.m)

    def test_popitem_empty(self):
        with self.assertRaises(KeyError):
            self.m.popitem()

    def test_popitem_drains(self):
        ref = {b"%d" % i: b"v%d" % i for i in range(300)}
        self.m.update(ref)
        got = {}
        while self.m:
            k, v = self.m.popitem()
            got[k] = v
        self.assertEqual(got, ref)

    def test_constructor_takes_a_mapping(self):
        with goconc.Map({b"a": b"1"}, capacity_hint=1000, seed=42) as m:
            self.assertEqual(dict(m), {b"a": b"1"})

    def test_load_or_store(self):
        self.assertEqual(self.m.load_or_store(b"k", b"v1"), (b"v1", False))
        self.assertEqual(self.m.load_or_store(b"k", b"v2"), (b"v1", True))
        self.assertEqual(self.m[b"k"], b"v1")

    def test_load_and_delete(self):
        self.assertEqual(self.m.load_and_delete(b"k"), (None, False))
        self.m[b"k"] = b"v"
        self.assertEqual(self.m.load_and_delete(b"k"), (b"v", True))
        self.assertNotIn(b"k", self.m)

    def test_swap(self):
        self.assertEqual(self.m.swap(b"k", b"v1"), (None, False))
        self.assertEqual(self.m.swap(b"k", b"v2"), (b"v1", True))
        self.assertEqual(self.m[b"k"], b"v2")

    def test_compare_and_swap_and_delete(self):
        self.assertFalse(self.m.compare_and_swap(b"k", b"a", b"b"))
        self.assertFalse(self.m.compare_and_delete(b"k", b"a"))
        self.m[b"k"] = b"a"
        self.assertFalse(self.m.compare_and_swap(b"k", b"x", b"b"))
        self.assertEqual(self.m[b"k"], b"a")
        self.assertTrue(self.m.compare_and_swap(b"k", b"a", b"b"))
        self.assertEqual(self.m[b"k"], b"b")
        self.assertFalse(self.m.compare_and_delete(b"k", b"a"))
        self.assertTrue(self.m.compare_and_delete(b"k", b"b"))
        self.assertNotIn(b"k", self.m)

    def test_clear_and_stats(self):
        for i in range(1000):
            self.m[b"%d" % i] = b"x"
        st = self.m.stats()
        self.assertEqual(st.len, 1000)
        self.assertGreaterEqual(st.shards, 1)
        self.assertEqual(st.shards & (st.shards - 1), 0)
        self.assertGreater(st.buckets, 0)
        self.assertGreater(st.bytes, 0)
        self.m.clear()
        self.assertEqual(len(self.m), 0)
        self.assertEqual(self.m.stats().len, 0)
        self.assertEqual(list(self.m), [])

    def test_reserve_and_maintain(self):
        self.m.reserve(10000)
        while self.m.maintain(64):
            pass
        self.assertEqual(self.m.stats().shards_migrating, 0)
        self.m[b"k"] = b"v"
        self.assertEqual(self.m[b"k"], b"v")

    def test_bad_options(self):
        with self.assertRaises(goconc.GoconcValueError):
            goconc.Map(shards=6)


class TestMapCompute(unittest.TestCase):
    def setUp(self):
        self.m = goconc.Map()

    def tearDown(self):
        self.m.close()

    def test_store_keep_delete(self):
        self.assertEqual(self.m.compute(b"k", lambda old: b"1" if old is None
                                        else b"x"), b"1")
        self.assertEqual(self.m.compute(b"k", lambda old: old + b"2"), b"12")
        self.assertEqual(self.m.compute(b"k", lambda old: goconc.KEEP), b"12")
        self.assertEqual(self.m[b"k"], b"12")
        self.assertIsNone(self.m.compute(b"k", lambda old: None))
        self.assertNotIn(b"k", self.m)
        self.assertIsNone(self.m.compute(b"absent", lambda old: None))
        self.assertIsNone(self.m.compute(b"absent", lambda old: goconc.KEEP))
        self.assertNotIn(b"absent", self.m)

    def test_exception_propagates_and_changes_nothing(self):
        self.m[b"k"] = b"v"

        def boom(old):
            raise ZeroDivisionError("boom")
        with self.assertRaises(ZeroDivisionError):
            self.m.compute(b"k", boom)
        self.assertEqual(self.m[b"k"], b"v")
        with self.assertRaises(TypeError):
            self.m.compute(b"k", lambda old: 12)
        self.assertEqual(self.m[b"k"], b"v")

    def test_fn_may_read_but_not_write(self):
        self.m[b"other"] = b"o"
        seen = []

        def fn(old):
            seen.append(self.m[b"other"])
            try:
                self.m[b"other"] = b"w"
            except goconc.GoconcDeadlockError as e:
                seen.append(e.status)
            return b"new"
        self.assertEqual(self.m.compute(b"k", fn), b"new")
        self.assertEqual(seen, [b"o", goconc.EDEADLK])
        self.assertEqual(self.m[b"other"], b"o")

    def test_gil_is_released_while_blocked(self):
        # Thread A holds the key's write side inside compute; thread B then
        # blocks storing the same key.  B waits inside the library: if that
        # wait held the GIL, A's function could never finish.
        entered = threading.Event()
        b_started = threading.Event()
        order = []

        def fn(old):
            entered.set()
            self.assertTrue(b_started.wait(10))
            time.sleep(0.05)        # let B reach the library and block
            order.append("A")
            return b"from A"

        a = threading.Thread(target=lambda: self.m.compute(b"k", fn), daemon=True)
        a.start()
        self.assertTrue(entered.wait(10))

        def b_body():
            b_started.set()
            self.m[b"k"] = b"from B"
            order.append("B")
        b = threading.Thread(target=b_body, daemon=True)
        b.start()
        a.join(10)
        b.join(10)
        self.assertFalse(a.is_alive() or b.is_alive(), "deadlock")
        self.assertEqual(order, ["A", "B"])
        self.assertEqual(self.m[b"k"], b"from B")


    def test_writers_of_other_keys_in_the_shard_do_not_deadlock(self):
        # compute's function holds its key's shard: with one shard, every
        # writer waits for it, and must do so without the GIL.
        m = goconc.Map(shards=1)
        entered = threading.Event()
        done = []

        def fn(old):
            entered.set()
            time.sleep(0.1)         # writers reach the library meanwhile
            return b"c"

        def writer(t):
            entered.wait(10)
            for i in range(200):
                m[b"w%d-%d" % (t, i)] = b"x"
                m.load_or_store(b"s%d-%d" % (t, i), b"y")
                m.pop(b"w%d-%d" % (t, i))
            done.append(t)

        ws = [threading.Thread(target=writer, args=(t,), daemon=True)
              for t in range(3)]
        for w in ws:
            w.start()
        self.assertEqual(m.compute(b"k", fn), b"c")
        for w in ws:
            w.join(30)
        self.assertEqual(sorted(done), [0, 1, 2], "deadlock")
        self.assertEqual(len(m), 1 + 3 * 200)
        m.close()


class TestMapLifetime(unittest.TestCase):
    def test_close_and_context_manager(self):
        with goconc.Map() as m:
            m[b"k"] = b"v"
        self.assertTrue(m.closed)
        with self.assertRaises(ValueError):
            m[b"k"]
        with self.assertRaises(ValueError):
            len(m)
        m.close()                           # idempotent
        self.assertIn("closed", repr(m))

    def test_collected_without_close(self):
        for _ in range(100):
            m = goconc.Map()
            m[b"k"] = b"v" * 100
            del m                           # __del__ frees it

    def test_close_while_another_thread_is_inside(self):
        m = goconc.Map()
        inside = threading.Event()
        closed = threading.Event()
        result = []

        def fn(old):
            inside.set()
            closed.wait(10)
            return b"v"

        t = threading.Thread(target=lambda: result.append(m.compute(b"k", fn)))
        t.start()
        self.assertTrue(inside.wait(10))
        m.close()                           # returns at once, frees later
        closed.set()
        t.join(10)
        self.assertEqual(result, [b"v"])
        self.assertTrue(m.closed)
        with self.assertRaises(ValueError):
            m[b"k"]


class TestMapThreads(unittest.TestCase):
    THREADS = 8
    KEYS = 2000

    def test_threads_store_into_one_map(self):
        m = goconc.Map()

        def writer(t):
            for i in range(self.KEYS):
                m[b"t%d-%d" % (t, i)] = b"%d:%d" % (t, i)
                if i % 3 == 0:
                    del m[b"t%d-%d" % (t, i)]

        run_threads(self.THREADS, writer)
        expect = {b"t%d-%d" % (t, i): b"%d:%d" % (t, i)
                  for t in range(self.THREADS) for i in range(self.KEYS)
                  if i % 3}
        self.assertEqual(len(m), len(expect))
        self.assertEqual(dict(m.items()), expect)
        m.close()

    def test_compute_is_atomic_across_threads(self):
        m = goconc.Map({b"n": b"0"})
        per = 300

        def incr(_):
            for _ in range(per):
                m.compute(b"n", lambda old: b"%d" % (int(old) + 1))

        run_threads(self.THREADS, incr)
        self.assertEqual(int(m[b"n"]), self.THREADS * per)

    def test_cas_loop_across_threads(self):
        m = goconc.Map({b"n": b"0"})
        per = 300

        def incr(_):
            for _ in range(per):
                while True:
                    old = m[b"n"]
                    if m.compare_and_swap(b"n", old, b"%d" % (int(old) + 1)):
                        break

        run_threads(4, incr)
        self.assertEqual(int(m[b"n"]), 4 * per)

    def test_read_while_the_length_changes(self):
        # A write runs without the GIL while a compute() on the map is
        # inside the library, so a reader's m[k] can meet a value whose
        # length changes between its tries (the first on a buffer on the
        # stack, the next on a bytes object of the length it reported):
        # every read must still be one whole value.  With this seed no key
        # shares the shard of b"hold" (the writer would wait on it).
        m = goconc.Map(seed=1)
        pairs = {b"k0": (b"a" * 1500, b"b" * 3000),
                 b"k1": (b"c" * 8, b"d" * 2000),
                 b"k2": (b"", b"e" * 1025)}
        for k, (v, _) in pairs.items():
            m[k] = v
        stop = threading.Event()
        holding = threading.Event()

        def hold(old):
            holding.set()
            while not stop.is_set():
                time.sleep(0.001)
            return goconc.KEEP

        holder = threading.Thread(target=m.compute, args=(b"hold", hold))
        holder.start()
        holding.wait(10)

        writes = [0]

        def writer():
            i = 0
            while not stop.is_set():
                for k, two in pairs.items():
                    m[k] = two[i & 1]
                i += 1
            writes[0] = 3 * i

        w = threading.Thread(target=writer)
        # The writer needs the GIL between its stores: hand it over often.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-5)
        w.start()
        reads = 0
        try:
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                for k, two in pairs.items():
                    self.assertIn(m[k], two)
                    reads += 1
        finally:
            sys.setswitchinterval(interval)
            stop.set()
            w.join(10)
            holder.join(10)
        self.assertGreater(reads, 1000)
        self.assertGreater(writes[0], 1000, "the writer waited on b'hold'")
        m.close()

    def test_iterate_while_others_write(self):
        m = goconc.Map({b"stable%d" % i: b"s" for i in range(500)})
        stop = threading.Event()

        def churn():
            i = 0
            while not stop.is_set():
                m[b"churn%d" % (i % 1000)] = b"c"
                m.pop(b"churn%d" % ((i + 500) % 1000), None)
                i += 1
        t = threading.Thread(target=churn)
        t.start()
        try:
            for _ in range(20):
                keys = list(m)
                self.assertEqual(len(keys), len(set(keys)), "a key twice")
                stable = [k for k in keys if k.startswith(b"stable")]
                self.assertEqual(len(stable), 500)
                for k, v in m.items():
                    if k.startswith(b"stable"):
                        self.assertEqual(v, b"s")
        finally:
            stop.set()
            t.join(10)
        m.close()


if __name__ == "__main__":
    unittest.main()
