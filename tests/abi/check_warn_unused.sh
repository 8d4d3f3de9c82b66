#!/bin/sh
# SPDX-License-Identifier: MIT
# check_warn_unused.sh CC INCLUDE_DIRS... - a dropped status warns
# (GOCONC_WARN_UNUSED), a checked one does not, and GOCONC_NO_WARN_UNUSED
# turns the warning off.
set -eu
cc=$1
shift
incs=""
for d in "$@"; do incs="$incs -I$d"; done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cat >"$tmp/dropped.c" <<'C'
#include "goconc.h"
int main(void) { goconc_map *m = 0; goconc_map_new(&m, 0); goconc_map_free(m); return 0; }
C
cat >"$tmp/checked.c" <<'C'
#include "goconc.h"
int main(void) { goconc_map *m = 0; if (goconc_map_new(&m, 0) != GOCONC_OK) return 1; goconc_map_free(m); return 0; }
C
# shellcheck disable=SC2086
if $cc $incs -Werror=unused-result -c "$tmp/dropped.c" -o "$tmp/a.o" 2>"$tmp/err"; then
    echo "a dropped status compiled without a warning"; exit 1
fi
grep -q "unused-result\|warn_unused_result" "$tmp/err" || { cat "$tmp/err"; exit 1; }
# shellcheck disable=SC2086
$cc $incs -Werror=unused-result -c "$tmp/checked.c" -o "$tmp/b.o"
# shellcheck disable=SC2086
$cc $incs -Werror=unused-result -DGOCONC_NO_WARN_UNUSED -c "$tmp/dropped.c" -o "$tmp/c.o"
echo "warn_unused: ok"
