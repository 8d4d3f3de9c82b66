// SPDX-License-Identifier: MIT
//! goconc::ByteMap.
use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use goconc::{read, ByteMap, ErrorKind, MapOptions, Update};

#[test]
fn store_load_delete_len() {
    let m = ByteMap::new();
    assert!(m.is_empty());
    assert_eq!(m.load(b"k").unwrap(), None);
    m.store(b"k", b"v").unwrap();
    m.store(b"", b"").unwrap(); // empty key and value
    assert_eq!(m.load(b"k").unwrap(), Some(b"v".to_vec()));
    assert_eq!(m.load(b"").unwrap(), Some(vec![]));
    assert!(m.contains_key(b"k").unwrap());
    assert!(!m.contains_key(b"x").unwrap());
    assert_eq!(m.len(), 2);
    assert!(m.delete(b"k").unwrap());
    assert!(!m.delete(b"k").unwrap());
    assert_eq!(m.len(), 1);
}

#[test]
fn values_larger_than_the_first_buffer() {
    let m = ByteMap::new();
    // The first try copies into a 128-byte stack buffer; longer values take
    // a second call with a heap buffer.
    for size in [0usize, 1, 63, 64, 65, 127, 128, 129, 5000, 1 << 20] {
        let v: Vec<u8> = (0..size).map(|i| i as u8).collect();
        m.store(b"big", &v).unwrap();
        assert_eq!(m.load(b"big").unwrap().unwrap(), v);
        assert_eq!(m.swap(b"big", b"s").unwrap().unwrap(), v);
        m.store(b"big", &v).unwrap();
        assert_eq!(m.load_or_store(b"big", b"no").unwrap().unwrap(), v);
        assert_eq!(m.load_and_delete(b"big").unwrap().unwrap(), v);
    }
}

#[test]
fn go_style_operations() {
    let m = ByteMap::new();
    assert_eq!(m.load_or_store(b"k", b"1").unwrap(), None);
    assert_eq!(m.load_or_store(b"k", b"2").unwrap(), Some(b"1".to_vec()));
    assert_eq!(m.swap(b"k", b"3").unwrap(), Some(b"1".to_vec()));
    assert_eq!(m.swap(b"n", b"new").unwrap(), None);
    assert!(!m.compare_and_swap(b"k", b"1", b"4").unwrap());
    assert!(m.compare_and_swap(b"k", b"3", b"4").unwrap());
    assert!(!m.compare_and_swap(b"absent", b"", b"x").unwrap());
    assert!(!m.compare_and_delete(b"k", b"3").unwrap());
    assert!(m.compare_and_delete(b"k", b"4").unwrap());
    assert_eq!(m.load_and_delete(b"k").unwrap(), None);
    assert_eq!(m.load_and_delete(b"n").unwrap(), Some(b"new".to_vec()));
    assert!(m.is_empty());
}

#[test]
fn peek_borrows_for_the_guard() {
    let m = ByteMap::new();
    m.store(b"k", b"first").unwrap();
    read(|g| {
        let v = m.peek(b"k", g).unwrap().unwrap();
        m.store(b"k", b"second").unwrap();
        m.delete(b"k").unwrap();
        assert_eq!(v, b"first"); // unchanged while the section lasts
        assert_eq!(m.peek(b"k", g).unwrap(), None);
    });
}

/// A map without peek: every other operation gives the same answers, on
/// values rewritten in place (8-byte keys and values, same length) and on
/// the others alike; peek is refused, also on a clone.
#[test]
fn no_peek_map_copies_out_and_refuses_peek() {
    let m = ByteMap::with_options(MapOptions {
        no_peek: true,
        ..MapOptions::default()
    })
    .unwrap();
    let k = |i: u64| i.to_le_bytes();
    for i in 0..100u64 {
        m.store(&k(i), &k(i)).unwrap();
    }
    for i in 0..100u64 {
        m.store(&k(i), &k(i + 1000)).unwrap(); // in place
    }
    m.store(b"a longer key", b"v").unwrap();
    m.store(b"a longer key", b"w").unwrap();
    m.store(b"s", b"short").unwrap();
    m.store(b"s", b"a longer value").unwrap(); // another length: a new entry
    assert_eq!(m.load(&k(7)).unwrap(), Some(k(1007).to_vec()));
    assert_eq!(m.load(b"a longer key").unwrap(), Some(b"w".to_vec()));
    assert_eq!(m.load(b"s").unwrap(), Some(b"a longer value".to_vec()));
    assert_eq!(m.len(), 102);

    assert_eq!(m.swap(&k(7), &k(2007)).unwrap(), Some(k(1007).to_vec()));
    m.update(&k(7), |old| {
        let x = u64::from_le_bytes(old.unwrap().try_into().unwrap());
        Update::Store((x + 1).to_le_bytes().to_vec())
    })
    .unwrap();
    assert_eq!(m.load(&k(7)).unwrap(), Some(k(2008).to_vec()));
    assert!(m.compare_and_swap(&k(7), &k(2008), &k(3008)).unwrap());
    assert_eq!(
        m.load_or_store(&k(7), &k(0)).unwrap(),
        Some(k(3008).to_vec())
    );

    let mut seen = HashMap::new();
    m.range(|k, v| seen.insert(k.to_vec(), v.to_vec()).is_none())
        .unwrap();
    assert_eq!(seen.len(), 102);
    assert_eq!(seen[&k(7).to_vec()], k(3008));
    assert_eq!(seen[&k(8).to_vec()], k(1008));
    let scanned: HashMap<_, _> = m.iter().collect();
    assert_eq!(scanned, seen);

    assert_eq!(m.load_and_delete(&k(7)).unwrap(), Some(k(3008).to_vec()));
    assert!(m.delete(&k(8)).unwrap());
    assert!(m.compare_and_delete(&k(9), &k(1009)).unwrap());
    assert_eq!(m.load(&k(8)).unwrap(), None);
    assert_eq!(m.len(), 99);

    let clone = m.try_clone().unwrap();
    assert_eq!(clone.load(&k(10)).unwrap(), Some(k(1010).to_vec()));
    for map in [&m, &clone] {
        let e = read(|g| map.peek(&k(10), g).map(|v| v.is_some())).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        // Refused for an absent key too: the map lends nothing.
        let e = read(|g| map.peek(b"absent", g).map(|v| v.is_some())).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    }
}

/// A map created with the options' defaults still lends its values, and
/// so does its clone.
#[test]
fn default_options_keep_peek() {
    let m = ByteMap::with_options(MapOptions::default()).unwrap();
    m.store(&1u64.to_le_bytes(), &2u64.to_le_bytes()).unwrap();
    for map in [&m, &m.clone()] {
        read(|g| {
            let v = map.peek(&1u64.to_le_bytes(), g).unwrap();
            assert_eq!(v, Some(&2u64.to_le_bytes()[..]));
        });
    }
}

#[test]
fn update_store_keep_delete() {
    let m = ByteMap::new();
    m.update(b"k", |old| {
        assert_eq!(old, None);
        Update::Store(b"1".to_vec())
    })
    .unwrap();
    m.update(b"k", |old| {
        let mut v = old.unwrap().to_vec();
        v.push(b'2');
        Update::Store(v)
    })
    .unwrap();
    m.update(b"k", |_| Update::Keep).unwrap();
    assert_eq!(m.load(b"k").unwrap(), Some(b"12".to_vec()));
    m.update(b"k", |_| Update::Delete).unwrap();
    m.update(b"absent", |_| Update::Delete).unwrap();
    m.update(b"absent", |_| Update::Keep).unwrap();
    assert!(m.is_empty());
}

#[test]
fn update_may_read_but_not_write() {
    let m = ByteMap::new();
    m.store(b"other", b"o").unwrap();
    let mut seen = None;
    m.update(b"k", |_| {
        seen = Some((
            m.load(b"other").unwrap(),
            m.store(b"other", b"w").unwrap_err().kind(),
        ));
        Update::Store(b"v".to_vec())
    })
    .unwrap();
    assert_eq!(seen, Some((Some(b"o".to_vec()), ErrorKind::Deadlock)));
    assert_eq!(m.load(b"other").unwrap(), Some(b"o".to_vec()));
}

#[test]
fn update_panic_is_resumed_and_changes_nothing() {
    let m = ByteMap::new();
    m.store(b"k", b"v").unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| {
        m.update(b"k", |_| panic!("closure panicked")).unwrap();
    }));
    assert_eq!(
        r.unwrap_err().downcast_ref::<&str>(),
        Some(&"closure panicked")
    );
    assert_eq!(m.load(b"k").unwrap(), Some(b"v".to_vec()));
    m.store(b"k", b"w").unwrap(); // the key's write side was released
}

#[test]
fn range_and_iter() {
    let m = ByteMap::new();
    let want: HashMap<Vec<u8>, Vec<u8>> = (0..500)
        .map(|i| (format!("k{i}").into_bytes(), format!("v{i}").into_bytes()))
        .collect();
    for (k, v) in &want {
        m.store(k, v).unwrap();
    }
    let mut got = HashMap::new();
    assert!(m
        .range(|k, v| {
            assert!(
                got.insert(k.to_vec(), v.to_vec()).is_none(),
                "visited twice"
            );
            true
        })
        .unwrap());
    assert_eq!(got, want);
    let mut n = 0;
    assert!(!m
        .range(|_, _| {
            n += 1;
            n < 10
        })
        .unwrap());
    assert_eq!(n, 10);
    let it: HashMap<_, _> = m.iter().collect();
    assert_eq!(it, want);
    let mut count = 0;
    for (k, v) in &m {
        assert_eq!(want[&k], v);
        count += 1;
    }
    assert_eq!(count, 500); // no resize during iteration: each once
}

#[test]
fn range_panic_is_resumed() {
    let m = ByteMap::new();
    m.store(b"a", b"1").unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| m.range(|_, _| panic!("in range"))));
    assert!(r.is_err());
    assert_eq!(m.len(), 1);
}

#[test]
fn options_stats_clear_reserve_maintain() {
    let m = ByteMap::with_options(MapOptions {
        shards: 4,
        capacity_hint: 100,
        seed: 7,
        no_peek: false,
    })
    .unwrap();
    for i in 0..1000u32 {
        m.store(&i.to_le_bytes(), b"x").unwrap();
    }
    let st = m.stats().unwrap();
    assert_eq!(st.len, 1000);
    assert_eq!(st.shards, 4);
    assert!(st.buckets > 0 && st.bytes > 0);
    m.reserve(100_000).unwrap();
    while m.maintain(1024).unwrap() > 0 {}
    assert_eq!(m.stats().unwrap().shards_migrating, 0);
    m.clear().unwrap();
    assert_eq!(m.len(), 0);
    let e = ByteMap::with_options(MapOptions {
        shards: 3,
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn threads_store_into_one_map() {
    const THREADS: usize = 8;
    const KEYS: usize = 5000;
    let m = Arc::new(ByteMap::new());
    let start = Arc::new(Barrier::new(THREADS));
    let hs: Vec<_> = (0..THREADS)
        .map(|t| {
            let (m, start) = (m.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                for i in 0..KEYS {
                    let k = format!("t{t}-{i}");
                    m.store(k.as_bytes(), format!("{t}:{i}").as_bytes())
                        .unwrap();
                    if i % 3 == 0 {
                        assert!(m.delete(k.as_bytes()).unwrap());
                    }
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(m.len(), THREADS * (KEYS - (KEYS + 2) / 3));
    let mut seen = HashSet::new();
    m.range(|k, v| {
        let k = std::str::from_utf8(k).unwrap();
        let (t, i) = k[1..].split_once('-').unwrap();
        assert_eq!(v, format!("{t}:{i}").as_bytes());
        assert_ne!(i.parse::<usize>().unwrap() % 3, 0);
        assert!(seen.insert(k.to_string()));
        true
    })
    .unwrap();
    assert_eq!(seen.len(), m.len());
}

#[test]
fn update_is_atomic_across_threads() {
    const THREADS: usize = 4;
    const PER: u64 = 2000;
    let m = Arc::new(ByteMap::new());
    m.store(b"n", &0u64.to_le_bytes()).unwrap();
    let hs: Vec<_> = (0..THREADS)
        .map(|_| {
            let m = m.clone();
            thread::spawn(move || {
                for _ in 0..PER {
                    m.update(b"n", |old| {
                        let n = u64::from_le_bytes(old.unwrap().try_into().unwrap());
                        Update::Store((n + 1).to_le_bytes().to_vec())
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let n = u64::from_le_bytes(m.load(b"n").unwrap().unwrap().try_into().unwrap());
    assert_eq!(n, THREADS as u64 * PER);
}

#[test]
fn iterate_while_others_write() {
    let m = Arc::new(ByteMap::new());
    for i in 0..300u32 {
        m.store(format!("stable{i}").as_bytes(), b"s").unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (m2, s2) = (m.clone(), stop.clone());
    let churn = thread::spawn(move || {
        let mut i = 0u32;
        while !s2.load(Ordering::Relaxed) {
            m2.store(format!("churn{}", i % 2000).as_bytes(), b"c")
                .unwrap();
            m2.delete(format!("churn{}", (i + 1000) % 2000).as_bytes())
                .unwrap();
            i += 1;
        }
    });
    thread::sleep(Duration::from_millis(10));
    for _ in 0..20 {
        let mut stable = HashSet::new();
        m.range(|k, _| {
            if k.starts_with(b"stable") {
                assert!(stable.insert(k.to_vec()), "visited twice");
            }
            true
        })
        .unwrap();
        assert_eq!(stable.len(), 300);
        let scanned: HashSet<Vec<u8>> = m
            .iter()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with(b"stable"))
            .collect();
        assert_eq!(scanned.len(), 300); // at least once each
    }
    stop.store(true, Ordering::Relaxed);
    churn.join().unwrap();
}

#[test]
fn map_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ByteMap>();
}

#[test]
fn std_traits_and_constructors() {
    let mut m: ByteMap = [("a", "1"), ("b", "2")].into_iter().collect();
    m.extend([
        (b"b".to_vec(), b"20".to_vec()),
        (b"c".to_vec(), b"3".to_vec()),
    ]);
    let c = m.clone();
    m.store(b"a", b"changed").unwrap();
    m.delete(b"c").unwrap();
    let mut all: Vec<_> = c.iter().collect();
    all.sort();
    let pair = |k: &[u8], v: &[u8]| (k.to_vec(), v.to_vec());
    assert_eq!(all, [pair(b"a", b"1"), pair(b"b", b"20"), pair(b"c", b"3")]);
    assert_eq!(m.len(), 2);

    // A clone keeps the shard count and holds every entry of a map that
    // grew through several migrations.
    let big = ByteMap::with_options(MapOptions {
        shards: 8,
        ..MapOptions::default()
    })
    .unwrap();
    for i in 0u32..5000 {
        big.store(&i.to_le_bytes(), &(i * 3).to_le_bytes()).unwrap();
    }
    let copy = big.try_clone().unwrap();
    assert_eq!(copy.stats().unwrap().shards, 8);
    assert_eq!(copy.len(), 5000);
    for i in 0u32..5000 {
        assert_eq!(
            copy.load(&i.to_le_bytes()).unwrap(),
            Some((i * 3).to_le_bytes().to_vec())
        );
    }

    assert!(ByteMap::default().is_empty());
    assert!(ByteMap::try_new().unwrap().is_empty());
}

#[test]
fn retain_keeps_what_changed_after_it_was_offered() {
    let m: ByteMap = (0u32..1000)
        .map(|i| (i.to_le_bytes(), i.to_le_bytes()))
        .collect();
    let mut offered = HashSet::new();
    m.retain(|k, v| {
        assert!(offered.insert(k.to_vec()), "offered twice");
        let i = u32::from_le_bytes(k.try_into().unwrap());
        if i == 8 {
            // Rewritten after f saw it: the compare-and-delete misses.
            m.store(k, b"new").unwrap();
            return false;
        }
        assert_eq!(k, v);
        i % 2 == 1
    })
    .unwrap();
    assert_eq!(offered.len(), 1000);
    assert_eq!(m.len(), 501);
    assert_eq!(
        m.load(&8u32.to_le_bytes()).unwrap().as_deref(),
        Some(&b"new"[..])
    );
    assert_eq!(m.load(&10u32.to_le_bytes()).unwrap(), None);
    assert_eq!(
        m.load(&9u32.to_le_bytes()).unwrap(),
        Some(9u32.to_le_bytes().to_vec())
    );
    let r = catch_unwind(AssertUnwindSafe(|| m.retain(|_, _| panic!("in retain"))));
    assert!(r.is_err());
    assert_eq!(m.len(), 501); // nothing removed by the panicking walk
}
