#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-ab.sh - the same benchmark programs against two builds of
# libgoconc.so.1, interleaved in one sitting (doc/bench.md, "Before and
# after a change").
#
#   scripts/bench-ab.sh [--rounds N] [--out DIR] [--bench DIR] OLD_LIBDIR NEW_LIBDIR
#
#   OLD_LIBDIR, NEW_LIBDIR   directories holding libgoconc.so.1 (a build's
#                            src/ directory), e.g. /tmp/base/src build-bench/src
#   --bench DIR              the build whose bench/ programs run (default
#                            build-bench); they find the library through
#                            LD_LIBRARY_PATH, which their RUNPATH yields to
#   --rounds N               rounds (default 5); each round runs every
#                            program once per library, in alternating order
#   --programs "P ..."       only these programs (default: bench_map
#                            bench_reclaim bench_once bench_value bench_pool
#                            bench_slice)
#   --out DIR                where old.jsonl, new.jsonl go (default a
#                            temporary directory)
#
# Only goconc's figures are compared: bench_map runs --impls=goconc.  The
# table gives, per figure, the median of each side and new/old in the
# direction where above 1.00 is better; lines more than 3% worse are
# marked.  Settings come from the usual GOCONC_BENCH_* variables; the
# defaults here are short (0.3 s runs, 1 rep inside each program: the
# rounds are the repetitions).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
rounds=5
out=
bench=$src/build-bench
programs="bench_map bench_reclaim bench_once bench_value bench_pool bench_slice"
while [ $# -gt 2 ]; do
    case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --bench) bench=$2; shift 2 ;;
    --programs) programs=$2; shift 2 ;;
    *) echo "bench-ab.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ $# -eq 2 ] || { sed -n '3,28p' "$0" >&2; exit 2; }
old=$(cd "$1" && pwd)
new=$(cd "$2" && pwd)
for d in "$old" "$new"; do
    [ -e "$d/libgoconc.so.1" ] || { echo "bench-ab.sh: no libgoconc.so.1 in $d" >&2; exit 2; }
done
[ -n "$out" ] || out=$(mktemp -d)
mkdir -p "$out"
rm -f "$out/old.jsonl" "$out/new.jsonl" "$out/lib.old" "$out/lib.new"
# The two sides see environments of the same size: a longer
# LD_LIBRARY_PATH shifts the initial stack, and the stack's alignment
# alone moved figures of code that never enters the library by up to 40%.
ln -s "$old" "$out/lib.old"
ln -s "$new" "$out/lib.new"
old=$out/lib.old
new=$out/lib.new

: "${GOCONC_BENCH_REPS:=1}" "${GOCONC_BENCH_SECONDS:=0.3}"
: "${GOCONC_BENCH_MAP_GROW:=2000000}"
export GOCONC_BENCH_REPS GOCONC_BENCH_SECONDS GOCONC_BENCH_MAP_GROW

# run SIDE LIBDIR: every program once against LIBDIR.
run() {
    side=$1; lib=$2
    for prog in $programs; do
        set --
        [ "$prog" = bench_map ] && set -- w1 w1b w2 --impls=goconc
        exe=$bench/bench/$prog
        LD_LIBRARY_PATH=$lib GOCONC_BENCH_JSON=$out/$side.jsonl \
            "$exe" "$@" >>"$out/$side.log" 2>&1 ||
            echo "bench-ab.sh: $exe failed against $lib (see $out/$side.log)" >&2
    done
}

i=1
while [ "$i" -le "$rounds" ]; do
    echo "round $i of $rounds" >&2
    if [ $((i % 2)) -eq 1 ]; then
        run old "$old"; run new "$new"
    else
        run new "$new"; run old "$old"
    fi
    i=$((i + 1))
done
python3 "$src/bench/bench_ab.py" "$out/old.jsonl" "$out/new.jsonl"
