#!/bin/sh
# SPDX-License-Identifier: MIT
# check_clang.sh CLANGXX SRCDIR BUILD_INCLUDE FILE... - compile each C++
# file with clang++ as C++17 and C++20, warnings as errors (syntax and
# template instantiation only: nothing is linked or run).
set -eu
cxx=$1 src=$2 binc=$3
shift 3
for f in "$@"; do
    for std in c++17 c++20; do
        "$cxx" -std=$std -Wall -Wextra -Wpedantic -Werror -fsyntax-only \
            -I"$src/include" -I"$binc" "$f" || { echo "clang++ -std=$std: $f failed"; exit 1; }
    done
done
echo "clang++: $# files compile as C++17 and C++20"
