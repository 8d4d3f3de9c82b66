// SPDX-License-Identifier: MIT
// A borrow from Value::load cannot leave the read closure.
fn main() {
    let v = goconc::Value::new(String::from("x"));
    let s: &String = goconc::read(|g| v.load(g).unwrap());
    println!("{s}");
}
