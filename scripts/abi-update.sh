#!/bin/sh
# SPDX-License-Identifier: MIT
# abi-update.sh [BUILD_DIR] - regenerate abi/ from a default build: the
# abidw dump of libgoconc.so.1 and the sorted list of exported symbols.
# Run it only when the exported interface changes on purpose, and say so
# in CHANGELOG.md.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build}
[ -f "$dir/build.ninja" ] || meson setup "$dir" >/dev/null
ninja -C "$dir" >/dev/null
lib="$dir/src/libgoconc.so.1"
abidw --headers-dir include --no-corpus-path --out-file abi/libgoconc.abi "$lib"
nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@@\?GOCONC_1\.0$//' |
    grep -v '^GOCONC_1\.0$' | sort >abi/goconc.symbols
wc -l abi/goconc.symbols
