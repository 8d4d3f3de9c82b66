// SPDX-License-Identifier: MIT
// Pool<T> is invariant (a put writes what another get takes).
fn main() {
    let p = goconc::Pool::<for<'a> fn(&'a u8)>::new();
    let _q: &goconc::Pool<fn(&'static u8)> = &p;
}
