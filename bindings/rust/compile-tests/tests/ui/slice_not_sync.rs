// SPDX-License-Identifier: MIT
// A Slice of non-Sync elements cannot be shared with another thread.
fn spawn<F: FnOnce() + Send>(_: F) {}

fn main() {
    let s = goconc::Slice::<*const u8>::new();
    spawn(|| drop(s.len()));
}
