#!/bin/sh
# SPDX-License-Identifier: MIT
# check_static.sh LIBGOCONC_A SYMBOLS CC CFLAGS... - the static archive
# defines no global symbol but the exported ones (abi/goconc.symbols), and
# a program that defines libgoconc's internal names itself links against
# it and runs.
set -eu
lib=$1 symbols=$2 cc=$3 src=$4
shift 4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

nm -g --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort >"$tmp/defined"
sort "$symbols" >"$tmp/exported"
extra=$(comm -23 "$tmp/defined" "$tmp/exported")
if [ -n "$extra" ]; then
    echo "libgoconc.a defines global symbols outside abi/goconc.symbols:"
    echo "$extra"
    exit 1
fi
missing=$(comm -13 "$tmp/defined" "$tmp/exported")
if [ -n "$missing" ]; then
    echo "libgoconc.a lacks exported symbols: $missing"
    exit 1
fi
"$cc" "$@" "$src" "$lib" -pthread -o "$tmp/static_clash"
"$tmp/static_clash"
