// SPDX-License-Identifier: MIT
// The &[T] a View derefs to borrows the view (which holds the snapshot).
fn main() {
    let s = goconc::Slice::from_slice(&[1u8]);
    let x: &[u8];
    {
        let v = s.snapshot().unwrap();
        x = &v;
    }
    assert_eq!(x, [1]);
}
