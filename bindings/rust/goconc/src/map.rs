// SPDX-License-Identifier: MIT
//! `ByteMap`: the sharded concurrent hash map of byte strings.
use std::borrow::Cow;
use std::collections::VecDeque;
use std::mem::MaybeUninit;
use std::os::raw::{c_int, c_void};
use std::ptr::{self, NonNull};

use goconc_sys as sys;

use crate::error::{Error, Result};
use crate::panic::{self, Payload};
use crate::ReadGuard;

/// Options for [`ByteMap::with_options`] (`goconc_map_options`).
///
/// ```
/// use goconc::{ByteMap, MapOptions};
///
/// let opts = MapOptions { shards: 8, capacity_hint: 1000, ..MapOptions::default() };
/// let m = ByteMap::with_options(opts)?;
/// assert_eq!(m.stats()?.shards, 8);
/// assert!(m.is_empty());
/// # Ok::<(), goconc::Error>(())
/// ```
///
/// A map without peek copies its values out as any other, and cannot lend
/// them:
///
/// ```
/// use goconc::{ByteMap, ErrorKind, MapOptions};
///
/// let m = ByteMap::with_options(MapOptions { no_peek: true, ..MapOptions::default() })?;
/// m.store(b"k", &1u64.to_le_bytes())?;
/// m.store(b"k", &2u64.to_le_bytes())?; // may be rewritten in place
/// assert_eq!(m.load(b"k")?, Some(2u64.to_le_bytes().to_vec()));
/// let peeked = goconc::read(|g| m.peek(b"k", g).map(|v| v.is_some()));
/// assert_eq!(peeked.unwrap_err().kind(), ErrorKind::InvalidArgument);
/// # Ok::<(), goconc::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct MapOptions {
    /// Number of shards, a power of two; 0 = the library's default.
    pub shards: u32,
    /// Expected number of entries; 0 = none.
    pub capacity_hint: usize,
    /// Hash seed; 0 = random per map (from the OS).
    pub seed: u64,
    /// The map never lends its values (`GOCONC_MAP_NO_PEEK`):
    /// [`ByteMap::peek`] returns
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind), and in exchange a
    /// write (store, swap, update) that replaces a value of up to 8 bytes,
    /// under a key of up to 8 bytes, by one of the same length may rewrite
    /// it in place instead of writing a new entry and retiring the old one
    /// after a grace period, which makes overwrites and updates of such
    /// values cheaper.  Loads, `range`, `iter` and every other read still
    /// work, copying values out.  The typed [`Map`](crate::Map) always
    /// sets it.  Default `false`.
    pub no_peek: bool,
}

/// A snapshot of a map's counters (`goconc_map_stats`); exact when nothing
/// else runs.
///
/// ```
/// let m = goconc::ByteMap::new();
/// m.store(b"a", b"1")?;
/// m.store(b"b", b"2")?;
/// let st = m.stats()?;
/// assert_eq!(st.len, 2);
/// assert_eq!(st.shards, 64); // the library's default
/// assert!(st.bytes > 0);
/// # Ok::<(), goconc::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct MapStats {
    pub len: usize,
    pub shards: usize,
    pub buckets: usize,
    pub shards_migrating: usize,
    pub bytes: usize,
    pub grows: u64,
    pub shrinks: u64,
    pub buckets_moved: u64,
}

/// What a [`ByteMap::update`] closure decides.
///
/// ```
/// use goconc::{ByteMap, Update};
///
/// let m = ByteMap::new();
/// m.update(b"k", |old| {
///     assert_eq!(old, None);
///     Update::Store(b"v".to_vec())
/// })?;
/// m.update(b"k", |_| Update::Keep)?;
/// assert_eq!(m.load(b"k")?, Some(b"v".to_vec()));
/// m.update(b"k", |_| Update::Delete)?;
/// assert!(m.is_empty());
/// # Ok::<(), goconc::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// Leave the entry as it is (absent stays absent).
    Keep,
    /// Store this value.
    Store(Vec<u8>),
    /// Delete the entry (fine for an absent key).
    Delete,
}

/// A concurrent map of byte-string keys to byte-string values
/// (`goconc_map`, Go's `sync.Map` API).  Keys and values are copied in;
/// values are copied out ([`ByteMap::load`]) or borrowed for the life of a read
/// section ([`ByteMap::peek`]).  Every single-key operation is linearizable;
/// loads never block.
///
/// ```
/// let m = goconc::ByteMap::new();
/// m.store(b"hits", b"1")?;
/// m.update(b"hits", |old| {
///     let n: u32 = std::str::from_utf8(old.unwrap()).unwrap().parse().unwrap();
///     goconc::Update::Store((n + 1).to_string().into_bytes())
/// })?;
/// assert_eq!(m.load(b"hits")?.as_deref(), Some(&b"2"[..]));
/// # Ok::<(), goconc::Error>(())
/// ```
pub struct ByteMap {
    raw: NonNull<sys::goconc_map>,
    /// [`MapOptions::no_peek`], which a clone keeps: the library cannot be
    /// asked for a map's flags.
    no_peek: bool,
}

// SAFETY (both): Send: a goconc_map is not tied to the thread that created it
// (the library registers whichever thread calls it).  Sync: every function
// that takes a goconc_map* other than goconc_map_free is documented safe to
// call from any number of threads at once (each operation is atomic and
// linearizable; the map synchronizes internally), and all of them are
// reached through &self.  goconc_map_free needs exclusive access: it is
// only called from Drop, which has &mut self, so no other reference exists.
// Callbacks (update, range) run on the calling thread, during the call, so
// they need no Send bound.  Keys and values are bytes, copied in and out.
// Tested by tests/map.rs (threads_store_into_one_map,
// update_is_atomic_across_threads, map_is_send_and_sync).
unsafe impl Send for ByteMap {}
unsafe impl Sync for ByteMap {}

/// The stack buffer a copy-out tries first: a value up to this size (every
/// integer, short strings) is copied out with no heap allocation; a longer
/// one costs a second call, with a buffer of the size the first reported.
const INLINE: usize = 128;

/// The answer of the methods that cannot return an error (`new`, the std
/// traits) to one: a panic, as std's collections panic when out of memory.
#[track_caller]
fn ok<T>(r: Result<T>) -> T {
    r.unwrap_or_else(|e| e.panic_in("ByteMap"))
}

impl ByteMap {
    /// A new, empty map with the library's defaults.  Panics when out of
    /// memory, as std's collections do.
    ///
    /// ```
    /// let m = goconc::ByteMap::new();
    /// assert!(m.is_empty());
    /// ```
    pub fn new() -> ByteMap {
        ok(ByteMap::try_new())
    }

    /// [`ByteMap::new`], or [`ErrorKind::OutOfMemory`](crate::ErrorKind).
    ///
    /// ```
    /// let m = goconc::ByteMap::try_new()?;
    /// m.store(b"k", b"v")?;
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn try_new() -> Result<ByteMap> {
        ByteMap::with_options(MapOptions::default())
    }

    /// A copy of every entry in a new map with this one's shard count and
    /// [`MapOptions::no_peek`], sized for them up front;
    /// [`ErrorKind::OutOfMemory`](crate::ErrorKind) instead of the panic of
    /// [`Clone::clone`].  Entries written while it
    /// runs may or may not be copied (it reads them as [`ByteMap::iter`]
    /// does); every entry present throughout is.
    ///
    /// ```
    /// let m = goconc::ByteMap::new();
    /// m.store(b"k", b"v")?;
    /// let c = m.try_clone()?;
    /// m.store(b"k", b"changed")?;
    /// assert_eq!(c.load(b"k")?.as_deref(), Some(&b"v"[..]));
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn try_clone(&self) -> Result<ByteMap> {
        let st = self.stats()?;
        let copy = ByteMap::with_options(MapOptions {
            shards: st.shards as u32,
            capacity_hint: st.len,
            no_peek: self.no_peek,
            ..MapOptions::default()
        })?;
        let (mut cursor, mut buf) = (0u64, VecDeque::new());
        loop {
            self.scan_batch(&mut cursor, &mut buf)?;
            for (k, v) in buf.drain(..) {
                copy.store(&k, &v)?;
            }
            if cursor == 0 {
                return Ok(copy);
            }
        }
    }

    /// One `goconc_map_scan` batch from `*cursor` (0 again after the last)
    /// appended to `buf`.
    fn scan_batch(&self, cursor: &mut u64, buf: &mut VecDeque<(Vec<u8>, Vec<u8>)>) -> Result<()> {
        // SAFETY: the cursor and the buffer outlive the call; the
        // trampoline only pushes copies.
        let st = unsafe {
            sys::goconc_map_scan(
                self.ptr(),
                cursor,
                SCAN_BATCH,
                Some(collect_trampoline),
                (buf as *mut VecDeque<(Vec<u8>, Vec<u8>)>).cast(),
            )
        };
        Error::check(st).map(drop)
    }

    /// A new, empty map.  [`ErrorKind::InvalidArgument`](crate::ErrorKind)
    /// for a shard count that is not a power of two.
    ///
    /// ```
    /// use goconc::{ByteMap, ErrorKind, MapOptions};
    ///
    /// let m = ByteMap::with_options(MapOptions { shards: 4, ..MapOptions::default() })?;
    /// assert_eq!(m.stats()?.shards, 4);
    /// let err = ByteMap::with_options(MapOptions { shards: 3, ..MapOptions::default() });
    /// assert_eq!(err.unwrap_err().kind(), ErrorKind::InvalidArgument);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn with_options(opts: MapOptions) -> Result<ByteMap> {
        let o = raw_options(&opts);
        let mut out = ptr::null_mut();
        // SAFETY: out and o are valid for the call; on_drop is NULL.
        Error::check(unsafe { sys::goconc_map_new(&mut out, &o) })?;
        Ok(ByteMap {
            raw: NonNull::new(out).expect("goconc_map_new returned OK and NULL"),
            no_peek: opts.no_peek,
        })
    }

    fn ptr(&self) -> *mut sys::goconc_map {
        self.raw.as_ptr()
    }

    /// The `goconc_map *` underneath, for calling goconc-sys directly (an
    /// operation the safe API lacks, or a benchmark of the C library's own
    /// cost).  Valid while `self` lives; must not be freed.
    ///
    /// ```
    /// let m = goconc::ByteMap::new();
    /// // SAFETY: a live map.
    /// assert_eq!(unsafe { goconc::sys::goconc_map_len(m.as_raw()) }, 0);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn as_raw(&self) -> *mut sys::goconc_map {
        self.ptr()
    }

    /// Runs a copy-out call and hands what it copied to `consume`,
    /// borrowed from a stack buffer when the value fits in [`INLINE`]
    /// bytes, owned otherwise: a short buffer answers `GOCONC_ERANGE` with
    /// the size needed (and changes nothing), so the call is repeated with
    /// a heap buffer of that size (again if the value grew meanwhile).
    /// `Some` when the status is `copied` (the one that means "value
    /// copied out"), `None` for the other non-negative statuses.
    #[inline]
    fn copy_out_with<R>(
        &self,
        copied: c_int,
        mut call: impl FnMut(*mut c_void, usize, *mut usize) -> c_int,
        consume: impl FnOnce(Cow<'_, [u8]>) -> R,
    ) -> Result<Option<R>> {
        let mut stack = [MaybeUninit::<u8>::uninit(); INLINE];
        let mut n = 0usize;
        let st = call(stack.as_mut_ptr().cast(), INLINE, &mut n);
        if st == sys::GOCONC_ERANGE {
            return copy_out_long(copied, call, consume, n);
        }
        if Error::check(st)? != copied {
            return Ok(None);
        }
        assert!(
            n <= INLINE,
            "libgoconc reported a copy larger than the buffer"
        );
        // SAFETY: with this status the library copied n bytes into stack.
        let v = unsafe { bytes(stack.as_ptr().cast(), n) };
        Ok(Some(consume(Cow::Borrowed(v))))
    }

    /// Stores `value` under `key`.
    ///
    /// ```
    /// let m = goconc::ByteMap::new();
    /// m.store(b"k", b"old")?;
    /// m.store(b"k", b"new")?; // overwrites
    /// assert_eq!(m.load(b"k")?, Some(b"new".to_vec()));
    /// assert_eq!(m.len(), 1);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn store(&self, key: &[u8], value: &[u8]) -> Result<()> {
        // SAFETY: key and value are valid for their lengths during the call.
        Error::check(unsafe {
            sys::goconc_map_store(
                self.ptr(),
                key.as_ptr().cast(),
                key.len(),
                value.as_ptr().cast(),
                value.len(),
            )
        })
        .map(drop)
    }

    /// A copy of the value under `key`, or `None`.
    ///
    /// ```
    /// let m = goconc::ByteMap::new();
    /// m.store(b"k", b"v")?;
    /// assert_eq!(m.load(b"k")?, Some(b"v".to_vec()));
    /// assert_eq!(m.load(b"absent")?, None);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn load(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.load_with(key, |v| v.into_owned())
    }

    /// [`ByteMap::load`] handing the copy to `f`, from a stack buffer when
    /// the value is short.
    pub(crate) fn load_with<R>(
        &self,
        key: &[u8],
        f: impl FnOnce(Cow<'_, [u8]>) -> R,
    ) -> Result<Option<R>> {
        let call = |buf: *mut c_void, cap: usize, n: *mut usize| unsafe {
            // SAFETY: buf is valid for cap bytes, n for one usize.
            sys::goconc_map_load(self.ptr(), key.as_ptr().cast(), key.len(), buf, cap, n)
        };
        self.copy_out_with(sys::GOCONC_OK, call, f)
    }

    /// Whether `key` is present.
    ///
    /// ```
    /// let m = goconc::ByteMap::new();
    /// m.store(b"k", b"")?; // an empty value is still present
    /// assert!(m.contains_key(b"k")?);
    /// assert!(!m.contains_key(b"absent")?);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn contains_key(&self, key: &[u8]) -> Result<bool> {
        let mut n = 0usize;
        // SAFETY: a NULL buffer with cap 0 tests presence.
        let st = unsafe {
            sys::goconc_map_load(
                self.ptr(),
                key.as_ptr().cast(),
                key.len(),
                ptr::null_mut(),
                0,
                &mut n,
            )
        };
        match st {
            sys::GOCONC_OK | sys::GOCONC_ERANGE => Ok(true),
            sys::GOCONC_NOTFOUND => Ok(false),
            st => Err(Error::from_status(st)),
        }
    }

    /// Borrows the value under `key` without copying, for as long as both
    /// `guard` and the map borrow live: the bytes stay valid and unchanged
    /// even if the key is overwritten or deleted meanwhile.  (The contract
    /// ties them to the read section alone; the map borrow is a margin that
    /// costs nothing in practice.)
    ///
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind) on a map created
    /// with [`MapOptions::no_peek`], such as the typed [`Map`](crate::Map)'s
    /// (through [`Map::as_bytes`](crate::Map::as_bytes)): its values may be
    /// rewritten in place, so it has nothing it could lend.
    ///
    /// ```
    /// let m = goconc::ByteMap::new();
    /// m.store(b"k", b"v")?;
    /// goconc::read(|guard| -> goconc::Result<()> {
    ///     let v = m.peek(b"k", guard)?;
    ///     m.store(b"k", b"changed")?;
    ///     assert_eq!(v, Some(&b"v"[..])); // the borrow still sees the old bytes
    ///     assert_eq!(m.peek(b"absent", guard)?, None);
    ///     Ok(())
    /// })?;
    /// assert_eq!(m.load(b"k")?, Some(b"changed".to_vec()));
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn peek<'a>(&'a self, key: &[u8], _guard: &'a ReadGuard) -> Result<Option<&'a [u8]>> {
        let mut v: *const c_void = ptr::null();
        let mut n = 0usize;
        // SAFETY: the guard proves this thread is inside a read section.
        let st = unsafe {
            sys::goconc_map_peek(self.ptr(), key.as_ptr().cast(), key.len(), &mut v, &mut n)
        };
        match Error::check(st)? {
            // SAFETY: valid until the outermost read unlock, which cannot
            // happen while the guard ('a) lives.
            sys::GOCONC_OK => Ok(Some(unsafe { bytes(v, n) })),
            _ => Ok(None),
        }
    }

    /// Deletes `key`; `true` when a value was removed.
    ///
    /// ```
    /// let m = goconc::ByteMap::new();
    /// m.store(b"k", b"v")?;
    /// assert!(m.delete(b"k")?);
    /// assert!(!m.delete(b"k")?); // already gone
    /// assert!(m.is_empty());
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        // SAFETY: key is valid for its length.
        let st = unsafe { sys::goconc_map_delete(self.ptr(), key.as_ptr().cast(), key.len()) };
        Ok(Error::check(st)? == sys::GOCONC_OK)
    }

    /// Go's `LoadOrStore`: `Some(existing)` when `key` was present (nothing
    /// stored), `None` when `value` was stored.
    ///
    /// ```
    /// let m = goconc::ByteMap::new();
    /// assert_eq!(m.load_or_store(b"k", b"first")?, None); // stored
    /// assert_eq!(m.load_or_store(b"k", b"second")?, Some(b"first".to_vec()));
    /// assert_eq!(m.load(b"k")?, Some(b"first".to_vec())); // unchanged
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn load_or_store(&self, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>> {
        self.load_or_store_with(key, value, |v| v.into_owned())
    }

    /// [`ByteMap::load_or_store`] handing the existing value to `f`.
    pub(crate) fn load_or_store_with<R>(
        &self,
        key: &[u8],
        value: &[u8],
        f: impl FnOnce(Cow<'_, [u8]>) -> R,
    ) -> Result<Option<R>> {
        let call = |buf: *mut c_void, cap: usize, n: *mut usize| unsafe {
            // SAFETY: all buffers valid for their lengths.
            sys::goconc_map_load_or_store(
                self.ptr(),
                key.as_ptr().cast(),
                key.len(),
                value.as_ptr().cast(),
                value.len(),
                buf,
                cap,
                n,
            )
        };
        self.copy_out_with(sys::GOCONC_EXISTS, call, f)
    }

    /// Go's `LoadAndDelete`: the removed value, or `None` when absent.
    ///
    /// ```
    /// let m = goconc::ByteMap::new();
    /// m.store(b"k", b"v")?;
    /// assert_eq!(m.load_and_delete(b"k")?, Some(b"v".to_vec()));
    /// assert_eq!(m.load_and_delete(b"k")?, None);
    /// assert!(!m.contains_key(b"k")?);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn load_and_delete(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.load_and_delete_with(key, |v| v.into_owned())
    }

    /// [`ByteMap::load_and_delete`] handing the removed value to `f`.
    pub(crate) fn load_and_delete_with<R>(
        &self,
        key: &[u8],
        f: impl FnOnce(Cow<'_, [u8]>) -> R,
    ) -> Result<Option<R>> {
        let call = |buf: *mut c_void, cap: usize, n: *mut usize| unsafe {
            // SAFETY: all buffers valid for their lengths.
            sys::goconc_map_load_and_delete(self.ptr(), key.as_ptr().cast(), key.len(), buf, cap, n)
        };
        self.copy_out_with(sys::GOCONC_OK, call, f)
    }

    /// Go's `Swap`: stores `value` and returns the previous one, if any.
    ///
    /// ```
    /// let m = goconc::ByteMap::new();
    /// assert_eq!(m.swap(b"k", b"1")?, None); // was absent
    /// assert_eq!(m.swap(b"k", b"2")?, Some(b"1".to_vec()));
    /// assert_eq!(m.load(b"k")?, Some(b"2".to_vec()));
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn swap(&self, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>> {
        self.swap_with(key, value, |v| v.into_owned())
    }

    /// [`ByteMap::swap`] handing the previous value to `f`.
    pub(crate) fn swap_with<R>(
        &self,
        key: &[u8],
        value: &[u8],
        f: impl FnOnce(Cow<'_, [u8]>) -> R,
    ) -> Result<Option<R>> {
        let call = |buf: *mut c_void, cap: usize, n: *mut usize| unsafe {
            // SAFETY: all buffers valid for their lengths.
            sys::goconc_map_swap(
                self.ptr(),
                key.as_ptr().cast(),
                key.len(),
                value.as_ptr().cast(),
                value.len(),
                buf,
                cap,
                n,
            )
        };
        self.copy_out_with(sys::GOCONC_OK, call, f)
    }

    /// Stores `new` only if `key` holds `old`; `true` when swapped (`false`
    /// when the value differs or the key is absent).
    ///
    /// ```
    /// let m = goconc::ByteMap::new();
    /// assert!(!m.compare_and_swap(b"k", b"a", b"b")?); // absent
    /// m.store(b"k", b"a")?;
    /// assert!(!m.compare_and_swap(b"k", b"x", b"b")?); // value differs
    /// assert!(m.compare_and_swap(b"k", b"a", b"b")?);
    /// assert_eq!(m.load(b"k")?, Some(b"b".to_vec()));
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn compare_and_swap(&self, key: &[u8], old: &[u8], new: &[u8]) -> Result<bool> {
        // SAFETY: all buffers valid for their lengths.
        let st = unsafe {
            sys::goconc_map_compare_and_swap(
                self.ptr(),
                key.as_ptr().cast(),
                key.len(),
                old.as_ptr().cast(),
                old.len(),
                new.as_ptr().cast(),
                new.len(),
            )
        };
        Ok(Error::check(st)? == sys::GOCONC_OK)
    }

    /// Deletes `key` only if it holds `old`; `true` when deleted.
    ///
    /// ```
    /// let m = goconc::ByteMap::new();
    /// m.store(b"k", b"a")?;
    /// assert!(!m.compare_and_delete(b"k", b"x")?); // value differs: kept
    /// assert!(m.contains_key(b"k")?);
    /// assert!(m.compare_and_delete(b"k", b"a")?);
    /// assert!(!m.contains_key(b"k")?);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn compare_and_delete(&self, key: &[u8], old: &[u8]) -> Result<bool> {
        // SAFETY: all buffers valid for their lengths.
        let st = unsafe {
            sys::goconc_map_compare_and_delete(
                self.ptr(),
                key.as_ptr().cast(),
                key.len(),
                old.as_ptr().cast(),
                old.len(),
            )
        };
        Ok(Error::check(st)? == sys::GOCONC_OK)
    }

    /// Atomically decides the new state of `key` from its current value
    /// (`None` when absent).  `f` runs exactly once, holding the key's
    /// write side: other writers of this key wait, readers do not; `f` may
    /// read the map, and a write to this map from inside `f` returns
    /// [`ErrorKind::Deadlock`](crate::ErrorKind).  A panic in `f` is caught
    /// at the C boundary, the map is left unchanged, and the panic resumes
    /// here after the C call returned.
    ///
    /// ```
    /// use goconc::{ByteMap, ErrorKind, Update};
    ///
    /// let m = ByteMap::new();
    /// for _ in 0..3 {
    ///     m.update(b"n", |old| Update::Store(vec![old.map_or(0, |v| v[0]) + 1]))?;
    /// }
    /// assert_eq!(m.load(b"n")?, Some(vec![3]));
    /// // Reads inside `f` are fine; writes to the same map are refused.
    /// m.update(b"n", |_| {
    ///     assert_eq!(m.load(b"n").unwrap(), Some(vec![3]));
    ///     assert_eq!(m.store(b"x", b"y").unwrap_err().kind(), ErrorKind::Deadlock);
    ///     Update::Keep
    /// })?;
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn update<F>(&self, key: &[u8], f: F) -> Result<()>
    where
        F: FnOnce(Option<&[u8]>) -> Update,
    {
        self.update_with(key, |old| match f(old) {
            Update::Keep => Decision::Keep,
            Update::Store(v) => Decision::Store(v),
            Update::Delete => Decision::Delete,
        })
    }

    /// [`ByteMap::update`] with the new value in any byte container `B`
    /// (the typed map's stays on the stack).
    #[inline]
    pub(crate) fn update_with<F, B>(&self, key: &[u8], f: F) -> Result<()>
    where
        F: FnOnce(Option<&[u8]>) -> Decision<B>,
        B: AsRef<[u8]>,
    {
        let mut ctx = UpdateCtx {
            f: Some(f),
            newval: None,
            panic: None,
        };
        // SAFETY: ctx outlives the call; the trampoline matches the
        // callback type and is instantiated for this F and B.
        let st = unsafe {
            sys::goconc_map_update(
                self.ptr(),
                key.as_ptr().cast(),
                key.len(),
                Some(update_trampoline::<F, B>),
                (&mut ctx as *mut UpdateCtx<F, B>).cast(),
            )
        };
        panic::resume(ctx.panic.take());
        Error::check(st).map(drop)
    }

    /// Visits every entry, borrowed, with `f(key, value)`; `f` returns
    /// `false` to stop.  Every key present for the whole call is visited
    /// exactly once, none twice, even while other threads (or `f`) write.
    /// `f` runs inside a read section: keep it short.  Returns `true` when
    /// every entry was visited, `false` when `f` stopped.  A panic in `f`
    /// stops the walk and resumes here.
    ///
    /// ```
    /// let m: goconc::ByteMap = [("a", "1"), ("b", "22"), ("c", "333")].into_iter().collect();
    /// let mut total = 0;
    /// assert!(m.range(|_, v| { total += v.len(); true })?); // visited all
    /// assert_eq!(total, 6);
    /// let mut seen = 0;
    /// assert!(!m.range(|_, _| { seen += 1; seen < 2 })?); // stopped after two
    /// assert_eq!(seen, 2);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn range<F>(&self, f: F) -> Result<bool>
    where
        F: FnMut(&[u8], &[u8]) -> bool,
    {
        let mut ctx = RangeCtx { f, panic: None };
        // SAFETY: ctx outlives the call; the trampoline is for this F.
        let st = unsafe {
            sys::goconc_map_range(
                self.ptr(),
                Some(range_trampoline::<F>),
                (&mut ctx as *mut RangeCtx<F>).cast(),
            )
        };
        panic::resume(ctx.panic.take());
        Ok(Error::check(st)? != sys::GOCONC_STOPPED)
    }

    /// Removes the entries for which `f(key, value)` returns `false`
    /// (`HashMap::retain`, and DashMap's through `&self`).  Each entry
    /// present for the whole call is offered exactly once ([`ByteMap::range`]'s
    /// walk, `f` inside its read section); one written after `f` saw it is
    /// kept, since the removal is a compare-and-delete of the value `f`
    /// saw.  A panic in `f` stops the walk and resumes here.
    ///
    /// ```
    /// let m: goconc::ByteMap = [("a", "1"), ("b", "22"), ("c", "3")].into_iter().collect();
    /// m.retain(|_, v| v.len() == 1)?;
    /// let mut keys: Vec<_> = m.iter().map(|(k, _)| k).collect();
    /// keys.sort();
    /// assert_eq!(keys, [b"a".to_vec(), b"c".to_vec()]);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn retain<F>(&self, mut f: F) -> Result<()>
    where
        F: FnMut(&[u8], &[u8]) -> bool,
    {
        let mut failed = None;
        self.range(|k, v| {
            if f(k, v) {
                return true;
            }
            match self.compare_and_delete(k, v) {
                Ok(_) => true,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            }
        })?;
        failed.map_or(Ok(()), Err)
    }

    /// An iterator over copies of the entries, fetched a batch at a time
    /// with `goconc_map_scan` (no read section is held between batches).
    /// Like Redis SCAN: a key present for the whole iteration is yielded at
    /// least once; a key can come twice only if its shard resized between
    /// two batches.  Use [`ByteMap::range`] for exactly once.  Out of memory
    /// while fetching a batch panics, as allocation failure does in std;
    /// `range` returns it as an error instead.
    ///
    /// ```
    /// let m: goconc::ByteMap = [("b", "2"), ("a", "1")].into_iter().collect();
    /// let mut entries: Vec<(Vec<u8>, Vec<u8>)> = m.iter().collect();
    /// entries.sort();
    /// assert_eq!(entries, [(b"a".to_vec(), b"1".to_vec()), (b"b".to_vec(), b"2".to_vec())]);
    /// ```
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            map: self,
            cursor: 0,
            started: false,
            buf: VecDeque::new(),
        }
    }

    /// The number of entries (exact when nothing else runs).
    ///
    /// ```
    /// let m = goconc::ByteMap::new();
    /// m.store(b"a", b"1")?;
    /// m.store(b"b", b"2")?;
    /// m.store(b"a", b"3")?; // same key: no new entry
    /// assert_eq!(m.len(), 2);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        // SAFETY: valid handle.
        unsafe { sys::goconc_map_len(self.ptr()) }
    }

    /// Whether the map has no entries.
    ///
    /// ```
    /// let m = goconc::ByteMap::new();
    /// assert!(m.is_empty());
    /// m.store(b"k", b"v")?;
    /// assert!(!m.is_empty());
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Deletes every entry (atomic per shard).
    ///
    /// ```
    /// let m: goconc::ByteMap = [("a", "1"), ("b", "2")].into_iter().collect();
    /// m.clear()?;
    /// assert!(m.is_empty());
    /// assert_eq!(m.load(b"a")?, None);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn clear(&self) -> Result<()> {
        // SAFETY: valid handle.
        Error::check(unsafe { sys::goconc_map_clear(self.ptr()) }).map(drop)
    }

    /// Grows ahead of a known load (still incrementally).
    ///
    /// ```
    /// let m = goconc::ByteMap::new();
    /// let before = m.stats()?.buckets;
    /// m.reserve(10_000)?;
    /// m.maintain(usize::MAX)?; // finish the growths now
    /// assert!(m.stats()?.buckets > before);
    /// assert!(m.is_empty()); // room only, no entries
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn reserve(&self, entries: usize) -> Result<()> {
        // SAFETY: valid handle.
        Error::check(unsafe { sys::goconc_map_reserve(self.ptr(), entries) }).map(drop)
    }

    /// Moves up to `max_buckets` buckets of pending migrations; returns how
    /// many moved.
    ///
    /// ```
    /// let m = goconc::ByteMap::new();
    /// assert_eq!(m.maintain(usize::MAX)?, 0); // nothing pending
    /// m.reserve(10_000)?;
    /// assert!(m.maintain(usize::MAX)? > 0);
    /// assert_eq!(m.stats()?.shards_migrating, 0);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn maintain(&self, max_buckets: usize) -> Result<usize> {
        let mut moved = 0usize;
        // SAFETY: valid handle and out pointer.
        Error::check(unsafe { sys::goconc_map_maintain(self.ptr(), max_buckets, &mut moved) })?;
        Ok(moved)
    }

    /// The map's counters.
    ///
    /// ```
    /// let m = goconc::ByteMap::new();
    /// m.store(b"k", b"v")?;
    /// let st = m.stats()?;
    /// assert_eq!((st.len, st.shards_migrating), (1, 0));
    /// assert_eq!(st.shards, 64); // the library's default
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn stats(&self) -> Result<MapStats> {
        let mut st = sys::goconc_map_stats {
            struct_size: std::mem::size_of::<sys::goconc_map_stats>(),
            ..Default::default()
        };
        // SAFETY: st is a properly sized stats struct.
        Error::check(unsafe { sys::goconc_map_stats_get(self.ptr(), &mut st) })?;
        Ok(MapStats {
            len: st.len,
            shards: st.shards,
            buckets: st.buckets,
            shards_migrating: st.shards_migrating,
            bytes: st.bytes,
            grows: st.grows,
            shrinks: st.shrinks,
            buckets_moved: st.buckets_moved,
        })
    }
}

impl Drop for ByteMap {
    fn drop(&mut self) {
        // SAFETY: &mut self: no other call runs on the map.
        unsafe { sys::goconc_map_free(self.ptr()) }
    }
}

impl std::fmt::Debug for ByteMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteMap").field("len", &self.len()).finish()
    }
}

impl Default for ByteMap {
    /// [`ByteMap::new`].  Panics when out of memory.
    fn default() -> Self {
        ByteMap::new()
    }
}

impl Clone for ByteMap {
    /// [`ByteMap::try_clone`], panicking when out of memory.
    fn clone(&self) -> Self {
        ok(self.try_clone())
    }
}

impl<K: AsRef<[u8]>, V: AsRef<[u8]>> Extend<(K, V)> for ByteMap {
    /// Stores each pair in turn (a later one wins for the same key).
    /// Panics where [`ByteMap::store`] returns an error: out of memory, a
    /// key longer than the library takes, a call from inside this map's
    /// [`ByteMap::update`] closure.
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            ok(self.store(k.as_ref(), v.as_ref()));
        }
    }
}

impl<K: AsRef<[u8]>, V: AsRef<[u8]>> FromIterator<(K, V)> for ByteMap {
    /// ```
    /// let m: goconc::ByteMap = [("a", "1"), ("b", "2")].into_iter().collect();
    /// assert_eq!(m.len(), 2);
    /// assert_eq!(m.load(b"b").unwrap().as_deref(), Some(&b"2"[..]));
    /// ```
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = ByteMap::new();
        m.extend(iter);
        m
    }
}

impl<'a> IntoIterator for &'a ByteMap {
    type Item = (Vec<u8>, Vec<u8>);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The iterator of [`ByteMap::iter`].
///
/// ```
/// let m: goconc::ByteMap = [("a", "1"), ("b", "2")].into_iter().collect();
/// let mut keys = Vec::new();
/// for (k, _v) in &m {
///     keys.push(k);
/// }
/// keys.sort();
/// assert_eq!(keys, [b"a".to_vec(), b"b".to_vec()]);
/// ```
pub struct Iter<'a> {
    map: &'a ByteMap,
    cursor: u64,
    started: bool,
    buf: VecDeque<(Vec<u8>, Vec<u8>)>,
}

/// Entries fetched per goconc_map_scan call.
const SCAN_BATCH: usize = 64;

impl Iterator for Iter<'_> {
    type Item = (Vec<u8>, Vec<u8>);

    fn next(&mut self) -> Option<Self::Item> {
        while self.buf.is_empty() {
            if self.started && self.cursor == 0 {
                return None;
            }
            self.started = true;
            // EINVAL cannot happen here (no NULL argument); ENOMEM (a
            // window with more colliding keys than the stack buffer holds
            // and no memory for a bigger one) is treated as Rust's own
            // collections treat allocation failure: fatal.  range() and
            // try_clone() return it as an error instead.
            if let Err(e) = self.map.scan_batch(&mut self.cursor, &mut self.buf) {
                panic!("goconc_map_scan failed: {e}");
            }
        }
        self.buf.pop_front()
    }
}

/// The C options for `opts`.  Without flags they go as the 1.0 struct
/// (`struct_size` up to `flags`, which the library then takes as 0): a
/// library older than `flags` refuses a struct whose bytes past its own
/// are not all zero, and the padding after `flags` is not ours to zero.
fn raw_options(opts: &MapOptions) -> sys::goconc_map_options {
    let mut o = sys::goconc_map_options::init();
    o.shards = opts.shards;
    o.capacity_hint = opts.capacity_hint;
    o.seed = opts.seed;
    if opts.no_peek {
        o.flags |= sys::GOCONC_MAP_NO_PEEK;
    }
    if o.flags == 0 {
        o.struct_size = ptr::addr_of!(o.flags) as usize - ptr::addr_of!(o) as usize;
    }
    o
}

/// [`ByteMap::copy_out_with`] for a value longer than its stack buffer
/// (`n` bytes when last asked): into a heap buffer, asked again if the
/// value grew meanwhile.  Out of line, so that the common short copy is
/// inlined into its caller without this loop.
#[cold]
#[inline(never)]
fn copy_out_long<R>(
    copied: c_int,
    mut call: impl FnMut(*mut c_void, usize, *mut usize) -> c_int,
    consume: impl FnOnce(Cow<'_, [u8]>) -> R,
    mut n: usize,
) -> Result<Option<R>> {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        buf.reserve(n);
        let st = call(buf.as_mut_ptr().cast(), buf.capacity(), &mut n);
        if st == sys::GOCONC_ERANGE {
            continue;
        }
        if Error::check(st)? != copied {
            return Ok(None);
        }
        assert!(
            n <= buf.capacity(),
            "libgoconc reported a copy larger than the buffer"
        );
        // SAFETY: with this status the library copied n bytes into buf.
        unsafe { buf.set_len(n) };
        return Ok(Some(consume(Cow::Owned(buf))));
    }
}

/// A slice over library memory; empty when len is 0 (the pointer may then
/// be anything).
///
/// # Safety
/// Unless `len` is 0, `p` points to `len` initialized bytes that stay
/// valid and unchanged for `'a` (a callback's arguments, for the callback;
/// a peeked value, for the read section).
unsafe fn bytes<'a>(p: *const c_void, len: usize) -> &'a [u8] {
    if len == 0 || p.is_null() {
        &[]
    } else {
        // SAFETY: the caller's promise; u8 needs no alignment.
        std::slice::from_raw_parts(p.cast(), len)
    }
}

/// [`Update`] for [`ByteMap::update_with`]: the new value in any byte
/// container.
pub(crate) enum Decision<B> {
    Keep,
    Store(B),
    Delete,
}

struct UpdateCtx<F, B> {
    f: Option<F>,
    newval: Option<B>,
    panic: Option<Payload>,
}

/// A negative status of ours: aborts the update, never shown to users (the
/// panic is resumed instead).
const PANICKED: c_int = -1;

/// # Safety
/// Called by goconc_map_update only, with the `UpdateCtx<F, B>` that
/// `ByteMap::update_with` passed, `old` valid for `oldlen` bytes during the
/// call when `found`, and `newval`/`newlen` writable.
unsafe extern "C" fn update_trampoline<F, B>(
    ctx: *mut c_void,
    old: *const c_void,
    oldlen: usize,
    found: c_int,
    newval: *mut *const c_void,
    newlen: *mut usize,
) -> c_int
where
    F: FnOnce(Option<&[u8]>) -> Decision<B>,
    B: AsRef<[u8]>,
{
    // SAFETY: ctx is update_with()'s UpdateCtx<F, B>, alive and not
    // otherwise borrowed during the C call.
    let ctx = &mut *ctx.cast::<UpdateCtx<F, B>>();
    let f = match ctx.f.take() {
        Some(f) => f,
        None => return sys::GOCONC_EINVAL, // called twice: the contract says never
    };
    // SAFETY: the library's old value lives until the callback returns,
    // and f cannot keep the borrow (higher-ranked in F's bound).
    let old = (found != 0).then(|| bytes(old, oldlen));
    match panic::catch(|| f(old)) {
        Ok(Decision::Keep) => sys::GOCONC_UPDATE_KEEP,
        Ok(Decision::Delete) => sys::GOCONC_UPDATE_DELETE,
        Ok(Decision::Store(v)) => {
            // Kept in ctx: *newval must stay valid until update returns
            // (B's bytes do not move while it is not moved: a Vec's are on
            // the heap, an inline buffer's are in ctx itself).  The slot is
            // empty (f ran once); forgetting what take() finds, rather
            // than dropping it, leaves no call on this path, so the
            // trampoline saves no registers.
            let slot = &mut ctx.newval;
            std::mem::forget(slot.take());
            let v: &[u8] = B::as_ref(slot.insert(v));
            // SAFETY: the out pointers are writable (the callback contract).
            *newval = v.as_ptr().cast();
            *newlen = v.len();
            sys::GOCONC_UPDATE_STORE
        }
        Err(p) => {
            ctx.panic = Some(p);
            PANICKED
        }
    }
}

struct RangeCtx<F> {
    f: F,
    panic: Option<Payload>,
}

/// # Safety
/// Called by goconc_map_range only, with `ByteMap::range`'s `RangeCtx<F>`
/// and an entry valid for the call.
unsafe extern "C" fn range_trampoline<F>(
    ctx: *mut c_void,
    key: *const c_void,
    klen: usize,
    val: *const c_void,
    vlen: usize,
) -> c_int
where
    F: FnMut(&[u8], &[u8]) -> bool,
{
    // SAFETY: ctx is range()'s RangeCtx<F>, borrowed by nothing else
    // during the C call; the entry is valid until the callback returns and
    // f cannot keep it (higher-ranked in F's bound).
    let ctx = &mut *ctx.cast::<RangeCtx<F>>();
    let (k, v) = (bytes(key, klen), bytes(val, vlen));
    match panic::catch(|| (ctx.f)(k, v)) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(p) => {
            ctx.panic = Some(p);
            1
        }
    }
}

/// # Safety
/// Called by goconc_map_scan only, with `Iter::next`'s buffer and an entry
/// valid for the call.
unsafe extern "C" fn collect_trampoline(
    ctx: *mut c_void,
    key: *const c_void,
    klen: usize,
    val: *const c_void,
    vlen: usize,
) -> c_int {
    // SAFETY: ctx is the iterator's buffer, not otherwise borrowed during
    // the C call; the entry is copied before the callback returns.
    let buf = &mut *ctx.cast::<VecDeque<(Vec<u8>, Vec<u8>)>>();
    // Allocation failure aborts the process in Rust; no panic can escape.
    buf.push_back((bytes(key, klen).to_vec(), bytes(val, vlen).to_vec()));
    0
}
