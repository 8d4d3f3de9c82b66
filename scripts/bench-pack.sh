#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-pack.sh - pack built benchmarks to run on another machine.
#
#   scripts/bench-pack.sh OUT_DIR BUILD_DIR
#
# BUILD_DIR is a meson release build directory with the benchmarks (ninja
# brings it up to date first; for the DashMap peer, run
# scripts/bench-map-peers.sh --build BUILD_DIR check once).
# OUT_DIR gets (replacing what it held):
#   bin/             bench_* and goconc-dashmap-bench
#   lib/             libgoconc.so.1 and every shared library they load that
#                    is not part of glibc (found with ldd: liburcu*, GLib,
#                    PCRE2, oneTBB, jemalloc, libstdc++, libgcc_s...), plus
#                    libtbbmalloc.so.2, which oneTBB loads with dlopen
#   bench-scaling.sh a copy of scripts/bench-scaling.sh
#   run.sh           sets LD_LIBRARY_PATH=OUT_DIR/lib and runs
#                    bench-scaling.sh on bin/: run.sh [THREADS]
#   PACKINFO         where and from what it was packed
# The target needs glibc at least as new as this machine's (PACKINFO says
# which GLIBC_ symbol versions the programs need) and nothing else.  The
# programs' RUNPATH ($ORIGIN/../src) does not exist there; the loader
# searches LD_LIBRARY_PATH before RUNPATH anyway.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 OUT_DIR BUILD_DIR" >&2; exit 2; }
src=$(cd "$(dirname "$0")/.." && pwd)
out=$1
build=$(cd "$2" && pwd)
# Bring the programs up to date (so PACKINFO describes what is packed).
if [ -f "$build/build.ninja" ] && command -v ninja >/dev/null 2>&1; then
    ninja -C "$build" >/dev/null || { echo "bench-pack: ninja -C $build failed" >&2; exit 1; }
fi
[ -d "$build/bench" ] || { echo "bench-pack: $build/bench: no benchmarks built" >&2; exit 1; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
[ "$out" != / ] || { echo "bench-pack: OUT_DIR must not be /" >&2; exit 2; }
rm -rf "${out:?}/bin" "${out:?}/lib"
mkdir -p "$out/bin" "$out/lib"

for f in "$build"/bench/bench_*; do
    [ -f "$f" ] && [ -x "$f" ] && cp "$f" "$out/bin/"
done
dashmap=$build/bench/dashmap-target/release/goconc-dashmap-bench
if [ -x "$dashmap" ]; then
    cp "$dashmap" "$out/bin/"
else
    echo "bench-pack: no DashMap peer ($dashmap); build it with" \
        "scripts/bench-map-peers.sh --build $build check" >&2
fi
ls "$out"/bin/bench_* >/dev/null 2>&1 || { echo "bench-pack: no bench_* in $build/bench" >&2; exit 1; }
cp -L "$build/src/libgoconc.so.1" "$out/lib/"

# glibc's own libraries stay the target's.
is_glibc() {
    case $1 in
    linux-vdso.so* | linux-gate.so* | ld-linux*.so* | libc.so.* | libm.so.* | libmvec.so.* | \
        libpthread.so.* | libdl.so.* | librt.so.* | libresolv.so.* | libutil.so.* | \
        libanl.so.* | libnsl.so.* | libBrokenLocale.so.* | libc_malloc_debug.so.* | \
        libthread_db.so.* | libnss_*.so.* | libmemusage.so | libpcprofile.so)
        return 0 ;;
    esac
    return 1
}

# copy_deps FILE: every non-glibc library FILE needs (ldd lists them all,
# transitively), under the name FILE asks for.
copy_deps() {
    LD_LIBRARY_PATH=$out/lib ldd "$1" | while read -r name arrow path rest; do
        [ "$arrow" = "=>" ] || continue
        is_glibc "$name" && continue
        case $path in
        "not" | "") echo "bench-pack: $1 needs $name, not found here" >&2; continue ;;
        esac
        [ -e "$out/lib/$name" ] || cp -L "$path" "$out/lib/$name"
    done
}
for f in "$out"/bin/* "$out"/lib/libgoconc.so.1; do
    copy_deps "$f"
done
# oneTBB dlopens its allocator from its own directory (without it,
# concurrent_hash_map falls back to malloc: a different peer).
if [ -e "$out/lib/libtbb.so.12" ]; then
    tbbdir=$(dirname "$(ldd "$out/bin/bench_map" | awk '$1 == "libtbb.so.12" { print $3 }')")
    if [ -e "$tbbdir/libtbbmalloc.so.2" ]; then
        cp -L "$tbbdir/libtbbmalloc.so.2" "$out/lib/"
        copy_deps "$out/lib/libtbbmalloc.so.2"
    fi
fi

cp "$src/scripts/bench-scaling.sh" "$out/bench-scaling.sh"
cat >"$out/run.sh" <<'EOF'
#!/bin/sh
# run.sh [THREADS] - the scaling run of the packed benchmarks (made by
# scripts/bench-pack.sh): bench-scaling.sh on bin/ with the packed
# libraries; the log lands in this directory.  From any directory:
#   sh /path/to/run.sh            # 1,2,4,8,16, capped at the CPUs
#   sh /path/to/run.sh 1,2,4,8,16,32
set -eu
here=$(cd "$(dirname "$0")" && pwd)
LD_LIBRARY_PATH=$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
exec sh "$here/bench-scaling.sh" "$here/bin" "$@"
EOF
chmod +x "$out/run.sh" "$out/bench-scaling.sh"

# What the programs need from glibc, and where this came from.
glibc_need=$(for f in "$out"/bin/* "$out"/lib/*; do
    objdump -T "$f" 2>/dev/null | grep -o 'GLIBC_[0-9.]*'
done | sort -u -V | tail -n 1)
{
    echo "packed $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(hostname 2>/dev/null || echo '?') from $build"
    if git -C "$src" rev-parse --short HEAD >/dev/null 2>&1; then
        echo "source: commit $(git -C "$src" rev-parse --short HEAD); modified:" \
            "$(git -C "$src" --no-optional-locks status --porcelain --untracked-files=no |
                awk '{ print $2 }' | tr '\n' ' ')"
    fi
    echo "build glibc: $(ldd --version 2>/dev/null | head -n 1)"
    echo "programs need: ${glibc_need:-unknown} (the target's glibc must be at least this)"
} >"$out/PACKINFO"

# Every packed program must resolve its libraries inside OUT_DIR/lib.
outside() {
    LD_LIBRARY_PATH=$out/lib ldd "$1" | while read -r name arrow path rest; do
        [ "$arrow" = "=>" ] || continue
        is_glibc "$name" && continue
        case $path in "$out/lib/"*) ;; *) echo "$name => $path" ;; esac
    done
}
bad=0
for f in "$out"/bin/* "$out"/lib/*; do
    o=$(outside "$f")
    if [ -n "$o" ]; then
        echo "bench-pack: $f loads libraries from outside $out/lib: $o" >&2
        bad=1
    fi
done
echo "bench-pack: $out ($(du -sh "$out" | cut -f1)): $(cd "$out/bin" && echo *)"
sed 's/^/  /' "$out/PACKINFO"
exit $bad
