// SPDX-License-Identifier: MIT
// A peeked map value lives no longer than the read section.
fn main() {
    let m = goconc::ByteMap::new();
    m.store(b"k", b"v").unwrap();
    let v: &[u8] = goconc::read(|g| m.peek(b"k", g).unwrap().unwrap());
    println!("{v:?}");
}
