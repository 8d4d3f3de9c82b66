#!/bin/sh
# SPDX-License-Identifier: MIT
# check_abi.sh LIB ABI_DIR INCLUDE_DIR
# Fails if the library exports anything outside goconc_* / the GOCONC_1.0
# node, if its exported symbol list differs from ABI_DIR/goconc.symbols, or
# if abidiff finds an incompatible change against ABI_DIR/libgoconc.abi.
set -u
lib=$1 abidir=$2 incdir=$3
status=0

exported=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@@\?GOCONC_1\.0$//' | grep -v '^GOCONC_1\.0$' | sort)
bad=$(printf '%s\n' "$exported" | grep -v '^goconc_' || true)
if [ -n "$bad" ]; then
    echo "exported symbols outside goconc_*:"; printf '%s\n' "$bad"; status=1
fi
unversioned=$(objdump -T "$lib" | awk '$NF ~ /^goconc_/ && $(NF-1) != "GOCONC_1.0" {print $NF}')
if [ -n "$unversioned" ]; then
    echo "symbols outside the GOCONC_1.0 node:"; printf '%s\n' "$unversioned"; status=1
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
