// SPDX-License-Identifier: MIT
// A OnceValue moved to another thread needs T: Send.
fn spawn<F: FnOnce() + Send>(_: F) {}

fn main() {
    let v = goconc::OnceValue::<std::rc::Rc<u8>>::new();
    spawn(move || drop(v.get()));
}
