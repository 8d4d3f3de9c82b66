// SPDX-License-Identifier: MIT
// A Slice of non-Send elements stays on its thread (the bound of
// std::thread::spawn, declared here).
fn spawn<F: FnOnce() + Send>(_: F) {}

fn main() {
    let s = goconc::Slice::<*const u8>::new();
    spawn(move || drop(s.len()));
}
