//! `Once`: Go's `sync.Once` over `goconc_once`.
use std::cell::UnsafeCell;
use std::os::raw::{c_int, c_void};

use goconc_sys as sys;

use crate::error::{Error, Result};
use crate::panic::{self, Payload};

/// Runs a closure exactly once, however many threads call
/// [`Once::call_once`] (`goconc_once`, 16 bytes, no allocation).
///
/// ```
/// static INIT: goconc::Once = goconc::Once::new();
/// static mut TABLE: Vec<u32> = Vec::new();
///
/// fn table() -> &'static [u32] {
///     // SAFETY: TABLE is written only inside call_once, which every
///     // reader passes first (its return orders the write before).
///     INIT.call_once(|| unsafe { TABLE = (0..10).collect() }).unwrap();
///     unsafe { &*std::ptr::addr_of!(TABLE) }
/// }
/// assert_eq!(table()[9], 9);
/// ```
pub struct Once {
    raw: UnsafeCell<sys::goconc_once>,
}

// SAFETY (both): a goconc_once is made for concurrent use by any threads through
// a shared pointer: goconc_once_try/goconc_once_done synchronize
// internally (waiters sleep in the library; the done state is published
// with a release store).  The closure runs on the calling thread only.
// The bytes never need to stay at a fixed address between calls: Rust
// moves a Once only when nothing borrows it, and a done or never-run once
// is just its state word.  Tested by tests/once.rs
// (static_once_runs_once_across_threads: a static is shared by threads).
unsafe impl Sync for Once {}
unsafe impl Send for Once {}

struct Ctx<F> {
    f: Option<F>,
    panic: Option<Payload>,
}

/// Our status for "the closure panicked": non-zero, so goconc_once_try
/// leaves the once not done and returns it.
const PANICKED: c_int = -1;

/// # Safety
/// Called by goconc_once_try only, with `call_once`'s `Ctx<F>`.
unsafe extern "C" fn trampoline<F: FnOnce()>(ctx: *mut c_void) -> c_int {
    // SAFETY: ctx is call_once()'s Ctx<F>, alive and not otherwise
    // borrowed during the C call.
    let ctx = &mut *ctx.cast::<Ctx<F>>();
    let f = match ctx.f.take() {
        Some(f) => f,
        None => return sys::GOCONC_EINVAL, // called twice: the contract says never
    };
    match panic::catch(f) {
        Ok(()) => 0,
        Err(p) => {
            ctx.panic = Some(p);
            PANICKED
        }
    }
}

impl Once {
    /// A once that has not run (`GOCONC_ONCE_INIT`); usable in a `static`.
    pub const fn new() -> Once {
        Once {
            raw: UnsafeCell::new(sys::goconc_once::INIT),
        }
    }

    /// Runs `f` if no earlier call completed.  Callers that arrive while
    /// `f` runs sleep until it returned and then see its effects.
    ///
    /// If `f` panics, the once stays not done (`goconc_once_try`), the
    /// panic resumes in this caller after the C call returned, and a
    /// waiting or later caller runs its own closure; Go would count a
    /// panicking `f` as done.  Calling `call_once` on the same `Once` from
    /// inside `f` returns [`ErrorKind::Deadlock`](crate::ErrorKind).
    pub fn call_once<F: FnOnce()>(&self, f: F) -> Result<()> {
        if self.is_completed() {
            return Ok(());
        }
        let mut ctx = Ctx {
            f: Some(f),
            panic: None,
        };
        // SAFETY: the once is valid for the call; ctx outlives it; the
        // trampoline is instantiated for this F.
        let st = unsafe {
            sys::goconc_once_try(
                self.raw.get(),
                Some(trampoline::<F>),
                (&mut ctx as *mut Ctx<F>).cast(),
            )
        };
        panic::resume(ctx.panic.take());
        Error::check(st).map(drop)
    }

    /// Whether a `call_once` has completed (one acquire load).
    pub fn is_completed(&self) -> bool {
        // SAFETY: valid once.
        unsafe { sys::goconc_once_done(self.raw.get()) != 0 }
    }
}

impl Default for Once {
    fn default() -> Self {
        Once::new()
    }
}

impl std::fmt::Debug for Once {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Once")
            .field("done", &self.is_completed())
            .finish()
    }
}
