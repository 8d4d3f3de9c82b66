// SPDX-License-Identifier: MIT
//! The `#[repr(C)]` mirrors have the C header's layout.
//!
//! Two checks: the LP64 sizes the ABI pins (the same numbers as the C
//! library's tests/abi/structs.h), and every size, alignment and field
//! offset compared with what the C compiler computes from the real header
//! (a probe compiled with `cc`, or `$CC`, against `GOCONC_INCLUDE_DIR` or
//! pkg-config's includedir).
use std::mem::{align_of, size_of, MaybeUninit};
use std::path::{Path, PathBuf};
use std::process::Command;

use goconc_sys::*;

/// `offset_of!` for rustc 1.63 (Debian 12): the field's address in an
/// uninitialized value, taken without creating a reference.
macro_rules! offset_of {
    ($t:ty, $f:ident) => {{
        let u = MaybeUninit::<$t>::uninit();
        let base = u.as_ptr();
        // SAFETY: addr_of! on a field of a (uninitialized) local creates
        // no reference and reads nothing.
        unsafe {
            (std::ptr::addr_of!((*base).$f) as *const u8).offset_from(base as *const u8) as usize
        }
    }};
}

#[test]
fn abi_sizes_lp64() {
    if size_of::<usize>() != 8 {
        return; // the pinned numbers are for 64-bit targets
    }
    assert_eq!(size_of::<goconc_once>(), 16);
    assert_eq!(size_of::<goconc_allocator>(), 32);
    assert_eq!(size_of::<goconc_view>(), 56);
    assert_eq!(size_of::<goconc_map_options>(), 56); // 48 in 1.0, before flags
    assert_eq!(size_of::<goconc_map_stats>(), 72);
    assert_eq!(size_of::<goconc_pool_options>(), 48);
    assert_eq!(size_of::<goconc_pool_stats>(), 56);
    assert_eq!(size_of::<goconc_reclaim_stats>(), 40);
    assert_eq!(size_of::<goconc_reader>(), 8);
    assert_eq!(size_of::<goconc_gp_state>(), 16);
    assert!(align_of::<goconc_once>() >= 8);
}

#[test]
fn init_values_match_the_macros() {
    let o = goconc_map_options::init();
    assert_eq!(o.struct_size, size_of::<goconc_map_options>());
    assert_eq!((o.shards, o.capacity_hint, o.seed, o.flags), (0, 0, 0, 0));
    assert!(o.on_drop.is_none() && o.ctx.is_null());
    let p = goconc_pool_options::init();
    assert_eq!(p.struct_size, size_of::<goconc_pool_options>());
    assert_eq!(goconc_once::INIT.opaque, [0, 0]);
    assert_eq!(GOCONC_VERSION_NUMBER, 10100);
    // The loaded library is at least the headers these bindings follow.
    // SAFETY: goconc_version_number takes nothing and only reads a constant.
    let loaded = unsafe { goconc_version_number() };
    assert!(loaded >= GOCONC_VERSION_NUMBER && loaded / 10000 == GOCONC_VERSION_MAJOR);
}

/// (name, value) pairs, computed on the Rust side.
fn rust_layout() -> Vec<(String, usize)> {
    let mut v: Vec<(String, usize)> = Vec::new();
    macro_rules! ty {
        ($t:ident $(, $f:ident)*) => {{
            v.push((format!("sizeof {}", stringify!($t)), size_of::<$t>()));
            v.push((format!("alignof {}", stringify!($t)), align_of::<$t>()));
            $( v.push((format!("offsetof {}.{}", stringify!($t), stringify!($f)),
                       offset_of!($t, $f))); )*
        }};
    }
    ty!(goconc_allocator, struct_size, alloc, free, ctx);
    ty!(
        goconc_reclaim_stats,
        struct_size,
        pending,
        threads,
        epoch,
        reclaimed
    );
    ty!(goconc_reader, ctr);
    ty!(goconc_gp_state, ctr, need_fence);
    ty!(goconc_view, data, len, elem_size, internal);
    ty!(
        goconc_map_options,
        struct_size,
        shards,
        capacity_hint,
        seed,
        on_drop,
        ctx,
        flags
    );
    ty!(
        goconc_map_stats,
        struct_size,
        len,
        shards,
        buckets,
        shards_migrating,
        bytes,
        grows,
        shrinks,
        buckets_moved
    );
    ty!(goconc_once, opaque);
    ty!(
        goconc_pool_options,
        struct_size,
        new_obj,
        free_obj,
        reset_obj,
        ctx,
        max_idle
    );
    ty!(
        goconc_pool_stats,
        struct_size,
        gets,
        puts,
        hits,
        news,
        drops,
        idle
    );
    v
}

/// The same pairs as C sees them: a program printing them, one a line.
fn c_probe_source() -> String {
    let mut src = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include <goconc.h>\n\
         typedef struct goconc_reader goconc_reader;\n\
         typedef struct goconc_gp_state goconc_gp_state;\n\
         int main(void) {\n",
    );
    for (name, _) in rust_layout() {
        let expr = if let Some(t) = name.strip_prefix("sizeof ") {
            format!("sizeof({t})")
        } else if let Some(t) = name.strip_prefix("alignof ") {
            format!("_Alignof({t})")
        } else {
            let (t, f) = name
                .strip_prefix("offsetof ")
                .unwrap()
                .split_once('.')
                .unwrap();
            format!("offsetof({t}, {f})")
        };
        src.push_str(&format!("    printf(\"{name} %zu\\n\", (size_t){expr});\n"));
    }
    src.push_str("    return 0;\n}\n");
    src
}

/// Where goconc.h and goconc/version.h are: `GOCONC_INCLUDE_DIR` (a path
/// list: a checkout's `include/` holds goconc.h, its build directory's
/// `include/` the generated goconc/version.h), else pkg-config's includedir.
fn include_dirs() -> Option<Vec<PathBuf>> {
    if let Some(d) = std::env::var_os("GOCONC_INCLUDE_DIR") {
        return Some(std::env::split_paths(&d).collect());
    }
    let out = Command::new("pkg-config")
        .args(["--variable=includedir", "goconc"])
        .output()
        .ok()?;
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    dir.join("goconc.h").exists().then(|| vec![dir])
}

#[test]
fn layout_matches_the_c_header() {
    let inc = include_dirs().expect(
        "goconc.h not found: set GOCONC_INCLUDE_DIR (a checkout's include/ and its build \
         directory's include/), or install goconc.pc for pkg-config",
    );
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let src = tmp.join("goconc_layout_probe.c");
    let exe = tmp.join("goconc_layout_probe");
    std::fs::write(&src, c_probe_source()).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let mut probe = Command::new(&cc);
    probe.arg("-std=c11");
    for dir in &inc {
        probe.arg("-I").arg(dir);
    }
    let status = probe
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler `{cc}`: {e}"));
    assert!(status.success(), "the layout probe did not compile");
    let out = Command::new(&exe)
        .output()
        .expect("cannot run the layout probe");
    assert!(out.status.success());
    let c: Vec<(String, usize)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, n) = l.rsplit_once(' ').unwrap();
            (k.to_string(), n.parse().unwrap())
        })
        .collect();
    let rust = rust_layout();
    assert_eq!(c.len(), rust.len());
    let diff: Vec<_> = rust
        .iter()
        .zip(&c)
        .filter(|(r, c)| r != c)
        .map(|(r, c)| format!("{}: Rust {} C {}", r.0, r.1, c.1))
        .collect();
    assert!(
        diff.is_empty(),
        "layout differs from the header:\n{}",
        diff.join("\n")
    );
}

#[test]
fn status_constants_match_strerror() {
    // The library knows each pinned value (its message is not the one for
    // an unknown status).
    let unknown = unsafe { std::ffi::CStr::from_ptr(goconc_strerror(12345)) };
    for st in [
        GOCONC_OK,
        GOCONC_NOTFOUND,
        GOCONC_EXISTS,
        GOCONC_CHANGED,
        GOCONC_STOPPED,
        GOCONC_ENOMEM,
        GOCONC_EBUSY,
        GOCONC_EINVAL,
        GOCONC_ERANGE,
        GOCONC_EDEADLK,
        GOCONC_EOVERFLOW,
    ] {
        let s = unsafe { std::ffi::CStr::from_ptr(goconc_strerror(st)) };
        assert!(!s.to_bytes().is_empty());
        assert_ne!(s, unknown, "status {st}");
    }
    assert_eq!(unsafe { goconc_version_number() }, GOCONC_VERSION_NUMBER);
}
