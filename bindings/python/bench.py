#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Per-operation cost of goconc against the standard library behind a
threading.Lock, the way a Python program shares a container today.

    python3 bench.py [--ops N] [--threads 1,2,4,8] [--repeat R] [--no-memory]

For each operation and thread count T, T threads run the operation N/T
times each (started together); the time per operation is the wall time
over N, best of R runs, goconc's and the baseline's runs interleaved.
The ratio is goconc / baseline: below 1.0 goconc is faster.  Baselines:
dict, deque and list each behind one Lock, and an attribute read under
the Lock for Value.load.

The memory line compares the resident-set growth (/proc/self/statm) of a
Map and of a dict holding the same 1M entries (8-byte keys, 8-byte values
other than the keys), each built in a fresh interpreter from keys and
values made as they are stored.

Run from bindings/python after building the extension
(`python3 setup.py build_ext --inplace`).
"""

import argparse
import collections
import os
import subprocess
import sys
import threading
import time

import goconc


class Box:
    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj


def make_keys(n):
    return [b"key:%012d" % i for i in range(n)]


# Each case: name -> (setup() -> state, goconc_loop, baseline_loop).  A loop
# takes (state, count) and runs the operation count times.

def case_map_get_hit(keys):
    def setup():
        m = goconc.Map({k: k for k in keys})
        d = {k: k for k in keys}
        return m, d, threading.Lock(), keys

    def ours(st, n):
        m, _, _, ks = st
        nk = len(ks)
        for i in range(n):
            m[ks[i % nk]]

    def base(st, n):
        _, d, lock, ks = st
        nk = len(ks)
        for i in range(n):
            with lock:
                d[ks[i % nk]]
    return setup, ours, base


def case_map_get_miss(keys):
    misses = [b"miss" + k for k in keys]

    def setup():
        return (goconc.Map({k: k for k in keys}), {k: k for k in keys},
                threading.Lock(), misses)

    def ours(st, n):
        m, _, _, ks = st
        nk = len(ks)
        for i in range(n):
            try:
                m[ks[i % nk]]
            except KeyError:
                pass

    def base(st, n):
        _, d, lock, ks = st
        nk = len(ks)
        for i in range(n):
            try:
                with lock:
                    d[ks[i % nk]]
            except KeyError:
                pass
    return setup, ours, base


def case_map_set(keys):
    def setup():
        return goconc.Map(), {}, threading.Lock(), keys

    def ours(st, n):
        m, _, _, ks = st
        nk = len(ks)
        for i in range(n):
            k = ks[i % nk]
            m[k] = k

    def base(st, n):
        _, d, lock, ks = st
        nk = len(ks)
        for i in range(n):
            k = ks[i % nk]
            with lock:
                d[k] = k
    return setup, ours, base


def case_map_contains(keys):
    probe = keys[::2] + [b"miss" + k for k in keys[1::2]]

    def setup():
        return (goconc.Map({k: k for k in keys}), {k: k for k in keys},
                threading.Lock(), probe)

    def ours(st, n):
        m, _, _, ks = st
        nk = len(ks)
        for i in range(n):
            ks[i % nk] in m

    def base(st, n):
        _, d, lock, ks = st
        nk = len(ks)
        for i in range(n):
            with lock:
                ks[i % nk] in d
    return setup, ours, base


def case_value_load(_keys):
    def setup():
        return goconc.Value(b"x"), Box(b"x"), threading.Lock()

    def ours(st, n):
        v = st[0]
        for _ in range(n):
            v.load()

    def base(st, n):
        _, box, lock = st
        for _ in range(n):
            with lock:
                box.obj
    return setup, ours, base


def case_pool_get_put(_keys):
    def setup():
        dq = collections.deque(bytearray(64) for _ in range(64))
        return goconc.Pool(lambda: bytearray(64)), dq, threading.Lock()

    def ours(st, n):
        p = st[0]
        for _ in range(n):
            p.put(p.get())

    def base(st, n):
        _, dq, lock = st
        for _ in range(n):
            with lock:
                x = dq.pop() if dq else bytearray(64)
            with lock:
                dq.append(x)
    return setup, ours, base


def case_slice_append(_keys):
    def setup():
        return goconc.Slice("q"), [], threading.Lock()

    def ours(st, n):
        s = st[0]
        for i in range(n):
            s.append(i)

    def base(st, n):
        _, lst, lock = st
        for i in range(n):
            with lock:
                lst.append(i)
    return setup, ours, base


def case_slice_index(_keys):
    size = 4096

    def setup():
        return goconc.Slice("q", range(size)), list(range(size)), threading.Lock()

    def ours(st, n):
        s = st[0]
        for i in range(n):
            s[i % size]

    def base(st, n):
        _, lst, lock = st
        for i in range(n):
            with lock:
                lst[i % size]
    return setup, ours, base


CASES = [
    ("m[k] hit", case_map_get_hit),
    ("m[k] miss", case_map_get_miss),
    ("m[k] = v", case_map_set),
    ("k in m", case_map_contains),
    ("Value.load", case_value_load),
    ("Pool get+put", case_pool_get_put),
    ("Slice.append", case_slice_append),
    ("s[i]", case_slice_index),
]


def timed(loop, state, ops, threads):
    """Seconds per operation with @threads threads sharing @ops."""
    per = ops // threads
    start = threading.Barrier(threads + 1)

    def body():
        start.wait()
        loop(state, per)

    ts = [threading.Thread(target=body) for _ in range(threads)]
    for t in ts:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in ts:
        t.join()
    return (time.perf_counter() - t0) / (per * threads)


def best_pair(ours, base, setup, ops, threads, repeat):
    """Best time per op of each loop, their runs interleaved so that both
    see the same load on a shared machine."""
    got = ([], [])
    for _ in range(repeat):
        for out, loop in zip(got, (ours, base)):
            state = setup()
            out.append(timed(loop, state, ops, threads))
            if hasattr(state[0], "close"):
                state[0].close()
    return min(got[0]), min(got[1])


MEMORY_CHILD = r"""
import gc, os, sys
import goconc
kind, n = sys.argv[1], int(sys.argv[2])
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
gc.collect()
before = rss()
# Keys and values are made as they are stored: the dict keeps its own two
# objects per entry, the Map copies their bytes and drops them.  (A list of
# keys made beforehand and stored as dict values would hide the objects
# from the dict's growth: bytes(k) of a bytes k is k itself.)
c = goconc.Map() if kind == "map" else {}
for i in range(n):
    c[b"%08d" % i] = b"%08x" % i
assert len(c) == n
gc.collect()
print(rss() - before)
"""


def memory(n):
    env = dict(os.environ)
    here = os.path.dirname(os.path.abspath(__file__))
    env["PYTHONPATH"] = here + os.pathsep + env.get("PYTHONPATH", "")
    got = {}
    for kind in ("map", "dict"):
        r = subprocess.run([sys.executable, "-c", MEMORY_CHILD, kind, str(n)],
                           env=env, capture_output=True, text=True, check=True)
        got[kind] = int(r.stdout)
    return got["map"], got["dict"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ops", type=int, default=400000)
    ap.add_argument("--threads", default="1,2,4,8")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keys", type=int, default=10000)
    ap.add_argument("--entries", type=int, default=1000000,
                    help="entries for the memory comparison")
    ap.add_argument("--no-memory", action="store_true")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    keys = make_keys(args.keys)

    print("goconc %s (%s), Python %s" % (goconc.version(), goconc.library_path(),
                                         sys.version.split()[0]))
    print("ratio = goconc time / baseline time per op (below 1.0: goconc faster)")
    print("each cell: goconc ns / baseline ns per op, and their ratio")
    print("%-14s %s" % ("op", "".join("%24s" % ("T=%d" % t) for t in threads)))
    for name, make in CASES:
        setup, ours, base = make(keys)
        cells = []
        for t in threads:
            a, b = best_pair(ours, base, setup, args.ops, t, args.repeat)
            cells.append("%5.0f/%5.0f ns %5.2fx" % (a * 1e9, b * 1e9, a / b))
        print("%-14s %s" % (name, "".join("%24s" % c for c in cells)))
    if not args.no_memory:
        m, d = memory(args.entries)
        n = args.entries
        print("memory, %d entries (8-byte keys and values), RSS growth: "
              "Map %.1f MiB (%.1f B/entry), dict %.1f MiB (%.1f B/entry), "
              "ratio %.2fx" % (n, m / 2 ** 20, m / n, d / 2 ** 20, d / n, m / d))


if __name__ == "__main__":
    main()
