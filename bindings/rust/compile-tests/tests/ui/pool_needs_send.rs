// SPDX-License-Identifier: MIT
// Pool<T> needs T: Send (objects move between threads).
fn main() {
    let _p = goconc::Pool::<std::rc::Rc<u8>>::new();
}
