// SPDX-License-Identifier: MIT
// A ByteMap iterator borrows its map.
fn main() {
    let m = goconc::ByteMap::new();
    let it = m.iter();
    drop(m);
    it.count();
}
