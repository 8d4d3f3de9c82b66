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
for p in gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libc6:arm64 check:arm64 \
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
exe_wrapper = ['qemu-aarch64']

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
# qemu-aarch64 without -L: the guest's loader and libc both come from the
# multiarch libc6:arm64.  (-L /usr/aarch64-linux-gnu would pair that
# loader with the cross toolchain's libc of another Debian revision, and
# the guest then hangs in its first pthread_create or fork.)
qemu="qemu-aarch64"
# A single-threaded consumer first: the library loads and works.
aarch64-linux-gnu-gcc -std=c11 -Iinclude -I"$build/include" tests/install/consumer.c \
    -o "$build/consumer" -L"$build/src" -lgoconc -pthread
$qemu -E LD_LIBRARY_PATH="$build/src" "$build/consumer"

# Emulation is ~10-50x slower: longer timeouts.  Valgrind, the install
# test and the ABI and documentation checks are host tools.
# Left out by name, and said so: two tests whose fork child starts
# threads (qemu-user 7.2 itself then fails assertions in its TCG and
# plugin code) and one that runs its own program again through
# posix_spawn (the host cannot exec an aarch64 binary without binfmt).
rm -f "$build/meson-logs/testlog.json"
GOCONC_TEST_SKIP=once_in_fork_child,fork_child_uses_library_at_once,main_thread_record_cleaned \
meson test -C "$build" --print-errorlogs --timeout-multiplier 10 \
    --no-suite valgrind --no-suite install --no-suite abi || true
set -- $(python3 scripts/count_tests.py "$build/meson-logs/testlog.json")
echo "aarch64 (qemu-user): $1 passed, $2 failed"
echo "$1 passed, $2 failed"
[ "$2" -eq 0 ]
