#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-rust.sh BUILD_DIR [ARGS...] - time the Rust binding's typed map, the
# layers under it and DashMap, and its Value and arc-swap's ArcSwap
# (bindings/rust/bench, issue 20) with the library built in BUILD_DIR (e.g.
# `build`, made by `meson setup build && ninja -C build`).  ARGS go to the
# program (--rounds, --ops, --keys, --threads, --impls, --kinds, --clock;
# --help lists them).
#
# Offline: the crate's .cargo/config.toml points cargo at Debian's
# registry in /usr/share/cargo/registry (librust-dashmap-dev,
# librust-arc-swap-dev and librust-libc-dev, installed by
# `scripts/setup.sh --bench`).  Builds into BUILD_DIR/rust-bench-target.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [ARGS...]" >&2
    exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" 2>/dev/null && pwd) || { echo "bench-rust: no build dir $1" >&2; exit 2; }
shift
libdir=$build/src
if [ ! -e "$libdir/libgoconc.so.1" ]; then
    echo "bench-rust: $libdir/libgoconc.so.1 not found (build the library first)" >&2
    exit 1
fi
target=$build/rust-bench-target
# cargo reads .cargo/config.toml from the directory it runs in.
(cd "$root/bindings/rust/bench" &&
    GOCONC_LIB_DIR=$libdir CARGO_TARGET_DIR=$target \
        "${CARGO:-cargo}" build --release --offline --quiet)
LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
    exec "$target/release/goconc-rust-bench" "$@"
