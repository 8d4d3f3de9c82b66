#!/bin/sh
# SPDX-License-Identifier: MIT
# check_abi.sh LIB ABI_DIR INCLUDE_DIR
# Fails if the library exports anything outside goconc_*, if its exported
# symbol list differs from ABI_DIR/goconc.symbols, if a symbol is not in
# the version node ABI_DIR/goconc.nodes gives it (a symbol that moves
# between nodes breaks the programs linked against the old node), or if
# abidiff finds an incompatible change against ABI_DIR/libgoconc.abi.
set -u
lib=$1 abidir=$2 incdir=$3
status=0

exported=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@@\?GOCONC_[0-9.]*$//' | grep -v '^GOCONC_[0-9.]*$' | sort)
bad=$(printf '%s\n' "$exported" | grep -v '^goconc_' || true)
if [ -n "$bad" ]; then
    echo "exported symbols outside goconc_*:"; printf '%s\n' "$bad"; status=1
fi
# objdump -T: the node is the next-to-last field of each dynamic symbol.
nodes=$(objdump -T "$lib" | awk '$NF ~ /^goconc_/ {print $NF, $(NF-1)}' | sort)
if ! printf '%s\n' "$nodes" | diff -u "$abidir/goconc.nodes" -; then
    echo "symbol version nodes differ from $abidir/goconc.nodes"; status=1
fi
if ! printf '%s\n' "$exported" | diff -u "$abidir/goconc.symbols" -; then
    echo "exported symbols differ from $abidir/goconc.symbols"
    echo "(regenerate with scripts/abi-update.sh if the change is intended)"
    status=1
fi

if command -v abidiff >/dev/null 2>&1; then
    abidiff --headers-dir2 "$incdir" --no-added-syms \
        "$abidir/libgoconc.abi" "$lib"
    rc=$?
    # abidiff exit bits: 1 error, 2 usage, 4 ABI change, 8 incompatible change.
    if [ $((rc & 11)) -ne 0 ]; then
        echo "abidiff: incompatible ABI change or error (exit $rc)"; status=1
    elif [ $((rc & 4)) -ne 0 ]; then
        echo "abidiff: compatible ABI change: update abi/ with scripts/abi-update.sh"
    fi
else
    echo "abidiff not installed: skipping the ABI dump comparison"
fi
exit $status
