// SPDX-License-Identifier: MIT
//! `Once`: Go's `sync.Once` over `goconc_once`.
use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::os::raw::{c_int, c_void};
use std::panic::{RefUnwindSafe, UnwindSafe};

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

/// Our status for "the closure panicked or declined": non-zero, so
/// goconc_once_try leaves the once not done and returns it.  Never shown
/// to users: the panic is resumed, the declining caller knows.
const NOT_DONE: c_int = -1;

/// # Safety
/// Called by goconc_once_try only, with `run`'s `Ctx<F>`.
unsafe extern "C" fn trampoline<F: FnOnce() -> bool>(ctx: *mut c_void) -> c_int {
    // SAFETY: ctx is run()'s Ctx<F>, alive and not otherwise borrowed
    // during the C call.
    let ctx = &mut *ctx.cast::<Ctx<F>>();
    let f = match ctx.f.take() {
        Some(f) => f,
        None => return sys::GOCONC_EINVAL, // called twice: the contract says never
    };
    match panic::catch(f) {
        Ok(true) => 0,
        Ok(false) => NOT_DONE,
        Err(p) => {
            ctx.panic = Some(p);
            NOT_DONE
        }
    }
}

impl Once {
    /// A once that has not run (`GOCONC_ONCE_INIT`); usable in a `static`.
    ///
    /// ```
    /// static INIT: goconc::Once = goconc::Once::new();
    /// assert!(!INIT.is_completed());
    /// let local = goconc::Once::new();
    /// assert!(!local.is_completed());
    /// ```
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
    ///
    /// ```
    /// use goconc::ErrorKind;
    ///
    /// let once = goconc::Once::new();
    /// let mut runs = 0;
    /// once.call_once(|| runs += 1)?;
    /// once.call_once(|| runs += 1)?; // already done: not run
    /// assert_eq!(runs, 1);
    ///
    /// let o = goconc::Once::new();
    /// o.call_once(|| assert_eq!(o.call_once(|| {}).unwrap_err().kind(), ErrorKind::Deadlock))?;
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn call_once<F: FnOnce()>(&self, f: F) -> Result<()> {
        match self.run(|| {
            f();
            true
        }) {
            Err(e) if e.status() == NOT_DONE => unreachable!("f returned true or panicked"),
            r => r,
        }
    }

    /// Runs `f` if no earlier call completed; the once is done only if `f`
    /// returns `true` (else the status is `NOT_DONE`).
    fn run<F: FnOnce() -> bool>(&self, f: F) -> Result<()> {
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
    ///
    /// ```
    /// use std::panic::{catch_unwind, AssertUnwindSafe};
    ///
    /// let once = goconc::Once::new();
    /// let r = catch_unwind(AssertUnwindSafe(|| once.call_once(|| panic!("failed"))));
    /// assert!(r.is_err());
    /// assert!(!once.is_completed()); // a panicking closure does not count
    /// once.call_once(|| {})?;
    /// assert!(once.is_completed());
    /// # Ok::<(), goconc::Error>(())
    /// ```
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

/// A value set once, by whichever thread first asks for it: Go's
/// `sync.OnceValue`, shaped like `std::sync::OnceLock` (over a
/// [`Once`], 16 bytes plus the `T`).
///
/// ```
/// static GREETING: goconc::OnceValue<String> = goconc::OnceValue::new();
///
/// let g = GREETING.get_or_init(|| "hello".to_string());
/// assert_eq!(g, "hello");
/// assert_eq!(GREETING.get_or_init(|| unreachable!()), "hello");
///
/// let port: goconc::OnceValue<u16> = goconc::OnceValue::new();
/// assert!(port.get_or_try_init(|| "x".parse::<u16>()).is_err()); // still unset
/// assert_eq!(port.get_or_try_init(|| "8080".parse::<u16>()), Ok(&8080));
/// ```
pub struct OnceValue<T> {
    once: Once,
    // Written once, by the thread running `once`'s closure, before the
    // once is marked done; read only after is_completed (acquire).
    // UnsafeCell also makes OnceValue invariant in T.
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: Sync: threads share the &T it hands out (T: Sync), and the
// thread that initializes it moves a T in that another thread may drop
// (T: Send); the one write happens before every read through the once's
// release/acquire.  Send: moving it moves the T (T: Send).  Tested by
// tests/once.rs (once_value_initialized_once_across_threads) and the
// compile_fail doctests in lib.rs.
unsafe impl<T: Send + Sync> Sync for OnceValue<T> {}
unsafe impl<T: Send> Send for OnceValue<T> {}

// A panic in an initializer leaves the value unset, never half-set, as
// std's OnceLock (and, for Once, a panicking closure leaves it not done).
impl<T: RefUnwindSafe + UnwindSafe> RefUnwindSafe for OnceValue<T> {}
impl<T: UnwindSafe> UnwindSafe for OnceValue<T> {}
impl RefUnwindSafe for Once {}

impl<T> OnceValue<T> {
    /// An unset value; usable in a `static`.
    ///
    /// ```
    /// static NAME: goconc::OnceValue<String> = goconc::OnceValue::new();
    /// assert_eq!(NAME.get(), None);
    /// let local = goconc::OnceValue::<Vec<u8>>::new();
    /// assert!(local.get().is_none());
    /// ```
    pub const fn new() -> OnceValue<T> {
        OnceValue {
            once: Once::new(),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// The value, if set.
    ///
    /// ```
    /// let v = goconc::OnceValue::new();
    /// assert_eq!(v.get(), None);
    /// v.get_or_init(|| 42);
    /// assert_eq!(v.get(), Some(&42));
    /// ```
    pub fn get(&self) -> Option<&T> {
        if self.once.is_completed() {
            // SAFETY: done means the value was written (run() marks the
            // once done only after the write) and is never written again;
            // the acquire load in is_completed orders the write before.
            Some(unsafe { (*self.value.get()).assume_init_ref() })
        } else {
            None
        }
    }

    /// The value, set by `f` if it is not set yet.  Callers arriving while
    /// another runs its `f` wait for it.  A panic in `f` leaves the value
    /// unset and resumes here.  Panics if `f` asks this same `OnceValue`
    /// for its value (it would deadlock).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    ///
    /// let (v, calls) = (goconc::OnceValue::new(), AtomicUsize::new(0));
    /// std::thread::scope(|t| {
    ///     for _ in 0..4 {
    ///         t.spawn(|| assert_eq!(v.get_or_init(|| calls.fetch_add(1, Relaxed) + 10), &10));
    ///     }
    /// });
    /// assert_eq!(calls.into_inner(), 1); // one closure ran; every thread saw its value
    /// ```
    pub fn get_or_init<F: FnOnce() -> T>(&self, f: F) -> &T {
        match self.get_or_try_init(|| Ok::<T, std::convert::Infallible>(f())) {
            Ok(v) => v,
            Err(e) => match e {},
        }
    }

    /// The value, set by `f` if it is not set yet; when `f` fails, its
    /// error is returned and the value stays unset (the next caller runs
    /// its own `f`).  Otherwise as [`OnceValue::get_or_init`].
    ///
    /// ```
    /// let v = goconc::OnceValue::<u32>::new();
    /// assert_eq!(v.get_or_try_init(|| Err("not yet")), Err("not yet"));
    /// assert_eq!(v.get(), None); // still unset
    /// assert_eq!(v.get_or_try_init(|| Ok::<_, &str>(7)), Ok(&7));
    /// assert_eq!(v.get_or_try_init(|| Err("unused")), Ok(&7));
    /// ```
    pub fn get_or_try_init<E, F>(&self, f: F) -> std::result::Result<&T, E>
    where
        F: FnOnce() -> std::result::Result<T, E>,
    {
        if let Some(v) = self.get() {
            return Ok(v);
        }
        let mut failed = None;
        let st = self.once.run(|| match f() {
            Ok(v) => {
                // SAFETY: only the thread running the once's closure gets
                // here, once, and no reader looks before the once is done.
                unsafe { (*self.value.get()).write(v) };
                true
            }
            Err(e) => {
                failed = Some(e);
                false
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
        match st {
            Ok(()) => Ok(self.get().expect("a done OnceValue holds its value")),
            Err(e) => panic!("goconc::OnceValue: initialization re-entered ({e})"),
        }
    }

    /// Sets the value if it is not set yet; otherwise hands `v` back.
    ///
    /// ```
    /// let v = goconc::OnceValue::new();
    /// assert_eq!(v.set("first"), Ok(()));
    /// assert_eq!(v.set("second"), Err("second")); // handed back
    /// assert_eq!(v.get(), Some(&"first"));
    /// ```
    pub fn set(&self, v: T) -> std::result::Result<(), T> {
        let mut v = Some(v);
        self.get_or_init(|| v.take().expect("the closure runs at most once"));
        match v {
            None => Ok(()),
            Some(v) => Err(v),
        }
    }

    /// The value, if set, taking it out.
    ///
    /// ```
    /// let v = goconc::OnceValue::new();
    /// v.set(String::from("owned")).unwrap();
    /// assert_eq!(v.into_inner(), Some(String::from("owned")));
    /// assert_eq!(goconc::OnceValue::<String>::new().into_inner(), None);
    /// ```
    pub fn into_inner(self) -> Option<T> {
        let this = std::mem::ManuallyDrop::new(self);
        if this.once.is_completed() {
            // SAFETY: set (see get); `this` is never dropped, so the value
            // is read out exactly once.
            Some(unsafe { (*this.value.get()).assume_init_read() })
        } else {
            None
        }
    }
}

impl<T> Default for OnceValue<T> {
    fn default() -> Self {
        OnceValue::new()
    }
}

impl<T> Drop for OnceValue<T> {
    fn drop(&mut self) {
        if self.once.is_completed() {
            // SAFETY: set (see get), and &mut self: no borrow of it is left.
            unsafe { (*self.value.get()).assume_init_drop() }
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for OnceValue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("OnceValue").field(&self.get()).finish()
    }
}
