# SPDX-License-Identifier: MIT
"""goconc.Slice and goconc.View."""

import struct
import threading
import time
import unittest
from collections.abc import Sequence

import goconc

from .support import run_threads


class TestSlice(unittest.TestCase):
    def test_append_get_len_cap_go_growth(self):
        with goconc.Slice("q") as s:
            caps = []
            for i in range(10):
                self.assertEqual(s.append(i * 10), i)
                caps.append(s.cap())
            self.assertEqual(caps, [1, 2, 4, 4, 8, 8, 8, 8, 16, 16])
            self.assertEqual(len(s), 10)
            self.assertEqual([s[i] for i in range(10)], list(range(0, 100, 10)))
            self.assertEqual(s[-1], 90)
            self.assertEqual(s[-10], 0)

    def test_index_errors(self):
        s = goconc.Slice("i", [1, 2, 3])
        for bad in (3, 100, -4):
            with self.assertRaises(IndexError):
                s[bad]
            with self.assertRaises(IndexError):
                s[bad] = 0
        with self.assertRaises(TypeError):
            s["0"]
        with self.assertRaises(TypeError):
            s[0:1] = [5]
        s.close()

    def test_set(self):
        s = goconc.Slice("d", [0.5, 1.5])
        s[1] = 2.25
        s[-2] = -1.0
        self.assertEqual(list(s), [-1.0, 2.25])

    def test_extend_is_one_contiguous_append(self):
        s = goconc.Slice("H")
        self.assertEqual(s.extend([1, 2, 3]), 0)
        self.assertEqual(s.extend(range(4, 7)), 3)
        self.assertEqual(s.extend([]), 6)
        self.assertEqual(list(s), [1, 2, 3, 4, 5, 6])
        with self.assertRaises(struct.error):
            s.append(1 << 20)               # does not fit "H"
        self.assertEqual(len(s), 6)

    def test_formats(self):
        s = goconc.Slice("16s", [b"abc", b"x" * 16])
        self.assertEqual(s[0], b"abc" + b"\0" * 13)
        self.assertEqual(s[1], b"x" * 16)
        self.assertEqual(s.itemsize, 16)
        t = goconc.Slice("<qd", [(1, 0.5), (2, 1.5)])
        self.assertEqual(t[1], (2, 1.5))
        self.assertEqual(t[:], [(1, 0.5), (2, 1.5)])
        t[0] = (7, 7.5)
        self.assertEqual(t.tolist(), [(7, 7.5), (2, 1.5)])
        self.assertEqual(t.format, "<qd")

    def test_zeroed_length_and_capacity(self):
        s = goconc.Slice("q", length=3, capacity=10)
        self.assertEqual(len(s), 3)
        self.assertEqual(s.cap(), 10)
        self.assertEqual(list(s), [0, 0, 0])
        self.assertEqual(s.append(5), 3)
        self.assertEqual(s.cap(), 10)

    def test_zero_size_format_is_value_error(self):
        with self.assertRaises(ValueError) as cm:
            goconc.Slice("0s")
        self.assertEqual(cm.exception.status, goconc.EINVAL)

    def test_slicing_returns_lists(self):
        s = goconc.Slice("b", range(10))
        self.assertEqual(s[2:5], [2, 3, 4])
        self.assertEqual(s[::3], [0, 3, 6, 9])
        self.assertEqual(s[::-1], list(range(9, -1, -1)))
        self.assertEqual(s[8:100], [8, 9])
        self.assertEqual(s[5:2], [])

    def test_sequence_protocol(self):
        s = goconc.Slice("i", [5, 6, 7, 6])
        self.assertIsInstance(s, Sequence)
        self.assertIn(7, s)
        self.assertNotIn(8, s)
        self.assertEqual(s.index(6), 1)
        self.assertEqual(s.count(6), 2)
        self.assertEqual(list(reversed(s)), [6, 7, 6, 5])

    def test_iteration_is_over_a_snapshot(self):
        s = goconc.Slice("i", [1, 2, 3])
        seen = []
        for x in s:
            seen.append(x)
            s.append(x + 10)                # not seen by this loop
        self.assertEqual(seen, [1, 2, 3])
        self.assertEqual(len(s), 6)

    def test_reslice_shares_storage(self):
        s = goconc.Slice("i", range(8))
        t = s.reslice(2, 5)
        self.assertEqual(list(t), [2, 3, 4])
        self.assertEqual(t.cap(), s.cap() - 2)
        t[0] = 100
        self.assertEqual(s[2], 100)         # Go aliasing
        u = s.reslice(1, 3, 4)
        self.assertEqual(u.cap(), 3)
        u.append(-1)                        # into spare capacity: seen by s
        self.assertEqual(s[3], -1)
        u.append(-2)                        # beyond cap: u moves away
        self.assertEqual(s[4], 4)
        for args in ((3, 2), (0, 1, 100), (-1, 2)):
            with self.assertRaises(IndexError):
                s.reslice(*args)

    def test_clone_and_copy_from(self):
        s = goconc.Slice("i", [1, 2, 3])
        c = s.clone()
        self.assertEqual(c.cap(), 3)
        c[0] = 9
        self.assertEqual(s[0], 1)
        d = goconc.Slice("i", [0, 0])
        self.assertEqual(d.copy_from(s), 2)
        self.assertEqual(list(d), [1, 2])
        e = goconc.Slice("q", [1])
        with self.assertRaises(ValueError):
            e.copy_from(s)                  # element sizes differ

    def test_closed(self):
        s = goconc.Slice("i", [1])
        s.close()
        with self.assertRaises(ValueError):
            s.append(1)
        with self.assertRaises(ValueError):
            len(s)
        self.assertIn("closed", repr(s))


class TestView(unittest.TestCase):
    def test_snapshot_is_immutable_sequence(self):
        s = goconc.Slice("q", range(5))
        with s.snapshot() as v:
            self.assertIsInstance(v, Sequence)
            self.assertEqual(len(v), 5)
            self.assertEqual(v[0], 0)
            self.assertEqual(v[-1], 4)
            self.assertEqual(v[1:3], [1, 2])
            self.assertEqual(v[::2], [0, 2, 4])
            self.assertEqual(list(v), [0, 1, 2, 3, 4])
            self.assertEqual(v.tobytes(), struct.pack("5q", 0, 1, 2, 3, 4))
            with self.assertRaises(IndexError):
                v[5]
            with self.assertRaises(TypeError):
                v[0] = 1                    # immutable
        self.assertTrue(v.closed)
        with self.assertRaises(ValueError):
            v[0]
        with self.assertRaises(ValueError):
            list(v)

    def test_snapshot_stays_the_same(self):
        s = goconc.Slice("q", range(3), capacity=100)
        v = s.snapshot()
        s.append(3)                         # beyond the view: no copy
        s[0] = 42                           # covered: copy-on-write
        for i in range(200):
            s.append(i)                     # and growth
        self.assertEqual(v.tolist(), [0, 1, 2])
        self.assertEqual(s[0], 42)
        s.close()
        self.assertEqual(v.tolist(), [0, 1, 2])   # outlives the slice
        v.close()

    def test_empty_view(self):
        with goconc.Slice("d").snapshot() as v:
            self.assertEqual(len(v), 0)
            self.assertEqual(list(v), [])
            self.assertEqual(v.tobytes(), b"")

    def test_snapshots_while_others_append(self):
        s = goconc.Slice("<II")
        stop = threading.Event()
        views = []
        # Each view keeps a full copy to compare against: bound how many
        # (unbounded, the snapper held the GIL building gigabytes of lists
        # and starved the appenders on a slow machine).
        cap = 200

        def appender(t):
            for i in range(3000):
                if i % 1000 == 500:
                    # Let a snapshot in mid-way, whatever the scheduler does.
                    seen = len(views)
                    deadline = time.monotonic() + 10
                    while (len(views) == seen and len(views) < cap
                           and time.monotonic() < deadline):
                        time.sleep(0.001)
                s.append((t, i))

        def snapper():
            while not stop.is_set() and len(views) < cap:
                v = s.snapshot()
                views.append((v, v.tolist()))
                time.sleep(0.0005)

        snap = threading.Thread(target=snapper, daemon=True)
        snap.start()
        try:
            run_threads(4, appender)
        finally:
            stop.set()
            snap.join(10)
        everything = s.tolist()
        self.assertEqual(len(everything), 12000)
        self.assertEqual(sorted(everything),
                         sorted((t, i) for t in range(4) for i in range(3000)))
        # Each thread's elements appear in its own order.
        for t in range(4):
            mine = [i for (tt, i) in everything if tt == t]
            self.assertEqual(mine, list(range(3000)))
        self.assertGreaterEqual(len(views), 3)
        self.assertTrue(any(0 < len(first) < len(everything)
                            for _, first in views), "no mid-way snapshot")
        for v, first in views:
            self.assertEqual(v.tolist(), first)     # never changed
            self.assertEqual(first, everything[:len(first)])  # a prefix
            v.close()


if __name__ == "__main__":
    unittest.main()
