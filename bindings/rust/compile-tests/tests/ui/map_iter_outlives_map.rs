// SPDX-License-Identifier: MIT
// A typed Map iterator borrows its map.
fn main() {
    let m: goconc::Map<u32, u32> = goconc::Map::new();
    let it = m.iter();
    drop(m);
    it.count();
}
