// SPDX-License-Identifier: MIT
// Slice<T> is invariant: a Slice<&'static str> seen as Slice<&'a str> would
// accept a short-lived &str and hand it back as 'static.
fn main() {
    let s = goconc::Slice::<&'static str>::new();
    {
        let local = String::from("short-lived");
        let shorter: &goconc::Slice<&str> = &s;
        shorter.push(&local).unwrap();
    }
    let dangling: &'static str = s.get(0).unwrap();
    println!("{dangling}");
}
