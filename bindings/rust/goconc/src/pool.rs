// SPDX-License-Identifier: MIT
//! `Pool<T>`: Go's `sync.Pool` of boxed objects over `goconc_pool`.
use std::cell::Cell;
use std::marker::PhantomData;
use std::os::raw::c_void;
use std::ptr::{self, NonNull};

use goconc_sys as sys;

use crate::error::{Error, Result};
use crate::panic::{self, Payload};

/// A snapshot of a pool's counters (`goconc_pool_stats`).
///
/// ```
/// let pool = goconc::Pool::<u8>::new();
/// assert!(pool.take().is_none()); // a get that found nothing
/// pool.put(Box::new(1));
/// pool.put(Box::new(2));
/// let _two = pool.take().unwrap(); // a hit: this thread's cached object
/// let st = pool.stats()?;
/// assert_eq!((st.gets, st.puts, st.hits, st.news, st.idle), (2, 2, 1, 0, 1));
/// assert_eq!(st.gets, st.hits + st.news + 1); // + the get that found nothing
/// assert_eq!(st.puts, st.hits + st.idle as u64 + st.drops); // when nothing runs
/// # Ok::<(), goconc::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct PoolStats {
    pub gets: u64,
    pub puts: u64,
    pub hits: u64,
    pub news: u64,
    pub drops: u64,
    pub idle: usize,
}

type NewFn<T> = Box<dyn Fn() -> T + Send + Sync>;
type ResetFn<T> = Box<dyn Fn(&mut T) + Send + Sync>;

struct Inner<T> {
    new: Option<NewFn<T>>,
    reset: Option<ResetFn<T>>,
}

/// A pool of reusable boxed objects with per-thread caches
/// (`goconc_pool`): [`Pool::get`] lends a cached object if this thread can
/// take one without waiting, else a new one from the `new` closure (else
/// `None`), and gives it back when the [`PoolGuard`] drops;
/// [`Pool::take`] and [`Pool::put`] do the same by hand with `Box<T>`.
/// Objects idle across two [`Pool::trim`] calls are dropped, as Go drops
/// them across two garbage collections.
///
/// ```
/// let pool = goconc::Pool::with_new(|| Vec::<u8>::with_capacity(4096));
/// {
///     let mut buf = pool.get().unwrap();
///     buf.extend_from_slice(b"scratch");
///     buf.clear();
/// }                                   // back into the pool
/// assert!(pool.get().unwrap().capacity() >= 4096);
/// ```
pub struct Pool<T: Send + 'static> {
    raw: NonNull<sys::goconc_pool>,
    // Boxed: its address is the C ctx of the callbacks.
    inner: Box<Inner<T>>,
    // Invariant in T (as `inner`'s `dyn Fn() -> T` already makes it): a
    // put through &self gives back what another get takes out.
    _t: PhantomData<fn(T) -> T>,
}

// SAFETY (both): get/put/trim/stats are safe from any number of threads at
// once (per-thread caches, a mutex for the shared level); goconc_pool_free
// is only called from Drop.  Objects put on one thread are got on another
// and dropped on any (T: Send); the closures run on whichever thread calls
// get or put (Send + Sync bounds on them).  No &T is ever shared, so T need
// not be Sync.  Tested by tests/pool.rs (threads_never_share_an_object,
// send_and_sync_bounds) and the compile_fail doctests in lib.rs.
unsafe impl<T: Send + 'static> Send for Pool<T> {}
unsafe impl<T: Send + 'static> Sync for Pool<T> {}

thread_local! {
    /// A panic caught in a pool callback on this thread, resumed by the
    /// pool call that ran the callback.
    static PENDING: Cell<Option<Payload>> = const { Cell::new(None) };
}

fn stash(p: Payload) {
    // At thread exit the slot may be gone; the panic was reported already.
    let _ = PENDING.try_with(|c| c.set(Some(p)));
}

fn resume_pending() {
    if let Ok(p) = PENDING.try_with(|c| c.take()) {
        panic::resume(p);
    }
}

/// # Safety
/// Called by the library only, with the ctx of a live `Pool<T>`: the boxed
/// `Inner<T>`, which outlives the pool.
unsafe extern "C" fn new_trampoline<T: Send + 'static>(ctx: *mut c_void) -> *mut c_void {
    // SAFETY: ctx is the pool's Inner<T>, only ever read.
    let inner = &*ctx.cast::<Inner<T>>();
    let new = match inner.new.as_ref() {
        Some(new) => new,
        None => return ptr::null_mut(),
    };
    match panic::catch(|| Box::new(new())) {
        Ok(b) => Box::into_raw(b).cast(),
        Err(p) => {
            stash(p);
            ptr::null_mut()
        }
    }
}

/// # Safety
/// Called by the library only, once per object it owned and gives up.
unsafe extern "C" fn free_trampoline<T: Send + 'static>(_ctx: *mut c_void, obj: *mut c_void) {
    // Runs in trim, put (over the limit), goconc_pool_free or at a thread's
    // exit; a panic in T's Drop is resumed by the pool call, if any.
    // SAFETY: every object in a Pool<T> is a Box<T> (put or new_trampoline)
    // and the library gives it up exactly once; T: Send, any thread drops.
    if let Err(p) = panic::catch(|| drop(Box::from_raw(obj.cast::<T>()))) {
        stash(p);
    }
}

/// Options for [`Pool::builder`].
///
/// ```
/// let pool = goconc::Pool::builder()
///     .new_fn(String::new)
///     .reset(|s: &mut String| s.clear())
///     .max_idle(16)
///     .build()?;
/// pool.get().unwrap().push_str("scratch"); // the guard drops: reset, then cached
/// let s = pool.get().unwrap(); // the same String, cleared
/// assert!(s.is_empty() && s.capacity() >= 7);
/// # Ok::<(), goconc::Error>(())
/// ```
pub struct PoolBuilder<T: Send + 'static> {
    inner: Inner<T>,
    max_idle: usize,
}

impl<T: Send + 'static> PoolBuilder<T> {
    /// Go's `New`: makes an object when the pool has none for this thread.
    ///
    /// ```
    /// let pool = goconc::Pool::builder().new_fn(|| vec![0u8; 8]).build()?;
    /// let (a, b) = (pool.take().unwrap(), pool.take().unwrap()); // nothing cached
    /// assert_eq!((a.len(), b.len()), (8, 8));
    /// assert_eq!(pool.stats()?.news, 2);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn new_fn(mut self, f: impl Fn() -> T + Send + Sync + 'static) -> Self {
        self.inner.new = Some(Box::new(f));
        self
    }

    /// Runs on every object `put` back, before it is cached.
    ///
    /// ```
    /// let pool = goconc::Pool::builder()
    ///     .new_fn(Vec::<u8>::new)
    ///     .reset(|v| v.clear())
    ///     .build()?;
    /// let mut v = pool.take().unwrap();
    /// v.extend_from_slice(b"dirty");
    /// pool.put(v); // cleared here, before it is cached
    /// let v = pool.take().unwrap(); // the same Vec: empty, its buffer kept
    /// assert!(v.is_empty() && v.capacity() >= 5);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn reset(mut self, f: impl Fn(&mut T) + Send + Sync + 'static) -> Self {
        self.inner.reset = Some(Box::new(f));
        self
    }

    /// Cap on cached objects in all (plus a small per-thread allowance);
    /// 0 = the library's default.
    ///
    /// ```
    /// let pool = goconc::Pool::builder().new_fn(|| 0u64).max_idle(4).build()?;
    /// let objs: Vec<_> = (0..100).map(|_| pool.take().unwrap()).collect();
    /// for obj in objs {
    ///     pool.put(obj);
    /// }
    /// let st = pool.stats()?;
    /// assert!(st.idle <= 4 + 4); // max_idle + this thread's allowance, min(64, max_idle)
    /// assert_eq!(st.idle as u64 + st.drops, 100); // the rest were dropped
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn max_idle(mut self, n: usize) -> Self {
        self.max_idle = n;
        self
    }

    /// Makes the pool.
    ///
    /// ```
    /// let pool = goconc::Pool::<u32>::builder().max_idle(8).build()?;
    /// assert!(pool.get().is_none()); // no new_fn: nothing to lend yet
    /// pool.put(Box::new(1));
    /// assert_eq!(pool.take().as_deref(), Some(&1));
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn build(self) -> Result<Pool<T>> {
        let inner = Box::new(self.inner);
        let mut o = sys::goconc_pool_options::init();
        o.new_obj = inner.new.as_ref().map(|_| new_trampoline::<T> as _);
        o.free_obj = Some(free_trampoline::<T>);
        o.ctx = &*inner as *const Inner<T> as *mut c_void;
        o.max_idle = self.max_idle;
        let mut out = ptr::null_mut();
        // SAFETY: options valid; ctx (the boxed inner) outlives the pool.
        Error::check(unsafe { sys::goconc_pool_new(&mut out, &o) })?;
        Ok(Pool {
            raw: NonNull::new(out).expect("goconc_pool_new returned OK and NULL"),
            inner,
            _t: PhantomData,
        })
    }
}

impl<T: Send + 'static> Pool<T> {
    /// A pool without a `new` closure: `get` returns `None` when empty.
    /// Panics when out of memory.
    ///
    /// ```
    /// let pool = goconc::Pool::<String>::new();
    /// assert!(pool.get().is_none());
    /// pool.put(Box::new("kept".to_string()));
    /// assert_eq!(pool.take().as_deref().map(String::as_str), Some("kept"));
    /// ```
    pub fn new() -> Pool<T> {
        Pool::try_new().unwrap_or_else(|e| e.panic_in("Pool"))
    }

    /// [`Pool::new`], or [`ErrorKind::OutOfMemory`](crate::ErrorKind).
    ///
    /// ```
    /// let pool = goconc::Pool::<u64>::try_new()?;
    /// assert!(pool.take().is_none());
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn try_new() -> Result<Pool<T>> {
        Pool::builder().build()
    }

    /// A pool that makes objects with `f` when it has none.  Panics when
    /// out of memory.
    ///
    /// ```
    /// let pool = goconc::Pool::with_new(|| vec![0u8; 16]);
    /// assert_eq!(pool.get().unwrap().len(), 16);
    /// ```
    pub fn with_new(f: impl Fn() -> T + Send + Sync + 'static) -> Pool<T> {
        Pool::try_with_new(f).unwrap_or_else(|e| e.panic_in("Pool"))
    }

    /// [`Pool::with_new`], or [`ErrorKind::OutOfMemory`](crate::ErrorKind).
    ///
    /// ```
    /// let pool = goconc::Pool::try_with_new(|| 7u32)?;
    /// assert_eq!(*pool.get().unwrap(), 7);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn try_with_new(f: impl Fn() -> T + Send + Sync + 'static) -> Result<Pool<T>> {
        Pool::builder().new_fn(f).build()
    }

    /// Options: `new_fn`, `reset`, `max_idle`.
    ///
    /// ```
    /// let pool = goconc::Pool::builder().new_fn(|| 42u32).build()?;
    /// assert_eq!(*pool.get().unwrap(), 42);
    /// let bare = goconc::Pool::<u32>::builder().build()?; // like Pool::new
    /// assert!(bare.get().is_none());
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn builder() -> PoolBuilder<T> {
        PoolBuilder {
            inner: Inner {
                new: None,
                reset: None,
            },
            max_idle: 0,
        }
    }

    fn ptr(&self) -> *mut sys::goconc_pool {
        self.raw.as_ptr()
    }

    /// Lends a cached object, else one from the `new` closure, else
    /// `None`; the guard puts it back when dropped (see [`Pool::put`]).  A
    /// panic in `new` resumes here.
    ///
    /// ```
    /// let pool = goconc::Pool::with_new(|| 0u32);
    /// {
    ///     let mut n = pool.get().unwrap(); // a new object
    ///     *n += 1;
    /// } // back into the pool
    /// assert_eq!(*pool.get().unwrap(), 1); // this thread's cached object again
    /// assert!(goconc::Pool::<u32>::new().get().is_none()); // empty, no `new`
    /// ```
    pub fn get(&self) -> Option<PoolGuard<'_, T>> {
        self.take().map(|obj| PoolGuard {
            pool: self,
            obj: Some(obj),
        })
    }

    /// A cached object, else one from the `new` closure, else `None`,
    /// to keep (or [`Pool::put`] back).  A panic in `new` resumes here.
    ///
    /// ```
    /// let pool = goconc::Pool::with_new(|| String::from("new"));
    /// let mut s: Box<String> = pool.take().unwrap(); // ours: no guard
    /// s.push('!');
    /// assert_eq!(pool.stats()?.idle, 0);
    /// pool.put(s);
    /// assert_eq!(*pool.take().unwrap(), "new!");
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn take(&self) -> Option<Box<T>> {
        // SAFETY: valid pool; the objects in it are Box<T>s we put or
        // new_trampoline made.
        let p = unsafe { sys::goconc_pool_get(self.ptr()) };
        resume_pending();
        // SAFETY: the pool handed the object, a Box<T>, over to us.
        NonNull::new(p).map(|p| unsafe { Box::from_raw(p.as_ptr().cast::<T>()) })
    }

    /// Gives `obj` back (the `reset` closure runs first, here; if it
    /// panics, `obj` is dropped, not cached).
    ///
    /// ```
    /// let pool = goconc::Pool::<Vec<u8>>::new();
    /// pool.put(Box::new(vec![1, 2, 3]));
    /// assert_eq!(pool.stats()?.idle, 1);
    /// assert_eq!(*pool.take().unwrap(), [1, 2, 3]);
    /// assert!(pool.take().is_none());
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn put(&self, mut obj: Box<T>) {
        if let Some(reset) = &self.inner.reset {
            reset(&mut obj);
        }
        // SAFETY: the pool owns the object from now on.
        unsafe { sys::goconc_pool_put(self.ptr(), Box::into_raw(obj).cast()) };
        resume_pending();
    }

    /// Go's GC step: drops the objects idle since the previous trim.
    ///
    /// ```
    /// let pool = goconc::Pool::<u32>::new();
    /// pool.put(Box::new(7));
    /// pool.trim(); // 7 is idle: a victim now, still cached
    /// assert_eq!(pool.stats()?.idle, 1);
    /// pool.trim(); // still idle: dropped
    /// let st = pool.stats()?;
    /// assert_eq!((st.idle, st.drops), (0, 1));
    /// assert!(pool.take().is_none());
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn trim(&self) {
        // SAFETY: valid pool.
        unsafe { sys::goconc_pool_trim(self.ptr()) };
        resume_pending();
    }

    /// The pool's counters.
    ///
    /// ```
    /// let pool = goconc::Pool::with_new(|| 0u8);
    /// let obj = pool.take().unwrap(); // made by `new`
    /// pool.put(obj);
    /// let _obj = pool.take().unwrap(); // cached: a hit
    /// let st = pool.stats()?;
    /// assert_eq!((st.gets, st.news, st.hits, st.puts, st.idle), (2, 1, 1, 1, 0));
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn stats(&self) -> Result<PoolStats> {
        let mut st = sys::goconc_pool_stats {
            struct_size: std::mem::size_of::<sys::goconc_pool_stats>(),
            ..Default::default()
        };
        // SAFETY: properly sized stats struct.
        Error::check(unsafe { sys::goconc_pool_stats_get(self.ptr(), &mut st) })?;
        Ok(PoolStats {
            gets: st.gets,
            puts: st.puts,
            hits: st.hits,
            news: st.news,
            drops: st.drops,
            idle: st.idle,
        })
    }
}

/// An object lent by [`Pool::get`]; derefs to `T` and goes back into the
/// pool when dropped.  `Send` and `Sync` as `&Pool<T>` and `Box<T>` are.
///
/// ```
/// let pool = goconc::Pool::with_new(Vec::<u32>::new);
/// let mut guard = pool.get().unwrap();
/// guard.push(1); // DerefMut to Vec<u32>
/// assert_eq!(guard.len(), 1); // Deref
/// drop(guard); // back into the pool
/// assert_eq!(pool.stats()?.idle, 1);
/// # Ok::<(), goconc::Error>(())
/// ```
pub struct PoolGuard<'a, T: Send + 'static> {
    pool: &'a Pool<T>,
    obj: Option<Box<T>>, // Some until drop or into_inner
}

impl<'a, T: Send + 'static> PoolGuard<'a, T> {
    /// Keeps the object instead of giving it back.
    ///
    /// ```
    /// use goconc::{Pool, PoolGuard};
    /// let pool = Pool::with_new(|| 5u32);
    /// let kept: Box<u32> = PoolGuard::into_inner(pool.get().unwrap());
    /// assert_eq!(*kept, 5);
    /// let st = pool.stats()?;
    /// assert_eq!((st.puts, st.idle), (0, 0)); // never given back
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn into_inner(mut guard: PoolGuard<'a, T>) -> Box<T> {
        guard
            .obj
            .take()
            .expect("a PoolGuard holds its object until dropped")
    }
}

impl<T: Send + 'static> std::ops::Deref for PoolGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.obj
            .as_deref()
            .expect("a PoolGuard holds its object until dropped")
    }
}

impl<T: Send + 'static> std::ops::DerefMut for PoolGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.obj
            .as_deref_mut()
            .expect("a PoolGuard holds its object until dropped")
    }
}

impl<T: Send + 'static> Drop for PoolGuard<'_, T> {
    fn drop(&mut self) {
        if let Some(obj) = self.obj.take() {
            self.pool.put(obj);
        }
    }
}

impl<T: Send + 'static + std::fmt::Debug> std::fmt::Debug for PoolGuard<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PoolGuard").field(&**self).finish()
    }
}

impl<T: Send + 'static> Drop for Pool<T> {
    fn drop(&mut self) {
        // SAFETY: &mut self; drops every cached object (free_trampoline)
        // before returning, so `inner` may go after it.
        unsafe { sys::goconc_pool_free(self.ptr()) };
        if !std::thread::panicking() {
            resume_pending();
        } else {
            let _ = PENDING.try_with(|c| c.take());
        }
    }
}

impl<T: Send + 'static> Default for Pool<T> {
    /// [`Pool::new`]: no `new` closure.  Panics when out of memory.
    fn default() -> Self {
        Pool::new()
    }
}

impl<T: Send + 'static> std::fmt::Debug for Pool<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("stats", &self.stats().ok())
            .finish()
    }
}
