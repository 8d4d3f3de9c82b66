// SPDX-License-Identifier: MIT
// A guard cannot be cloned out of the closure that lends it.
fn main() {
    goconc::read(|g| {
        let _mine = goconc::ReadGuard::clone(g);
    });
}
