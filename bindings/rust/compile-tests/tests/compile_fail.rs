// SPDX-License-Identifier: MIT
//! Every case in `tests/ui/` breaks one compile-time promise of the goconc
//! crate (a lifetime, variance, `Send` or `Sync` bound) and must fail to
//! compile with exactly the diagnostics recorded for this compiler in
//! `tests/stderr/RELEASE/CASE.stderr`: so a case cannot pass because
//! it fails for another reason (a typo, a renamed method).
//!
//! Diagnostics change between compiler releases (and name paths inside
//! the release's own library), hence one set per release (`1.63.0`); trybuild wants each expectation beside its source, so this
//! compiler's set and the sources are staged together in `ui-stage/`
//! (ignored by git) first.  A compiler with no recorded set is reported and
//! skipped (the goconc crate's `compile_fail` doctests still run on it).
//! `GOCONC_UI_RECORD=1 cargo test` records the set of the compiler in use
//! (or rewrites it), to be reviewed before it is committed.
use std::env;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

/// The compiler's release, from build.rs.
const RELEASE: &str = env!("GOCONC_RUSTC_RELEASE");

/// The files in `dir` with extension `ext`, sorted.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension() == Some(OsStr::new(ext)))
        .collect();
    v.sort();
    v
}

fn stem(p: &Path) -> &OsStr {
    p.file_stem().unwrap()
}

#[test]
fn promises_fail_to_compile_with_the_recorded_diagnostics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let expected = root.join("tests").join("stderr").join(RELEASE);
    let record = env::var_os("GOCONC_UI_RECORD").is_some();
    if !record && !expected.is_dir() {
        eprintln!(
            "compile-fail: no diagnostics recorded for rustc {RELEASE} in {}; skipped \
             (GOCONC_UI_RECORD=1 records them)",
            expected.display()
        );
        return;
    }
    let cases = files(&root.join("tests").join("ui"), "rs");
    assert!(!cases.is_empty(), "no cases in tests/ui");
    if !record {
        // An expectation without its case is a case that was lost.
        for e in files(&expected, "stderr") {
            assert!(
                cases.iter().any(|c| stem(c) == stem(&e)),
                "{} has no case in tests/ui",
                e.display()
            );
        }
    }

    // Inside this crate but outside the target directory, and named
    // relative to the crate (cargo runs tests there): trybuild then shows
    // the cases' paths that way, the same on every machine.
    let stage_rel = Path::new("ui-stage").join(RELEASE);
    let stage = root.join(&stage_rel);
    let _ = fs::remove_dir_all(&stage);
    fs::create_dir_all(&stage).unwrap();
    for case in &cases {
        let name = case.file_name().unwrap();
        fs::copy(case, stage.join(name)).unwrap();
        let stderr = expected.join(name).with_extension("stderr");
        if stderr.exists() && !record {
            fs::copy(&stderr, stage.join(name).with_extension("stderr")).unwrap();
        }
    }
    if record {
        env::set_var("TRYBUILD", "overwrite");
    }
    // Runs every case when dropped; panics on the first mismatch report
    // (a case that compiled, a diagnostic that differs, or a case with no
    // recorded diagnostics: trybuild then writes them to wip/).
    trybuild::TestCases::new().compile_fail(stage_rel.join("*.rs"));

    if record {
        fs::create_dir_all(&expected).unwrap();
        for s in files(&stage, "stderr") {
            fs::copy(&s, expected.join(s.file_name().unwrap())).unwrap();
        }
        eprintln!("compile-fail: recorded {}", expected.display());
    }
}
