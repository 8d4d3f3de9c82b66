// SPDX-License-Identifier: MIT
// A guard cannot be made by a struct literal: its field is private.
fn main() {
    let _g = goconc::ReadGuard {
        _not_send_sync: std::marker::PhantomData,
    };
}
