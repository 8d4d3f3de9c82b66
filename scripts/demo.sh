#!/bin/sh
# SPDX-License-Identifier: MIT
# demo.sh - install what is missing, build libgoconc, run goconc-demo.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build examples/goconc-demo >/dev/null
exec ./build/examples/goconc-demo
