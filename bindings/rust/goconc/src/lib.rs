// SPDX-License-Identifier: MIT
//! Safe Rust bindings for libgoconc: Go's concurrency-safe containers (a
//! concurrent map, thread-safe slices with snapshots, an atomic value with
//! safe reclamation, once, pool) over the C ABI of `libgoconc.so.1`.
//!
//! The typed API follows std's conventions ([`Map`], [`Value`],
//! [`OnceValue`], [`Pool`]; constructors panic when out of memory, `try_`
//! twins return errors):
//!
//! ```
//! use goconc::Map;
//!
//! let m: Map<String, u32> = Map::new();
//! m.insert("k".to_string(), 1);
//! m.update("k", |v| v.map(|v| v + 1));
//! assert_eq!(m.get("k"), Some(2));
//! ```
//!
//! The byte-level API mirrors the C one and returns every status
//! ([`ByteMap`], [`Slice`], [`Once`]):
//!
//! ```
//! use goconc::ByteMap;
//!
//! let m = ByteMap::new();
//! m.store(b"k", b"v")?;
//! assert_eq!(m.load(b"k")?, Some(b"v".to_vec()));
//! assert!(m.delete(b"k")?);
//! # Ok::<(), goconc::Error>(())
//! ```
//!
//! Every type here is `Send + Sync` where its C counterpart may be used from
//! any thread at once (each `unsafe impl` gives the argument), and
//! invariant in its element type where storage is shared and written
//! through `&self`.  Callbacks into Rust (a map's `update`/`range`, a
//! once's closure, a pool's `new`) go through `extern "C"` trampolines that
//! catch a panic, let the C call return normally (C must never be unwound
//! through), and resume the panic in the caller after the C call returned.
//!
//! Read sections are lent as `&ReadGuard`s by [`read`] for the length of a
//! closure: a borrow from [`Value::load`] or [`ByteMap::peek`] cannot
//! outlive it.  (An owned guard could be leaked; see [`ReadGuard`].)
//!
//! The header's `static inline` fast paths are not reachable through FFI;
//! these bindings call the exported functions of the same names.
#![warn(missing_docs)]

mod codec;
#[cfg(doctest)]
pub mod compile_fail;
mod error;
mod map;
mod once;
mod pool;
mod slice;
mod typed_map;
mod value;

use std::ffi::CStr;
use std::marker::PhantomData;

pub use goconc_sys as sys;

pub use codec::{Decode, Encode};
pub use error::{Error, ErrorKind, Result};
pub use map::{ByteMap, Iter, MapOptions, MapStats, Update};
pub use once::{Once, OnceValue};
pub use pool::{Pool, PoolBuilder, PoolGuard, PoolStats};
pub use slice::{Slice, View, ViewIter, Zeroable};
pub use typed_map::{Map, MapIter};
pub use value::{Ref, Value};

/// The loaded library's version string, e.g. `"1.1.0"`.
///
/// ```
/// let v = goconc::version();
/// let parts: Vec<u32> = v.split('.').map(|p| p.parse().unwrap()).collect();
/// assert_eq!(parts.len(), 3);
/// assert_eq!(parts[0] * 10000 + parts[1] * 100 + parts[2], goconc::version_number());
/// ```
pub fn version() -> &'static str {
    // SAFETY: goconc_version_string returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(sys::goconc_version_string()) }
        .to_str()
        .unwrap_or("?")
}

/// The loaded library's `GOCONC_VERSION_NUMBER` (major*10000+minor*100+patch).
///
/// ```
/// // The loaded library has the major version these bindings were built for.
/// let n = goconc::version_number();
/// assert_eq!(n / 10000, goconc::sys::GOCONC_VERSION_MAJOR);
/// assert_eq!(goconc::version(), format!("{}.{}.{}", n / 10000, n / 100 % 100, n % 100));
/// ```
pub fn version_number() -> u32 {
    // SAFETY: no arguments, no preconditions.
    unsafe { sys::goconc_version_number() }
}

/// Waits until every read section open at the call has closed
/// (`goconc_synchronize`).  [`ErrorKind::Deadlock`] inside a read section,
/// a map update function, a once function or a deferred callback.
///
/// ```
/// use goconc::ErrorKind;
///
/// goconc::synchronize()?; // no section open on this thread: waits for the others
/// // Inside a read section it would wait for itself:
/// let err = goconc::read(|_| goconc::synchronize()).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Deadlock);
/// # Ok::<(), goconc::Error>(())
/// ```
pub fn synchronize() -> Result<()> {
    // SAFETY: no arguments; the library detects the calls that would deadlock.
    Error::check(unsafe { sys::goconc_synchronize() }).map(drop)
}

/// Waits until every destroy deferred before the call has run
/// (`goconc_barrier`): e.g. every `T` that a [`Value<T>`] replaced and no
/// one references any more has been dropped when it returns.
/// [`ErrorKind::Deadlock`] as for [`synchronize`].
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
///
/// static DROPS: AtomicUsize = AtomicUsize::new(0);
/// struct Counted;
/// impl Drop for Counted {
///     fn drop(&mut self) { DROPS.fetch_add(1, SeqCst); }
/// }
/// let v = goconc::Value::new(Counted);
/// v.store(Counted); // replaces the first one...
/// drop(v); // ...and dropping the value releases the second
/// goconc::barrier()?; // both drops deferred before this call have run
/// assert_eq!(DROPS.load(SeqCst), 2);
/// # Ok::<(), goconc::Error>(())
/// ```
pub fn barrier() -> Result<()> {
    // SAFETY: as synchronize.
    Error::check(unsafe { sys::goconc_barrier() }).map(drop)
}

/// Proof that the calling thread is inside a read section (RCU-style,
/// `goconc_read_lock`/`goconc_read_unlock`): while the `&ReadGuard` that
/// [`read`] lends is alive, nothing borrowed through it can be reclaimed.
///
/// There is no way to own a guard: one is only ever lent, by [`read`], to
/// a closure that must accept any lifetime for it.  An owned guard could be
/// leaked (`Box::leak`, safe), lending `&'static` borrows; a `&'static T`
/// with `T: Sync` may be sent to another thread, and when the leaking
/// thread exits the library ends its section (`src/reclaim/epoch.c`,
/// `thread_exit`) and reclaims what the borrow points to.  doc/bindings.md
/// has the whole argument.
///
/// A guard is neither `Send` nor `Sync`: the section belongs to the thread
/// that entered it, so neither the guard nor a `&ReadGuard` may reach
/// another thread (where loads through it would be unprotected).
///
/// ```compile_fail,E0451
/// // A guard cannot be made, only lent by goconc::read.
/// let g = goconc::ReadGuard { _not_send_sync: std::marker::PhantomData };
/// ```
pub struct ReadGuard {
    // *const (): neither Send nor Sync.  Private: no constructor outside.
    _not_send_sync: PhantomData<*const ()>,
}

impl ReadGuard {
    fn enter() -> ReadGuard {
        // SAFETY: no precondition; balanced by the unlock in Drop, which
        // runs on this thread because a ReadGuard is !Send and is never
        // handed out by value (read() owns it), so it cannot be leaked.
        unsafe { sys::goconc_read_lock() };
        ReadGuard {
            _not_send_sync: PhantomData,
        }
    }
}

impl Drop for ReadGuard {
    fn drop(&mut self) {
        // SAFETY: this thread entered the section in ReadGuard::enter and
        // (!Send) is the thread dropping the guard; sections nest, so an
        // inner read() closing first leaves the outer one open.
        unsafe { sys::goconc_read_unlock() };
    }
}

impl std::fmt::Debug for ReadGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadGuard")
    }
}

/// Runs `f` inside a read section and returns what it returns.
///
/// Everything borrowed through the guard ([`Value::load`],
/// [`ByteMap::peek`]) stays valid until `f` returns, even if it is
/// replaced, deleted or its container dropped meanwhile.  Sections nest and
/// end when `f` returns or unwinds.  Never blocks; do not block inside `f`
/// either (it holds back reclamation for every thread): take a [`Ref`] with
/// [`Value::load_full`] for long work.  A panic in `f` ends the section as
/// it unwinds.
///
/// ```
/// let v = goconc::Value::from(String::from("config"));
/// let len = goconc::read(|g| v.load(g).map_or(0, |s| s.len()));
/// assert_eq!(len, 6);
/// ```
///
/// Nothing borrowed through the guard can leave the closure:
///
/// ```compile_fail
/// let v = goconc::Value::from(String::from("config"));
/// let s: &String = goconc::read(|g| v.load(g).unwrap()); // borrow escapes
/// ```
pub fn read<R>(f: impl FnOnce(&ReadGuard) -> R) -> R {
    let guard = ReadGuard::enter();
    f(&guard)
}

/// Panic plumbing shared by the trampolines.
pub(crate) mod panic {
    use std::any::Any;
    use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

    /// What a trampoline caught.
    pub(crate) type Payload = Box<dyn Any + Send + 'static>;

    /// Runs `f`, catching a panic so that it never unwinds into C.
    pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Payload> {
        // AssertUnwindSafe: the payload is always resumed in the caller
        // (or, for deferred drops, the object is gone), so no state that a
        // panic broke is observed afterwards by code that did not see the
        // panic.
        catch_unwind(AssertUnwindSafe(f))
    }

    /// Re-raises a caught panic, if any.
    #[inline]
    pub(crate) fn resume(p: Option<Payload>) {
        if let Some(p) = p {
            resume_unwind(p);
        }
    }
}
