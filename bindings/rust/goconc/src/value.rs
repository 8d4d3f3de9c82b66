// SPDX-License-Identifier: MIT
//! `Value<T>`: Go's `atomic.Value` holding a boxed `T`, with safe
//! reclamation.
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::marker::PhantomData;
use std::mem::{align_of, size_of};
use std::ops::Deref;
use std::os::raw::c_void;
use std::ptr::{self, NonNull};

use goconc_sys as sys;

use crate::error::{Error, Result};
use crate::panic;
use crate::ReadGuard;

/// An atomic value holding a `T` on the heap (`goconc_value`), shaped
/// like `arc_swap::ArcSwapOption`.
///
/// Loads never block and never write shared memory: [`Value::load`]
/// borrows the current `T` for the life of a [`ReadGuard`] (see
/// [`crate::read`]); [`Value::load_full`] gives an owned, counted [`Ref`]
/// for longer use.  Every operation is linearizable.  Each stored `T` is
/// dropped exactly once, on whatever thread reclaims it, after it is no
/// longer stored, no read section can see it and no `Ref` holds it
/// (possibly after the `Value` itself is gone; [`crate::barrier`] waits for
/// that).
///
/// Constructors and writes panic when the library runs out of memory (as
/// std's collections fail on allocation failure); each has a `try_` twin
/// that returns [`ErrorKind::OutOfMemory`](crate::ErrorKind) instead.
///
/// ```
/// use goconc::Value;
/// let config = Value::new(String::from("v1"));
/// assert_eq!(goconc::read(|g| config.load(g).map(|s| s.len())), Some(2));
/// let old = config.swap(String::from("v2")).unwrap();
/// assert_eq!(*old, "v1");            // still readable through the Ref
/// config.rcu(|cur| format!("{}+", cur.unwrap()));
/// assert_eq!(config.load_cloned().as_deref(), Some("v2+"));
/// ```
pub struct Value<T: Send + Sync + 'static> {
    raw: NonNull<sys::goconc_value>,
    // Invariant in T: a store through &self writes a T that other handles
    // read back as their T.  A covariant Value<for<'a> fn(&'a u8)> would
    // coerce to &Value<fn(&'static u8)> and accept a function that keeps
    // its argument, which the first type then calls with a short borrow.
    _t: PhantomData<fn(T) -> T>,
}

// SAFETY (both): every value function is safe from any number of threads
// at once (goconc_value_free is only called from Drop, with &mut self).
// Loads on several threads borrow the same T at once: T: Sync.  A T stored
// on one thread is dropped on whichever thread reclaims it, or moved out
// of a swap/compare_and_swap on another: T: Send.  T: 'static because that
// drop can happen after every borrow in the program ended.  Tested by
// tests/value.rs (every_object_dropped_exactly_once_under_threads,
// send_and_sync_bounds) and the compile_fail doctests in lib.rs.
unsafe impl<T: Send + Sync + 'static> Send for Value<T> {}
unsafe impl<T: Send + Sync + 'static> Sync for Value<T> {}

/// A boxed T with an address of its own even for zero-sized T: the library
/// identifies objects by address (storing the object that is current is a
/// no-op, compare-and-swap compares pointers), so two live objects must
/// never share one, which `Box` does for zero-sized types.
fn obj_new<T>(v: T) -> *mut T {
    if size_of::<T>() == 0 {
        let layout = zst_layout::<T>();
        // SAFETY: layout has a non-zero size.
        let p = unsafe { alloc(layout) }.cast::<T>();
        if p.is_null() {
            handle_alloc_error(layout);
        }
        // SAFETY: p is non-null and aligned for T.
        unsafe { p.write(v) };
        p
    } else {
        Box::into_raw(Box::new(v))
    }
}

fn zst_layout<T>() -> Layout {
    Layout::from_size_align(1, align_of::<T>()).expect("alignment is a power of two")
}

/// Takes back an object made by obj_new.
///
/// # Safety
/// `p` came from `obj_new::<T>` and nothing else owns or borrows it any
/// more (it was never stored, or the library handed it back).
unsafe fn obj_take<T>(p: *mut T) -> T {
    if size_of::<T>() == 0 {
        let v = p.read();
        dealloc(p.cast(), zst_layout::<T>());
        v
    } else {
        *Box::from_raw(p)
    }
}

/// The destroy callback: runs once per stored object, deferred, on any
/// thread.  A panic in T's Drop cannot be resumed anywhere meaningful: it is
/// caught here (the panic hook has already reported it) and the object
/// counts as dropped.
///
/// # Safety
/// Called by the library only, once per object it was given, after the
/// object is unreachable (the reclamation contract).
unsafe extern "C" fn destroy<T>(_ctx: *mut c_void, obj: *mut c_void) {
    // SAFETY: every object a Value<T> stores comes from obj_new::<T>, and
    // the library calls this once, when nothing can see the object.
    let _ = panic::catch(|| drop(obj_take::<T>(obj.cast())));
}

impl<T: Send + Sync + 'static> Value<T> {
    /// A value holding `v`.  Panics when out of memory.
    ///
    /// ```
    /// let v = goconc::Value::new(vec![1, 2, 3]);
    /// assert_eq!(v.load_cloned(), Some(vec![1, 2, 3]));
    /// ```
    pub fn new(v: T) -> Value<T> {
        Value::try_new(v).unwrap_or_else(|e| e.panic_in("Value"))
    }

    /// An empty value.  Panics when out of memory.
    ///
    /// ```
    /// let v: goconc::Value<String> = goconc::Value::empty();
    /// assert!(v.load_full().is_none());
    /// v.store(String::from("set"));
    /// assert_eq!(v.load_cloned().as_deref(), Some("set"));
    /// ```
    pub fn empty() -> Value<T> {
        Value::try_empty().unwrap_or_else(|e| e.panic_in("Value"))
    }

    /// A value holding `v`, or [`ErrorKind::OutOfMemory`](crate::ErrorKind).
    ///
    /// ```
    /// let v = goconc::Value::try_new(42u64)?;
    /// assert_eq!(v.load_cloned(), Some(42));
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn try_new(v: T) -> Result<Value<T>> {
        let val = Value::try_empty()?;
        val.try_store(v)?;
        Ok(val)
    }

    /// An empty value, or [`ErrorKind::OutOfMemory`](crate::ErrorKind).
    ///
    /// ```
    /// let v = goconc::Value::<u64>::try_empty()?;
    /// assert_eq!(v.load_cloned(), None);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn try_empty() -> Result<Value<T>> {
        let mut out = ptr::null_mut();
        // SAFETY: out is valid for the call; destroy matches
        // goconc_destroy_fn, is instantiated for this T and ignores ctx.
        Error::check(unsafe {
            sys::goconc_value_new(&mut out, Some(destroy::<T>), ptr::null_mut())
        })?;
        Ok(Value {
            raw: NonNull::new(out).expect("goconc_value_new returned OK and NULL"),
            _t: PhantomData,
        })
    }

    fn ptr(&self) -> *mut sys::goconc_value {
        self.raw.as_ptr()
    }

    /// The current object, borrowed for as long as the read section
    /// `guard` stands for (it keeps the object from being reclaimed, even
    /// if it is replaced or the `Value` dropped meanwhile); `None` while
    /// empty.
    ///
    /// ```
    /// let v = goconc::Value::new(String::from("old"));
    /// goconc::read(|g| {
    ///     let s = v.load(g).unwrap();
    ///     v.store(String::from("new")); // replaces `s` but cannot free it yet
    ///     assert_eq!(s, "old");
    ///     assert_eq!(v.load(g).unwrap(), "new");
    /// });
    /// assert!(goconc::read(|g| goconc::Value::<u8>::empty().load(g).is_none()));
    /// ```
    pub fn load<'g>(&self, _guard: &'g ReadGuard) -> Option<&'g T> {
        // SAFETY: the guard proves this thread is inside a read section
        // that lasts at least 'g (guards are only lent by crate::read, for
        // the whole closure, and cannot reach other threads).  A non-NULL
        // object is a T made by obj_new, never mutated while stored, and
        // reclaimed only after every section that could see it ended.
        unsafe { sys::goconc_value_load(self.ptr()).cast::<T>().as_ref() }
    }

    /// A counted reference to the current object (`None` while empty),
    /// usable outside read sections, across blocking calls and after the
    /// `Value` is dropped.  Panics when out of memory.
    ///
    /// ```
    /// let v = goconc::Value::new(String::from("config"));
    /// let r = v.load_full().unwrap();
    /// v.store(String::from("newer"));
    /// drop(v);
    /// assert_eq!(*r, "config"); // the Ref keeps what it loaded alive
    /// assert!(goconc::Value::<String>::empty().load_full().is_none());
    /// ```
    pub fn load_full(&self) -> Option<Ref<T>> {
        self.try_load_full().unwrap_or_else(|e| e.panic_in("Value"))
    }

    /// [`Value::load_full`], or [`ErrorKind::OutOfMemory`](crate::ErrorKind).
    ///
    /// ```
    /// let v = goconc::Value::new(5u32);
    /// let r = v.try_load_full()?.expect("not empty");
    /// assert_eq!(*r, 5);
    /// assert!(goconc::Value::<u32>::empty().try_load_full()?.is_none());
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn try_load_full(&self) -> Result<Option<Ref<T>>> {
        // goconc_value_acquire answers NULL both for "empty" and for "out
        // of memory".  A value never becomes empty again once stored, so a
        // non-empty load after a NULL, followed by a second NULL, can only
        // be out of memory.
        for _ in 0..2 {
            // SAFETY: valid handle; a non-NULL answer is a reference we own.
            if let Some(r) = unsafe { Ref::adopt(sys::goconc_value_acquire(self.ptr())) } {
                return Ok(Some(r));
            }
            if crate::read(|g| self.load(g).is_none()) {
                return Ok(None);
            }
        }
        Err(Error::from_status(sys::GOCONC_ENOMEM))
    }

    /// A clone of the current object (`None` while empty).
    ///
    /// ```
    /// let v = goconc::Value::new(vec![1, 2]);
    /// let mut mine = v.load_cloned().unwrap();
    /// mine.push(3); // a private copy: the stored Vec is unchanged
    /// assert_eq!(v.load_cloned(), Some(vec![1, 2]));
    /// assert_eq!(goconc::Value::<Vec<u8>>::empty().load_cloned(), None);
    /// ```
    pub fn load_cloned(&self) -> Option<T>
    where
        T: Clone,
    {
        crate::read(|g| self.load(g).cloned())
    }

    /// Stores `v`; the replaced object is dropped once nothing can see it.
    /// Panics when out of memory.
    ///
    /// ```
    /// let v = goconc::Value::empty();
    /// v.store(1u32);
    /// v.store(2);
    /// assert_eq!(v.load_cloned(), Some(2));
    /// ```
    pub fn store(&self, v: T) {
        self.try_store(v).unwrap_or_else(|e| e.panic_in("Value"))
    }

    /// [`Value::store`]; on failure (out of memory) `v` is dropped and
    /// nothing changes.
    ///
    /// ```
    /// let v = goconc::Value::new(String::from("a"));
    /// v.try_store(String::from("b"))?;
    /// assert_eq!(v.load_cloned().as_deref(), Some("b"));
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn try_store(&self, v: T) -> Result<()> {
        let p = obj_new(v);
        // SAFETY: p is a fresh object; on success the value owns it.
        let st = unsafe { sys::goconc_value_store(self.ptr(), p.cast()) };
        if st < 0 {
            // SAFETY: on failure p stays ours and was never published.
            drop(unsafe { obj_take(p) });
        }
        Error::check(st).map(drop)
    }

    /// Stores `v` and returns a reference to the object it replaced
    /// (`None` if the value was empty).  Panics when out of memory.
    ///
    /// ```
    /// let v = goconc::Value::empty();
    /// assert!(v.swap(1u32).is_none()); // was empty
    /// let old = v.swap(2).unwrap();
    /// assert_eq!(*old, 1);
    /// assert_eq!(v.load_cloned(), Some(2));
    /// ```
    pub fn swap(&self, v: T) -> Option<Ref<T>> {
        self.try_swap(v).unwrap_or_else(|e| e.panic_in("Value"))
    }

    /// [`Value::swap`], or [`ErrorKind::OutOfMemory`](crate::ErrorKind)
    /// (`v` dropped, nothing changed).
    ///
    /// ```
    /// let v = goconc::Value::new('a');
    /// let old = v.try_swap('b')?;
    /// assert_eq!(old.as_deref(), Some(&'a'));
    /// assert_eq!(v.load_cloned(), Some('b'));
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn try_swap(&self, v: T) -> Result<Option<Ref<T>>> {
        let p = obj_new(v);
        let mut old = ptr::null_mut();
        // SAFETY: as try_store; old receives a reference we now own.
        let st = unsafe { sys::goconc_value_swap(self.ptr(), p.cast(), &mut old) };
        if st < 0 {
            // SAFETY: nothing changed; p stays ours and was never published.
            drop(unsafe { obj_take(p) });
            return Err(Error::from_status(st));
        }
        // SAFETY: on OK, old is NULL or a reference handed to us.
        Ok(unsafe { Ref::adopt(old) })
    }

    /// Stores `new` only if the current object is `current`, compared by
    /// identity (address): pass what [`Value::load`] or a [`Ref`] gave you,
    /// which keeps it alive and so its address unique; `None` means "only
    /// if empty".  `Ok(())` when stored; `Err(new)` hands `new` back when
    /// the current object is another one.  Panics when out of memory.
    ///
    /// ```
    /// let v = goconc::Value::empty();
    /// assert_eq!(v.compare_and_swap(None, 1u32), Ok(())); // was empty: stored
    /// assert_eq!(v.compare_and_swap(None, 2), Err(2)); // not empty any more
    /// let cur = v.load_full().unwrap();
    /// assert_eq!(v.compare_and_swap(Some(&*cur), 3), Ok(())); // still `cur`: stored
    /// assert_eq!(v.compare_and_swap(Some(&*cur), 4), Err(4)); // `cur` was replaced
    /// // Identity, not equality: an equal 3 elsewhere is another object.
    /// assert_eq!(v.compare_and_swap(Some(&3), 5), Err(5));
    /// assert_eq!(v.load_cloned(), Some(3));
    /// ```
    pub fn compare_and_swap(&self, current: Option<&T>, new: T) -> std::result::Result<(), T> {
        self.try_compare_and_swap(current, new)
            .unwrap_or_else(|e| e.panic_in("Value"))
    }

    /// [`Value::compare_and_swap`], or
    /// [`ErrorKind::OutOfMemory`](crate::ErrorKind) (`new` dropped).
    ///
    /// ```
    /// let v = goconc::Value::new(String::from("a"));
    /// let cur = v.load_full().unwrap();
    /// assert_eq!(v.try_compare_and_swap(Some(&*cur), "b".to_string())?, Ok(()));
    /// // `cur` is no longer current: the new object comes back.
    /// let again = v.try_compare_and_swap(Some(&*cur), "c".to_string())?;
    /// assert_eq!(again, Err("c".to_string()));
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn try_compare_and_swap(
        &self,
        current: Option<&T>,
        new: T,
    ) -> Result<std::result::Result<(), T>> {
        let expect = current.map_or(ptr::null(), |r| r as *const T);
        let p = obj_new(new);
        // SAFETY: p is fresh; the library only compares `expect` with the
        // current pointer, never dereferences it.
        let st = unsafe { sys::goconc_value_compare_and_swap(self.ptr(), expect.cast(), p.cast()) };
        match st {
            sys::GOCONC_OK => Ok(Ok(())),
            // SAFETY: CHANGED leaves p with us, never published.
            sys::GOCONC_CHANGED => Ok(Err(unsafe { obj_take(p) })),
            st => {
                // SAFETY: failures leave p with us, never published.
                drop(unsafe { obj_take(p) });
                Err(Error::from_status(st))
            }
        }
    }

    /// Read-copy-update: replaces the current object with `f(current)`,
    /// retrying with the newer object when another thread stored first,
    /// and returns the object replaced.  `f` may run several times and
    /// runs outside any read section (the current object is held by a
    /// [`Ref`]).  Panics when out of memory.
    ///
    /// ```
    /// let counter = goconc::Value::new(0u64);
    /// std::thread::scope(|s| {
    ///     for _ in 0..4 {
    ///         s.spawn(|| (0..100).for_each(|_| drop(counter.rcu(|n| n.unwrap() + 1))));
    ///     }
    /// });
    /// assert_eq!(counter.load_cloned(), Some(400)); // no increment lost
    /// let old = counter.rcu(|n| n.map_or(0, |n| n * 2)).unwrap();
    /// assert_eq!((*old, counter.load_cloned()), (400, Some(800)));
    /// ```
    pub fn rcu<F>(&self, mut f: F) -> Option<Ref<T>>
    where
        F: FnMut(Option<&T>) -> T,
    {
        let mut cur = self.load_full();
        loop {
            let new = f(cur.as_deref());
            // The Ref keeps cur alive, so no other object can have its
            // address: a match means nothing was stored in between.
            match self.compare_and_swap(cur.as_deref(), new) {
                Ok(()) => return cur,
                Err(_) => cur = self.load_full(),
            }
        }
    }
}

impl<T: Send + Sync + 'static> Default for Value<T> {
    /// An empty value.  Panics when out of memory.
    fn default() -> Self {
        Value::empty()
    }
}

impl<T: Send + Sync + 'static> From<T> for Value<T> {
    /// A value holding `v`.  Panics when out of memory.
    fn from(v: T) -> Self {
        Value::new(v)
    }
}

impl<T: Send + Sync + 'static> Drop for Value<T> {
    fn drop(&mut self) {
        // SAFETY: &mut self: no other call runs; the current object is
        // destroyed later, once unreferenced.
        unsafe { sys::goconc_value_free(self.ptr()) }
    }
}

impl<T: Send + Sync + 'static + std::fmt::Debug> std::fmt::Debug for Value<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::read(|g| f.debug_tuple("Value").field(&self.load(g)).finish())
    }
}

/// An owned, counted reference to one object a [`Value`] stored
/// (`goconc_value_ref`); derefs to `T`.  The object lives at least as long
/// as the reference, whatever is stored meanwhile.
///
/// ```
/// use goconc::{Ref, Value};
///
/// let v = Value::new(String::from("first"));
/// let r: Ref<String> = v.load_full().unwrap();
/// v.store(String::from("second"));
/// drop(v);
/// assert_eq!(r.len(), 5); // derefs to the String, still alive
/// let r = std::thread::spawn(move || r).join().unwrap(); // a Ref is Send
/// assert_eq!(*r, "first");
/// ```
pub struct Ref<T> {
    raw: NonNull<sys::goconc_value_ref>,
    obj: NonNull<T>,
}

// SAFETY: releasing is valid on any thread and may drop the T there
// (T: Send); references on several threads share the T (T: Sync).  Tested
// by tests/value.rs (load_full_outlives_the_value sends one).  Covariant in
// T, as Arc is: a Ref only reads.
unsafe impl<T: Send + Sync> Send for Ref<T> {}
unsafe impl<T: Send + Sync> Sync for Ref<T> {}

impl<T> Ref<T> {
    /// # Safety
    /// `r` is NULL or a reference the caller owns, from a `Value<T>`.
    unsafe fn adopt(r: *mut sys::goconc_value_ref) -> Option<Ref<T>> {
        let raw = NonNull::new(r)?;
        // SAFETY: a valid reference holds a non-NULL object (store refuses
        // NULL), one of our Ts.
        let obj = sys::goconc_value_ref_get(raw.as_ptr()).cast::<T>();
        Some(Ref {
            raw,
            obj: NonNull::new(obj).expect("a goconc_value_ref without an object"),
        })
    }

    /// Whether two references (or a reference and a loaded borrow) are the
    /// same stored object.
    ///
    /// ```
    /// let v = goconc::Value::new(7u32);
    /// let (a, b) = (v.load_full().unwrap(), v.load_full().unwrap());
    /// assert!(a.ptr_eq(&b)); // the same stored object
    /// v.store(7);
    /// let c = v.load_full().unwrap();
    /// assert!(*a == *c && !a.ptr_eq(&c)); // equal, but another object
    /// assert!(goconc::read(|g| c.ptr_eq(v.load(g).unwrap())));
    /// ```
    pub fn ptr_eq(&self, other: &T) -> bool {
        ptr::eq(self.obj.as_ptr(), other)
    }
}

impl<T> Deref for Ref<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the reference keeps the object alive and it is never
        // mutated while stored or referenced.
        unsafe { self.obj.as_ref() }
    }
}

impl<T> Drop for Ref<T> {
    fn drop(&mut self) {
        // SAFETY: we own this reference; valid even after goconc_value_free.
        unsafe { sys::goconc_value_release(self.raw.as_ptr()) }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Ref<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Ref").field(&**self).finish()
    }
}
