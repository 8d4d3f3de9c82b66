// SPDX-License-Identifier: MIT
//! The safe API's compile-time promises, as doctests: each `compile_fail`
//! example is an attempt to break a lifetime, variance, `Send` or `Sync`
//! promise, and sits next to a twin that differs only in the broken part
//! and compiles, so that a `compile_fail` cannot pass for an unrelated
//! reason (a typo, a renamed method).  Stable rustdoc does not check the
//! error codes written on the fences; `RUSTC_BOOTSTRAP=1 cargo test --doc`
//! does (doc/bindings.md).  The borrow checker's "lifetime may not live
//! long enough" has no code: those fences carry none.
//!
//! Built only for `cargo test --doc` (`cfg(doctest)`).

/// # Read sections
///
/// A borrow from [`Value::load`](crate::Value::load) cannot leave the
/// [`read`](crate::read) closure (after it, the object may be reclaimed):
///
/// ```compile_fail
/// let v = goconc::Value::new(String::from("x"));
/// let s: &String = goconc::read(|g| v.load(g).unwrap());
/// ```
/// ```
/// let v = goconc::Value::new(String::from("x"));
/// let s: String = goconc::read(|g| v.load(g).unwrap().clone());
/// ```
///
/// Nor can the guard itself (the closure must accept any lifetime for it):
///
/// ```compile_fail,E0521
/// let mut kept = None;
/// goconc::read(|g| kept = Some(g));
/// ```
/// ```
/// goconc::read(|g| {
///     let mut kept = None;
///     kept = Some(g);
///     assert!(kept.is_some());
/// });
/// ```
///
/// A guard is not `Sync`: another thread cannot load through this
/// thread's section (it would read unprotected).  A loaded `&T` of a
/// `Sync` `T` may go, as the section outlives the scope:
///
/// ```compile_fail,E0277
/// let v = goconc::Value::new(1u64);
/// goconc::read(|g| std::thread::scope(|s| {
///     s.spawn(|| v.load(g).copied());
/// }));
/// ```
/// ```
/// let v = goconc::Value::new(1u64);
/// goconc::read(|g| std::thread::scope(|s| {
///     let r = v.load(g);
///     s.spawn(move || r.copied());
/// }));
/// ```
///
/// A guard can be neither made, cloned nor defaulted outside `read`:
///
/// ```compile_fail,E0277
/// goconc::read(|g| { let _mine = goconc::ReadGuard::clone(g); });
/// ```
/// ```compile_fail,E0277
/// let _mine: goconc::ReadGuard = Default::default();
/// ```
///
/// A peeked map value lives no longer than the section, nor than the map:
///
/// ```compile_fail
/// let m = goconc::ByteMap::new();
/// m.store(b"k", b"v").unwrap();
/// let v: &[u8] = goconc::read(|g| m.peek(b"k", g).unwrap().unwrap());
/// ```
/// ```compile_fail,E0505
/// goconc::read(|g| {
///     let m = goconc::ByteMap::new();
///     m.store(b"k", b"v").unwrap();
///     let v = m.peek(b"k", g).unwrap().unwrap();
///     drop(m);
///     assert_eq!(v, b"v");
/// });
/// ```
/// ```
/// goconc::read(|g| {
///     let m = goconc::ByteMap::new();
///     m.store(b"k", b"v").unwrap();
///     let v = m.peek(b"k", g).unwrap().unwrap();
///     assert_eq!(v, b"v");
///     drop(m);
/// });
/// ```
///
/// A map iterator borrows its map; a view's slice borrows the view:
///
/// ```compile_fail,E0505
/// let m = goconc::ByteMap::new();
/// let it = m.iter();
/// drop(m);
/// it.count();
/// ```
/// ```compile_fail,E0505
/// let m: goconc::Map<u32, u32> = goconc::Map::new();
/// let it = m.iter();
/// drop(m);
/// it.count();
/// ```
/// ```compile_fail,E0597
/// let s = goconc::Slice::from_slice(&[1u8]);
/// let x: &[u8];
/// {
///     let v = s.snapshot().unwrap();
///     x = &v;
/// }
/// assert_eq!(x, [1]);
/// ```
/// ```
/// let m = goconc::ByteMap::new();
/// assert_eq!(m.iter().count(), 0);
/// let t: goconc::Map<u32, u32> = goconc::Map::new();
/// assert_eq!(t.iter().count(), 0);
/// let s = goconc::Slice::from_slice(&[1u8]);
/// let v = s.snapshot().unwrap();
/// let x: &[u8] = &v;
/// assert_eq!(x, [1]);
/// ```
pub mod read_sections {}

/// # Variance
///
/// A `Slice` is invariant in its element type: its storage is shared and
/// written through `&self`, so a slice of `&'static str` must not accept a
/// shorter-lived `&str` (which it would later hand out as `'static`):
///
/// ```compile_fail,E0597
/// let s = goconc::Slice::<&'static str>::new();
/// {
///     let local = String::from("short-lived");
///     let shorter: &goconc::Slice<&str> = &s;
///     shorter.push(&local).unwrap();
/// }
/// let dangling: &'static str = s.get(0).unwrap();
/// ```
/// ```
/// let s = goconc::Slice::<&'static str>::new();
/// {
///     let local: &'static str = "static";
///     let shorter: &goconc::Slice<&str> = &s;
///     shorter.push(local).unwrap();
/// }
/// let kept: &'static str = s.get(0).unwrap();
/// ```
///
/// A `View` only reads, so it is covariant, as `&[T]` is:
///
/// ```
/// fn shorten<'a>(v: goconc::View<&'static str>) -> goconc::View<&'a str> { v }
/// ```
///
/// A `Value` is invariant too (a store writes what other handles read).
/// With `T: 'static` the subtyping left is that of higher-ranked function
/// pointers: `for<'a> fn(&'a u8)` is a subtype of `fn(&'static u8)`.
///
/// ```compile_fail,E0308
/// fn ignore(_: &u8) {}
/// let v = goconc::Value::<for<'a> fn(&'a u8)>::new(ignore);
/// let w: &goconc::Value<fn(&'static u8)> = &v; // would accept a keeper
/// ```
/// ```
/// fn ignore(_: &u8) {}
/// let v = goconc::Value::<for<'a> fn(&'a u8)>::new(ignore);
/// let w: &goconc::Value<for<'a> fn(&'a u8)> = &v;
/// ```
///
/// So is a `OnceValue` (the first `get_or_init` writes what all read):
///
/// ```compile_fail
/// fn shorten<'a>(v: &'a goconc::OnceValue<&'static str>) -> &'a goconc::OnceValue<&'a str> { v }
/// ```
/// ```
/// fn same<'a>(v: &'a goconc::OnceValue<&'static str>) -> &'a goconc::OnceValue<&'static str> { v }
/// ```
///
/// So is a typed `Map`, in keys and values alike:
///
/// ```compile_fail
/// fn shorten<'a>(m: &'a goconc::Map<&'static str, u8>) -> &'a goconc::Map<&'a str, u8> { m }
/// ```
/// ```compile_fail
/// fn shorten<'a>(m: &'a goconc::Map<u8, &'static str>) -> &'a goconc::Map<u8, &'a str> { m }
/// ```
/// ```
/// fn same<'a>(m: &'a goconc::Map<&'static str, u8>) -> &'a goconc::Map<&'static str, u8> { m }
/// ```
///
/// So is a `Pool` (a `put` writes what another `get` takes), while a
/// `Ref` only reads and is covariant, as `Arc` is:
///
/// ```compile_fail,E0308
/// let p = goconc::Pool::<for<'a> fn(&'a u8)>::new();
/// let q: &goconc::Pool<fn(&'static u8)> = &p;
/// ```
/// ```
/// fn widen(r: goconc::Ref<for<'a> fn(&'a u8)>) -> goconc::Ref<fn(&'static u8)> { r }
/// let p = goconc::Pool::<for<'a> fn(&'a u8)>::new();
/// let q: &goconc::Pool<for<'a> fn(&'a u8)> = &p;
/// ```
pub mod variance {}

/// # `Send` and `Sync`
///
/// A `Value` shares its `T` between threads and drops it on any thread:
/// `T` must be `Send + Sync`:
///
/// ```compile_fail,E0277
/// let v = goconc::Value::new(std::cell::Cell::new(1u8)); // not Sync
/// ```
/// ```compile_fail,E0277
/// let v = goconc::Value::new(std::rc::Rc::new(1u8)); // neither
/// ```
/// ```
/// let v = goconc::Value::new(std::sync::atomic::AtomicU8::new(1));
/// ```
///
/// A slice or view of non-`Send`/`Sync` elements stays on its thread, and
/// so does a view's owning iterator:
///
/// ```compile_fail,E0277
/// let s = goconc::Slice::<*const u8>::new();
/// std::thread::spawn(move || s.len());
/// ```
/// ```compile_fail,E0277
/// let s = goconc::Slice::<*const u8>::new();
/// std::thread::scope(|sc| { sc.spawn(|| s.len()); });
/// ```
/// ```compile_fail,E0277
/// let s = goconc::Slice::<*const u8>::new();
/// let v = s.snapshot().unwrap();
/// std::thread::spawn(move || v.len());
/// ```
/// ```compile_fail,E0277
/// let s = goconc::Slice::<*const u8>::new();
/// let it = s.snapshot().unwrap().into_iter();
/// std::thread::spawn(move || it.count());
/// ```
/// ```
/// let s = goconc::Slice::<usize>::new();
/// let v = s.snapshot().unwrap();
/// let it = s.iter();
/// std::thread::scope(|sc| { sc.spawn(|| s.len()); });
/// std::thread::spawn(move || (s.len(), v.len(), it.count()));
/// ```
///
/// A pool moves objects between threads (`T: Send`) but never shares one
/// (`T` need not be `Sync`); its closures run on any thread:
///
/// ```compile_fail,E0277
/// let p = goconc::Pool::<std::rc::Rc<u8>>::new();
/// ```
/// ```compile_fail,E0277
/// let rc = std::rc::Rc::new(1u8);
/// let p = goconc::Pool::with_new(move || *rc);
/// ```
/// ```
/// let p = goconc::Pool::<std::cell::Cell<u8>>::with_new(|| std::cell::Cell::new(1));
/// std::thread::scope(|sc| { sc.spawn(|| p.take().map(|c| c.get())); });
/// ```
///
/// A `OnceValue` shares its `T` (`Sync`) that one thread made and another
/// may drop (`Send`), as `OnceLock` does:
///
/// ```compile_fail,E0277
/// static V: goconc::OnceValue<std::cell::Cell<u8>> = goconc::OnceValue::new();
/// ```
/// ```compile_fail,E0277
/// let v = goconc::OnceValue::<std::rc::Rc<u8>>::new();
/// std::thread::spawn(move || v.get().is_some());
/// ```
/// ```
/// static V: goconc::OnceValue<std::sync::atomic::AtomicU8> = goconc::OnceValue::new();
/// let v = goconc::OnceValue::<std::cell::Cell<u8>>::new(); // Send, not Sync
/// std::thread::spawn(move || v.get().is_some());
/// ```
///
/// A typed map stores bytes, never a `K` or a `V`, so it is `Send + Sync`
/// whatever they are; its `get_with` takes this thread's guard only:
///
/// ```
/// fn send_sync<T: Send + Sync>() {}
/// send_sync::<goconc::Map<String, Vec<u8>>>();
/// send_sync::<goconc::Map<std::rc::Rc<u8>, std::cell::Cell<u8>>>();
/// ```
/// ```compile_fail,E0277
/// let m: goconc::Map<u32, u32> = goconc::Map::new();
/// goconc::read(|g| std::thread::scope(|s| {
///     s.spawn(|| m.get_with(g, &1));
/// }));
/// ```
/// ```
/// let m: goconc::Map<u32, u32> = goconc::Map::new();
/// goconc::read(|_outer| std::thread::scope(|s| {
///     s.spawn(|| goconc::read(|g| m.get_with(g, &1)));
/// }));
/// ```
pub mod send_sync {}
