// SPDX-License-Identifier: MIT
// Map<K, V> is invariant in V.
fn shorten<'a>(m: &'a goconc::Map<u8, &'static str>) -> &'a goconc::Map<u8, &'a str> {
    m
}

fn main() {}
