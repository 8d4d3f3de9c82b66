// SPDX-License-Identifier: MIT
// Map<K, V> is invariant in K.
fn shorten<'a>(m: &'a goconc::Map<&'static str, u8>) -> &'a goconc::Map<&'a str, u8> {
    m
}

fn main() {}
