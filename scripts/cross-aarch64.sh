#!/bin/sh
# SPDX-License-Identifier: MIT
# cross-aarch64.sh [BUILD_DIR] - the portability check: cross-build
# libgoconc for aarch64 (Debian's gcc-aarch64-linux-gnu, arm64 Check and
# libc from multiarch; libatomic_ops's headers are the build machine's,
# the same for every architecture) and run its unit and stress tests
# under qemu-user.  Installs what is missing (as root; adds the arm64 dpkg
# architecture, and only packages that coexist with the amd64 ones:
# libatomic-ops-dev:arm64 would replace libatomic-ops-dev).  Ends "N passed, N failed" like scripts/test.sh; a few
# minutes under emulation.  doc/platforms.md says what it covers.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-aarch64}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

need=""
for p in gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user check:arm64 \
         libsubunit-dev:arm64 libatomic-ops-dev meson ninja-build pkg-config; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
    echo "cross-aarch64: installing$need"
    dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

# Inside the build directory: Meson reads it again when it reconfigures.
mkdir -p "$build"
cross=$(cd "$build" && pwd)/cross-aarch64.ini
cat >"$cross" <<CROSS
[binaries]
c = 'aarch64-linux-gnu-gcc'
cpp = 'aarch64-linux-gnu-g++'
ar = 'aarch64-linux-gnu-ar'
strip = 'aarch64-linux-gnu-strip'
objcopy = 'aarch64-linux-gnu-objcopy'
pkgconfig = 'pkg-config'
exe_wrapper = ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu']

[properties]
pkg_config_libdir = ['/usr/lib/aarch64-linux-gnu/pkgconfig', '/usr/share/pkgconfig']

[host_machine]
system = 'linux'
cpu_family = 'aarch64'
cpu = 'aarch64'
endian = 'little'
CROSS

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" --cross-file "$cross" -Dwerror=true -Dbench=false -Ddemo=false \
        -Dstress_seconds=1 >"$build/cross-setup.log" 2>&1 || { cat "$build/cross-setup.log"; exit 1; }
fi
ninja -C "$build" >"$build/cross-ninja.log" 2>&1 || { tail -40 "$build/cross-ninja.log"; exit 1; }
qemu="qemu-aarch64 -L /usr/aarch64-linux-gnu"
# A single-threaded consumer first: the library loads and works.
aarch64-linux-gnu-gcc -std=c11 -Iinclude -I"$build/include" tests/install/consumer.c \
    -o "$build/consumer" -L"$build/src" -lgoconc -pthread
# shellcheck disable=SC2086
$qemu -E LD_LIBRARY_PATH="$build/src" "$build/consumer"
# Can qemu-user run threads here?  (On some hosts qemu 7.2 spins in the
# guest's first pthread_create: then only the build is checked.)
printf '#include <pthread.h>\nstatic void *f(void *p) { return p; }\nint main(void) { pthread_t t; return pthread_create(&t, 0, f, 0) || pthread_join(t, 0); }\n' \
    >"$build/threads_probe.c"
aarch64-linux-gnu-gcc "$build/threads_probe.c" -o "$build/threads_probe" -pthread
# shellcheck disable=SC2086
if ! timeout 30 $qemu "$build/threads_probe"; then
    echo "aarch64: built with -Werror and the consumer ran, but qemu-user cannot run threads on this"
    echo "host (a pthread_create probe hung), so the tests were not run"
    echo "0 passed, 1 failed"
    exit 1
fi

# Forks under qemu-user are not to be trusted (doc/platforms.md), so Check
# runs each test in the test process (CK_FORK=no) and the programs that
# fork themselves are left out: test_reclaim, test_once, stress_pool, test_lifecycle,
# lifecycle_dlopen.  Emulation is ~10-50x slower: longer timeouts.
# Valgrind, the install test and the docs checks are host tools.
rm -f "$build/meson-logs/testlog.json"
tests=$(meson test -C "$build" --list 2>/dev/null | sed -n 's/^libgoconc:[a-z+]* \/ //p' |
    grep -v -x -e test_reclaim -e test_once -e stress_pool -e test_lifecycle -e lifecycle_dlopen \
        -e 'helgrind_.*' -e 'drd_.*' -e install_consumers -e reference -e abi -e warn_unused \
        -e static_symbols)
# shellcheck disable=SC2086
CK_FORK=no meson test -C "$build" --print-errorlogs --timeout-multiplier 10 $tests || true
set -- $(python3 scripts/count_tests.py "$build/meson-logs/testlog.json")
echo "aarch64 (qemu-user; not run there: the five programs that fork): $1 passed, $2 failed"
echo "$1 passed, $2 failed"
[ "$2" -eq 0 ]
