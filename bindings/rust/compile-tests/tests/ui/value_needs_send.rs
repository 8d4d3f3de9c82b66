// SPDX-License-Identifier: MIT
// Value<T> needs T: Send (the deferred drop runs on any thread).
fn main() {
    let _v = goconc::Value::new(std::rc::Rc::new(1u8));
}
