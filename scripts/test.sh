#!/bin/sh
# SPDX-License-Identifier: MIT
# test.sh - install what is missing, then build and run every test:
#   build/       the default build (-Dwerror=true): unit, stress, ABI tests
#   build-tiny/  map with tiny shards, so migrations run constantly, and
#                huge-page tables (-Dhugepages=true)
#   build-tsan/  the whole suite under ThreadSanitizer
#   build-tsan-tiny/  the map tests under ThreadSanitizer with tiny shards
#   build-asan/  the whole suite under AddressSanitizer + UBSan, with
#                huge-page tables
#   build-fuzz/  clang: the libFuzzer targets, 30 s each (GOCONC_FUZZ_SECONDS)
#   bindings     Python unittest and cargo test --offline
# Ends with one line "N passed, N failed"; exits non-zero if any failed.
set -u
cd "$(dirname "$0")/.."
./scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
logs=""

# run_build DIR MESON_TEST_ARGS -- SETUP_ARGS...
run_build() {
    dir=$1; targs=$2; shift 2
    echo "=== $dir: meson setup $*"
    if [ ! -f "$dir/build.ninja" ]; then
        if ! meson setup "$dir" "$@" >"$dir.setup.log" 2>&1; then
            cat "$dir.setup.log"; failed=$((failed + 1)); return
        fi
    fi
    if ! ninja -C "$dir" >"$dir.ninja.log" 2>&1; then
        tail -50 "$dir.ninja.log"; failed=$((failed + 1)); return
    fi
    rm -f "$dir/meson-logs/testlog.json"
    # shellcheck disable=SC2086
    meson test -C "$dir" --print-errorlogs $targs
    logs="$logs $dir/meson-logs/testlog.json"
}

run_build build "" -Dwerror=true -Dbench=true
run_build build-tiny "test_map stress_map fuzz_map_replay stress_lincheck" -Dtiny_shards=true -Dhugepages=true -Dbench=false
run_build build-tsan "--no-suite abi" -Db_sanitize=thread -Dbench=false
run_build build-tsan-tiny "test_map stress_map fuzz_map_replay stress_lincheck" -Db_sanitize=thread -Dtiny_shards=true -Dbench=false
run_build build-asan "--no-suite abi" -Db_sanitize=address,undefined -Db_lundef=false -Dhugepages=true -Dbench=false
CC=clang run_build build-fuzz "--suite fuzz" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false

set -- $(python3 scripts/count_tests.py $logs)
passed=$((passed + $1))
failed=$((failed + $2))

if [ -x scripts/test-bindings.sh ]; then
    echo "=== bindings"
    out=$(./scripts/test-bindings.sh build 2>&1)
    rc=$?
    printf '%s\n' "$out"
    set -- $(printf '%s\n' "$out" | sed -n 's/^bindings: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' | tail -1)
    if [ $# -eq 2 ]; then
        passed=$((passed + $1)); failed=$((failed + $2))
    fi
    # A failing runner that reported no failure (crashed, did not build).
    if [ $rc -ne 0 ] && { [ $# -ne 2 ] || [ "$2" -eq 0 ]; }; then
        failed=$((failed + 1))
    fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
