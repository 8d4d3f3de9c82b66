#!/bin/sh
# SPDX-License-Identifier: MIT
# setup.sh [--bench | --coverage] - install what building and testing
# libgoconc needs on Debian 12 (as root; uses sudo when not root).  Installs
# only what is missing, so it is cheap to run again.  clang and its
# compiler-rt (libFuzzer) are for the fuzz build; --coverage adds gcovr.
set -eu
pkgs="meson ninja-build pkg-config gcc g++ check libsubunit-dev libatomic-ops-dev
      abigail-tools python3 python3-dev python3-setuptools python3-venv
      cargo rustc valgrind cmake clang libclang-rt-14-dev groff-base"
if [ "${1:-}" = "--coverage" ]; then
    pkgs="$pkgs gcovr"
fi
if [ "${1:-}" = "--bench" ]; then
    pkgs="$pkgs liburcu-dev libglib2.0-dev libtbb-dev libjemalloc-dev
          librust-dashmap-dev libcuckoo-dev"
fi
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "setup: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
