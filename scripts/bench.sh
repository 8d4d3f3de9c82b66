#!/bin/sh
# SPDX-License-Identifier: MIT
# bench.sh [NAME...] - build the benchmarks in release mode (peers from
# Debian packages are installed first) and run them: all of them, or the
# named ones (reclaim once map value pool slice).  Never part of CI.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh --bench
dir=build-bench
[ -f "$dir/build.ninja" ] || meson setup "$dir" -Dbuildtype=release -Dtests=false >/dev/null
ninja -C "$dir" >/dev/null
[ $# -gt 0 ] || set -- reclaim once map value pool slice
for b in "$@"; do
    exe="$dir/bench/bench_$b"
    [ -x "$exe" ] || { echo "bench_$b: not built"; continue; }
    echo "=== bench_$b"
    "$exe"
done
