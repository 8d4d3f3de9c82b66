// SPDX-License-Identifier: MIT
// A pool's constructor runs on any thread: it must be Send (and Sync).
fn make() -> impl Fn() -> u8 {
    let rc = std::rc::Rc::new(1u8);
    move || *rc
}

fn main() {
    let _p = goconc::Pool::with_new(make());
}
