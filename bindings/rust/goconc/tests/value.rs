// SPDX-License-Identifier: MIT
//! goconc::Value, goconc::Ref, ReadGuard, barrier.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use goconc::{barrier, read, ErrorKind, Ref, Value};

/// Counts its drops in a shared counter (per test: tests run in parallel).
struct Counted {
    n: u64,
    drops: Arc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn counted(n: u64, drops: &Arc<AtomicUsize>) -> Counted {
    Counted {
        n,
        drops: drops.clone(),
    }
}

#[test]
fn empty_store_load() {
    let v: Value<String> = Value::empty();
    read(|g| {
        assert!(v.load(g).is_none());
        v.store("a".to_string());
        assert_eq!(v.load(g).unwrap(), "a");
    });
    assert_eq!(v.load_cloned().as_deref(), Some("a"));
    assert!(v.load_full().is_some());
    assert!(v.try_load_full().unwrap().is_some());
    let empty: Value<u8> = Value::default();
    assert!(empty.load_full().is_none());
    assert!(empty.try_load_full().unwrap().is_none());
    let tried = Value::try_new(5u8).unwrap();
    assert_eq!(tried.load_cloned(), Some(5));
    tried.try_store(6).unwrap();
    assert_eq!(*tried.try_swap(7).unwrap().unwrap(), 6);
    assert_eq!(tried.try_compare_and_swap(None, 8).unwrap(), Err(8));
    assert_eq!(Value::from(9u8).load_cloned(), Some(9));
    assert!(Value::<u8>::try_empty().unwrap().load_cloned().is_none());
}

#[test]
fn borrow_survives_replacement_inside_guard() {
    let drops = Arc::new(AtomicUsize::new(0));
    let v = Value::new(counted(1, &drops));
    read(|g| {
        let first = v.load(g).unwrap();
        v.store(counted(2, &drops));
        drop(v); // even the Value going away does not free what g protects
        assert_eq!(first.n, 1);
        assert_eq!(drops.load(Ordering::SeqCst), 0);
    });
    barrier().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn barrier_inside_a_read_section_is_deadlock() {
    read(|_| {
        assert_eq!(barrier().unwrap_err().kind(), ErrorKind::Deadlock);
        assert_eq!(
            goconc::synchronize().unwrap_err().kind(),
            ErrorKind::Deadlock
        );
    });
    barrier().unwrap();
}

#[test]
fn swap_returns_a_ref_that_keeps_the_old_object() {
    let drops = Arc::new(AtomicUsize::new(0));
    let v = Value::empty();
    assert!(v.swap(counted(1, &drops)).is_none());
    let old = v.swap(counted(2, &drops)).unwrap();
    v.store(counted(3, &drops));
    barrier().unwrap();
    assert_eq!(old.n, 1);
    assert_eq!(drops.load(Ordering::SeqCst), 1); // only #2
    drop(old);
    barrier().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    drop(v);
    barrier().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

#[test]
fn load_full_outlives_the_value() {
    let drops = Arc::new(AtomicUsize::new(0));
    let v = Value::new(counted(7, &drops));
    let r = v.load_full().unwrap();
    drop(v);
    barrier().unwrap();
    assert_eq!(r.n, 7);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    let r = thread::spawn(move || r.n).join().unwrap(); // Ref is Send
    assert_eq!(r, 7);
    barrier().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn compare_and_swap_by_identity() {
    let v = Value::empty();
    assert!(v.compare_and_swap(None, 1u64).is_ok()); // only if empty
    assert_eq!(v.compare_and_swap(None, 2), Err(2));
    read(|g| {
        let cur = v.load(g).unwrap();
        let other = 1u64; // equal, but not the stored object
        assert_eq!(v.compare_and_swap(Some(&other), 3), Err(3));
        assert!(v.compare_and_swap(Some(cur), 4).is_ok());
        assert_eq!(*v.load(g).unwrap(), 4);
        let r = v.load_full().unwrap();
        assert!(r.ptr_eq(v.load(g).unwrap()));
        assert!(v.compare_and_swap(Some(&*r), 5).is_ok());
    });
    assert_eq!(v.load_cloned(), Some(5));
}

#[test]
fn zero_sized_objects_are_distinct_and_dropped_once_each() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Zst;
    impl Drop for Zst {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }
    let v = Value::empty();
    for _ in 0..10 {
        v.store(Zst);
    }
    read(|g| {
        let cur = v.load(g).unwrap();
        assert!(v.compare_and_swap(None, Zst).is_err());
        assert!(v.compare_and_swap(Some(cur), Zst).is_ok());
    });
    drop(v);
    barrier().unwrap();
    assert_eq!(DROPS.load(Ordering::SeqCst), 12); // 11 stored + 1 refused
}

#[test]
fn every_object_dropped_exactly_once_under_threads() {
    const THREADS: usize = 4;
    const STORES: u64 = 2000;
    let drops = Arc::new(AtomicUsize::new(0));
    let v = Arc::new(Value::new(counted(0, &drops)));
    let start = Arc::new(Barrier::new(THREADS * 2));
    let mut hs = Vec::new();
    for t in 0..THREADS as u64 {
        let (vw, drops, sw) = (v.clone(), drops.clone(), start.clone());
        hs.push(thread::spawn(move || {
            let (v, start) = (vw, sw);
            start.wait();
            for i in 0..STORES {
                let n = (t << 32) | i;
                match i % 3 {
                    0 => v.store(counted(n, &drops)),
                    1 => drop(v.swap(counted(n, &drops))),
                    _ => {
                        let r = v.load_full().unwrap();
                        if let Err(x) = v.compare_and_swap(Some(&*r), counted(n, &drops)) {
                            drop(x);
                        }
                    }
                }
            }
        }));
        // Readers: each sees, per writer, sequence numbers that never go back.
        let (vr, sr) = (v.clone(), start.clone());
        hs.push(thread::spawn(move || {
            let (v, start) = (vr, sr);
            start.wait();
            let mut last = [0u64; THREADS];
            for _ in 0..STORES {
                let n = read(|g| v.load(g).unwrap().n);
                let (w, i) = ((n >> 32) as usize, n & 0xffff_ffff);
                assert!(i >= last[w], "writer {w} went back from {} to {i}", last[w]);
                last[w] = i;
            }
        }));
    }
    for h in hs {
        h.join().unwrap();
    }
    let made = 1 + THREADS * STORES as usize;
    drop(Arc::try_unwrap(v).ok().unwrap());
    barrier().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), made);
}

#[test]
fn rcu_counts_every_increment_across_threads() {
    const THREADS: u64 = 4;
    const ADDS: u64 = 500;
    let v = Value::new(0u64);
    let calls = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..ADDS {
                    let old = v.rcu(|cur| {
                        calls.fetch_add(1, Ordering::Relaxed);
                        cur.unwrap() + 1
                    });
                    assert!(old.is_some());
                }
            });
        }
    });
    // The oracle: no increment lost, whatever retries happened.
    assert_eq!(v.load_cloned(), Some(THREADS * ADDS));
    assert!(calls.load(Ordering::Relaxed) as u64 >= THREADS * ADDS);
    let empty = Value::<u64>::empty();
    assert!(empty.rcu(|cur| cur.map_or(1, |c| c + 1)).is_none());
    assert_eq!(empty.load_cloned(), Some(1));
}

#[test]
fn send_and_sync_bounds() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Value<String>>();
    send_sync::<Ref<String>>();
    send_sync::<Value<std::sync::Mutex<Vec<u8>>>>();
    // A Ref moves to a thread and its last release drops T there.
    let drops = Arc::new(AtomicUsize::new(0));
    let v = Value::new(counted(1, &drops));
    let r = v.swap(counted(2, &drops)).unwrap();
    let n = thread::spawn(move || r.n).join().unwrap();
    assert_eq!(n, 1);
    barrier().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn read_sections_nest_and_end_on_panic() {
    read(|_| {
        read(|_| {});
        // The outer section is still open after the inner one ended.
        assert_eq!(barrier().unwrap_err().kind(), ErrorKind::Deadlock);
    });
    barrier().unwrap();
    let caught = std::panic::catch_unwind(|| read(|_| panic!("inside")));
    assert!(caught.is_err());
    barrier().unwrap(); // the panic ended the section as it unwound
}
