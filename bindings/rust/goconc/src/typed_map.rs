// SPDX-License-Identifier: MIT
//! `Map<K, V>`: the concurrent map with typed keys and values, over
//! [`ByteMap`].
use std::borrow::Borrow;
use std::fmt;
use std::iter::FromIterator;
use std::marker::PhantomData;

use crate::codec::{Decode, Encode, Encoded};
use crate::error::Result;
use crate::map::{ByteMap, Decision, Iter, MapOptions, MapStats};
use crate::ReadGuard;

/// A concurrent hash map from `K` to `V` (Go's `sync.Map`, with the method
/// names of `std::collections::HashMap` where they mean the same).
///
/// Keys and values are stored as bytes ([`Encode`]) and rebuilt on the way
/// out ([`Decode`]), so every read returns an owned `V`: nothing inside
/// the map is ever borrowed, and `Map<K, V>` is `Send + Sync` for every
/// `K` and `V`.  Every single-key operation is linearizable; reads never
/// block.  Implemented for integers, `bool`, `char`, `String`/`&str`,
/// `Vec<u8>`/`&[u8]` and `[u8; N]`.
///
/// Panics when the library runs out of memory (as std's collections fail
/// on allocation failure), and when a write to this map is made from
/// inside its own [`Map::update`] closure (it would deadlock).  The
/// [`ByteMap`] underneath ([`Map::as_bytes`]) returns both as errors.
///
/// Since nothing is borrowed, the map is always created without peek
/// ([`MapOptions::no_peek`]): a write that replaces a value of up to 8
/// bytes under a key of up to 8 bytes (a `u64` under a `u64`, say) with
/// one of the same length may rewrite it in place, which is cheaper, and
/// `as_bytes().peek(..)` returns
/// [`ErrorKind::InvalidArgument`](crate::ErrorKind).
///
/// ```
/// use goconc::Map;
///
/// let m: Map<String, u64> = Map::new();
/// m.insert("apples".to_string(), 3);
/// m.update("apples", |n| Some(n.unwrap_or(0) + 2));
/// assert_eq!(m.get("apples"), Some(5));
/// assert_eq!(m.load_or_store("pears".to_string(), 1), None); // stored
/// assert!(m.compare_and_swap("pears", &1, &7));
/// let mut all: Vec<_> = m.iter().collect();
/// all.sort();
/// assert_eq!(all, [("apples".to_string(), 5), ("pears".to_string(), 7)]);
/// ```
pub struct Map<K, V> {
    bytes: ByteMap,
    // Invariant in K and V (a write through &self stores what another
    // handle reads); fn pointers keep the map Send + Sync whatever K and V
    // are, which is right: only bytes cross threads, never a K or a V.
    _kv: Invariant<K, V>,
}

type Invariant<K, V> = PhantomData<fn(K, V) -> (K, V)>;

/// The panicking methods' answer to a library error.
#[track_caller]
fn ok<T>(r: Result<T>) -> T {
    r.unwrap_or_else(|e| e.panic_in("Map"))
}

#[track_caller]
fn decode<T: Decode>(bytes: &[u8]) -> T {
    T::from_bytes(bytes).unwrap_or_else(|| undecodable_value::<T>())
}

#[cold]
#[track_caller]
fn undecodable_value<T>() -> ! {
    panic!(
        "goconc::Map: stored bytes do not decode as {}",
        std::any::type_name::<T>()
    )
}

impl<K: Encode + Decode, V: Encode + Decode> Map<K, V> {
    /// A new, empty map.  Panics when out of memory.
    ///
    /// ```
    /// let m: goconc::Map<u32, String> = goconc::Map::new();
    /// assert!(m.is_empty());
    /// assert_eq!(m.get(&1), None);
    /// ```
    pub fn new() -> Map<K, V> {
        ok(Map::try_new())
    }

    /// A new, empty map, or [`ErrorKind::OutOfMemory`](crate::ErrorKind).
    ///
    /// ```
    /// let m = goconc::Map::<String, u64>::try_new()?;
    /// m.insert("a".to_string(), 1);
    /// assert_eq!(m.len(), 1);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn try_new() -> Result<Map<K, V>> {
        Map::with_options(MapOptions::default())
    }

    /// A new, empty map with these options;
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind) for a shard count
    /// that is not a power of two.  [`MapOptions::no_peek`] is set
    /// whatever `opts` says: the typed map lends no bytes, and its
    /// overwrites of short values are cheaper without peek.
    ///
    /// ```
    /// use goconc::{ErrorKind, Map, MapOptions};
    ///
    /// let opts = MapOptions { shards: 8, capacity_hint: 1000, ..MapOptions::default() };
    /// let m: Map<u64, u64> = Map::with_options(opts)?;
    /// assert_eq!(m.stats().shards, 8);
    /// let bad = MapOptions { shards: 3, ..MapOptions::default() };
    /// let err = Map::<u64, u64>::with_options(bad).err().map(|e| e.kind());
    /// assert_eq!(err, Some(ErrorKind::InvalidArgument));
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn with_options(opts: MapOptions) -> Result<Map<K, V>> {
        let opts = MapOptions {
            no_peek: true,
            ..opts
        };
        Ok(Map {
            bytes: ByteMap::with_options(opts)?,
            _kv: PhantomData,
        })
    }

    /// The byte-level map underneath, for its fallible methods, `range`,
    /// `stats`, `reserve` and `maintain`.  Not for `peek`: the typed map
    /// is created without it ([`MapOptions::no_peek`]), so
    /// `as_bytes().peek(..)` returns
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind).
    ///
    /// ```
    /// let m: goconc::Map<u32, u32> = goconc::Map::new();
    /// m.insert(7, 49);
    /// // Integers are stored as their little-endian bytes.
    /// let raw = m.as_bytes().load(&7u32.to_le_bytes())?;
    /// assert_eq!(raw, Some(49u32.to_le_bytes().to_vec()));
    /// m.as_bytes().store(&8u32.to_le_bytes(), &64u32.to_le_bytes())?; // fallible write
    /// assert_eq!(m.get(&8), Some(64));
    /// let peeked = goconc::read(|g| m.as_bytes().peek(&7u32.to_le_bytes(), g).map(drop));
    /// assert_eq!(peeked.unwrap_err().kind(), goconc::ErrorKind::InvalidArgument);
    /// # Ok::<(), goconc::Error>(())
    /// ```
    pub fn as_bytes(&self) -> &ByteMap {
        &self.bytes
    }

    /// The value under `k`, or `None`.
    ///
    /// ```
    /// let m: goconc::Map<String, u32> = goconc::Map::new();
    /// m.insert("a".to_string(), 1);
    /// assert_eq!(m.get("a"), Some(1)); // a &str looks up a String key
    /// assert_eq!(m.get("b"), None);
    /// ```
    pub fn get<Q>(&self, k: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Encode + ?Sized,
    {
        // One library call, goconc_map_load into a stack buffer, decoded
        // from there: the map lends nothing (no_peek), and a read section
        // around a peek cost more anyway (the exported lock and unlock are
        // calls of their own).
        k.with_bytes(|k| ok(self.bytes.load_with(k, |v| decode(&v))))
    }

    /// [`Map::get`] inside the caller's read section: the value is copied
    /// out and decoded, as `get` does.  It was decoded from the map's own
    /// bytes, borrowed in the section, until the typed map gave up peek
    /// for cheaper overwrites ([`MapOptions::no_peek`]); the guard argument
    /// stays so that callers keep compiling, and is not needed.
    ///
    /// ```
    /// let m: goconc::Map<u32, u32> = (0..4).map(|i| (i, i * 10)).collect();
    /// // Five lookups inside one read section; key 4 is absent.
    /// let sum = goconc::read(|g| (0..5).filter_map(|i| m.get_with(g, &i)).sum::<u32>());
    /// assert_eq!(sum, 60);
    /// ```
    pub fn get_with<Q>(&self, _guard: &ReadGuard, k: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Encode + ?Sized,
    {
        self.get(k)
    }

    /// Whether `k` is present.
    ///
    /// ```
    /// let m: goconc::Map<Vec<u8>, bool> = goconc::Map::new();
    /// m.insert(b"k".to_vec(), false);
    /// assert!(m.contains_key(&b"k"[..])); // present, whatever the value
    /// assert!(!m.contains_key(&b"x"[..]));
    /// ```
    pub fn contains_key<Q>(&self, k: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Encode + ?Sized,
    {
        k.with_bytes(|k| ok(self.bytes.contains_key(k)))
    }

    /// Stores `v` under `k`; returns the value it replaced (Go's `Swap`).
    ///
    /// ```
    /// let m: goconc::Map<u8, char> = goconc::Map::new();
    /// assert_eq!(m.insert(1, 'a'), None);
    /// assert_eq!(m.insert(1, 'b'), Some('a'));
    /// assert_eq!(m.get(&1), Some('b'));
    /// ```
    pub fn insert(&self, k: K, v: V) -> Option<V> {
        self.swap(k, v)
    }

    /// Stores `v` under `k` (Go's `Store`): [`Map::insert`] without the
    /// previous value, the cheapest write (nothing is copied out).
    ///
    /// ```
    /// let m: goconc::Map<u64, u64> = goconc::Map::new();
    /// m.store(1, 10);
    /// m.store(1, 11);
    /// assert_eq!(m.get(&1), Some(11));
    /// ```
    pub fn store(&self, k: K, v: V) {
        k.with_bytes(|k| v.with_bytes(|v| ok(self.bytes.store(k, v))))
    }

    /// Removes `k`; returns its value (Go's `LoadAndDelete`).
    ///
    /// ```
    /// let m: goconc::Map<u32, String> = [(1, "one".to_string())].into_iter().collect();
    /// assert_eq!(m.remove(&1).as_deref(), Some("one"));
    /// assert_eq!(m.remove(&1), None);
    /// assert!(m.is_empty());
    /// ```
    pub fn remove<Q>(&self, k: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Encode + ?Sized,
    {
        k.with_bytes(|k| ok(self.bytes.load_and_delete_with(k, |v| decode(&v))))
    }

    /// Go's `LoadOrStore`: `Some(existing)` when `k` was present (nothing
    /// stored), `None` when `v` was stored.
    ///
    /// ```
    /// let m: goconc::Map<String, u32> = goconc::Map::new();
    /// assert_eq!(m.load_or_store("id".to_string(), 1), None); // stored
    /// assert_eq!(m.load_or_store("id".to_string(), 2), Some(1)); // kept the first
    /// assert_eq!(m.get("id"), Some(1));
    /// ```
    pub fn load_or_store(&self, k: K, v: V) -> Option<V> {
        k.with_bytes(|k| {
            v.with_bytes(|v| ok(self.bytes.load_or_store_with(k, v, |old| decode(&old))))
        })
    }

    /// Go's `Swap`: stores `v` under `k`, returns the previous value.
    ///
    /// ```
    /// let m: goconc::Map<u64, u64> = goconc::Map::new();
    /// assert_eq!(m.swap(5, 50), None);
    /// assert_eq!(m.swap(5, 51), Some(50));
    /// assert_eq!(m.get(&5), Some(51));
    /// ```
    pub fn swap(&self, k: K, v: V) -> Option<V> {
        k.with_bytes(|k| v.with_bytes(|v| ok(self.bytes.swap_with(k, v, |old| decode(&old)))))
    }

    /// Go's `CompareAndSwap`: stores `new` only if `k` holds `old`
    /// (compared as bytes); `true` when swapped.
    ///
    /// ```
    /// let m: goconc::Map<String, u32> = goconc::Map::new();
    /// m.insert("v".to_string(), 1);
    /// assert!(!m.compare_and_swap("v", &0, &2)); // holds 1, not 0
    /// assert!(m.compare_and_swap("v", &1, &2));
    /// assert_eq!(m.get("v"), Some(2));
    /// assert!(!m.compare_and_swap("absent", &1, &2)); // nothing stored
    /// assert!(!m.contains_key("absent"));
    /// ```
    pub fn compare_and_swap<Q>(&self, k: &Q, old: &V, new: &V) -> bool
    where
        K: Borrow<Q>,
        Q: Encode + ?Sized,
    {
        k.with_bytes(|k| {
            old.with_bytes(|o| new.with_bytes(|n| ok(self.bytes.compare_and_swap(k, o, n))))
        })
    }

    /// Go's `CompareAndDelete`: removes `k` only if it holds `old`; `true`
    /// when removed.
    ///
    /// ```
    /// let m: goconc::Map<u32, String> = goconc::Map::new();
    /// m.insert(1, "a".to_string());
    /// assert!(!m.compare_and_delete(&1, &"b".to_string())); // holds "a"
    /// assert!(m.contains_key(&1));
    /// assert!(m.compare_and_delete(&1, &"a".to_string()));
    /// assert!(!m.contains_key(&1));
    /// ```
    pub fn compare_and_delete<Q>(&self, k: &Q, old: &V) -> bool
    where
        K: Borrow<Q>,
        Q: Encode + ?Sized,
    {
        k.with_bytes(|k| old.with_bytes(|o| ok(self.bytes.compare_and_delete(k, o))))
    }

    /// Atomically replaces the entry for `k` with `f(current)`: `Some(v)`
    /// stores `v`, `None` removes the entry.  `f` runs exactly once, while
    /// other writers of `k` wait (readers do not); it may read this map,
    /// and panics if it writes to it.  A panic in `f` leaves the entry as
    /// it was and resumes here.
    ///
    /// ```
    /// let m: goconc::Map<String, u32> = goconc::Map::new();
    /// std::thread::scope(|s| {
    ///     for _ in 0..4 {
    ///         s.spawn(|| {
    ///             for _ in 0..100 {
    ///                 m.update("hits", |n| Some(n.unwrap_or(0) + 1));
    ///             }
    ///         });
    ///     }
    /// });
    /// assert_eq!(m.get("hits"), Some(400)); // no increment lost
    /// m.update("hits", |_| None); // None removes the entry
    /// assert!(m.is_empty());
    /// ```
    pub fn update<Q, F>(&self, k: &Q, f: F)
    where
        K: Borrow<Q>,
        Q: Encode + ?Sized,
        F: FnOnce(Option<V>) -> Option<V>,
    {
        // The new value's bytes stay on the stack (Encoded), not in the
        // Vec that ByteMap::update's Update::Store would allocate.  Bytes
        // that do not decode keep the entry and panic after the call, not
        // inside it: with no panic of its own in the callback, an f that
        // cannot panic leaves the trampoline no landing pad and nothing
        // to save (doc/bindings.md, "The trampoline without a landing
        // pad").
        let mut undecodable = false;
        k.with_bytes(|k| {
            ok(self.bytes.update_with(k, |old| {
                let old = match old {
                    None => None,
                    Some(b) => match V::from_bytes(b) {
                        Some(v) => Some(v),
                        None => {
                            undecodable = true;
                            return Decision::Keep;
                        }
                    },
                };
                match f(old) {
                    Some(v) => Decision::Store(Encoded::of(&v)),
                    None => Decision::Delete,
                }
            }))
        });
        if undecodable {
            undecodable_value::<V>();
        }
    }

    /// Removes the entries for which `f(&key, &value)` returns `false`
    /// ([`ByteMap::retain`]: each entry present for the whole call offered
    /// once; one written after `f` saw it kept).  `f` may read this map
    /// and write it; a panic in it resumes here.
    ///
    /// ```
    /// let m: goconc::Map<u32, u32> = (0..10).map(|i| (i, i * i)).collect();
    /// m.retain(|k, v| k % 2 == 0 && *v > 10);
    /// let mut left: Vec<_> = m.iter().collect();
    /// left.sort();
    /// assert_eq!(left, [(4, 16), (6, 36), (8, 64)]);
    /// ```
    pub fn retain<F: FnMut(&K, &V) -> bool>(&self, mut f: F) {
        ok(self.bytes.retain(|k, v| f(&decode(k), &decode(v))))
    }

    /// The number of entries (exact when nothing else runs).
    ///
    /// ```
    /// let m: goconc::Map<u32, u32> = (0..3).map(|i| (i, i)).collect();
    /// assert_eq!(m.len(), 3);
    /// m.insert(0, 9); // replacing a value adds no entry
    /// assert_eq!(m.len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the map has no entries.
    ///
    /// ```
    /// let m: goconc::Map<u32, u32> = goconc::Map::new();
    /// assert!(m.is_empty());
    /// m.insert(1, 1);
    /// assert!(!m.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Removes every entry (atomic per shard).
    ///
    /// ```
    /// let m: goconc::Map<u32, u32> = (0..100).map(|i| (i, i)).collect();
    /// m.clear();
    /// assert!(m.is_empty());
    /// assert_eq!(m.get(&5), None);
    /// ```
    pub fn clear(&self) {
        ok(self.bytes.clear())
    }

    /// The map's counters.
    ///
    /// ```
    /// let m: goconc::Map<u32, u32> = (0..100).map(|i| (i, i)).collect();
    /// let st = m.stats();
    /// assert_eq!(st.len, 100);
    /// assert!(st.shards.is_power_of_two());
    /// assert!(st.bytes > 0);
    /// ```
    pub fn stats(&self) -> MapStats {
        ok(self.bytes.stats())
    }

    /// The entries, fetched a batch at a time ([`ByteMap::iter`]): a key
    /// present for the whole iteration comes at least once, and twice only
    /// if its shard resized between two batches.
    ///
    /// ```
    /// let m: goconc::Map<char, u32> = [('a', 1), ('b', 2)].into_iter().collect();
    /// let mut all: Vec<(char, u32)> = m.iter().collect(); // in no particular order
    /// all.sort();
    /// assert_eq!(all, [('a', 1), ('b', 2)]);
    /// assert_eq!(m.iter().map(|(_, v)| v).sum::<u32>(), 3);
    /// ```
    pub fn iter(&self) -> MapIter<'_, K, V> {
        MapIter {
            bytes: self.bytes.iter(),
            _kv: PhantomData,
        }
    }
}

impl<K: Encode + Decode, V: Encode + Decode> Default for Map<K, V> {
    /// An empty map.  Panics when out of memory.
    fn default() -> Self {
        Map::new()
    }
}

impl<K: Encode + Decode, V: Encode + Decode> Clone for Map<K, V> {
    /// A new map holding a copy of every entry ([`ByteMap::try_clone`]:
    /// the same shard count, without peek as every typed map, sized up
    /// front; entries written meanwhile may or may not be copied).  Panics
    /// when out of memory.
    ///
    /// ```
    /// let m: goconc::Map<u32, String> = [(1, "one".to_string())].into_iter().collect();
    /// let c = m.clone();
    /// m.insert(2, "two".to_string());
    /// assert_eq!(c.get(&1).as_deref(), Some("one"));
    /// assert!(!c.contains_key(&2));
    /// ```
    fn clone(&self) -> Self {
        Map {
            bytes: ok(self.bytes.try_clone()),
            _kv: PhantomData,
        }
    }
}

impl<K: Encode + Decode, V: Encode + Decode> Extend<(K, V)> for Map<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: Encode + Decode, V: Encode + Decode> FromIterator<(K, V)> for Map<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = Map::new();
        m.extend(iter);
        m
    }
}

impl<K, V> fmt::Debug for Map<K, V>
where
    K: Encode + Decode + fmt::Debug,
    V: Encode + Decode + fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a, K: Encode + Decode, V: Encode + Decode> IntoIterator for &'a Map<K, V> {
    type Item = (K, V);
    type IntoIter = MapIter<'a, K, V>;
    fn into_iter(self) -> MapIter<'a, K, V> {
        self.iter()
    }
}

/// The iterator of [`Map::iter`]: owned `(K, V)` pairs.
///
/// ```
/// let m: goconc::Map<u32, String> = (1..=3).map(|i| (i, "x".repeat(i as usize))).collect();
/// let it: goconc::MapIter<'_, u32, String> = m.iter();
/// assert_eq!(it.count(), 3);
/// let mut total = 0;
/// for (k, v) in &m { // `&Map` iterates with a MapIter too
///     assert_eq!(v.len(), k as usize);
///     total += k;
/// }
/// assert_eq!(total, 6);
/// ```
pub struct MapIter<'a, K, V> {
    bytes: Iter<'a>,
    _kv: PhantomData<fn() -> (K, V)>,
}

impl<K: Decode, V: Decode> Iterator for MapIter<'_, K, V> {
    type Item = (K, V);
    fn next(&mut self) -> Option<(K, V)> {
        self.bytes.next().map(|(k, v)| (decode(&k), decode(&v)))
    }
}
