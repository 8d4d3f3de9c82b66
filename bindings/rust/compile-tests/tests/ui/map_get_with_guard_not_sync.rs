// SPDX-License-Identifier: MIT
// Map::get_with takes this thread's guard only (spawn: the bound of
// std::thread::scope's spawn, declared here).
fn spawn<F: FnOnce() + Send>(_: F) {}

fn main() {
    let m: goconc::Map<u32, u32> = goconc::Map::new();
    goconc::read(|g| spawn(|| drop(m.get_with(g, &1))));
}
