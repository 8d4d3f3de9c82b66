// SPDX-License-Identifier: MIT
//! Passes the compiler's release (`1.63.0`) to the tests as
//! `GOCONC_RUSTC_RELEASE`: diagnostics differ between releases (and name
//! paths inside the release's own library), so the expected ones are kept
//! per release, in tests/stderr/RELEASE/.  The projects trybuild generates
//! are built by the same cargo, hence the same rustc.
use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC");
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(&rustc)
        .arg("--version")
        .output()
        .expect("running rustc --version");
    // "rustc 1.63.0 (4b91a6ea7 2022-08-08)" -> "1.63.0"
    let text = String::from_utf8_lossy(&out.stdout);
    let release = text.split_whitespace().nth(1).unwrap_or("");
    assert!(
        release.split('.').count() == 3,
        "cannot read a release from `rustc --version`: {text:?}"
    );
    println!("cargo:rustc-env=GOCONC_RUSTC_RELEASE={release}");
}
