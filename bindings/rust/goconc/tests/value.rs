//! goconc::Value, goconc::Ref, ReadGuard, barrier.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use goconc::{barrier, ErrorKind, ReadGuard, Value};

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
    let v: Value<String> = Value::new().unwrap();
    let g = ReadGuard::new();
    assert!(v.load(&g).is_none());
    v.store("a".to_string()).unwrap();
    assert_eq!(v.load(&g).unwrap(), "a");
    assert_eq!(v.load_cloned().as_deref(), Some("a"));
    assert!(v.acquire().unwrap().is_some());
    let empty: Value<u8> = Value::new().unwrap();
    assert!(empty.acquire().unwrap().is_none());
}

#[test]
fn borrow_survives_replacement_inside_guard() {
    let drops = Arc::new(AtomicUsize::new(0));
    let v = Value::with_value(counted(1, &drops)).unwrap();
    let g = ReadGuard::new();
    let first = v.load(&g).unwrap();
    v.store(counted(2, &drops)).unwrap();
    drop(v); // even the Value going away does not free what g protects
    assert_eq!(first.n, 1);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(g);
    barrier().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn barrier_inside_a_read_section_is_deadlock() {
    let g = ReadGuard::new();
    assert_eq!(barrier().unwrap_err().kind(), ErrorKind::Deadlock);
    assert_eq!(
        goconc::synchronize().unwrap_err().kind(),
        ErrorKind::Deadlock
    );
    drop(g);
    barrier().unwrap();
}

#[test]
fn swap_returns_a_ref_that_keeps_the_old_object() {
    let drops = Arc::new(AtomicUsize::new(0));
    let v = Value::new().unwrap();
    assert!(v.swap(counted(1, &drops)).unwrap().is_none());
    let old = v.swap(counted(2, &drops)).unwrap().unwrap();
    v.store(counted(3, &drops)).unwrap();
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
fn acquire_outlives_the_value() {
    let drops = Arc::new(AtomicUsize::new(0));
    let v = Value::with_value(counted(7, &drops)).unwrap();
    let r = v.acquire().unwrap().unwrap();
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
    let v = Value::new().unwrap();
    assert!(v.compare_and_swap(None, 1u64).unwrap().is_ok()); // only if empty
    assert_eq!(v.compare_and_swap(None, 2).unwrap(), Err(2));
    let g = ReadGuard::new();
    let cur = v.load(&g).unwrap();
    let other = 1u64; // equal, but not the stored object
    assert_eq!(v.compare_and_swap(Some(&other), 3).unwrap(), Err(3));
    assert!(v.compare_and_swap(Some(cur), 4).unwrap().is_ok());
    assert_eq!(*v.load(&g).unwrap(), 4);
    let r = v.acquire().unwrap().unwrap();
    assert!(r.ptr_eq(v.load(&g).unwrap()));
    assert!(v.compare_and_swap(Some(&*r), 5).unwrap().is_ok());
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
    let v = Value::new().unwrap();
    for _ in 0..10 {
        v.store(Zst).unwrap();
    }
    let g = ReadGuard::new();
    let cur = v.load(&g).unwrap() as *const Zst;
    assert!(v.compare_and_swap(None, Zst).unwrap().is_err());
    assert!(v
        .compare_and_swap(Some(unsafe { &*cur }), Zst)
        .unwrap()
        .is_ok());
    drop(g);
    drop(v);
    barrier().unwrap();
    assert_eq!(DROPS.load(Ordering::SeqCst), 12); // 11 stored + 1 refused
}

#[test]
fn every_object_dropped_exactly_once_under_threads() {
    const THREADS: usize = 4;
    const STORES: u64 = 2000;
    let drops = Arc::new(AtomicUsize::new(0));
    let v = Arc::new(Value::with_value(counted(0, &drops)).unwrap());
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
                    0 => v.store(counted(n, &drops)).unwrap(),
                    1 => drop(v.swap(counted(n, &drops)).unwrap()),
                    _ => {
                        let r = v.acquire().unwrap().unwrap();
                        if let Err(x) = v.compare_and_swap(Some(&*r), counted(n, &drops)).unwrap() {
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
                let g = ReadGuard::new();
                let n = v.load(&g).unwrap().n;
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
