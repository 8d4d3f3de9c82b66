# SPDX-License-Identifier: MIT
"""Shared test helpers."""

import threading


def run_threads(n, target, timeout=60):
    """Run target(i) on @n threads started together; re-raise the first
    exception a thread raised; fail if one does not finish in time."""
    errors = []
    start = threading.Barrier(n)

    def body(i):
        try:
            start.wait()
            target(i)
        except BaseException as e:      # noqa: B902 - reported below
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,), daemon=True)
               for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        if t.is_alive():
            raise AssertionError("a thread did not finish within %ss" % timeout)
    if errors:
        raise errors[0]
