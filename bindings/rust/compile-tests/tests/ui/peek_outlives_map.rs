// SPDX-License-Identifier: MIT
// A peeked map value lives no longer than the map.
fn main() {
    goconc::read(|g| {
        let m = goconc::ByteMap::new();
        m.store(b"k", b"v").unwrap();
        let v = m.peek(b"k", g).unwrap().unwrap();
        drop(m);
        assert_eq!(v, b"v");
    });
}
