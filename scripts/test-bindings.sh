#!/bin/sh
# SPDX-License-Identifier: MIT
# test-bindings.sh BUILD_DIR - run the Python and Rust bindings' tests
# against the library built in BUILD_DIR (e.g. `build`, made by
# `meson setup build && ninja -C build`).
#
# Installs nothing: Python builds the native extension goconc._goconc in
# place (setup.py build_ext --inplace, for the $PYTHON under test, against
# BUILD_DIR/src and include/), then imports the package from
# bindings/python with GOCONC_LIBRARY pointing at
# BUILD_DIR/src/libgoconc.so.1; cargo builds
# into BUILD_DIR/rust-target (offline, no crates) with GOCONC_LIB_DIR and
# LD_LIBRARY_PATH pointing at BUILD_DIR/src.
#
# Prints each runner's own summary ("Ran N tests" / "OK" or "FAILED (...)"
# for unittest, "test result: ..." per test binary for cargo), then a line
# per runner and a last line "bindings: N passed, N failed".  Exits non-zero
# if anything failed, including a runner that crashed or did not build.
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" 2>/dev/null && pwd) || { echo "test-bindings: no build dir $1" >&2; exit 2; }
libdir=$build/src
if [ ! -e "$libdir/libgoconc.so.1" ]; then
    echo "test-bindings: $libdir/libgoconc.so.1 not found (build the library first)" >&2
    echo "bindings: 0 passed, 1 failed"
    exit 1
fi

PYTHON=${PYTHON:-python3}
CARGO=${CARGO:-cargo}
# Hung tests must not hang CI.
PY_TIMEOUT=${GOCONC_PY_TIMEOUT:-600}
RUST_TIMEOUT=${GOCONC_RUST_TIMEOUT:-1200}

passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# ------------------------------------------------------------------ Python
echo "=== bindings/python: $PYTHON -m unittest (GOCONC_LIBRARY=$libdir/libgoconc.so.1)"
(
    cd "$root/bindings/python" &&
    if ! GOCONC_LIB_DIR=$libdir GOCONC_INCLUDE_DIR=$root/include:$build/include \
        "$PYTHON" setup.py -q build_ext --inplace --force \
        --build-temp "$tmp/pybuild" >"$tmp/pybuild.log" 2>&1; then
        cat "$tmp/pybuild.log"
        echo "python: building the extension goconc._goconc failed"
        exit 1
    fi &&
    GOCONC_LIBRARY=$libdir/libgoconc.so.1 \
    PYTHONPATH=$root/bindings/python${PYTHONPATH:+:$PYTHONPATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    timeout "$PY_TIMEOUT" "$PYTHON" -m unittest discover -s tests -t . -v
) >"$tmp/py.log" 2>&1
py_rc=$?
cat "$tmp/py.log"
# unittest: "Ran N tests in ..." then "OK", "OK (skipped=S)" or
# "FAILED (failures=F, errors=E, skipped=S, ...)".
py_ran=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\} in .*/\1/p' "$tmp/py.log" | tail -1)
py_last=$(grep -E '^(OK|FAILED)( \(.*\))?$' "$tmp/py.log" | tail -1)
num() {
    v=$(printf '%s\n' "$py_last" | sed -n "s/.*[(, ]$1=\([0-9]*\).*/\1/p")
    echo "${v:-0}"
}
py_fail=$(( $(num failures) + $(num errors) + $(num "unexpected successes") ))
py_skip=$(( $(num skipped) + $(num "expected failures") ))
if [ -z "$py_ran" ] || [ -z "$py_last" ]; then
    echo "python: the unittest run did not complete (exit $py_rc)"
    failed=$((failed + 1))
else
    py_pass=$((py_ran - py_fail - py_skip))
    passed=$((passed + py_pass))
    failed=$((failed + py_fail))
    if [ "$py_rc" -ne 0 ] && [ "$py_fail" -eq 0 ]; then
        failed=$((failed + 1))      # e.g. killed by timeout after the summary
    fi
fi

# -------------------------------------------------------------------- Rust
echo "=== bindings/rust: $CARGO test --offline (GOCONC_LIB_DIR=$libdir)"
(
    cd "$root/bindings/rust" &&
    GOCONC_LIB_DIR=$libdir \
    LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
    CARGO_TARGET_DIR=$build/rust-target \
    GOCONC_INCLUDE_DIR=$root/include:$build/include \
    timeout "$RUST_TIMEOUT" "$CARGO" test --offline --workspace --no-fail-fast
) >"$tmp/rust.log" 2>&1
rust_rc=$?
# Compile-fail tests with trybuild (Debian's librust-trybuild-dev, found
# offline through the crate's own .cargo/config.toml).  They build in the
# crate's target/: the projects trybuild generates there must see that
# config too, hence no CARGO_TARGET_DIR.
if ls -d /usr/share/cargo/registry/trybuild-* >/dev/null 2>&1; then
    echo "=== bindings/rust/compile-tests: $CARGO test --offline (trybuild)" >>"$tmp/rust.log"
    (
        cd "$root/bindings/rust/compile-tests" &&
        env -u CARGO_TARGET_DIR GOCONC_LIB_DIR=$libdir \
        LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
        timeout "$RUST_TIMEOUT" "$CARGO" test --offline
    ) >>"$tmp/rust.log" 2>&1
    ct_rc=$?
    [ "$rust_rc" -ne 0 ] || rust_rc=$ct_rc
else
    echo "rust: compile-tests skipped (librust-trybuild-dev not installed)" >>"$tmp/rust.log"
fi
cat "$tmp/rust.log"
rust_pass=0
rust_fail=0
rust_bins=0
for n in $(sed -n 's/^test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed;.*/\1:\2/p' "$tmp/rust.log"); do
    rust_pass=$((rust_pass + ${n%%:*}))
    rust_fail=$((rust_fail + ${n##*:}))
    rust_bins=$((rust_bins + 1))
done
passed=$((passed + rust_pass))
failed=$((failed + rust_fail))
if [ "$rust_rc" -ne 0 ] && [ "$rust_fail" -eq 0 ]; then
    echo "rust: cargo test failed without a failing test (build error, crash or timeout; exit $rust_rc)"
    failed=$((failed + 1))
fi

# ----------------------------------------------------------------- summary
echo "=== bindings summary"
if [ -n "$py_ran" ] && [ -n "$py_last" ]; then
    echo "python: Ran $py_ran tests: $py_last"
else
    echo "python: FAILED (no result, exit $py_rc)"
fi
grep '^test result:' "$tmp/rust.log" | sed 's/^/rust: /'
echo "rust: $rust_pass passed, $rust_fail failed in $rust_bins test binaries (exit $rust_rc)"
echo "bindings: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$py_rc" -eq 0 ] && [ "$rust_rc" -eq 0 ]
