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

/// An atomic value holding a `T` on the heap (`goconc_value`).
///
/// Loads never block and never write shared memory: [`Value::load`]
/// borrows the current `T` for the life of a [`ReadGuard`];
/// [`Value::acquire`] gives an owned, counted [`Ref`] for longer use.
/// Every operation is linearizable.  Each stored `T` is dropped exactly
/// once, on whatever thread reclaims it, after it is no longer stored, no
/// read section can see it and no `Ref` holds it (possibly after the
/// `Value` itself is gone; [`crate::barrier`] waits for that).
///
/// ```
/// use goconc::{Value, ReadGuard};
/// let config = Value::with_value(String::from("v1"))?;
/// {
///     let g = ReadGuard::new();
///     assert_eq!(config.load(&g).map(String::as_str), Some("v1"));
/// }
/// let old = config.swap(String::from("v2"))?.unwrap();
/// assert_eq!(*old, "v1");            // still readable through the Ref
/// # Ok::<(), goconc::Error>(())
/// ```
pub struct Value<T: Send + Sync + 'static> {
    raw: NonNull<sys::goconc_value>,
    _t: PhantomData<T>,
}

// SAFETY: every value function is safe from any number of threads at once
// (goconc_value_free is only called from Drop, with &mut self).  Loads on
// several threads borrow the same T at once: T: Sync.  A T stored on one
// thread is dropped on whichever thread reclaims it: T: Send.  T: 'static
// because that drop can happen after every borrow in the program ended.
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
unsafe extern "C" fn destroy<T>(_ctx: *mut c_void, obj: *mut c_void) {
    let _ = panic::catch(|| drop(obj_take::<T>(obj.cast())));
}

impl<T: Send + Sync + 'static> Value<T> {
    /// A new, empty value.
    pub fn new() -> Result<Value<T>> {
        let mut out = ptr::null_mut();
        // SAFETY: out is valid; destroy matches goconc_destroy_fn and is
        // instantiated for this T; its ctx is unused.
        Error::check(unsafe {
            sys::goconc_value_new(&mut out, Some(destroy::<T>), ptr::null_mut())
        })?;
        Ok(Value {
            raw: NonNull::new(out).expect("goconc_value_new returned OK and NULL"),
            _t: PhantomData,
        })
    }

    /// A new value holding `v`.
    pub fn with_value(v: T) -> Result<Value<T>> {
        let val = Value::new()?;
        val.store(v)?;
        Ok(val)
    }

    fn ptr(&self) -> *mut sys::goconc_value {
        self.raw.as_ptr()
    }

    /// The current object, borrowed for as long as `guard` lives (the read
    /// section keeps it from being reclaimed, even if it is replaced or the
    /// `Value` dropped meanwhile); `None` while empty.
    pub fn load<'g>(&self, _guard: &'g ReadGuard) -> Option<&'g T> {
        // SAFETY: we are inside a read section (the guard); the object is
        // a T made by obj_new and outlives the section.
        unsafe { sys::goconc_value_load(self.ptr()).cast::<T>().as_ref() }
    }

    /// A clone of the current object (`None` while empty).
    pub fn load_cloned(&self) -> Option<T>
    where
        T: Clone,
    {
        let g = ReadGuard::new();
        self.load(&g).cloned()
    }

    /// Stores `v`; the replaced object is dropped once nothing can see it.
    /// On failure (out of memory) `v` is dropped and nothing changes.
    pub fn store(&self, v: T) -> Result<()> {
        let p = obj_new(v);
        // SAFETY: p is a fresh object; on success the value owns it.
        let st = unsafe { sys::goconc_value_store(self.ptr(), p.cast()) };
        if st < 0 {
            // SAFETY: on failure p stays ours.
            drop(unsafe { obj_take(p) });
        }
        Error::check(st).map(drop)
    }

    /// Stores `v` and returns a reference to the object it replaced
    /// (`None` if the value was empty).
    pub fn swap(&self, v: T) -> Result<Option<Ref<T>>> {
        let p = obj_new(v);
        let mut old = ptr::null_mut();
        // SAFETY: as store; old receives a reference we now own.
        let st = unsafe { sys::goconc_value_swap(self.ptr(), p.cast(), &mut old) };
        if st < 0 {
            // SAFETY: nothing changed; p stays ours.
            drop(unsafe { obj_take(p) });
            return Err(Error::from_status(st));
        }
        Ok(Ref::adopt(old))
    }

    /// Stores `new` only if the current object is `current` (compared by
    /// address: pass what [`Value::load`] or a [`Ref`] gave you; `None`
    /// means "only if empty").  `Ok(Ok(()))` when stored; `Ok(Err(new))`
    /// hands `new` back when the current object is another one.
    pub fn compare_and_swap(
        &self,
        current: Option<&T>,
        new: T,
    ) -> Result<std::result::Result<(), T>> {
        let expect = current.map_or(ptr::null(), |r| r as *const T);
        let p = obj_new(new);
        // SAFETY: p is fresh; on anything but OK it stays ours.
        let st = unsafe { sys::goconc_value_compare_and_swap(self.ptr(), expect.cast(), p.cast()) };
        match st {
            sys::GOCONC_OK => Ok(Ok(())),
            // SAFETY: CHANGED and failures leave p with us.
            sys::GOCONC_CHANGED => Ok(Err(unsafe { obj_take(p) })),
            st => {
                drop(unsafe { obj_take(p) });
                Err(Error::from_status(st))
            }
        }
    }

    /// A counted reference to the current object, usable outside read
    /// sections and across blocking calls, even after the `Value` is
    /// dropped; `Ok(None)` while empty.
    pub fn acquire(&self) -> Result<Option<Ref<T>>> {
        // goconc_value_acquire answers NULL both for "empty" and for "out
        // of memory".  A value never becomes empty again once stored, so a
        // non-empty load after a NULL, followed by a second NULL, can only
        // be out of memory.
        for _ in 0..2 {
            // SAFETY: valid handle.
            if let Some(r) = Ref::adopt(unsafe { sys::goconc_value_acquire(self.ptr()) }) {
                return Ok(Some(r));
            }
            let g = ReadGuard::new();
            if self.load(&g).is_none() {
                return Ok(None);
            }
        }
        Err(Error::from_status(sys::GOCONC_ENOMEM))
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
        let g = ReadGuard::new();
        f.debug_tuple("Value").field(&self.load(&g)).finish()
    }
}

/// An owned, counted reference to one object a [`Value`] stored
/// (`goconc_value_ref`); derefs to `T`.  The object lives at least as long
/// as the reference, whatever is stored meanwhile.
pub struct Ref<T> {
    raw: NonNull<sys::goconc_value_ref>,
    obj: NonNull<T>,
}

// SAFETY: releasing is valid on any thread and may drop the T there
// (T: Send); references on several threads share the T (T: Sync).
unsafe impl<T: Send + Sync> Send for Ref<T> {}
unsafe impl<T: Send + Sync> Sync for Ref<T> {}

impl<T> Ref<T> {
    fn adopt(r: *mut sys::goconc_value_ref) -> Option<Ref<T>> {
        let raw = NonNull::new(r)?;
        // SAFETY: a valid reference holds a non-NULL object (store refuses
        // NULL), one of our Ts.
        let obj = unsafe { sys::goconc_value_ref_get(raw.as_ptr()) }.cast::<T>();
        Some(Ref {
            raw,
            obj: NonNull::new(obj).expect("a goconc_value_ref without an object"),
        })
    }

    /// Whether two references (or a reference and a loaded borrow) are the
    /// same stored object.
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
