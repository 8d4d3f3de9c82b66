// SPDX-License-Identifier: MIT
//! Every public item of the crate shows its use in a rustdoc example, which
//! `cargo test --doc` runs (doc/bindings.md, "Tests").  The items are the
//! `pub` fns, structs, enums, traits, type aliases, consts and statics of
//! `src/` (fields, `pub use` and `pub(crate)` items excepted; the trait
//! methods are shown in their trait's example).  The scan reads the source
//! text: a `pub` item line, then the `///` and `#[...]` lines right above
//! it, one of which must open a code block.
use std::fs;
use std::path::{Path, PathBuf};

/// The name of the public item that `line` declares, if it declares one.
fn public_item(line: &str) -> Option<String> {
    let toks: Vec<&str> = line
        .trim_start()
        .strip_prefix("pub ")?
        .split_whitespace()
        .collect();
    let mut i = 0;
    // Qualifiers of a fn (`pub const fn`, `pub unsafe extern "C" fn`); a
    // `pub const` followed by a name is a const item.
    let qualifier = |t: &str| matches!(t, "unsafe" | "async" | "extern") || t.starts_with('"');
    while i + 1 < toks.len()
        && (qualifier(toks[i])
            || (toks[i] == "const" && (toks[i + 1] == "fn" || qualifier(toks[i + 1]))))
    {
        i += 1;
    }
    if !matches!(
        *toks.get(i)?,
        "fn" | "struct" | "enum" | "trait" | "type" | "const" | "static"
    ) {
        return None;
    }
    let name: String = toks
        .get(i + 1)?
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    Some(name)
}

/// Whether the doc comment right above line `n` opens a code block.
fn has_example(lines: &[&str], n: usize) -> bool {
    lines[..n]
        .iter()
        .rev()
        .map(|l| l.trim_start())
        .take_while(|l| l.starts_with("///") || l.starts_with("#["))
        .any(|l| l.starts_with("///") && l.contains("```"))
}

fn sources() -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<PathBuf> = fs::read_dir(&src)
        .expect("src/")
        .map(|e| e.expect("src/ entry").path())
        // compile_fail.rs is built for doctests only: its items are the
        // compile-fail cases themselves.
        .filter(|p| p.extension().map_or(false, |e| e == "rs"))
        .filter(|p| p.file_name().map_or(false, |f| f != "compile_fail.rs"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_public_item_has_an_example() {
    let mut checked = 0;
    let mut missing = Vec::new();
    for path in sources() {
        let text = fs::read_to_string(&path).expect("readable source");
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            if let Some(name) = public_item(line) {
                checked += 1;
                if !has_example(&lines, n) {
                    let file = path.file_name().map(|f| f.to_string_lossy().into_owned());
                    missing.push(format!(
                        "src/{}:{}: {}",
                        file.unwrap_or_default(),
                        n + 1,
                        name
                    ));
                }
            }
        }
    }
    // The crate has well over a hundred: far fewer means the scan broke.
    assert!(checked >= 100, "found only {checked} public items");
    assert!(
        missing.is_empty(),
        "public items without a rustdoc example:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_scan_reads_items_as_rustdoc_does() {
    let cases = [
        ("    pub fn load(&self) -> u8 {", Some("load")),
        ("pub const fn new() -> Once {", Some("new")),
        ("pub unsafe fn raw<T>(p: *const T)", Some("raw")),
        ("pub const LIMIT: usize = 8;", Some("LIMIT")),
        ("pub unsafe extern \"C\" fn cb(x: u8) {", Some("cb")),
        ("pub const unsafe fn c() {}", Some("c")),
        ("pub struct Map<K, V> {", Some("Map")),
        ("pub trait Encode {", Some("Encode")),
        ("    pub shards: u32,", None), // a field
        ("pub use map::ByteMap;", None),
        ("pub(crate) fn ok() {}", None),
        ("    fn private() {}", None),
    ];
    for (line, want) in cases {
        assert_eq!(public_item(line).as_deref(), want, "{line}");
    }

    let with = [
        "/// Doc.",
        "///",
        "/// ```",
        "/// f();",
        "/// ```",
        "#[inline]",
        "pub fn f() {}",
    ];
    assert!(has_example(&with, 6));
    let without = [
        "/// ```",
        "/// g();",
        "/// ```",
        "pub fn g() {}",
        "",
        "/// Doc.",
        "pub fn f() {}",
    ];
    assert!(!has_example(&without, 6)); // g's example is not f's
    assert!(has_example(&without, 3));
}
