// SPDX-License-Identifier: MIT
//! `Slice<T>`: a thread-safe Go slice of `Copy` elements, and `View<T>`,
//! its immutable snapshot.
use std::iter::FusedIterator;
use std::marker::PhantomData;
use std::mem::{align_of, size_of, MaybeUninit};
use std::ops::Deref;
use std::ptr::{self, NonNull};

use goconc_sys as sys;

use crate::error::{Error, Result};

/// Types for which all-zero bytes are a valid value.
///
/// The library zero-fills every element it creates (`with_len`, spare
/// capacity reached by reslicing), so only these types may see such
/// elements: [`Slice::with_len`] and [`Slice::reslice_into_cap`] require
/// `Zeroable`; everything else only ever shows elements that were written.
///
/// # Safety
/// The all-zero bit pattern must be a valid `Self` (no references,
/// `NonZero*`, enums without a zero discriminant, ...).
///
/// ```
/// #[derive(Clone, Copy)]
/// struct Point { x: i32, y: f64 }
/// // SAFETY: all-zero bytes are `Point { x: 0, y: 0.0 }`.
/// unsafe impl goconc::Zeroable for Point {}
///
/// let s = goconc::Slice::<Point>::with_len(2, 2);
/// let p = s.get(1)?;
/// assert_eq!((p.x, p.y), (0, 0.0));
/// assert_eq!(goconc::Slice::<(u8, [char; 2])>::with_len(1, 1).get(0)?, (0, ['\0'; 2]));
/// # Ok::<(), goconc::Error>(())
/// ```
pub unsafe trait Zeroable: Copy {}

macro_rules! zeroable {
    // SAFETY: see the impls for arrays and tuples below.
    ($($t:ty),*) => {$( unsafe impl Zeroable for $t {} )*};
}
zeroable!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64, bool, char);
// SAFETY: an array or tuple of zeroable types is zeroable (padding is
// irrelevant to validity).  The scalars above: zero is 0, 0.0, false and
// '\0'.  tests/slice.rs (every_zeroable_type_reads_back_zero) reads a
// zeroed element of each.
unsafe impl<T: Zeroable, const N: usize> Zeroable for [T; N] {}
unsafe impl<A: Zeroable, B: Zeroable> Zeroable for (A, B) {}
unsafe impl<A: Zeroable, B: Zeroable, C: Zeroable> Zeroable for (A, B, C) {}
unsafe impl<A: Zeroable, B: Zeroable, C: Zeroable, D: Zeroable> Zeroable for (A, B, C, D) {}

/// A Go slice of `T` (`goconc_slice`): a handle onto shared storage with a
/// length and a capacity.  Every call is atomic with respect to every call
/// on handles sharing the storage, from any number of threads; concurrent
/// appends through one handle never lose each other.  Handles made by
/// [`Slice::reslice`] share storage as in Go (a `set` through one is seen
/// through the others).  Elements are copied in and out bytewise.
///
/// ```
/// let s = goconc::Slice::<u64>::new();
/// s.append(&[1, 2, 3])?;
/// let snap = s.snapshot()?;      // stays [1, 2, 3]
/// s.set(0, 10)?;
/// s.push(4)?;
/// assert_eq!(&*snap, &[1, 2, 3]);
/// assert_eq!(s.get(0)?, 10);
/// assert!(s.get(4).is_err());     // out of range
/// # Ok::<(), goconc::Error>(())
/// ```
pub struct Slice<T: Copy> {
    raw: NonNull<sys::goconc_slice>,
    // Invariant in T: the storage is shared and written through &self, so
    // a covariant Slice<&'static str> would coerce to &Slice<&'a str>,
    // accept a short-lived &'a str and hand it back later as 'static.
    _t: PhantomData<fn(T) -> T>,
}

// SAFETY (both): Send: the handle is not tied to a thread; the elements it
// carries move with it (T: Send), and other handles or views onto the same
// storage may stay behind, so sending one shares the elements (T: Sync).
// Sync: every function taking a goconc_slice* is atomic with respect to
// every other call on the same storage from any thread (goconc_slice_free
// is called only from Drop); through &Slice a thread copies elements out
// (T: Send) and takes views whose &[T] alias the same storage as other
// threads' views (T: Sync).  Tested by tests/slice.rs
// (concurrent_appends_and_snapshots, send_and_sync_bounds) and the
// compile_fail doctests in lib.rs.
unsafe impl<T: Copy + Send + Sync> Send for Slice<T> {}
unsafe impl<T: Copy + Send + Sync> Sync for Slice<T> {}

fn elem_size<T>() -> Result<usize> {
    match size_of::<T>() {
        0 => Err(Error::from_status(sys::GOCONC_EINVAL)),
        n => Ok(n),
    }
}

/// The panicking methods' answer to a library error: out of memory (as
/// std's collections panic), or a zero-sized `T`, named as such.
#[track_caller]
fn ok<T, R>(r: Result<R>) -> R {
    r.unwrap_or_else(|e| {
        if size_of::<T>() == 0 {
            panic!("goconc::Slice: zero-sized element types are not supported");
        }
        e.panic_in("Slice")
    })
}

impl<T: Copy> Slice<T> {
    /// An empty slice (len 0, cap 0).  Panics when out of memory, as
    /// `Vec` does, and for a zero-sized `T`.
    ///
    /// ```
    /// let s = goconc::Slice::<u32>::new();
    /// assert_eq!((s.len(), s.cap()), (0, 0));
    /// ```
    pub fn new() -> Slice<T> {
        ok::<T, _>(Slice::try_new())
    }

    /// [`Slice::new`], or [`ErrorKind::OutOfMemory`](crate::ErrorKind),
    /// or [`ErrorKind::InvalidArgument`](crate::ErrorKind) for a zero-sized
    /// `T`.
    ///
    /// ```
    /// assert!(goconc::Slice::<u8>::try_new().is_ok());
    /// assert!(goconc::Slice::<()>::try_new().is_err());
    /// ```
    pub fn try_new() -> Result<Slice<T>> {
        Slice::try_with_capacity(0)
    }

    /// An empty slice with room for `cap` elements.  Panics as
    /// [`Slice::new`] does.
    ///
    /// ```
    /// let s = goconc::Slice::<u64>::with_capacity(8);
    /// assert_eq!((s.len(), s.cap()), (0, 8));
    /// ```
    pub fn with_capacity(cap: usize) -> Slice<T> {
        ok::<T, _>(Slice::try_with_capacity(cap))
    }

    /// [`Slice::with_capacity`], returning the error instead.
    ///
    /// ```
    /// let s = goconc::Slice::<u64>::try_with_capacity(8)?;
    /// assert_eq!(s.cap(), 8);
    /// assert!(goconc::Slice::<u64>::try_with_capacity(usize::MAX).is_err());
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn try_with_capacity(cap: usize) -> Result<Slice<T>> {
        Slice::make(0, cap)
    }

    /// A slice holding a copy of `elems` (cap == len).  Panics as
    /// [`Slice::new`] does.
    ///
    /// ```
    /// let s = goconc::Slice::from_slice(&[1u8, 2, 3]);
    /// assert_eq!(s.to_vec()?, [1, 2, 3]);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn from_slice(elems: &[T]) -> Slice<T> {
        ok::<T, _>(Slice::try_from_slice(elems))
    }

    /// [`Slice::from_slice`], returning the error instead.
    ///
    /// ```
    /// let s = goconc::Slice::try_from_slice(&["a", "b"])?;
    /// assert_eq!(s.get(1)?, "b");
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn try_from_slice(elems: &[T]) -> Result<Slice<T>> {
        let s = Slice::try_with_capacity(elems.len())?;
        s.append(elems)?;
        Ok(s)
    }

    fn make(len: usize, cap: usize) -> Result<Slice<T>> {
        let size = elem_size::<T>()?;
        let mut out = ptr::null_mut();
        // SAFETY: out is valid; the library checks the sizes.
        Error::check(unsafe { sys::goconc_slice_new(&mut out, size, len, cap) })?;
        Ok(Slice::adopt(out))
    }

    fn adopt(p: *mut sys::goconc_slice) -> Slice<T> {
        Slice {
            raw: NonNull::new(p).expect("libgoconc returned OK and a NULL slice"),
            _t: PhantomData,
        }
    }

    fn ptr(&self) -> *mut sys::goconc_slice {
        self.raw.as_ptr()
    }

    /// Go's `len(s)`.
    ///
    /// ```
    /// let s = goconc::Slice::<u8>::with_capacity(4);
    /// assert_eq!(s.len(), 0);
    /// s.append(&[1, 2])?;
    /// assert_eq!(s.len(), 2);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        // SAFETY: valid handle.
        unsafe { sys::goconc_slice_len(self.ptr()) }
    }

    /// Whether `len() == 0`.
    ///
    /// ```
    /// let s = goconc::Slice::<u8>::with_capacity(4);
    /// assert!(s.is_empty()); // room for 4, but no elements
    /// s.push(1)?;
    /// assert!(!s.is_empty());
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Go's `cap(s)`.
    ///
    /// ```
    /// let s = goconc::Slice::<u32>::with_capacity(2);
    /// s.append(&[1, 2])?;
    /// assert_eq!((s.len(), s.cap()), (2, 2)); // full
    /// s.push(3)?;                             // grows, as Go's append
    /// assert_eq!(s.len(), 3);
    /// assert!(s.cap() >= 3);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn cap(&self) -> usize {
        // SAFETY: valid handle.
        unsafe { sys::goconc_slice_cap(self.ptr()) }
    }

    /// Appends `elems` in one atomic step (their indices are consecutive);
    /// returns the index of the first.  Growth follows Go's rule.
    ///
    /// ```
    /// let s = goconc::Slice::<i64>::new();
    /// assert_eq!(s.append(&[1, 2, 3])?, 0);
    /// assert_eq!(s.append(&[4, 5])?, 3); // index of 4
    /// assert_eq!(s.append(&[])?, 5);     // nothing appended: the length
    /// assert_eq!(s.to_vec()?, [1, 2, 3, 4, 5]);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn append(&self, elems: &[T]) -> Result<usize> {
        if elems.is_empty() {
            return Ok(self.len());
        }
        let mut first = 0usize;
        // SAFETY: elems is valid for elems.len() elements of elem_size bytes.
        Error::check(unsafe {
            sys::goconc_slice_append(self.ptr(), elems.as_ptr().cast(), elems.len(), &mut first)
        })?;
        Ok(first)
    }

    /// Appends one element; returns its index.
    ///
    /// ```
    /// let s = goconc::Slice::from_slice(&['a', 'b']);
    /// assert_eq!(s.push('c')?, 2);
    /// assert_eq!(s.get(2)?, 'c');
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn push(&self, x: T) -> Result<usize> {
        self.append(std::slice::from_ref(&x))
    }

    /// A copy of element `i`; [`ErrorKind::OutOfRange`](crate::ErrorKind)
    /// when `i >= len()`.
    ///
    /// ```
    /// use goconc::ErrorKind;
    ///
    /// let s = goconc::Slice::from_slice(&[10u16, 20]);
    /// assert_eq!(s.get(1)?, 20);
    /// assert_eq!(s.get(2).unwrap_err().kind(), ErrorKind::OutOfRange);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn get(&self, i: usize) -> Result<T> {
        let mut out = MaybeUninit::<T>::uninit();
        // SAFETY: out has room for one element.
        Error::check(unsafe { sys::goconc_slice_get(self.ptr(), i, out.as_mut_ptr().cast()) })?;
        // SAFETY: on OK the library copied element i, a T that was written
        // by append/set (or zeroes, for Zeroable T only).
        Ok(unsafe { out.assume_init() })
    }

    /// Overwrites element `i`; [`ErrorKind::OutOfRange`](crate::ErrorKind)
    /// when `i >= len()`.  Seen through every handle sharing the storage;
    /// never through an existing [`View`].
    ///
    /// ```
    /// use goconc::ErrorKind;
    ///
    /// let s = goconc::Slice::from_slice(&[1, 2, 3]);
    /// let tail = s.reslice(1, 3, 3)?; // shares s's storage
    /// let snap = s.snapshot()?;
    /// s.set(2, 30)?;
    /// assert_eq!(tail.get(1)?, 30);
    /// assert_eq!(snap[2], 3); // the view keeps its elements
    /// assert_eq!(s.set(3, 4).unwrap_err().kind(), ErrorKind::OutOfRange);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn set(&self, i: usize, x: T) -> Result<()> {
        // SAFETY: x is one element.
        Error::check(unsafe { sys::goconc_slice_set(self.ptr(), i, (&x as *const T).cast()) })
            .map(drop)
    }

    /// An O(1) snapshot of the elements now: it never changes, whatever
    /// other threads append or set, and outlives every handle.
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind) if the library's
    /// storage is not aligned for `T` (only possible for alignments above
    /// the allocator's, 16 with malloc).
    ///
    /// ```
    /// let s = goconc::Slice::from_slice(&[1u8, 2]);
    /// let snap = s.snapshot()?;
    /// s.push(3)?;
    /// s.set(0, 9)?;
    /// drop(s);                    // the view outlives the handle
    /// assert_eq!(&*snap, &[1, 2]);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn snapshot(&self) -> Result<View<T>> {
        let mut raw = Box::new(sys::goconc_view::zeroed());
        // SAFETY: raw is a valid goconc_view to fill.
        Error::check(unsafe { sys::goconc_slice_snapshot(self.ptr(), &mut *raw) })?;
        let view = View {
            raw,
            _t: PhantomData,
        };
        if view.raw.len != 0 && (view.raw.data as usize) % align_of::<T>() != 0 {
            return Err(Error::from_status(sys::GOCONC_EINVAL)); // view released by Drop
        }
        Ok(view)
    }

    /// The elements now, copied into a `Vec`.
    ///
    /// ```
    /// let s: goconc::Slice<u32> = (1..=3).collect();
    /// let mut v = s.to_vec()?;
    /// v.push(4); // an independent copy
    /// assert_eq!(v, [1, 2, 3, 4]);
    /// assert_eq!(s.len(), 3);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn to_vec(&self) -> Result<Vec<T>> {
        Ok(self.snapshot()?.to_vec())
    }

    /// An iterator over copies of the elements of a snapshot taken now
    /// ([`Slice::snapshot`]): later appends and sets do not show.  Panics
    /// where `snapshot` returns an error.
    ///
    /// ```
    /// let s: goconc::Slice<u32> = (1..=3).collect();
    /// let it = s.iter();
    /// s.push(4)?;
    /// assert_eq!(it.sum::<u32>(), 6);
    /// assert_eq!(s.iter().rev().next(), Some(4));
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn iter(&self) -> ViewIter<T> {
        ok::<T, _>(self.snapshot()).into_iter()
    }

    /// Go's `s[low:high:max]` as a new handle sharing this storage, for
    /// `high <= len()` ([`ErrorKind::OutOfRange`](crate::ErrorKind)
    /// otherwise, and unless `low <= high <= max <= cap()`).  Appends
    /// through the new handle may write into this one's spare capacity, as
    /// in Go.  To reach past `len()`, see [`Slice::reslice_into_cap`].
    ///
    /// ```
    /// use goconc::ErrorKind;
    ///
    /// let s = goconc::Slice::from_slice(&[1, 2, 3, 4, 5]);
    /// let t = s.reslice(1, 3, 4)?; // s[1:3:4]
    /// assert_eq!((t.to_vec()?, t.cap()), (vec![2, 3], 3));
    /// t.set(0, 20)?;                // shared storage
    /// assert_eq!(s.get(1)?, 20);
    /// let err = s.reslice(0, 6, 6).unwrap_err(); // high > len
    /// assert_eq!(err.kind(), ErrorKind::OutOfRange);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn reslice(&self, low: usize, high: usize, max: usize) -> Result<Slice<T>> {
        // A handle's len never shrinks, so checking before the call is
        // enough: every element below high was written.
        if high > self.len() {
            return Err(Error::from_status(sys::GOCONC_ERANGE));
        }
        self.reslice_unchecked(low, high, max)
    }

    fn reslice_unchecked(&self, low: usize, high: usize, max: usize) -> Result<Slice<T>> {
        let mut out = ptr::null_mut();
        // SAFETY: valid handle and out pointer; the library checks bounds.
        Error::check(unsafe { sys::goconc_slice_reslice(self.ptr(), low, high, max, &mut out) })?;
        Ok(Slice::adopt(out))
    }

    /// A new slice with its own storage and the same elements (cap == len).
    ///
    /// ```
    /// let s = goconc::Slice::<u8>::with_capacity(8);
    /// s.append(&[1, 2])?;
    /// let c = s.try_clone()?;
    /// assert_eq!((c.len(), c.cap()), (2, 2));
    /// c.set(0, 9)?; // own storage: s does not see it
    /// assert_eq!(s.to_vec()?, [1, 2]);
    /// assert_eq!(c.to_vec()?, [9, 2]);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn try_clone(&self) -> Result<Slice<T>> {
        let mut out = ptr::null_mut();
        // SAFETY: valid handle and out pointer.
        Error::check(unsafe { sys::goconc_slice_clone(self.ptr(), &mut out) })?;
        Ok(Slice::adopt(out))
    }

    /// Go's `copy(self, src)`: `min(len)` elements, overlap-safe; returns
    /// how many.
    ///
    /// ```
    /// let dst = goconc::Slice::from_slice(&[0, 0]);
    /// let src = goconc::Slice::from_slice(&[7, 8, 9]);
    /// assert_eq!(dst.copy_from(&src)?, 2); // min(2, 3)
    /// assert_eq!(dst.to_vec()?, [7, 8]);
    ///
    /// let s = goconc::Slice::from_slice(&[1, 2, 3, 4]);
    /// assert_eq!(s.copy_from(&s.reslice(1, 4, 4)?)?, 3); // overlapping
    /// assert_eq!(s.to_vec()?, [2, 3, 4, 4]);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn copy_from(&self, src: &Slice<T>) -> Result<usize> {
        let mut n = 0usize;
        // SAFETY: two valid handles of the same element size.
        Error::check(unsafe { sys::goconc_slice_copy(self.ptr(), src.ptr(), &mut n) })?;
        Ok(n)
    }
}

impl<T: Zeroable> Slice<T> {
    /// A slice of `len` zeroed elements with capacity `max(cap, len)`
    /// (Go's `make([]T, len, cap)`).  Panics as [`Slice::new`] does.
    ///
    /// ```
    /// let s = goconc::Slice::<u16>::with_len(2, 4);
    /// assert_eq!(s.to_vec()?, [0, 0]);
    /// assert_eq!(s.cap(), 4);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn with_len(len: usize, cap: usize) -> Slice<T> {
        ok::<T, _>(Slice::try_with_len(len, cap))
    }

    /// [`Slice::with_len`], returning the error instead.
    ///
    /// ```
    /// let s = goconc::Slice::<f32>::try_with_len(1, 1)?;
    /// assert_eq!(s.get(0)?, 0.0);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn try_with_len(len: usize, cap: usize) -> Result<Slice<T>> {
        Slice::make(len, cap.max(len))
    }

    /// Go's full `s[low:high:max]`, `high` up to `cap()`: the elements past
    /// `len()` are zeroes (or whatever another handle appended there).
    ///
    /// ```
    /// let s = goconc::Slice::<u32>::with_capacity(4);
    /// s.push(7)?;
    /// assert!(s.reslice(0, 3, 4).is_err()); // high > len
    /// let t = s.reslice_into_cap(0, 3, 4)?;
    /// assert_eq!(t.to_vec()?, [7, 0, 0]);
    /// assert!(s.reslice_into_cap(0, 5, 5).is_err()); // max > cap
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn reslice_into_cap(&self, low: usize, high: usize, max: usize) -> Result<Slice<T>> {
        self.reslice_unchecked(low, high, max)
    }
}

impl<T: Copy> Drop for Slice<T> {
    fn drop(&mut self) {
        // SAFETY: drops this handle only; storage lives on with other
        // handles and views.
        unsafe { sys::goconc_slice_free(self.ptr()) }
    }
}

impl<T: Copy> Default for Slice<T> {
    /// [`Slice::new`].  Panics when out of memory and for a zero-sized `T`.
    fn default() -> Self {
        Slice::new()
    }
}

impl<T: Copy> Clone for Slice<T> {
    /// [`Slice::try_clone`]: a new slice with its own storage (as Go's
    /// `slices.Clone`, and as `Vec`'s `clone`), not a second handle onto
    /// this one's ([`Slice::reslice`] makes those).  Panics when out of
    /// memory.
    ///
    /// ```
    /// let s = goconc::Slice::from_slice(&[1, 2]);
    /// let c = s.clone();
    /// s.set(0, 9)?;
    /// assert_eq!(c.to_vec()?, [1, 2]);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    fn clone(&self) -> Self {
        ok::<T, _>(self.try_clone())
    }
}

impl<T: Copy> Extend<T> for Slice<T> {
    /// Appends the items with one [`Slice::append`] (growing the storage
    /// at most once).  Panics when out of memory.
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        let items: Vec<T> = iter.into_iter().collect();
        ok::<T, _>(self.append(&items));
    }
}

impl<'a, T: Copy + 'a> Extend<&'a T> for Slice<T> {
    /// As `Extend<T>`, copying each item.
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, iter: I) {
        self.extend(iter.into_iter().copied());
    }
}

impl<T: Copy> FromIterator<T> for Slice<T> {
    /// ```
    /// let s: goconc::Slice<char> = "abc".chars().collect();
    /// assert_eq!(s.to_vec()?, ['a', 'b', 'c']);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let items: Vec<T> = iter.into_iter().collect();
        Slice::from_slice(&items)
    }
}

impl<T: Copy> IntoIterator for &Slice<T> {
    type Item = T;
    type IntoIter = ViewIter<T>;
    /// [`Slice::iter`]: over a snapshot.
    fn into_iter(self) -> ViewIter<T> {
        self.iter()
    }
}

impl<T: Copy> std::fmt::Debug for Slice<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slice")
            .field("len", &self.len())
            .field("cap", &self.cap())
            .finish()
    }
}

/// An immutable snapshot of a [`Slice`] (`goconc_view`); derefs to `&[T]`.
/// The elements never change and stay valid until the view is dropped,
/// even after every slice handle is gone.
///
/// Covariant in `T`, as `&[T]` is: a view's elements are never written
/// (the contract: a snapshot never changes, whatever the slice handles
/// do), so a `View<&'static str>` may serve as a `View<&'a str>`.
///
/// ```
/// let s = goconc::Slice::from_slice(&[3, 1, 2]);
/// let v: goconc::View<i32> = s.snapshot()?;
/// drop(s);
/// assert_eq!(v.len(), 3);            // slice methods through Deref
/// assert_eq!(v.iter().max(), Some(&3));
/// assert_eq!(v[1..], [1, 2]);
/// # Ok::<(), goconc::Error>(())
/// ```
pub struct View<T> {
    // Boxed: the library may keep bookkeeping in `internal` that expects
    // the view to stay where it was filled in.
    raw: Box<sys::goconc_view>,
    _t: PhantomData<T>,
}

// SAFETY (both): a view is immutable shared memory owned by the library
// until release, which any thread may call; its &[T] may alias other
// views on other threads, hence T: Sync, and moving it moves Ts, hence
// T: Send.  Tested by tests/slice.rs (views_cross_threads,
// send_and_sync_bounds) and the compile_fail doctests in lib.rs.
unsafe impl<T: Send + Sync> Send for View<T> {}
unsafe impl<T: Send + Sync> Sync for View<T> {}

impl<T> Deref for View<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        if self.raw.len == 0 {
            return &[];
        }
        // SAFETY: len elements of size_of::<T>() bytes, written as Ts,
        // alignment checked in snapshot, immutable until release (Drop).
        unsafe { std::slice::from_raw_parts(self.raw.data.cast::<T>(), self.raw.len) }
    }
}

impl<T> AsRef<[T]> for View<T> {
    fn as_ref(&self) -> &[T] {
        self
    }
}

impl<T> Drop for View<T> {
    fn drop(&mut self) {
        // SAFETY: the view was filled by goconc_slice_snapshot (or is zeroed).
        unsafe { sys::goconc_view_release(&mut *self.raw) }
    }
}

// Comparisons as `Vec`'s: element by element, against views, slices,
// arrays and vectors.
impl<T: PartialEq<U>, U> PartialEq<View<U>> for View<T> {
    /// ```
    /// let s = goconc::Slice::from_slice(&[1, 2]);
    /// let a = s.snapshot()?;
    /// s.push(3)?;
    /// assert!(a != s.snapshot()?);
    /// assert_eq!(a, [1, 2]);
    /// assert_eq!(a, vec![1, 2]);
    /// assert_eq!(a, &[1, 2][..]);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    fn eq(&self, other: &View<U>) -> bool {
        self[..] == other[..]
    }
}

impl<T: Eq> Eq for View<T> {}

impl<T: PartialEq<U>, U> PartialEq<[U]> for View<T> {
    fn eq(&self, other: &[U]) -> bool {
        self[..] == *other
    }
}

impl<T: PartialEq<U>, U> PartialEq<&[U]> for View<T> {
    fn eq(&self, other: &&[U]) -> bool {
        self[..] == **other
    }
}

impl<T: PartialEq<U>, U, const N: usize> PartialEq<[U; N]> for View<T> {
    fn eq(&self, other: &[U; N]) -> bool {
        self[..] == other[..]
    }
}

impl<T: PartialEq<U>, U> PartialEq<Vec<U>> for View<T> {
    fn eq(&self, other: &Vec<U>) -> bool {
        self[..] == other[..]
    }
}

impl<'a, T> IntoIterator for &'a View<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> std::slice::Iter<'a, T> {
        self.iter()
    }
}

impl<T: Copy> IntoIterator for View<T> {
    type Item = T;
    type IntoIter = ViewIter<T>;
    /// Copies of the elements; the view is released when the iterator is
    /// dropped.
    ///
    /// ```
    /// let s = goconc::Slice::from_slice(&[3, 4]);
    /// let v: Vec<i32> = s.snapshot()?.into_iter().map(|x| x * 10).collect();
    /// assert_eq!(v, [30, 40]);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    fn into_iter(self) -> ViewIter<T> {
        let back = self.len();
        ViewIter {
            view: self,
            front: 0,
            back,
        }
    }
}

/// The owning iterator of a [`View`] (and of `&Slice`, over a snapshot):
/// copies of its elements, front to back or back to front.
///
/// ```
/// let s: goconc::Slice<u8> = (1..=4).collect();
/// let mut it = s.iter();
/// assert_eq!((it.next(), it.next_back(), it.len()), (Some(1), Some(4), 2));
/// ```
pub struct ViewIter<T> {
    view: View<T>,
    front: usize,
    back: usize,
}

impl<T: Copy> Iterator for ViewIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        if self.front == self.back {
            return None;
        }
        self.front += 1;
        Some(self.view[self.front - 1])
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl<T: Copy> DoubleEndedIterator for ViewIter<T> {
    fn next_back(&mut self) -> Option<T> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        Some(self.view[self.back])
    }
}

impl<T: Copy> ExactSizeIterator for ViewIter<T> {}
impl<T: Copy> FusedIterator for ViewIter<T> {}

impl<T: Copy + std::fmt::Debug> std::fmt::Debug for ViewIter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ViewIter")
            .field(&&self.view[self.front..self.back])
            .finish()
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for View<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
