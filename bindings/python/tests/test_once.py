# SPDX-License-Identifier: MIT
"""goconc.Once."""

import threading
import time
import unittest

import goconc

from .support import run_threads


class TestOnce(unittest.TestCase):
    def test_runs_once(self):
        o = goconc.Once()
        calls = []
        self.assertFalse(o.done)
        o.do(lambda: calls.append(1))
        o.do(lambda: calls.append(2))
        self.assertEqual(calls, [1])
        self.assertTrue(o.done)
        self.assertIn("done", repr(o))

    def test_concurrent_callers_wait_for_fn(self):
        o = goconc.Once()
        state = {"runs": 0, "ready": False}
        seen = []

        def init():
            state["runs"] += 1
            time.sleep(0.1)                 # others arrive and wait
            state["ready"] = True

        def caller(_):
            o.do(init)
            seen.append(state["ready"])     # effects visible on return

        run_threads(8, caller)
        self.assertEqual(state["runs"], 1)
        self.assertEqual(seen, [True] * 8)

    def test_exception_leaves_it_not_done(self):
        o = goconc.Once()

        def fail():
            raise KeyError("init failed")
        with self.assertRaises(KeyError):
            o.do(fail)
        self.assertFalse(o.done)
        calls = []
        o.do(lambda: calls.append("retry"))
        self.assertEqual(calls, ["retry"])
        self.assertTrue(o.done)

    def test_a_waiter_runs_its_own_fn_after_a_failure(self):
        o = goconc.Once()
        entered = threading.Event()
        results = []

        def slow_fail():
            entered.set()
            time.sleep(0.1)
            raise RuntimeError("first")

        def first():
            try:
                o.do(slow_fail)
            except RuntimeError as e:
                results.append(str(e))

        t = threading.Thread(target=first, daemon=True)
        t.start()
        self.assertTrue(entered.wait(10))
        o.do(lambda: results.append("second ran"))   # waits, then runs
        t.join(10)
        self.assertEqual(sorted(results), ["first", "second ran"])
        self.assertTrue(o.done)

    def test_reentry_is_deadlock_error(self):
        o = goconc.Once()
        inner = []

        def fn():
            try:
                o.do(lambda: inner.append("never"))
            except goconc.GoconcDeadlockError as e:
                inner.append(e.status)
        o.do(fn)
        self.assertEqual(inner, [goconc.EDEADLK])
        self.assertTrue(o.done)

    def test_base_exceptions_propagate(self):
        o = goconc.Once()

        def stop():
            raise SystemExit(3)
        with self.assertRaises(SystemExit):
            o.do(stop)
        self.assertFalse(o.done)


if __name__ == "__main__":
    unittest.main()
