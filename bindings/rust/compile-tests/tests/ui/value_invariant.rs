// SPDX-License-Identifier: MIT
// Value<T> is invariant: for<'a> fn(&'a u8) is a subtype of fn(&'static u8),
// and a store through the supertype would reach readers of the subtype.
fn ignore(_: &u8) {}

fn main() {
    let v = goconc::Value::<for<'a> fn(&'a u8)>::new(ignore);
    let _w: &goconc::Value<fn(&'static u8)> = &v;
}
