#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench_ab.py OLD.jsonl NEW.jsonl - the table of scripts/bench-ab.sh.

Each file holds the JSON lines (GOCONC_BENCH_JSON) of several rounds of the
same programs against one library.  Per figure: the median of each side and
the change as a speed ratio (above 1.00: the new library is faster).  The
peers' own figures (they do not link libgoconc) come last: their spread is
the noise of the sitting.

Two ratios are printed: of the medians, and of each side's best round
(the fastest: noise on a shared machine only ever slows a CPU-bound
loop, so the best of many rounds is the steadier estimate of its cost).
A goconc figure is marked when either ratio is more than 3% worse, and
counted as slower when both are.  Run the same library on both sides
(OLD_LIBDIR = NEW_LIBDIR) to see how far the sitting's noise alone moves
each ratio.
"""
import json
import statistics
import sys
from collections import defaultdict

# Figures that are settings, checks or derived ratios, not measurements.
SKIP_CASES = {"settings", "peers", "check", "noise"}
SKIP_METRICS = {"goconc_over_peer", "spread", "worst_max", "repeatable_p9999"}
HIGHER_IS_BETTER = {"Mop/s", "M/s", "1/s"}
# goconc's own variants in each program; every other impl is a peer.
OURS = {"inline", "exported", "do", "done_inline", "done_exported"}


def is_peer(impl):
    return not (impl.startswith("goconc") or impl in OURS)


def load(path):
    figs = defaultdict(list)
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r["case"] in SKIP_CASES or r["metric"] in SKIP_METRICS:
                continue
            if r["metric"].startswith("mops") and r["unit"] not in HIGHER_IS_BETTER:
                r["unit"] = "M/s"
            key = (r["bench"], r["case"], r["impl"], r["threads"], r["metric"], r["unit"])
            figs[key].append(r["value"])
    return figs


def speed_ratio(key, old, new):
    unit = key[5]
    if old == 0 or new == 0:
        return float("nan")
    return new / old if unit in HIGHER_IS_BETTER else old / new


def best(key, vals):
    return max(vals) if key[5] in HIGHER_IS_BETTER else min(vals)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    old, new = load(sys.argv[1]), load(sys.argv[2])
    keys = sorted(set(old) & set(new), key=lambda k: (is_peer(k[2]), k))
    worse = either = 0
    print(f"{'bench':7} {'case':10} {'impl':20} {'T':>2} {'metric':12} "
          f"{'old':>12} {'new':>12} {'speed':>7} {'best':>7}  n")
    for k in keys:
        o, n = statistics.median(old[k]), statistics.median(new[k])
        r = speed_ratio(k, o, n)
        rb = speed_ratio(k, best(k, old[k]), best(k, new[k]))
        peer = is_peer(k[2])
        mark = ""
        if min(r, rb) < 0.97:
            both = max(r, rb) < 0.97
            if peer:
                mark = "  (peer: noise)"
            else:
                mark = "  WORSE >3%" if both else "  worse >3% in one"
                worse += both
                either += 1
        print(f"{k[0]:7} {k[1]:10} {k[2]:20} {k[3]:>2} {k[4]:12} "
              f"{o:12.4g} {n:12.4g} {r:7.3f} {rb:7.3f}  "
              f"{min(len(old[k]), len(new[k]))}{mark}")
    print(f"{worse} goconc figure(s) more than 3% slower by median and by best "
          f"round; {either} by either")


if __name__ == "__main__":
    main()
