// SPDX-License-Identifier: MIT
// The guard itself cannot leave the read closure.
fn main() {
    let mut kept = None;
    goconc::read(|g| kept = Some(g));
    drop(kept);
}
