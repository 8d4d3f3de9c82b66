#!/bin/sh
# SPDX-License-Identifier: MIT
# torture.sh - build the torture (tests/torture.c) three ways and run it:
#   build-torture/       tiny shards + perturbation, optimized
#   build-torture-tsan/  the same under ThreadSanitizer
#   build-torture-asan/  the same under AddressSanitizer + UBSan
# All three use -Dtiny_shards=true (migrations never stop) and
# -Dperturb=true (yields and short sleeps at race windows, src/core/perturb.h).
#
# Usage: scripts/torture.sh [MINUTES] [THREADS] [SEED] [-- TORTURE_ARGS...]
#   MINUTES  run time per build (default 2; fractions allowed, e.g. 0.5)
#   THREADS  worker slots (default 32, far more than cores)
#   SEED     default: a fresh one per build (bit 7 alternating: the main
#            map lends, then has no peek, ...), printed in its summary
#   TORTURE_ARGS  passed on, e.g. -K to skip checks of known core bugs
#   TORTURE_BUILDS="plain tsan asan" chooses the builds (environment).
# After each torture, stress_lincheck runs a quarter as long in the same
# build (TORTURE_LINCHECK=0 skips it).
# Not part of scripts/test.sh or CI.  Prints one summary line per build,
# with its seed; exits non-zero if any build failed.  Rerun a failure
# with: build-torture[-tsan|-asan]/tests/torture -s SEED -d SECONDS -t THREADS
set -u
cd "$(dirname "$0")/.." || exit 2

minutes=2
threads=32
seed=""
# Up to three positional arguments, then "--" and the torture's own.
n=0
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    n=$((n + 1))
    case $n in
    1) minutes=$1 ;;
    2) threads=$1 ;;
    3) seed=$1 ;;
    *) echo "usage: $0 [MINUTES] [THREADS] [SEED] [-- TORTURE_ARGS...]"; exit 2 ;;
    esac
    shift
done
[ "${1:-}" = "--" ] && shift
secs=$(awk "BEGIN { printf \"%d\", $minutes * 60 }")
jobs=${NINJA_JOBS:-2}
summary=""
failed=0

# build NAME DIR SETUP_ARGS...
build() {
    name=$1; dir=$2; shift 2
    mkdir -p "$dir" || return 1
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" -Dtiny_shards=true -Dperturb=true -Dbench=false "$@" \
            >"$dir/torture-setup.log" 2>&1 || { cat "$dir/torture-setup.log"; return 1; }
    fi
    ninja -C "$dir" -j"$jobs" tests/torture tests/stress_lincheck >"$dir/torture-ninja.log" 2>&1 ||
        { tail -40 "$dir/torture-ninja.log"; return 1; }
}

# run NAME DIR
# A fresh seed's bit 7 alternates from build to build (clear for the
# first), so that one run drives the main map both ways: lending, and
# without peek (doc/torture.md).  A SEED given is used as it is.
nrun=0
run() {
    name=$1; dir=$2; shift 2
    if [ -n "$seed" ]; then
        s=$seed
    else
        s=$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')
        s=$(( (s & ~128) | (nrun % 2) << 7 ))
    fi
    nrun=$((nrun + 1))
    log="$dir/torture.log"
    echo "=== $name: $dir/tests/torture -s $s -d $secs -t $threads $*"
    ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
        "$dir/tests/torture" -s "$s" -d "$secs" -t "$threads" "$@" >"$log" 2>&1
    rc=$?
    cat "$log"
    line=$(grep '^torture: seed [0-9]*: ' "$log" | tail -1)
    if [ $rc -ne 0 ]; then
        failed=$((failed + 1))
        summary="$summary
$name: FAILED (exit $rc, seed $s) ${line:-no summary: crashed or sanitizer report, see $log}"
    else
        summary="$summary
$name: ok ${line#torture: }"
    fi
    lincheck "$name" "$dir" "$s"
}

# lincheck NAME DIR SEED: a quarter as long again of linearizability
# checking (tests/stress_lincheck.c, doc/testing.md) in the same build:
# map and value histories checked against their sequential models.
lincheck() {
    [ "${TORTURE_LINCHECK:-1}" = 1 ] || return 0
    name=$1; dir=$2; s=$3
    lsecs=$((secs / 4))
    [ "$lsecs" -gt 0 ] || lsecs=1
    log="$dir/lincheck.log"
    echo "=== $name: $dir/tests/stress_lincheck -d $lsecs -s $s -t 6 -v"
    TSAN_OPTIONS=halt_on_error=1 ASAN_OPTIONS=halt_on_error=1:abort_on_error=1 \
        "$dir/tests/stress_lincheck" -d "$lsecs" -s "$s" -t 6 -v >"$log" 2>&1
    rc=$?
    tail -5 "$log"
    if [ $rc -ne 0 ]; then
        failed=$((failed + 1))
        summary="$summary
$name lincheck: FAILED (exit $rc, seed $s), see $log"
    else
        summary="$summary
$name lincheck: ok $(grep -i 'histories' "$log" | tail -1)"
    fi
}

for b in ${TORTURE_BUILDS:-plain tsan asan}; do
    case $b in
    plain) dir=build-torture; set_args="" ;;
    tsan)  dir=build-torture-tsan; set_args="-Db_sanitize=thread" ;;
    asan)  dir=build-torture-asan; set_args="-Db_sanitize=address,undefined -Db_lundef=false" ;;
    *) echo "unknown build $b"; exit 2 ;;
    esac
    # shellcheck disable=SC2086
    if build "$b" "$dir" $set_args; then
        run "$b" "$dir" "$@"
    else
        failed=$((failed + 1))
        summary="$summary
$b: FAILED to build ($dir)"
    fi
done

echo "=== torture summary ($minutes min per build, $threads threads)$summary"
[ "$failed" -eq 0 ]
