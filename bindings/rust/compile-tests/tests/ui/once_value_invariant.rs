// SPDX-License-Identifier: MIT
// OnceValue<T> is invariant (a set writes what other handles read).
fn shorten<'a>(v: &'a goconc::OnceValue<&'static str>) -> &'a goconc::OnceValue<&'a str> {
    v
}

fn main() {
    let v = goconc::OnceValue::new();
    shorten(&v);
}
