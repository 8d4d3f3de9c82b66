#!/bin/sh
# SPDX-License-Identifier: MIT
# Instructions per operation, by callgrind: bench/callgrind_map.c's cases
# (the map), then bench/callgrind_mods.c's (once, read sections, value,
# pool, slice), each run once under valgrind, counted inside run_ops
# only.  Two counts per case:
#   instr/op   everything in run_ops, the driver's loop and calls included
#              (the `loop` case is that loop alone);
#   lib/op     inside the library's public functions that run_ops calls
#              (inclusive: what they call, libc or an update's function,
#              counts too), the figure the issues' goals name.
# Usage: bench/callgrind_map.sh BUILD_DIR  (a -Dbench build; the library
# they load can be another build's: LD_LIBRARY_PATH=OTHER/src).
set -eu
dir=$1/bench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%-16s %10s %10s\n' case instr/op lib/op
for c in loop load_hit load_miss overwrite insert overwrite_long overwrite_drop delete_insert \
         insert_grow overwrite_grown load_hit_grown update swap overwrite_wide \
         overwrite_aged update_aged overwrite_np update_np swap_np overwrite_wide_np \
         update_aged_np \
         mods:loop mods:once_done mods:section mods:value_load mods:value_store \
         mods:pool_getput mods:slice_append; do
    bin=$dir/callgrind_map label=$c
    case $c in mods:*) bin=$dir/callgrind_mods; c=${c#mods:} ;; esac
    valgrind --tool=callgrind --toggle-collect=run_ops --callgrind-out-file="$tmp/out" \
        "$bin" "$c" >"$tmp/stdout" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    # The case prints how many operations it counted ("case: N ops, ...").
    ops=$(sed -n 's/^[a-z_]*: \([0-9]*\) ops.*/\1/p' "$tmp/stdout")
    ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$tmp/out")
    [ -n "$ir" ] || ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$tmp/out")
    # Inclusive cost of each goconc_* function (run_ops calls only them).
    # From $tmp: callgrind_annotate shortens file names under the current
    # directory, and from a parent of the build directory (e.g. /tmp for
    # /tmp/build) it then split a function and counted part of it
    # (overwrite_grown 221 instead of 373).
    lib=$(cd "$tmp" && callgrind_annotate --inclusive=yes out 2>/dev/null |
        sed -n 's/^ *\([0-9,]*\) .*:goconc_[a-z_]* \[.*libgoconc.*/\1/p' | tr -d , |
        awk '{ s += $1 } END { print s + 0 }')
    printf '%-16s %10s %10s\n' "$label" "$(echo "scale=1; $ir / $ops" | bc)" \
        "$(echo "scale=1; $lib / $ops" | bc)"
done
