// SPDX-License-Identifier: MIT
// A guard cannot be made by Default.
fn main() {
    let _mine: goconc::ReadGuard = Default::default();
}
