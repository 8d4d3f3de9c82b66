#!/bin/sh
# SPDX-License-Identifier: MIT
# fuzz_run.sh FUZZER SEED_CORPUS WORK_DIR - a bounded libFuzzer run, as a
# Meson test of the -Dfuzz=true build.  libFuzzer adds the inputs it finds
# to its first corpus directory, so that is WORK_DIR (in the build tree),
# seeded from the checked-in SEED_CORPUS, which stays untouched.  A crash
# leaves its input in WORK_DIR/crash-*; replay it with the fuzzer or with
# the gcc build's fuzz_<target>_replay FILE.
# GOCONC_FUZZ_SECONDS (default 30) bounds the run.
set -eu
fuzzer=$1 seed=$2 work=$3
mkdir -p "$work"
# UBSan findings end the run like crashes (as in the other builds).
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
exec "$fuzzer" -max_total_time="${GOCONC_FUZZ_SECONDS:-30}" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" \
    "$work" "$seed"
