// SPDX-License-Identifier: MIT
//! Finds libgoconc for linking, without any crate:
//!
//! 1. `GOCONC_LIB_DIR`: the directory holding libgoconc.so (a build tree's
//!    `src/` or an install's libdir);
//! 2. else `pkg-config --libs goconc` (the `pkg-config` binary, or the one
//!    `PKG_CONFIG` names; `PKG_CONFIG_PATH` is honoured as usual, so a
//!    build tree's `meson-uninstalled/` works too);
//! 3. else plain `-lgoconc`, for a library in the linker's default paths.
//!
//! The directory found is passed on to dependents as `DEP_GOCONC_LIB_DIR`
//! (the `links = "goconc"` metadata).  At run time the dynamic loader must
//! find libgoconc.so.1 too (LD_LIBRARY_PATH for an uninstalled build).
use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=GOCONC_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");

    if let Some(dir) = env::var_os("GOCONC_LIB_DIR") {
        let dir = dir.to_string_lossy().into_owned();
        println!("cargo:rustc-link-search=native={dir}");
        println!("cargo:rustc-link-lib=dylib=goconc");
        println!("cargo:lib_dir={dir}");
        return;
    }

    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    match Command::new(&pkg_config)
        .args(["--libs", "goconc"])
        .output()
    {
        Ok(out) if out.status.success() => {
            let flags = String::from_utf8_lossy(&out.stdout);
            let mut linked = false;
            for flag in flags.split_whitespace() {
                if let Some(dir) = flag.strip_prefix("-L") {
                    println!("cargo:rustc-link-search=native={dir}");
                    println!("cargo:lib_dir={dir}");
                } else if let Some(lib) = flag.strip_prefix("-l") {
                    println!("cargo:rustc-link-lib=dylib={lib}");
                    linked |= lib == "goconc";
                }
            }
            if !linked {
                println!("cargo:rustc-link-lib=dylib=goconc");
            }
        }
        _ => {
            println!(
                "cargo:warning=goconc-sys: neither GOCONC_LIB_DIR nor `{pkg_config} --libs goconc` \
                 found libgoconc; linking -lgoconc from the default paths"
            );
            println!("cargo:rustc-link-lib=dylib=goconc");
        }
    }
}
