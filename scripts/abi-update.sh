#!/bin/sh
# SPDX-License-Identifier: MIT
# abi-update.sh [BUILD_DIR] - regenerate abi/ from a default build: the
# abidw dump of libgoconc.so.1, the sorted list of exported symbols and
# the version node of each (goconc.nodes).
# Run it only when the exported interface changes on purpose, and say so
# in CHANGELOG.md.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build}
[ -f "$dir/build.ninja" ] || meson setup "$dir" >/dev/null
ninja -C "$dir" >/dev/null
lib="$dir/src/libgoconc.so.1"
abidw --headers-dir include --no-corpus-path --out-file abi/libgoconc.abi "$lib"
nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@@\?GOCONC_[0-9.]*$//' |
    grep -v '^GOCONC_[0-9.]*$' | sort >abi/goconc.symbols
# objdump -T: the node is the next-to-last field of each dynamic symbol.
objdump -T "$lib" | awk '$NF ~ /^goconc_/ {print $NF, $(NF-1)}' | sort >abi/goconc.nodes
wc -l abi/goconc.symbols abi/goconc.nodes
