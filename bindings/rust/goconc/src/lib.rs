//! Safe Rust bindings for libgoconc: Go's concurrency-safe containers (a
//! concurrent byte map, thread-safe slices with snapshots, an atomic value
//! with safe reclamation, once, pool) over the C ABI of `libgoconc.so.1`.
//!
//! ```
//! use goconc::Map;
//!
//! let m = Map::new()?;
//! m.store(b"k", b"v")?;
//! assert_eq!(m.load(b"k")?, Some(b"v".to_vec()));
//! assert!(m.delete(b"k")?);
//! # Ok::<(), goconc::Error>(())
//! ```
//!
//! Every type here is `Send + Sync` where its C counterpart may be used from
//! any thread at once (each type's comment gives the argument).  Callbacks
//! into Rust (a map's `update`/`range`, `Once::call_once`, a pool's `new`)
//! go through `extern "C"` trampolines that catch a panic, let the C call
//! return normally (C must never be unwound through), and resume the panic
//! in the caller after the C call returned.
//!
//! Read sections are [`ReadGuard`]s: a borrowed value from
//! [`Value::load`] or [`Map::peek`] lives as long as the guard.
//!
//! The header's `static inline` fast paths are not reachable through FFI;
//! these bindings call the exported functions of the same names.
#![warn(missing_docs)]

mod error;
mod map;
mod once;
mod pool;
mod slice;
mod value;

use std::ffi::CStr;
use std::marker::PhantomData;

pub use goconc_sys as sys;

pub use error::{Error, ErrorKind, Result};
pub use map::{Iter, Map, MapOptions, MapStats, Update};
pub use once::Once;
pub use pool::{Pool, PoolBuilder, PoolStats};
pub use slice::{Slice, View, Zeroable};
pub use value::{Ref, Value};

/// The loaded library's version string, e.g. `"1.0.0"`.
pub fn version() -> &'static str {
    // SAFETY: goconc_version_string returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(sys::goconc_version_string()) }
        .to_str()
        .unwrap_or("?")
}

/// The loaded library's `GOCONC_VERSION_NUMBER` (major*10000+minor*100+patch).
pub fn version_number() -> u32 {
    // SAFETY: no arguments, no preconditions.
    unsafe { sys::goconc_version_number() }
}

/// Waits until every read section open at the call has closed
/// (`goconc_synchronize`).  [`ErrorKind::Deadlock`] inside a read section,
/// a map update function, a once function or a deferred callback.
pub fn synchronize() -> Result<()> {
    // SAFETY: no arguments; the library detects the calls that would deadlock.
    Error::check(unsafe { sys::goconc_synchronize() }).map(drop)
}

/// Waits until every destroy deferred before the call has run
/// (`goconc_barrier`): e.g. every `T` that a [`Value<T>`] replaced and no
/// one references any more has been dropped when it returns.
/// [`ErrorKind::Deadlock`] as for [`synchronize`].
pub fn barrier() -> Result<()> {
    // SAFETY: as synchronize.
    Error::check(unsafe { sys::goconc_barrier() }).map(drop)
}

/// A read section (RCU-style, `goconc_read_lock`/`goconc_read_unlock`):
/// while a guard lives, nothing borrowed through it can be reclaimed.
///
/// Guards nest; the section ends when the thread's outermost guard drops.
/// A guard is neither `Send` nor `Sync` (a read section belongs to its
/// thread).  Do not block while holding one: it holds back reclamation for
/// every thread; take a [`Ref`] with [`Value::acquire`] for long work.
pub struct ReadGuard {
    _not_send: PhantomData<*const ()>,
}

impl ReadGuard {
    /// Enters a read section.  Never blocks, never fails.
    pub fn new() -> ReadGuard {
        // SAFETY: balanced by the unlock in Drop, on this thread (!Send).
        unsafe { sys::goconc_read_lock() };
        ReadGuard {
            _not_send: PhantomData,
        }
    }
}

impl Default for ReadGuard {
    fn default() -> Self {
        ReadGuard::new()
    }
}

impl Drop for ReadGuard {
    fn drop(&mut self) {
        // SAFETY: this thread entered the section in ReadGuard::new.
        unsafe { sys::goconc_read_unlock() };
    }
}

/// Enters a read section; shorthand for [`ReadGuard::new`].
pub fn read_lock() -> ReadGuard {
    ReadGuard::new()
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
    pub(crate) fn resume(p: Option<Payload>) {
        if let Some(p) = p {
            resume_unwind(p);
        }
    }
}
