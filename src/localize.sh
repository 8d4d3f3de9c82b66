#!/bin/sh
# SPDX-License-Identifier: MIT
# localize.sh IN.a OUT.a CC... OBJCOPY AR - make libgoconc.a from the
# library's objects: one relocatable object of all of them (the compiler
# driver's partial link, so a cross build uses its own linker), every
# hidden symbol in it made local, alone in the archive.  What stays global
# is what the shared library exports: goconc_*.
set -eu
in=$1 out=$2
shift 2
n=$#
ar=$(eval echo "\${$n}")
objcopy=$(eval echo "\${$((n - 1))}")
# The compiler and its arguments are what remains.
i=0
cc=""
for a in "$@"; do
    i=$((i + 1))
    [ $i -le $((n - 2)) ] && cc="$cc '$a'"
done
obj="$out.o"
eval "$cc" -r -nostdlib -Wl,--whole-archive "'$in'" -Wl,--no-whole-archive -o "'$obj'"
"$objcopy" --localize-hidden "$obj"
rm -f "$out"
"$ar" rcs "$out" "$obj"
rm -f "$obj"
