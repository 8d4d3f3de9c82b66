#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench_report.py - the report of scripts/bench-report.sh.

  bench_report.py meta DIR SRC       DIR/meta.json: machine, date, commit, settings
  bench_report.py finish DIR SECS    add the end-of-run load and run time to it
  bench_report.py render DIR         DIR/README.md and DIR/*.png from
                                     DIR/results.jsonl and DIR/meta.json

results.jsonl holds one JSON object per figure, written by the benchmark
programs themselves (benchutil.h, bu_json): bench, case, impl, threads,
metric, value, unit.  bench_pool's figures (bench "pool", case "getput",
"pair" or "pair_timed", metric "ns") are read from logs/bench_pool.log
when a results file from before it wrote them has none.

Every "speed-up" here is the peer's cost over goconc's (or goconc's
throughput over the peer's), from the same run: above 1, goconc is faster.
"""
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys

# ---------------------------------------------------------------- meta


def cpu_model():
    """The CPU's name from /proc/cpuinfo (x86 "model name", else the
    fields ARM kernels print)."""
    fields = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                k, _, v = line.partition(":")
                fields.setdefault(k.strip(), v.strip())
    except OSError:
        return platform.processor() or "unknown"
    for k in ("model name", "Model", "Hardware", "cpu model"):
        if fields.get(k):
            return fields[k]
    if fields.get("CPU implementer"):
        return "implementer %s, part %s" % (fields["CPU implementer"], fields.get("CPU part", "?"))
    return platform.machine()


def lscpu():
    """Cores, sockets and threads per core when lscpu is there."""
    want = ("Thread(s) per core", "Core(s) per socket", "Socket(s)", "NUMA node(s)",
            "CPU max MHz", "L3 cache", "Hypervisor vendor")
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    got = {}
    for line in out.splitlines():
        k, _, v = line.partition(":")
        if k.strip() in want:
            got[k.strip()] = v.strip()
    return got


def loadavg():
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return [float(x) for x in f.read().split()[:3]]
    except (OSError, ValueError):
        return None


def git_commit(src, out):
    """HEAD, marked "(modified)" when tracked files differ from it, except
    those under `out`: a report written over the committed one is not a
    change to what it measures."""
    paths = ["."]
    rel = os.path.relpath(os.path.abspath(out), os.path.abspath(src))
    if rel != "." and not rel.startswith(".."):
        paths.append(":(exclude)" + rel)
    try:
        head = subprocess.run(["git", "-C", src, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", src, "--no-optional-locks", "status",
                                "--porcelain", "--untracked-files=no", "--"] + paths,
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + (" (modified)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cmd_meta(out, src):
    env = os.environ
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "nproc": len(os.sched_getaffinity(0)),
        "online": os.cpu_count(),
        "lscpu": lscpu(),
        "kernel": "%s %s %s" % (platform.system(), platform.release(), platform.machine()),
        "load_start": loadavg(),
        "commit": git_commit(src, out),
        "sample": env.get("BENCH_REPORT_SAMPLE") == "1",
        "settings": {
            "reps": env.get("BENCH_REPORT_REPS"),
            "seconds": env.get("BENCH_REPORT_SECONDS"),
            "map_keys": env.get("GOCONC_BENCH_MAP_KEYS"),
            "map_grow": env.get("GOCONC_BENCH_MAP_GROW"),
            "slice_n": env.get("GOCONC_BENCH_N"),
            "threads": env.get("GOCONC_BENCH_THREADS") or "1,2",
        },
    }
    with open(os.path.join(out, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)


def cmd_finish(out, secs):
    path = os.path.join(out, "meta.json")
    with open(path, encoding="utf-8") as f:
        meta = json.load(f)
    meta["load_end"] = loadavg()
    meta["runtime_s"] = int(secs)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)

# ------------------------------------------------------------- results


class Results:
    """The figures, looked up by (bench, case, impl, threads, metric)."""

    def __init__(self, records):
        self.v = {}
        self.order = {}  # first appearance of each impl per (bench, case)
        for r in records:
            key = (r["bench"], r["case"], r["impl"], r["threads"], r["metric"])
            self.v[key] = r["value"]
            self.order.setdefault((r["bench"], r["case"]), [])
            if r["impl"] not in self.order[(r["bench"], r["case"])]:
                self.order[(r["bench"], r["case"])].append(r["impl"])

    def get(self, bench, case, impl, threads, metric):
        return self.v.get((bench, case, impl, threads, metric), math.nan)

    def impls(self, bench, case):
        return list(self.order.get((bench, case), []))

    def threads(self, bench, case, metric):
        return sorted({k[3] for k in self.v if k[:2] == (bench, case) and k[4] == metric})


def load_results(out):
    records = []
    path = os.path.join(out, "results.jsonl")
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                print("bench_report: %s:%d: not JSON, skipped" % (path, n), file=sys.stderr)
    if not any(r["bench"] == "pool" for r in records):
        records += pool_from_log(os.path.join(out, "logs", "bench_pool.log"))
    return Results(records)


def pool_from_log(path):
    """bench_pool's printed tables: "get+put, N thread(s) (...)" or
    "producer/consumer pair ..." headings, then "  NAME  X ns" lines."""
    recs, case, threads = [], None, 0
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return recs
    for line in lines:
        m = re.match(r"(?:W5: )?get\+put, (\d+) threads?", line)
        if m:
            case, threads = "getput", int(m.group(1))
            continue
        if line.startswith(("producer/consumer pair", "W5b: producer/consumer pair")):
            case, threads = "pair", 2
            continue
        if not line.strip():
            case = None
        m = re.match(r"^  (\S+)\s+([0-9.]+) ns$", line)
        if case and m:
            recs.append({"bench": "pool", "case": case, "impl": m.group(1), "threads": threads,
                         "metric": "ns", "value": float(m.group(2)), "unit": "ns"})
    return recs

# ------------------------------------------------------------ formatting


def fmt(v, digits=2):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if abs(v) >= 100:
        return "%.0f" % v
    return "%.*f" % (digits, v)


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out) + "\n"

# -------------------------------------------------------------- charts


def charts_module():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def chart_throughput(plt, res, out):
    cases = [c for c in ("w1", "w1b") if res.threads("map", c, "mops")]
    if not cases:
        return None
    fig, axes = plt.subplots(len(cases), 1, figsize=(10, 4.2 * len(cases)), squeeze=False)
    for ax, case in zip(axes[:, 0], cases):
        impls = [i for i in res.impls("map", case)]
        tcs = res.threads("map", case, "mops")
        width = 0.8 / len(tcs)
        for k, t in enumerate(tcs):
            xs = [j + (k - (len(tcs) - 1) / 2) * width for j in range(len(impls))]
            ys = [res.get("map", case, i, t, "mops") for i in impls]
            ax.bar(xs, [0 if math.isnan(y) else y for y in ys], width, label="%d thread%s"
                   % (t, "" if t == 1 else "s"))
        ax.set_xticks(range(len(impls)))
        ax.set_xticklabels(impls, rotation=30, ha="right")
        ax.set_ylabel("Mop/s (all threads)")
        ax.set_title({"w1": "W1: 90% load / 9% store / 1% delete",
                      "w1b": "W1b: 100% load"}[case])
        ax.grid(axis="y", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    name = "map_throughput.png"
    fig.savefig(os.path.join(out, name), dpi=100)
    plt.close(fig)
    return name


LAT = [("p50", "p50"), ("p99", "p99"), ("p999", "p99.9"), ("p9999", "p99.99"), ("max", "max")]


def chart_latency(plt, res, out):
    impls = res.impls("map", "w2")
    if not impls:
        return None
    fig, ax = plt.subplots(figsize=(10, 5))
    palette = plt.get_cmap("tab20").colors  # 20 distinct colours: no repeats
    for n, i in enumerate(impls):
        ys = [res.get("map", "w2", i, 1, m) / 1e3 for m, _ in LAT]
        if all(math.isnan(y) for y in ys):
            continue
        goconc = i == "goconc"
        ax.plot([lab for _, lab in LAT], ys, marker="o", linewidth=3 if goconc else 1.2,
                color="black" if goconc else palette[n % len(palette)], label=i,
                zorder=3 if goconc else 2)
    ax.set_yscale("log")
    ax.set_ylabel("store latency, µs (log scale)")
    ax.set_title("W2: one thread stores distinct keys into an empty map")
    ax.grid(which="both", alpha=0.3)
    ax.legend(ncol=2, fontsize="small")
    fig.tight_layout()
    name = "map_w2_latency.png"
    fig.savefig(os.path.join(out, name), dpi=100)
    plt.close(fig)
    return name


def chart_memory(plt, res, out):
    impls = [i for i in res.impls("map", "mem")
             if not math.isnan(res.get("map", "mem", i, 1, "rss_per_entry"))]
    if not impls:
        return None
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(impls) + 1.5))
    rss = [res.get("map", "mem", i, 1, "rss_per_entry") for i in impls]
    settled = [res.get("map", "mem", i, 1, "rss_settled_per_entry") for i in impls]
    ys = range(len(impls))
    ax.barh(ys, rss, color="#9ecae1", label="RSS growth while storing")
    ax.barh(ys, settled, height=0.4, color="#3182bd", label="after settle")
    ax.set_yticks(list(ys))
    ax.set_yticklabels(impls)
    ax.invert_yaxis()
    ax.set_xlabel("bytes per entry (8-byte key + 8-byte value)")
    ax.set_title("Memory per entry")
    ax.grid(axis="x", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    name = "map_memory.png"
    fig.savefig(os.path.join(out, name), dpi=100)
    plt.close(fig)
    return name


def chart_ratios(plt, ratios, out):
    rows = [(label, v) for label, v in ratios if not math.isnan(v) and v > 0]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(10, 0.32 * len(rows) + 1.5))
    ys = range(len(rows))
    ax.barh(ys, [v for _, v in rows],
            color=["#31a354" if v >= 1 else "#de2d26" for _, v in rows])
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(list(ys))
    ax.set_yticklabels([label for label, _ in rows], fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel("speed-up of goconc over the peer (log scale; > 1: goconc faster)")
    ax.set_title("goconc against its peers, same run")
    ax.grid(axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    name = "ratios.png"
    fig.savefig(os.path.join(out, name), dpi=100)
    plt.close(fig)
    return name

# ------------------------------------------------------------- sections


def header(meta):
    s = meta["settings"]
    lines = ["# libgoconc benchmark report", "",
             "Generated by `scripts/bench-report.sh` (doc/bench.md, \"The report\").", ""]
    if meta.get("sample"):
        lines += ["> **Sample report**: a shortened run on a shared, noisy machine, to show"
                  " what the report contains. Regenerate it with `scripts/bench-report.sh`"
                  " on a quiet machine before quoting any figure.", ""]
    cores = meta["lscpu"].get("Core(s) per socket")
    sockets = meta["lscpu"].get("Socket(s)")
    tpc = meta["lscpu"].get("Thread(s) per core")
    core_line = "This machine runs the benchmarks on **%d CPU%s** (nproc)" % (
        meta["nproc"], "" if meta["nproc"] == 1 else "s")
    if cores and sockets and tpc:
        core_line += ": %s socket(s) x %s core(s) x %s thread(s) per core" % (sockets, cores, tpc)
    core_line += "; figures at more threads than CPUs measure time-sharing, not parallelism."
    la0, la1 = meta.get("load_start"), meta.get("load_end")
    lines += [
        "- Date: %s; commit %s" % (meta["date"], meta["commit"]),
        "- Machine: %s; %s" % (meta["cpu"], meta["kernel"]),
    ]
    if meta["lscpu"].get("Hypervisor vendor"):
        lines.append("- Virtual machine (hypervisor: %s)" % meta["lscpu"]["Hypervisor vendor"])
    lines += [
        "- " + core_line,
        "- Load average (1 min) at start %s, at end %s%s" % (
            fmt(la0[0]) if la0 else "?", fmt(la1[0]) if la1 else "?",
            " — other work was running: expect noise" if la0 and la0[0] > 0.5 else ""),
        "- Settings: %s reps per figure (medians), %s s per W1 run, map N = %s keys, W2 grows"
        " to %s keys, slice %s appends, thread counts %s; run time %s s" % (
            s["reps"], s["seconds"], s["map_keys"], s["map_grow"], s["slice_n"], s["threads"],
            meta.get("runtime_s", "?")),
        "- Raw figures: `results.jsonl` (one JSON object per figure); each program's own"
        " printout: `logs/`",
        "",
    ]
    return lines


def peers_section(res):
    built = [i for i in res.impls("map", "peers") if res.get("map", "peers", i, 0, "built") == 1]
    absent = [i for i in res.impls("map", "peers") if res.get("map", "peers", i, 0, "built") == 0]
    lines = ["## Map peers", "",
             "Every peer hashes with fmix64(key ^ seed) and sees the same key streams"
             " (the same-stream check below); descriptions in `logs/bench_map.log` and"
             " `doc/bench.md`.", "",
             "- In this run: " + (", ".join("`%s`" % i for i in built) or "none")]
    if absent:
        lines.append("- Not in this run (not built, or DashMap's program missing): "
                     + ", ".join("`%s`" % i for i in absent))
    agree = res.get("map", "check", "all", 1, "agree")
    if not math.isnan(agree):
        lines.append("- Same-stream check: %s" % (
            "every implementation found the same hits and length" if agree == 1
            else "**MISMATCH** (see logs/bench_map.log)"))
    return lines + [""]


def map_throughput_section(res, chart):
    lines = []
    for case, title in (("w1", "W1, read-mostly (90% load / 9% store / 1% delete)"),
                        ("w1b", "W1b, read-only (100% load)")):
        tcs = res.threads("map", case, "mops")
        if not tcs:
            continue
        head = ["map"] + ["T=%d Mop/s" % t for t in tcs] + ["goconc/peer T=%d" % t for t in tcs]
        rows = []
        for i in res.impls("map", case):
            row = [i] + [fmt(res.get("map", case, i, t, "mops")) for t in tcs]
            row += ["" if i == "goconc" else fmt(res.get("map", case, i, t, "goconc_over_peer"))
                    for t in tcs]
            rows.append(row)
        lines += ["### " + title, "",
                  "Throughput of all threads together over a map prefilled with N keys;"
                  " goconc/peer: same rep, median (above 1: goconc faster).", "",
                  table(head, rows)]
    if chart:
        lines += ["![throughput per map and thread count](%s)" % chart, ""]
    return lines


def map_w2_section(res, chart):
    impls = res.impls("map", "w2")
    if not impls:
        return []
    head = ["map", "total s", "untimed s", "goconc/peer time", "p50 µs", "p99 µs",
            "p99.9 µs", "p99.99 µs", "repeatable p99.99 µs", "max ms"]
    rows = []
    for i in impls:
        g = lambda m: res.get("map", "w2", i, 1, m)
        ratio = res.get("map", "w2", i, 1, "goconc_over_peer")
        rows.append([i, fmt(g("secs"), 3), fmt(g("plain_secs"), 3),
                     "" if i == "goconc" else fmt(ratio), fmt(g("p50") / 1e3),
                     fmt(g("p99") / 1e3), fmt(g("p999") / 1e3), fmt(g("p9999") / 1e3),
                     fmt(g("repeatable_p9999") / 1e3), fmt(g("max") / 1e6, 3)])
    lines = ["### W2, growth: one thread stores G distinct keys into an empty map", "",
             "Latency of each store, timed around the call (medians over the reps);"
             " total: the timed run, untimed: a second run without clock reads;"
             " goconc/peer time: of the untimed runs (below 1: goconc faster);"
             " repeatable p99.99: over each store's median latency across the reps, which"
             " removes the machine's interruptions (3 reps or more; – also when below"
             " 2 µs; DashMap runs outside and is not logged).", "",
             table(head, rows)]
    noise = res.get("map", "noise", "machine", 1, "gaps_10us_per_s")
    if not math.isnan(noise):
        lines += ["Machine noise before W2: an empty loop was interrupted for 10 µs or more"
                  " %.0f times per second; every map's tail absorbs those." % noise, ""]
    if chart:
        lines += ["![W2 store latency percentiles](%s)" % chart, ""]
    return lines


def map_memory_section(res, chart):
    impls = res.impls("map", "mem")
    if not impls:
        return []
    rows = []
    for i in impls:
        rows.append([i, fmt(res.get("map", "mem", i, 1, "rss_per_entry"), 1),
                     fmt(res.get("map", "mem", i, 1, "rss_settled_per_entry"), 1),
                     fmt(res.get("map", "mem", i, 1, "stats_per_entry"), 1)])
    lines = ["### Memory per entry", "",
             "RSS growth of a fresh process storing N 8-byte keys with 8-byte values;"
             " settled: after the map's own deferred work (goconc: migrations finished and"
             " retired tables freed; ck_ht: tables retired by growth freed); stats: goconc's"
             " own accounting.", "",
             table(["map", "RSS B/entry", "settled B/entry", "stats B/entry"], rows)]
    if chart:
        lines += ["![memory per entry](%s)" % chart, ""]
    return lines


def speedups(res):
    """(label, speed-up of goconc) for every peer comparison of the run."""
    out = []
    for t in res.threads("map", "w1", "mops"):
        for i in res.impls("map", "w1"):
            if not i.startswith("goconc"):
                out.append(("map W1 %dt vs %s" % (t, i),
                            res.get("map", "w1", i, t, "goconc_over_peer")))
    for t in res.threads("reclaim", "section", "cpu_ns"):
        base = res.get("reclaim", "section", "inline", t, "cpu_ns")
        for p in ("rwlock", "refcount", "urcu-memb"):
            out.append(("read section %dt vs %s" % (t, p),
                        res.get("reclaim", "section", p, t, "cpu_ns") / base))
    for t in res.threads("once", "done", "cpu_ns"):
        peer = res.get("once", "done", "pthread_once", t, "cpu_ns")
        for v in ("done_inline", "do"):
            out.append(("once %s %dt vs pthread_once" % (v, t),
                        peer / res.get("once", "done", v, t, "cpu_ns")))
    for t in res.threads("value", "load", "goconc_over_peer"):
        for i in res.impls("value", "load"):
            if not i.startswith("goconc"):
                out.append(("value load %dt vs %s" % (t, i),
                            res.get("value", "load", i, t, "goconc_over_peer")))
    # A counted reference per load against the mutex-guarded count.
    for t in res.threads("value", "load", "mops_per_reader"):
        ref = res.get("value", "load", "goconc-ref", t, "mops_per_reader")
        if not math.isnan(ref):
            out.append(("value acquire+release %dt vs mutex-rc" % t,
                        ref / res.get("value", "load", "mutex-rc", t, "mops_per_reader")))
    for case in ("getput", "pair"):
        for t in res.threads("pool", case, "ns"):
            mine = res.get("pool", case, "goconc_pool", t, "ns")
            for p in ("glibc", "jemalloc"):
                label = "pool get+put %dt" % t if case == "getput" else "pool producer/consumer"
                out.append(("%s vs %s" % (label, p), res.get("pool", case, p, t, "ns") / mine))
    for t in res.threads("slice", "append", "wall_ns"):
        mine = res.get("slice", "append", "goconc", t, "wall_ns")
        for i in res.impls("slice", "append"):
            if i != "goconc" and not math.isnan(res.get("slice", "append", i, t, "wall_ns")):
                out.append(("slice append %dt vs %s" % (t, i),
                            res.get("slice", "append", i, t, "wall_ns") / mine))
    return out


def grid_table(res, bench, case, metric, unit_label):
    tcs = res.threads(bench, case, metric)
    rows = [[i] + [fmt(res.get(bench, case, i, t, metric)) for t in tcs]
            for i in res.impls(bench, case)
            if any(not math.isnan(res.get(bench, case, i, t, metric)) for t in tcs)]
    return table(["variant"] + ["%s %dt" % (unit_label, t) for t in tcs], rows) if rows else ""


def others_section(res, ratios, chart):
    lines = ["## Read sections, once, value, pool, slice", ""]
    parts = [
        ("reclaim", "section", "cpu_ns", "ns",
         "`bench_reclaim`: one read section (enter + exit), CPU ns per section per thread"),
        ("once", "done", "cpu_ns", "ns",
         "`bench_once`: one call on a done once, CPU ns per call per thread"),
        ("value", "load", "mops_per_reader", "M/s",
         "`bench_value`: loads per reader while a writer stores every 1 ms"),
        ("pool", "getput", "ns", "ns", "`bench_pool`: get + put, CPU ns per pair per thread"),
        ("pool", "pair", "ns", "ns",
         "`bench_pool`: producer/consumer pair through a ring, wall ns per object"),
        ("slice", "append", "wall_ns", "ns", "`bench_slice`: wall ns per 8-byte append"),
    ]
    for bench, case, metric, unit, title in parts:
        t = grid_table(res, bench, case, metric, unit)
        if t:
            lines += [title + ":", "", t]
    rows = [[label, fmt(v)] for label, v in ratios if not label.startswith("map ")]
    if rows:
        lines += ["Speed-up of goconc over each peer (the peer's cost over goconc's, same"
                  " run; above 1: goconc faster):", "", table(["comparison", "speed-up"], rows)]
    if chart:
        lines += ["![speed-ups](%s)" % chart, ""]
    return lines


def cmd_render(out):
    with open(os.path.join(out, "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    res = load_results(out)
    ratios = speedups(res)
    try:
        plt = charts_module()
        charts = {
            "tput": chart_throughput(plt, res, out),
            "lat": chart_latency(plt, res, out),
            "mem": chart_memory(plt, res, out),
            "ratio": chart_ratios(plt, ratios, out),
        }
    except ImportError:
        print("bench_report: no matplotlib (python3-matplotlib): tables only", file=sys.stderr)
        charts = {}
    lines = header(meta) + peers_section(res) + ["## Concurrent map", ""]
    lines += map_throughput_section(res, charts.get("tput"))
    lines += map_w2_section(res, charts.get("lat"))
    lines += map_memory_section(res, charts.get("mem"))
    lines += others_section(res, ratios, charts.get("ratio"))
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines).rstrip("\n") + "\n")


def main(argv):
    if len(argv) == 4 and argv[1] == "meta":
        cmd_meta(argv[2], argv[3])
    elif len(argv) == 4 and argv[1] == "finish":
        cmd_finish(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "render":
        cmd_render(argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
