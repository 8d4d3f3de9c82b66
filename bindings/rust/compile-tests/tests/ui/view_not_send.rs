// SPDX-License-Identifier: MIT
// A View of non-Send elements stays on its thread.
fn spawn<F: FnOnce() + Send>(_: F) {}

fn main() {
    let s = goconc::Slice::<*const u8>::new();
    let v = s.snapshot().unwrap();
    spawn(move || drop(v.len()));
}
