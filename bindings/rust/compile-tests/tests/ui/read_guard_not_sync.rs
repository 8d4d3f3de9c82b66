// SPDX-License-Identifier: MIT
// A guard is not Sync: another thread cannot load through this thread's
// read section (the bound of std::thread::scope's spawn, declared here).
fn spawn<F: FnOnce() + Send>(_: F) {}

fn main() {
    let v = goconc::Value::new(1u64);
    goconc::read(|g| spawn(|| drop(v.load(g))));
}
