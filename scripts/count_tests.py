#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""count_tests.py LOG... - sum meson testlog.json files: prints 'P F'."""
import json
import sys

passed = failed = 0
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                r = json.loads(line).get("result")
                if r in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif r != "SKIP":
                    failed += 1
    except OSError:
        failed += 1
print(passed, failed)
