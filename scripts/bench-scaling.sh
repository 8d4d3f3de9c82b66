#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-scaling.sh - multi-thread scaling run of the benchmarks, on programs
# that are already built (no meson, no compiler, no network needed).
#
#   scripts/bench-scaling.sh DIR [THREADS]
#
#   DIR      a meson build directory (programs in DIR/bench/, the DashMap
#            peer in DIR/bench/dashmap-target/release/), or a flat directory
#            holding bench_* and goconc-dashmap-bench (the bin/ of
#            scripts/bench-pack.sh, whose run.sh calls this script)
#   THREADS  comma list of thread counts (else $GOCONC_BENCH_THREADS, else
#            1,2,4,8,16 with every count above the online CPUs clamped to
#            their number: 1,2,4,8,12 on 12 CPUs)
#
# Runs bench_map w1 w1b, then bench_reclaim, bench_once, bench_value,
# bench_pool and bench_slice, each with GOCONC_BENCH_THREADS=THREADS, and
# tees everything to a log (BENCH_SCALING_LOG, default
# DIR/bench-scaling-HOST-DATE.log; for a flat bin/ directory, its parent).
# Missing programs and missing peers are skipped.  GOCONC_BENCH_REPS,
# GOCONC_BENCH_SECONDS, GOCONC_BENCH_MAP_KEYS, GOCONC_BENCH_N and
# BENCH_SCALING_MAP_IMPLS, when set, replace the settings below (for a quick
# check: GOCONC_BENCH_REPS=1 GOCONC_BENCH_SECONDS=0.05
# GOCONC_BENCH_MAP_KEYS=20000 GOCONC_BENCH_N=200000).
#
# Settings and run time with THREADS = 1,2,4,8,16 on a 16-CPU machine
# (per-run costs measured on a 2.1 GHz 2-core KVM guest; a current server
# core prefills faster, so the map figure is an upper estimate):
#   bench_map w1 w1b  N = 1M keys, 3 reps, 1 s per run, 9 implementations
#                     (goconc dashmap cuckoo absl64 ck tbb lfht seed64
#                     glib; lfht-pre, the presized lfht, and the 1-thread
#                     baselines are left out to save time).  Every run
#                     is a fresh process that prefills 1M keys first: 0.15 s
#                     (dashmap) to 0.67 s (lfht), ~3.5 s for the nine.
#                     2 workloads x 5 counts x 3 reps x (9 x 1 s + 3.5 s)
#                     = 30 x 12.5 s = 375 s (the runs are time-bounded, so
#                     this part does not grow with contention)
#   bench_reclaim     3 reps x 0.03 s per run, with iterations calibrated at
#                     1 thread, so the contended baselines (rwlock and
#                     refcount: every section writes one shared line) take
#                     ~10-100x longer at 4-16 threads: 30-60 s
#   bench_once        3 reps x 0.03 s, nothing contended: ~3 s
#   bench_value       5 implementations x 5 counts x 3 reps x 0.2 s: ~16 s
#   bench_pool        scale 0.2 (4M get+put per thread per run), 3 reps:
#                     ~10 s
#   bench_slice       N = 2M appends, 5 counts, 3 reps (the mutex vector
#                     slows down under contention): ~10 s
#   total             ~450-480 s: 7.5-8 minutes
set -eu

usage() {
    echo "usage: $0 DIR [THREADS]   (DIR: meson build dir or flat bin dir)" >&2
    exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ] || [ ! -d "$1" ]; then
    usage
fi
dir=$(cd "$1" && pwd)

# Where the programs are: DIR/bench (meson) or DIR itself (flat).
if [ -x "$dir/bench/bench_map" ] || [ -x "$dir/bench/bench_reclaim" ]; then
    bin=$dir/bench
    dashmap=$dir/bench/dashmap-target/release/goconc-dashmap-bench
    logdir=$dir
else
    bin=$dir
    dashmap=$dir/goconc-dashmap-bench
    logdir=$(dirname "$dir")
fi
[ -x "$dashmap" ] && export GOCONC_DASHMAP_BIN="$dashmap"

ncpu=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)
if [ $# -ge 2 ]; then
    threads=$2
elif [ -n "${GOCONC_BENCH_THREADS:-}" ]; then
    threads=$GOCONC_BENCH_THREADS
else
    threads=
    for t in 1 2 4 8 16; do
        [ "$t" -le "$ncpu" ] || t=$ncpu
        case ",$threads," in *",$t,"*) ;; *) threads=${threads:+$threads,}$t ;; esac
    done
fi
export GOCONC_BENCH_THREADS="$threads"

# The caller's settings win over the defaults of each program's run.
u_reps=${GOCONC_BENCH_REPS:-}
u_secs=${GOCONC_BENCH_SECONDS:-}
map_impls=${BENCH_SCALING_MAP_IMPLS:-dashmap,cuckoo,absl64,ck,tbb,lfht,seed64,glib}
export GOCONC_BENCH_MAP_KEYS="${GOCONC_BENCH_MAP_KEYS:-1000000}"
export GOCONC_BENCH_N="${GOCONC_BENCH_N:-2000000}"

log=${BENCH_SCALING_LOG:-$logdir/bench-scaling-$(hostname 2>/dev/null || echo host)-$(date +%Y%m%d-%H%M%S).log}

# run NAME SECONDS [ARGS...]: one program with 3 reps (or the caller's)
# and SECONDS per run (or the caller's), timed.
run() {
    name=$1 secs=$2
    shift 2
    echo
    echo "=== $name${*:+ $*} (GOCONC_BENCH_THREADS=$threads)"
    if [ ! -x "$bin/$name" ]; then
        echo "$name: not built; skipped"
        return 0
    fi
    t0=$(date +%s)
    GOCONC_BENCH_REPS=${u_reps:-3} GOCONC_BENCH_SECONDS=${u_secs:-$secs} \
        "$bin/$name" "$@" || echo "$name: exit status $?"
    echo "=== $name: $(($(date +%s) - t0)) s"
}

main() {
    start=$(date +%s)
    echo "bench-scaling: $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(hostname 2>/dev/null || echo '?'), $(uname -srm)"
    echo "programs: $bin"
    [ -f "$logdir/PACKINFO" ] && sed 's/^/  /' "$logdir/PACKINFO"
    echo "nproc: $ncpu; threads: $threads"
    if command -v lscpu >/dev/null 2>&1; then
        lscpu | grep -E '^(Model name|Thread\(s\) per core|Core\(s\) per socket|Socket\(s\)|NUMA node\(s\)|CPU max MHz|L3 cache):' || true
    else
        grep -m1 'model name' /proc/cpuinfo || true
    fi
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "DashMap peer: ${GOCONC_DASHMAP_BIN:-not found}"
    echo "settings: reps ${u_reps:-3}; map N=$GOCONC_BENCH_MAP_KEYS, ${u_secs:-1} s per run, impls goconc,$map_impls; slice N=$GOCONC_BENCH_N"

    run bench_map 1 w1 w1b "--impls=$map_impls"
    run bench_reclaim 0.03
    run bench_once 0.03
    run bench_value 0.2
    run bench_pool 0.2
    run bench_slice 1
    echo
    echo "bench-scaling: done in $(($(date +%s) - start)) s; log: $log"
}

main 2>&1 | tee "$log"
