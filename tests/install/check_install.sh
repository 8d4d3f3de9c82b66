#!/bin/sh
# SPDX-License-Identifier: MIT
# check_install.sh SOURCE_ROOT - libgoconc as its users consume it, from a
# fresh build of SOURCE_ROOT with both libraries, installed into a
# temporary tree:
#   1. pkg-config with only goconc.pc visible (PKG_CONFIG_LIBDIR), shared
#      and static (--static) consumers;
#   2. CMake: find_package(goconc MAJOR.MINOR REQUIRED), target goconc::goconc;
#   3. Meson subproject (linked statically, as a parent that installs its
#      program wants): the parent pays for no test, demo, benchmark or
#      install of libgoconc's.
# Prints what it checks; exits non-zero on the first failure.
set -eu
src=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
prefix=$tmp/prefix
here=$src/tests/install
cc=${CC:-cc}
version=$(sed -n "s/^  version: '\([0-9.]*\)',/\1/p" "$src/meson.build")
majmin=${version%.*}

echo "== build and install (default_library=both) into $prefix"
meson setup "$tmp/build" "$src" --prefix="$prefix" --libdir=lib -Ddefault_library=both \
    -Dtests=false -Dbench=false -Ddemo=false >"$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log"; exit 1; }
ninja -C "$tmp/build" >"$tmp/build.log" 2>&1 || { tail -30 "$tmp/build.log"; exit 1; }
meson install -C "$tmp/build" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }

echo "== pkg-config, goconc.pc alone"
export PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig"
unset PKG_CONFIG_PATH || true
pkg-config --exists --print-errors goconc
pkg-config --validate goconc
cflags=$(pkg-config --cflags goconc)
"$cc" $cflags "$here/consumer.c" -o "$tmp/consumer-shared" $(pkg-config --libs goconc)
LD_LIBRARY_PATH="$prefix/lib" "$tmp/consumer-shared"
# Static: the archive by path (both are installed; -l would pick the .so).
static_libs=$(pkg-config --static --libs-only-other --libs-only-l goconc | sed 's/-lgoconc//')
"$cc" $cflags "$here/consumer.c" -o "$tmp/consumer-static" "$prefix/lib/libgoconc.a" $static_libs
if ldd "$tmp/consumer-static" | grep -q libgoconc; then
    echo "consumer-static depends on libgoconc.so"; exit 1
fi
"$tmp/consumer-static"

echo "== CMake: find_package(goconc $majmin REQUIRED)"
mkdir -p "$tmp/cmake-src"
cp "$here/consumer.cpp" "$tmp/cmake-src/"
cat >"$tmp/cmake-src/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.13)
project(goconc_consumer CXX)
set(CMAKE_CXX_STANDARD 17)
find_package(goconc $majmin REQUIRED)
add_executable(consumer consumer.cpp)
target_link_libraries(consumer PRIVATE goconc::goconc)
add_executable(consumer_static consumer.cpp)
target_link_libraries(consumer_static PRIVATE goconc::goconc_static)
CMAKE
cmake -S "$tmp/cmake-src" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
    >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; exit 1; }
cmake --build "$tmp/cmake-build" >"$tmp/cmake-build.log" 2>&1 || { cat "$tmp/cmake-build.log"; exit 1; }
"$tmp/cmake-build/consumer"
"$tmp/cmake-build/consumer_static"
# A newer major version must not be accepted.
sed -i "s/find_package(goconc $majmin REQUIRED)/find_package(goconc $((${majmin%%.*} + 1)).0 REQUIRED)/" \
    "$tmp/cmake-src/CMakeLists.txt"
if cmake -S "$tmp/cmake-src" -B "$tmp/cmake-build2" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null 2>&1; then
    echo "find_package accepted a newer major version"; exit 1
fi

echo "== Meson subproject"
unset PKG_CONFIG_LIBDIR
mkdir -p "$tmp/parent/subprojects"
ln -s "$src" "$tmp/parent/subprojects/goconc"
cp "$here/consumer.c" "$tmp/parent/"
cat >"$tmp/parent/meson.build" <<MESON
project('parent', 'c', default_options: ['c_std=c11'])
goconc = dependency('goconc', fallback: ['goconc', 'goconc_dep'],
  default_options: ['default_library=static'])
exe = executable('consumer', 'consumer.c', dependencies: goconc, install: true)
test('consumer', exe)
MESON
meson setup "$tmp/parent-build" "$tmp/parent" --prefix="$tmp/parent-prefix" --force-fallback-for=goconc \
    >"$tmp/parent.log" 2>&1 || { cat "$tmp/parent.log"; exit 1; }
ninja -C "$tmp/parent-build" >"$tmp/parent-build.log" 2>&1 || { tail -30 "$tmp/parent-build.log"; exit 1; }
tests=$(meson test -C "$tmp/parent-build" --list 2>/dev/null | grep -v "^ninja: ")
if [ "$tests" != "consumer" ]; then
    echo "the parent's meson test runs more than its own test:"; echo "$tests"; exit 1
fi
targets=$(ninja -C "$tmp/parent-build" -t targets all | grep -c -E 'goconc-demo|stress_|test_|bench_' || true)
if [ "$targets" -ne 0 ]; then
    echo "the parent builds $targets test, demo or benchmark targets of libgoconc's"; exit 1
fi
meson test -C "$tmp/parent-build" >/dev/null
meson install -C "$tmp/parent-build" >"$tmp/parent-install.log" 2>&1
installed=$(cd "$tmp/parent-prefix" && find . -type f | sort)
if [ "$installed" != "./bin/consumer" ]; then
    echo "the parent's install holds more than its own program:"; echo "$installed"; exit 1
fi
"$tmp/parent-prefix/bin/consumer"
echo "install: all checks passed"
