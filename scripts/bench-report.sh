#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-report.sh - run every benchmark and write a report: Markdown tables
# and PNG charts (doc/bench.md, "The report").
#
#   scripts/bench-report.sh [--build DIR] [--out DIR] [--sample] [--render-only]
#
#   --build DIR    meson build directory (default build-bench; configured
#                  as a release build with the benchmarks if it is new)
#   --out DIR      where the report goes (default bench/report): README.md,
#                  *.png, results.jsonl (every figure, one JSON object per
#                  line), meta.json (machine, date, settings), logs/*.log
#                  (each program's own printout)
#   --sample       mark the report as a sample (a noisy or shortened run,
#                  not figures to quote)
#   --render-only  redraw README.md and the charts from DIR's results.jsonl
#
# Runs bench_map (check, mem, W1, W1b, W2: every peer built in, DashMap
# included), then bench_reclaim, bench_once, bench_value, bench_pool and
# bench_slice.  Each program appends its figures to results.jsonl
# (GOCONC_BENCH_JSON); bench/bench_report.py turns them into the report.
# Needs the peers and python3-matplotlib: scripts/setup.sh --bench.
#
# Settings (any GOCONC_BENCH_* variable set by the caller wins):
#   default                 3 reps, 1 s per W1 run, N = 1M keys, W2 grows
#                           to 2M keys, thread counts 1,2: about 6 minutes
#                           on 2 cores with every peer (estimate: W1 and
#                           W1b 2 x 3 reps x 22 runs x (1 s + ~0.4 s
#                           prefill) = 185 s; W2 11 maps x 2 runs x 3 reps
#                           x ~1 s = 66 s; check, mem and the other
#                           programs ~70 s), plus the first build
#   BENCH_REPORT_FULL=1     the issue's settings: 5 reps, 2 s per W1 run,
#                           W2 to 10M keys: about 20 minutes on 2 cores
#   GOCONC_BENCH_THREADS    W1/W1b and the other programs' thread counts,
#                           e.g. 1,2,4,8,16 on a bigger machine
# A quick check of the whole pipeline (about a minute):
#   GOCONC_BENCH_REPS=1 GOCONC_BENCH_SECONDS=0.05 GOCONC_BENCH_MAP_KEYS=20000 \
#   GOCONC_BENCH_MAP_GROW=50000 GOCONC_BENCH_N=200000 \
#   scripts/bench-report.sh --out /tmp/report --sample
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=$src/build-bench
out=$src/bench/report
sample=0
render_only=0
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --sample) sample=1; shift ;;
    --render-only) render_only=1; shift ;;
    *) echo "usage: $0 [--build DIR] [--out DIR] [--sample] [--render-only]" >&2; exit 2 ;;
    esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
# Debian's python3, which has python3-matplotlib, even when another
# python3 (pyenv, a venv) comes first on PATH.
py=
for p in /usr/bin/python3 python3; do
    if "$p" -c 'import matplotlib' 2>/dev/null; then
        py=$p
        break
    fi
done
[ -n "$py" ] ||
    { echo "bench-report: python3-matplotlib missing (scripts/setup.sh --bench)" >&2; exit 1; }
report_py() {
    "$py" "$src/bench/bench_report.py" "$@"
}
if [ $render_only = 1 ]; then
    report_py render "$out"
    exit 0
fi

# Build: the library, every benchmark and peer found, the DashMap program.
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$src" -Dbuildtype=release -Dtests=false -Dbench=true >/dev/null
fi
"$src/scripts/bench-map-peers.sh" --build "$build" --build-only
ninja -C "$build" >/dev/null
dashmap=$build/bench/dashmap-target/release/goconc-dashmap-bench
[ -x "$dashmap" ] && export GOCONC_DASHMAP_BIN="$dashmap"

# Settings: the caller's, else the report's defaults.
if [ "${BENCH_REPORT_FULL:-0}" = 1 ]; then
    d_reps=5 d_secs=2 d_grow=10000000
else
    d_reps=3 d_secs=1 d_grow=2000000
fi
export GOCONC_BENCH_MAP_KEYS="${GOCONC_BENCH_MAP_KEYS:-1000000}"
export GOCONC_BENCH_MAP_GROW="${GOCONC_BENCH_MAP_GROW:-$d_grow}"
export GOCONC_BENCH_N="${GOCONC_BENCH_N:-2000000}"
reps=${GOCONC_BENCH_REPS:-$d_reps}
u_secs=${GOCONC_BENCH_SECONDS:-}

rm -rf "$out/logs" "$out"/*.png "$out/results.jsonl" "$out/meta.json"
mkdir -p "$out/logs"
export GOCONC_BENCH_JSON="$out/results.jsonl"
: >"$GOCONC_BENCH_JSON"
BENCH_REPORT_SAMPLE=$sample BENCH_REPORT_REPS=$reps BENCH_REPORT_SECONDS=${u_secs:-$d_secs} \
    report_py meta "$out" "$src"

# run NAME SECONDS [ARGS...]: one program, its printout to logs/NAME.log.
run() {
    name=$1 secs=$2
    shift 2
    t0=$(date +%s)
    if [ ! -x "$build/bench/$name" ]; then
        echo "bench-report: $name not built; skipped" | tee "$out/logs/$name.log"
        return 0
    fi
    echo "bench-report: $name ..."
    GOCONC_BENCH_REPS=$reps GOCONC_BENCH_SECONDS=${u_secs:-$secs} \
        "$build/bench/$name" "$@" >"$out/logs/$name.log" 2>"$out/logs/$name.err" ||
        echo "bench-report: $name failed (status $?): see $out/logs/$name.err" >&2
    echo "bench-report: $name: $(($(date +%s) - t0)) s"
}

start=$(date +%s)
run bench_map "$d_secs" check mem w1 w1b w2
run bench_reclaim 0.1
run bench_once 0.1
run bench_value 0.2
run bench_pool 0.2
run bench_slice 1
report_py finish "$out" "$(($(date +%s) - start))"
report_py render "$out"
echo "bench-report: $out/README.md ($(($(date +%s) - start)) s)"
