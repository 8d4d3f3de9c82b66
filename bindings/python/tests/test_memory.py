# SPDX-License-Identifier: MIT
"""Memory: nothing is kept per operation (a leak check over 1e6
operations of every class), and a Map of 1M 8-byte keys and values takes
at most 0.3x the resident memory of a dict of the same entries.

Each measurement runs in a fresh interpreter, so that what other tests
left behind (objects, freed arenas, the library's retired memory) cannot
hide growth or pose as it.
"""

import os
import subprocess
import sys
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PKG_ROOT = os.path.dirname(HERE)
sys.path.insert(0, PKG_ROOT)    # bench.py, whose memory line is the measure

import bench  # noqa: E402

# Operations a round of LEAK_CHILD runs (each line of its loop counts).
OPS_PER_ROUND = 20

LEAK_CHILD = """
    import gc, os, sys
    import goconc

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    SHORT = [b"k%07d" % i for i in range(1000)]           # stored inline
    LONG = [b"a longer key %07d" % i for i in range(1000)]  # out of line
    m = goconc.Map()
    v = goconc.Value([0])
    p = goconc.Pool(lambda: bytearray(64))
    s = goconc.Slice("q", range(64))

    def rounds(n):
        global s
        for i in range(n):
            k, lk = SHORT[i % 1000], LONG[i % 1000]
            m[k] = lk
            m[lk] = k
            m[k]
            m.get(b"absent")
            k in m
            try:
                m[b"absent"]
            except KeyError:
                pass
            m.load_or_store(lk, k)
            m.swap(k, k)
            m.compute(k, lambda old: old + b"!")
            del m[lk]
            v.store([i])
            v.load()
            v.compare_and_swap(v.load(), [i, i])
            p.put(p.get())
            s[i % 64] = i
            s[i % 64]
            s.append(i)
            with s.snapshot() as view:
                view[0]
            if i % 1000 == 999:
                s.close()
                s = goconc.Slice("q", range(64))

    def settle():
        goconc.barrier()        # deferred frees and parked objects go
        v.load()
        gc.collect()

    rounds(5000)                # every table, cache and arena at its size
    settle()
    blocks, before = sys.getallocatedblocks(), rss()
    rounds(int(sys.argv[1]))
    settle()
    print(sys.getallocatedblocks() - blocks, rss() - before, len(m))
"""


class TestMemory(unittest.TestCase):
    def child_env(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = PKG_ROOT + os.pathsep + env.get("PYTHONPATH", "")
        return env

    def test_no_leak_over_a_million_operations(self):
        rounds = 10 ** 6 // OPS_PER_ROUND
        r = subprocess.run([sys.executable, "-c", textwrap.dedent(LEAK_CHILD),
                            str(rounds)], env=self.child_env(),
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        blocks, grown, entries = map(int, r.stdout.split())
        # One object kept per 100 operations would be 10,000 blocks; one
        # out-of-line entry or 8 bytes per operation, megabytes.
        self.assertLess(blocks, 1000, "Python memory blocks kept")
        self.assertLess(grown, 1 << 20, "resident bytes grown")
        self.assertEqual(entries, 1000)

    def test_map_of_a_million_entries_is_under_a_third_of_a_dict(self):
        n = 10 ** 6
        m, d = bench.memory(n)
        self.assertLessEqual(m, 0.3 * d,
                             "Map %.1f bytes per entry, dict %.1f"
                             % (m / n, d / n))


if __name__ == "__main__":
    unittest.main()
