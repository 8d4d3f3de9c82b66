#!/bin/sh
# SPDX-License-Identifier: MIT
# coverage.sh [BUILD_DIR] - line and branch coverage of src/ by the unit
# tests (meson test --suite unit: the Check tests, the lifecycle tests and
# the fuzz corpus replays; not the stress suite nor the other builds of
# scripts/test.sh).  Builds BUILD_DIR (default build-cov) with
# -Db_coverage=true at -O0, so that lines and branches map to the source,
# starts from zero counts, and prints gcovr's per-file table and the
# totals; doc/coverage.md lists what stays uncovered and why.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh --coverage
dir=${1:-build-cov}
if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" -Db_coverage=true -Dbuildtype=debug -Dbench=false
fi
ninja -C "$dir"
# Counts accumulate across runs: start from zero.
find "$dir" -name '*.gcda' -delete
meson test -C "$dir" --suite unit --print-errorlogs
# --exclude-throw-branches: the library is built with -fexceptions (doc/cpp.md),
# which gives every call an exceptional edge that is no branch of the source.
gcovr --root . --object-directory "$dir" --filter 'src/' --exclude-throw-branches --print-summary
