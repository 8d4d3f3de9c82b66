// SPDX-License-Identifier: MIT
//! goconc::Map<K, V> and the Encode/Decode codecs.
use std::collections::HashMap;
use std::fmt::Debug;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;

use goconc::{read, Decode, Encode, ErrorKind, Map, MapOptions};

fn round_trip<T: Encode + Decode + PartialEq + Debug>(x: T) {
    assert_eq!(T::from_bytes(&x.to_bytes()), Some(x));
}

#[test]
fn codecs_round_trip_and_refuse_foreign_bytes() {
    round_trip(0u8);
    round_trip(u16::MAX);
    round_trip(u32::MAX - 1);
    round_trip(u64::MAX);
    round_trip(u128::MAX / 3);
    round_trip(usize::MAX);
    round_trip(i8::MIN);
    round_trip(i16::MIN);
    round_trip(-1i32);
    round_trip(i64::MIN);
    round_trip(i128::MIN + 1);
    round_trip(isize::MIN);
    round_trip(true);
    round_trip(false);
    round_trip('\u{10ffff}');
    round_trip(String::from("héllo"));
    round_trip(String::new());
    round_trip(vec![0u8, 255, 7]);
    round_trip([9u8; 3]);
    // Little-endian, fixed width: the bytes do not depend on the machine.
    assert_eq!(0x0102u16.to_bytes(), [2, 1]);
    assert_eq!((-2i32).to_bytes(), [0xfe, 0xff, 0xff, 0xff]);
    // Borrowed forms encode as their owned forms.
    assert_eq!("ab".to_bytes(), String::from("ab").to_bytes());
    assert_eq!(b"ab"[..].to_bytes(), vec![b'a', b'b'].to_bytes());
    assert_eq!(<&u64 as Encode>::to_bytes(&&7), 7u64.to_bytes());
    // Bytes no encoding of the type could have written.
    assert_eq!(u32::from_bytes(&[1, 2, 3]), None);
    assert_eq!(bool::from_bytes(&[2]), None);
    assert_eq!(char::from_bytes(&0xd800u32.to_le_bytes()), None);
    assert_eq!(String::from_bytes(&[0xff]), None);
    assert_eq!(<[u8; 2]>::from_bytes(&[1]), None);
}

#[test]
fn std_style_operations() {
    let m: Map<String, u64> = Map::new();
    assert!(m.is_empty());
    assert_eq!(m.insert("a".into(), 1), None);
    assert_eq!(m.insert("a".into(), 2), Some(1));
    assert_eq!(m.get("a"), Some(2));
    assert_eq!(m.get(&"a".to_string()), Some(2));
    assert_eq!(m.get("b"), None);
    assert!(m.contains_key("a"));
    assert!(!m.contains_key("b"));
    assert_eq!(m.len(), 1);
    assert_eq!(
        read(|g| (m.get_with(g, "a"), m.get_with(g, "b"))),
        (Some(2), None)
    );
    assert_eq!(m.remove("a"), Some(2));
    assert_eq!(m.remove("a"), None);
    assert!(m.is_empty());

    let mut m: Map<u32, Vec<u8>> = (0..10u32).map(|i| (i, vec![i as u8; i as usize])).collect();
    m.extend([(10, vec![]), (3, b"three".to_vec())]);
    assert_eq!(m.len(), 11);
    assert_eq!(m.get(&3).as_deref(), Some(&b"three"[..]));
    let mut all: Vec<_> = m.iter().collect();
    all.sort();
    assert_eq!(all.len(), 11);
    assert_eq!(all[10], (10, vec![]));
    assert_eq!((&m).into_iter().count(), 11);
    m.clear();
    assert!(m.is_empty());
    assert_eq!(m.stats().len, 0);

    let d: Map<[u8; 2], bool> = Map::default();
    d.insert(*b"ok", true);
    assert_eq!(format!("{d:?}"), "{[111, 107]: true}");
    let o: Map<i64, char> = Map::with_options(MapOptions {
        shards: 4,
        ..MapOptions::default()
    })
    .unwrap();
    o.insert(-5, 'x');
    assert_eq!(
        o.as_bytes().load(&(-5i64).to_le_bytes()).unwrap(),
        Some(b"x\0\0\0".to_vec())
    );
    assert_eq!(o.stats().shards, 4);
    let c = o.clone(); // its own entries, the same shard count
    o.insert(-5, 'y');
    o.insert(6, 'z');
    assert_eq!((c.get(&-5), c.get(&6), c.len()), (Some('x'), None, 1));
    assert_eq!(c.stats().shards, 4);
    assert!(Map::<u8, u8>::with_options(MapOptions {
        shards: 3,
        ..MapOptions::default()
    })
    .is_err());
    assert!(Map::<u8, u8>::try_new().unwrap().is_empty());
}

/// The typed map lends no bytes: it is created without peek whatever its
/// options say, and so is its clone; its reads copy.
#[test]
fn typed_map_refuses_peek() {
    let asked_for_peek = MapOptions {
        shards: 4,
        no_peek: false,
        ..MapOptions::default()
    };
    let m: Map<u64, u64> = Map::with_options(asked_for_peek).unwrap();
    m.insert(1, 2);
    assert_eq!(m.insert(1, 3), Some(2)); // may be rewritten in place
    for map in [&Map::new(), &m, &m.clone()] {
        map.store(4, 5);
        let e = read(|g| map.as_bytes().peek(&4u64.to_le_bytes(), g).map(drop)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert_eq!(map.get(&4), Some(5));
        assert_eq!(
            read(|g| (map.get_with(g, &4), map.get_with(g, &9))),
            (Some(5), None)
        );
    }
    assert_eq!(m.get(&1), Some(3));
    assert_eq!(m.clone().stats().shards, 4);
}

#[test]
fn go_style_operations() {
    let m: Map<u64, String> = Map::new();
    assert_eq!(m.load_or_store(1, "one".into()), None);
    assert_eq!(m.load_or_store(1, "uno".into()), Some("one".into()));
    assert_eq!(m.swap(1, "eins".into()), Some("one".into()));
    assert_eq!(m.swap(2, "zwei".into()), None);
    assert!(!m.compare_and_swap(&1, &"one".into(), &"x".into()));
    assert!(m.compare_and_swap(&1, &"eins".into(), &"ein".into()));
    assert!(!m.compare_and_swap(&9, &"".into(), &"x".into())); // absent
    assert!(!m.compare_and_delete(&1, &"eins".into()));
    assert!(m.compare_and_delete(&1, &"ein".into()));
    assert_eq!(m.get(&1), None);
    assert_eq!(m.get(&2).as_deref(), Some("zwei"));
}

/// Values on both sides of the binding's inline buffers (128 bytes for a
/// copy out, 32 for an update's new value) through every typed operation.
#[test]
fn values_of_every_size_class() {
    let m: Map<u32, String> = Map::new();
    let sizes = [0usize, 1, 31, 32, 33, 127, 128, 129, 4096];
    let text = |n: usize, c: char| -> String { std::iter::repeat(c).take(n).collect() };
    for (i, &n) in sizes.iter().enumerate() {
        let (a, b) = (text(n, 'a'), text(sizes[(i + 1) % sizes.len()], 'b'));
        m.store(7, a.clone());
        assert_eq!(m.get(&7).as_ref(), Some(&a));
        assert_eq!(m.insert(7, b.clone()).as_ref(), Some(&a));
        assert_eq!(m.swap(7, a.clone()).as_ref(), Some(&b));
        assert_eq!(m.load_or_store(7, b.clone()).as_ref(), Some(&a));
        m.update(&7, |old| old.map(|s| s + "c"));
        assert_eq!(m.get(&7), Some(a.clone() + "c"));
        m.update(&7, |_| Some(b.clone()));
        assert_eq!(m.get(&7).as_ref(), Some(&b));
        assert_eq!(m.remove(&7).as_ref(), Some(&b));
        assert_eq!(m.get(&7), None);
    }
}

#[test]
fn update_stores_deletes_and_survives_panics() {
    let m: Map<String, u32> = Map::new();
    m.update("n", |old| {
        assert_eq!(old, None);
        Some(1)
    });
    m.update("n", |old| old.map(|n| n + 1));
    assert_eq!(m.get("n"), Some(2));
    m.update("n", |_| None);
    assert!(!m.contains_key("n"));
    m.update("n", |_| None); // deleting an absent key is fine
    m.insert("n".into(), 5);
    let r = catch_unwind(AssertUnwindSafe(|| m.update("n", |_| panic!("boom"))));
    assert!(r.is_err());
    assert_eq!(m.get("n"), Some(5)); // unchanged
                                     // Reading the map inside update is fine; writing it would deadlock.
    m.update("m", |_| m.get("n"));
    assert_eq!(m.get("m"), Some(5));
    let r = catch_unwind(AssertUnwindSafe(|| {
        m.update("m", |old| {
            m.insert("other".into(), 1);
            old
        })
    }));
    let msg = r.unwrap_err();
    let msg = msg.downcast_ref::<String>().unwrap();
    assert!(msg.contains("goconc::Map"), "{msg}");
    assert!(!m.contains_key("other"));
}

/// Bytes the value type cannot decode (written through as_bytes): update
/// panics with the type's name, does not call f, and leaves them.
#[test]
fn update_of_undecodable_bytes_panics_and_keeps_them() {
    let m: Map<u32, bool> = Map::new();
    m.as_bytes().store(&1u32.to_le_bytes(), &[7]).unwrap();
    let mut called = false;
    let r = catch_unwind(AssertUnwindSafe(|| {
        m.update(&1, |_| {
            called = true;
            Some(true)
        })
    }));
    let msg = r.unwrap_err();
    let msg = msg.downcast_ref::<String>().unwrap();
    assert!(msg.contains("do not decode as bool"), "{msg}");
    assert!(!called);
    assert_eq!(
        m.as_bytes().load(&1u32.to_le_bytes()).unwrap(),
        Some(vec![7])
    );
    m.update(&2, |old| old.or(Some(true))); // others still work
    assert_eq!(m.get(&2), Some(true));
}

/// A deterministic xorshift generator; the seed is printed so a failing
/// run can be replayed with GOCONC_SEED.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn seed() -> u64 {
    let s = std::env::var("GOCONC_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
        | 1;
    println!("typed_map stress: GOCONC_SEED={s}");
    s
}

/// Four threads mix every write on keys of their own (so each thread's
/// model is exact) and increment shared counters with update (whose sum
/// is known); afterwards the map must equal the models' union.
#[test]
fn four_threads_against_an_oracle() {
    const THREADS: u64 = 4;
    const OPS: u64 = 3000;
    const OWN_KEYS: u64 = 64;
    const COUNTERS: u64 = 8;
    let seed = seed();
    let m: Map<u64, u64> = Map::new();
    let increments = AtomicU64::new(0);
    let models: Vec<HashMap<u64, u64>> = thread::scope(|s| {
        let hs: Vec<_> = (0..THREADS)
            .map(|t| {
                let (m, increments) = (&m, &increments);
                s.spawn(move || {
                    let mut rng = Rng(seed.wrapping_mul(t + 1) | 1);
                    let mut model = HashMap::new();
                    // Disagreements are collected, asserted by the main thread.
                    let mut errors = Vec::new();
                    for i in 0..OPS {
                        let r = rng.next();
                        let k = (t << 32) | (r % OWN_KEYS);
                        let v = r >> 8;
                        let (got, want) = match r % 7 {
                            0 => (m.insert(k, v), model.insert(k, v)),
                            1 => (m.remove(&k), model.remove(&k)),
                            2 => (m.get(&k), model.get(&k).copied()),
                            3 => {
                                let want = model.get(&k).copied();
                                if want.is_none() {
                                    model.insert(k, v);
                                }
                                (m.load_or_store(k, v), want)
                            }
                            4 => {
                                let old = model.get(&k).copied().unwrap_or(v);
                                let swapped = m.compare_and_swap(&k, &old, &(v + 1));
                                let want = model.get(&k) == Some(&old);
                                if want {
                                    model.insert(k, v + 1);
                                }
                                (Some(swapped as u64), Some(want as u64))
                            }
                            5 => {
                                m.update(&k, |old| old.map(|x| x ^ v));
                                if let Some(x) = model.get_mut(&k) {
                                    *x ^= v;
                                }
                                (m.get(&k), model.get(&k).copied())
                            }
                            _ => {
                                let c = u64::MAX - r % COUNTERS; // shared keys
                                m.update(&c, |old| Some(old.unwrap_or(0) + 1));
                                increments.fetch_add(1, Ordering::Relaxed);
                                (None, None)
                            }
                        };
                        if got != want {
                            errors.push(format!("thread {t} op {i} key {k}: {got:?} != {want:?}"));
                        }
                    }
                    (model, errors)
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| {
                let (model, errors) = h.join().unwrap();
                assert!(errors.is_empty(), "seed {seed}: {errors:?}");
                model
            })
            .collect()
    });
    let want: HashMap<u64, u64> = models.into_iter().flatten().collect();
    let counted: u64 = (0..COUNTERS)
        .map(|i| m.remove(&(u64::MAX - i)).unwrap_or(0))
        .sum();
    assert_eq!(counted, increments.load(Ordering::Relaxed), "seed {seed}");
    let got: HashMap<u64, u64> = m.iter().collect();
    assert_eq!(got, want, "seed {seed}");
    assert_eq!(m.len(), want.len(), "seed {seed}");
}

/// retain while other threads write (ByteMap::retain's promise): every
/// key present from the start is offered exactly once and no key twice; a
/// value `f` rejected is removed unless the key was rewritten after `f`
/// saw it; nothing `f` did not reject is removed.  Two writers rewrite
/// keys of their own with values `f` keeps, and add new keys, while the
/// walk runs; a helper rewrites keys that `f` is about to reject, on
/// `f`'s request and while `f` waits: the interleaving that a plain
/// delete gets wrong every time, not just when the scheduler allows.
#[test]
fn retain_while_others_write() {
    const N: u64 = 20_000;
    const HANDED: u64 = 5; // k % 8 == 5: rewritten by the helper
    let busy = [1, 3, 7]; // k % 8 in busy: rewritten by writer (k / 8) % 2
    let start = |k: u64| match k % 8 {
        2 | 4 | 6 => 1, // kept
        _ => 0,         // rejected unless rewritten
    };
    let seed = seed();
    let m: Map<u64, u64> = (0..N).map(|k| (k, start(k))).collect();
    let done = AtomicBool::new(false);
    let mut offered = vec![0u32; N as usize];
    let mut offered_new: HashMap<u64, u32> = HashMap::new();
    let models: Vec<HashMap<u64, u64>> = thread::scope(|s| {
        let writers: Vec<_> = (0..2u64)
            .map(|w| {
                let (m, done) = (&m, &done);
                s.spawn(move || {
                    let mut rng = Rng(seed.wrapping_mul(w + 3) | 1);
                    let mut model = HashMap::new();
                    let mut fresh = N + w;
                    while !done.load(Ordering::Acquire) {
                        let r = rng.next();
                        let group = (r >> 8) % (N / 16) * 2 + w;
                        let k = group * 8 + busy[(r % 3) as usize];
                        let v = (r >> 20) | 1; // odd: f keeps it
                        m.insert(k, v);
                        model.insert(k, v);
                        if r % 16 == 0 {
                            m.insert(fresh, v);
                            model.insert(fresh, v);
                            fresh += 2;
                        }
                    }
                    model
                })
            })
            .collect();
        let (ask, asked) = mpsc::channel::<u64>();
        let (ack, acked) = mpsc::channel::<()>();
        let helper = {
            let m = &m;
            s.spawn(move || {
                for k in asked {
                    m.insert(k, 7);
                    ack.send(()).unwrap();
                }
            })
        };
        m.retain(|&k, &v| {
            match offered.get_mut(k as usize) {
                Some(n) => *n += 1,
                None => *offered_new.entry(k).or_insert(0) += 1,
            }
            if k < N && k % 8 == HANDED {
                ask.send(k).unwrap();
                acked.recv().unwrap();
            }
            v % 2 == 1
        });
        done.store(true, Ordering::Release);
        drop(ask);
        helper.join().unwrap();
        writers.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let not_once: Vec<_> = (0..N).filter(|&k| offered[k as usize] != 1).collect();
    assert!(
        not_once.is_empty(),
        "seed {seed}: offered other than once: {not_once:?}"
    );
    assert!(
        offered_new.values().all(|&n| n == 1),
        "seed {seed}: a new key offered twice"
    );
    let mut want: HashMap<u64, u64> = (0..N).filter(|&k| start(k) == 1).map(|k| (k, 1)).collect();
    want.extend((0..N / 8).map(|g| (g * 8 + HANDED, 7)));
    want.extend(models.into_iter().flatten());
    let got: HashMap<u64, u64> = m.iter().collect();
    let lost: Vec<_> = want.iter().filter(|(k, v)| got.get(k) != Some(v)).collect();
    let kept: Vec<_> = got.keys().filter(|k| !want.contains_key(k)).collect();
    assert!(lost.is_empty(), "seed {seed}: removed or changed: {lost:?}");
    assert!(kept.is_empty(), "seed {seed}: rejected but kept: {kept:?}");
}

/// The value that a writer's `counter`-th write stores under `k`: the low
/// half from both, the high half its complement xor the key, so that a
/// value torn between two writes, or one of another key, fails
/// [`counter_of`].
fn stamped(k: u64, counter: u64) -> u64 {
    let low = k.wrapping_mul(1_000_003).wrapping_add(counter) as u32;
    let high = !low ^ k as u32;
    (u64::from(high) << 32) | u64::from(low)
}

/// The counter of a value [`stamped`] for `k`; `None` for any other value.
fn counter_of(k: u64, v: u64) -> Option<u64> {
    let (low, high) = (v as u32, (v >> 32) as u32);
    let base = k.wrapping_mul(1_000_003) as u32;
    (high == !low ^ k as u32).then(|| u64::from(low.wrapping_sub(base)))
}

/// What a reader of `readers_see_whole_values_rewritten_in_place` saw: the
/// last counter of each key, and what was wrong.
struct Seen {
    last: Vec<u64>,
    errors: Vec<String>,
}

impl Seen {
    fn new(keys: u64) -> Seen {
        Seen {
            last: vec![0; keys as usize],
            errors: Vec::new(),
        }
    }

    /// `v`, read by `how`, is a value stamped for `k`; its counter.
    fn whole(&mut self, how: &str, k: u64, v: Option<u64>) -> Option<u64> {
        let c = v.and_then(|v| counter_of(k, v));
        if c.is_none() {
            self.errors.push(format!("{how} {k}: {v:x?}"));
        }
        c
    }

    /// [`Seen::whole`], and no older than what this thread saw of `k`
    /// before (a single-key read is linearizable and `k` has one writer).
    fn at_least_last(&mut self, how: &str, k: u64, v: Option<u64>) {
        if let Some(c) = self.whole(how, k, v) {
            let last = &mut self.last[k as usize];
            if c < *last {
                self.errors
                    .push(format!("{how} {k}: counter {c} after {last}"));
            }
            *last = c;
        }
    }
}

/// The last writer to finish (or panic) tells the readers to stop.
struct WriterDone<'a>(&'a AtomicU64, &'a AtomicBool);

impl Drop for WriterDone<'_> {
    fn drop(&mut self) {
        if self.0.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.1.store(true, Ordering::Release);
        }
    }
}

/// Writers overwrite 8-byte values under 8-byte keys, the writes that a
/// map without peek rewrites in place, while readers copy them out with
/// `get`, `get_with`, `iter` and `as_bytes().range`.  Each key has one
/// writer, whose counter only grows: a reader must see only values of
/// that key (never one torn between two writes), and `get`/`get_with` of
/// one key never an older counter than it saw before; `insert` and
/// `update` must hand the writer its own previous value.
#[test]
fn readers_see_whole_values_rewritten_in_place() {
    const KEYS: u64 = 64;
    const WRITERS: u64 = 2;
    const READERS: u64 = 2;
    const OPS: u64 = 100_000;
    let seed = seed();
    let m: Map<u64, u64> = (0..KEYS).map(|k| (k, stamped(k, 0))).collect();
    let done = AtomicBool::new(false);
    let writers_left = AtomicU64::new(WRITERS);
    let (last, errors) = thread::scope(|s| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (m, done, writers_left) = (&m, &done, &writers_left);
                s.spawn(move || {
                    // Dropped on return or panic: the readers stop either way.
                    let _finish = WriterDone(writers_left, done);
                    let mut rng = Rng(seed.wrapping_mul(w + 1) | 1);
                    let mut last = vec![0u64; KEYS as usize];
                    let mut errors = Vec::new();
                    for _ in 0..OPS {
                        let r = rng.next();
                        let k = (r >> 8) % (KEYS / WRITERS) * WRITERS + w;
                        let (prev, next) = (last[k as usize], last[k as usize] + 1);
                        match r % 3 {
                            0 => m.store(k, stamped(k, next)),
                            1 => {
                                let old = m.insert(k, stamped(k, next));
                                if old != Some(stamped(k, prev)) {
                                    errors.push(format!("insert {k}: {old:x?}, wrote {prev}"));
                                }
                            }
                            _ => m.update(&k, |old| {
                                if old != Some(stamped(k, prev)) {
                                    errors.push(format!("update {k}: {old:x?}, wrote {prev}"));
                                }
                                Some(stamped(k, next))
                            }),
                        }
                        last[k as usize] = next;
                    }
                    (last, errors)
                })
            })
            .collect();
        let readers: Vec<_> = (0..READERS)
            .map(|r| {
                let (m, done) = (&m, &done);
                s.spawn(move || {
                    let mut rng = Rng(seed.wrapping_mul(r + 101) | 1);
                    let mut seen = Seen::new(KEYS);
                    let mut round = 0u64;
                    while !done.load(Ordering::Acquire) {
                        let k = rng.next() % KEYS;
                        seen.at_least_last("get", k, m.get(&k));
                        let k2 = (k + 1) % KEYS;
                        let (a, b) = read(|g| (m.get_with(g, &k), m.get_with(g, &k2)));
                        seen.at_least_last("get_with", k, a);
                        seen.at_least_last("get_with", k2, b);
                        round += 1;
                        if round % 64 == 0 {
                            let mut n = 0;
                            for (k, v) in m.iter() {
                                seen.whole("iter", k, Some(v));
                                n += 1;
                            }
                            if n < KEYS {
                                seen.errors.push(format!("iter: {n} of {KEYS} keys"));
                            }
                            m.as_bytes()
                                .range(|k, v| {
                                    let k = u64::from_le_bytes(k.try_into().unwrap());
                                    seen.whole(
                                        "range",
                                        k,
                                        v.try_into().ok().map(u64::from_le_bytes),
                                    );
                                    true
                                })
                                .unwrap();
                        }
                    }
                    seen.errors
                })
            })
            .collect();
        let mut last = vec![0u64; KEYS as usize];
        let mut errors = Vec::new();
        for h in writers {
            let (l, e) = h.join().unwrap();
            last.iter_mut().zip(l).for_each(|(a, b)| *a = (*a).max(b));
            errors.extend(e);
        }
        for h in readers {
            errors.extend(h.join().unwrap());
        }
        (last, errors)
    });
    assert!(errors.is_empty(), "seed {seed}: {errors:?}");
    for k in 0..KEYS {
        assert_eq!(m.get(&k), Some(stamped(k, last[k as usize])), "seed {seed}");
    }
    assert_eq!(m.len(), KEYS as usize);
}
