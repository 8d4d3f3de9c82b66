# SPDX-License-Identifier: MIT
"""Interpreter and thread exit never hang or crash.

Each scenario runs in RUNS fresh interpreters at once; every one must exit
with status 0 (and print its last line) within TIMEOUT seconds.  The
scenarios are the ways exit met the bindings: a thread's exit handler
flushing a pool cache, finalization with live objects, daemon threads
stopped inside library calls, pools made and dropped by short-lived
threads.
"""

import os
import subprocess
import sys
import textwrap
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PKG_ROOT = os.path.dirname(HERE)

RUNS = 20
TIMEOUT = 60

THREAD_EXIT_WITH_CACHED_POOL_OBJECTS = """
    import threading, goconc
    pools = [goconc.Pool(list, max_idle=1), goconc.Pool(dict), goconc.Pool()]
    def body(i):
        for p in pools:
            objs = [p.get() or [] for _ in range(8)]
            for o in objs:
                p.put(o)
    ts = [threading.Thread(target=body, args=(i,)) for i in range(8)]
    for t in ts: t.start()
    for t in ts: t.join()
    # exit with objects still in the dead threads' caches
"""

SHUTDOWN_WITH_LIVE_OBJECTS = """
    import goconc
    m = goconc.Map({b"k%d" % i: b"v" * i for i in range(1000)})
    s = goconc.Slice("q", range(1000))
    view = s.snapshot()
    s2 = s.reslice(1, 10)
    v = goconc.Value([m, s])            # a Value holding the others
    v.store({"m": m, "v": v})           # and itself: a cycle
    o = goconc.Once()
    o.do(lambda: None)
    p = goconc.Pool(list)
    for i in range(10):
        p.put([p, m, v])                # cached objects referring back
    class Holder:
        pass
    h = Holder()
    h.self, h.m, h.p, h.v = h, m, p, v  # cyclic garbage at exit
"""

DAEMON_THREADS_INSIDE_LIBRARY_CALLS = """
    import threading, time, goconc
    m = goconc.Map()
    big = goconc.Map({b"%d" % i: b"x" for i in range(20000)})
    v = goconc.Value(b"0")
    p = goconc.Pool(list, max_idle=1)
    once = goconc.Once()
    started = threading.Barrier(7)
    def computing():                    # holds a key's write side, sleeping
        started.wait()
        while True:
            m.compute(b"k", lambda old: time.sleep(0.001) or b"v")
    def writing():                      # blocked behind it, GIL released
        started.wait()
        while True:
            m[b"k"] = b"w"
    def onceing():                      # a Once whose fn never finishes
        started.wait()
        once.do(lambda: time.sleep(3600))
    def ranging():
        started.wait()
        while True:
            list(big.items())
            big.reserve(40000)
    def valuing():
        started.wait()
        i = 0
        while True:
            v.store(b"%d" % i); v.load(); i += 1
            goconc.synchronize()
    def pooling():
        started.wait()
        while True:
            p.put(p.get())
    for f in (computing, writing, onceing, onceing, ranging, valuing,
              pooling):
        threading.Thread(target=f, daemon=True).start()
    time.sleep(0.2)
"""

POOLS_FROM_SHORT_LIVED_THREADS = """
    import threading, goconc
    keep = []
    def body(i):
        p = goconc.Pool(list, max_idle=1)
        for _ in range(4):
            a, b = p.get(), p.get()
            p.put(a); p.put(b)
        if i % 2:
            keep.append(p)              # outlives its thread
        shared.put(p.get())
    shared = goconc.Pool(max_idle=1)
    for round in range(10):
        ts = [threading.Thread(target=body, args=(i,)) for i in range(6)]
        for t in ts: t.start()
        for t in ts: t.join()
    ts = [threading.Thread(target=body, args=(i,), daemon=True)
          for i in range(6)]
    for t in ts: t.start()              # some still running at exit
"""


def launch(code):
    env = dict(os.environ)
    env["PYTHONPATH"] = PKG_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code) + "\nprint('end')\n"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class TestExit(unittest.TestCase):
    def run_scenario(self, code):
        procs = [launch(code) for _ in range(RUNS)]
        deadline = time.monotonic() + TIMEOUT
        failures = []
        for i, p in enumerate(procs):
            try:
                out, err = p.communicate(
                    timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                failures.append("run %d: still running after %ds" % (i, TIMEOUT))
                continue
            if p.returncode != 0 or out.strip() != "end":
                failures.append("run %d: exit %d, stdout %r, stderr %s"
                                % (i, p.returncode, out, err[-2000:]))
        self.assertEqual(failures, [])

    def test_thread_exit_with_cached_pool_objects(self):
        self.run_scenario(THREAD_EXIT_WITH_CACHED_POOL_OBJECTS)

    def test_shutdown_with_live_objects(self):
        self.run_scenario(SHUTDOWN_WITH_LIVE_OBJECTS)

    def test_daemon_threads_inside_library_calls(self):
        self.run_scenario(DAEMON_THREADS_INSIDE_LIBRARY_CALLS)

    def test_pools_from_short_lived_threads(self):
        self.run_scenario(POOLS_FROM_SHORT_LIVED_THREADS)


if __name__ == "__main__":
    unittest.main()
