// SPDX-License-Identifier: MIT
// A OnceValue shared between threads (a static) needs T: Sync.
static V: goconc::OnceValue<std::cell::Cell<u8>> = goconc::OnceValue::new();

fn main() {
    V.get();
}
