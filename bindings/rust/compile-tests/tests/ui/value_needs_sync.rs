// SPDX-License-Identifier: MIT
// Value<T> needs T: Sync (loads share &T across threads).
fn main() {
    let _v = goconc::Value::new(std::cell::Cell::new(1u8));
}
