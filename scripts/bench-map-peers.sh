#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-map-peers.sh - build bench_map and its peers, then run it.
#
#   scripts/bench-map-peers.sh [--install] [--build DIR] [--build-only]
#                              [bench_map args...]
#
#   --install     install the peers' Debian packages first (scripts/setup.sh
#                 --bench)
#   --build-only  build bench_map and the DashMap program, run nothing
#   --build DIR   meson build directory (default: build-bench); configured
#                 with -Dbuildtype=release if it does not exist yet
#   args          passed to bench_map: all (default) | check | mem | w1 | w1b
#                 | w2 | w2b ..., --impls=dashmap,seed64,...
#
# The DashMap peer (bench/dashmap) is built offline against Debian's
# librust-dashmap-dev: the crate is copied to DIR/bench/dashmap-src so that
# its .cargo/config.toml (source replacement -> /usr/share/cargo/registry)
# applies and Cargo.lock stays out of the tree; the program lands where
# bench_map looks for it, DIR/bench/dashmap-target/release/.
# Environment: GOCONC_BENCH_REPS, GOCONC_BENCH_SECONDS, GOCONC_BENCH_SEED,
# GOCONC_BENCH_MAP_KEYS, GOCONC_BENCH_MAP_GROW (see doc/bench.md).
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=$src/build-bench
install=0
run=1
while [ $# -gt 0 ]; do
    case $1 in
    --install) install=1; shift ;;
    --build-only) run=0; shift ;;
    --build) build=$2; shift 2 ;;
    *) break ;;
    esac
done

# Absolute: cargo runs from a copy of the crate below it.
mkdir -p "$build"
build=$(cd "$build" && pwd)

if [ $install = 1 ]; then
    "$src/scripts/setup.sh" --bench
fi

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$src" -Dbuildtype=release -Dtests=false
fi
ninja -C "$build" bench/bench_map

# The DashMap peer: Debian's toolchain when present (it matches the Debian
# crates), else whatever cargo is on PATH; offline either way.
if [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ]; then
    cargo=/usr/bin/cargo
    export RUSTC=/usr/bin/rustc
else
    cargo=$(command -v cargo || true)
fi
if [ -n "$cargo" ] && ls -d /usr/share/cargo/registry/dashmap-* >/dev/null 2>&1; then
    rm -rf "$build/bench/dashmap-src"
    mkdir -p "$build/bench/dashmap-src"
    cp -R "$src/bench/dashmap/." "$build/bench/dashmap-src/"
    (cd "$build/bench/dashmap-src" &&
        CARGO_TARGET_DIR="$build/bench/dashmap-target" \
            "$cargo" build --release --offline --quiet) ||
        echo "bench-map-peers: DashMap peer did not build; running without it" >&2
else
    echo "bench-map-peers: cargo or librust-dashmap-dev missing; no DashMap peer" >&2
fi

[ $run = 1 ] || exit 0
exec "$build/bench/bench_map" "$@"
