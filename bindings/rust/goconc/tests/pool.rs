// SPDX-License-Identifier: MIT
//! goconc::Pool.
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use goconc::Pool;

struct Obj {
    id: usize,
    in_use: AtomicUsize,
    drops: Arc<AtomicUsize>,
}

impl Drop for Obj {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_pool(max_idle: usize) -> (Pool<Obj>, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let made = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let (m, d) = (made.clone(), drops.clone());
    let pool = Pool::builder()
        .new_fn(move || Obj {
            id: m.fetch_add(1, Ordering::SeqCst),
            in_use: AtomicUsize::new(0),
            drops: d.clone(),
        })
        .max_idle(max_idle)
        .build()
        .unwrap();
    (pool, made, drops)
}

#[test]
fn reuse_on_the_same_thread() {
    let (p, made, _) = counting_pool(0);
    let a = p.take().unwrap();
    let id = a.id;
    p.put(a);
    assert_eq!(p.take().unwrap().id, id);
    assert_eq!(made.load(Ordering::SeqCst), 1);
    let st = p.stats().unwrap();
    assert_eq!((st.gets, st.puts, st.hits, st.news), (2, 1, 1, 1));
}

#[test]
fn without_new_fn() {
    let p: Pool<String> = Pool::new();
    assert!(p.take().is_none());
    p.put(Box::new("x".into()));
    assert_eq!(*p.take().unwrap(), "x");
    assert!(p.take().is_none());
}

#[test]
fn reset_runs_on_put() {
    let p = Pool::builder()
        .new_fn(Vec::<u8>::new)
        .reset(|v| v.clear())
        .build()
        .unwrap();
    let mut v = p.take().unwrap();
    v.extend_from_slice(b"dirty");
    p.put(v);
    assert!(p.take().unwrap().is_empty());
}

#[test]
fn panic_in_new_is_resumed_by_get() {
    let p: Pool<u32> = Pool::with_new(|| panic!("no objects today"));
    let r = catch_unwind(AssertUnwindSafe(|| p.take()));
    assert_eq!(
        r.unwrap_err().downcast_ref::<&str>(),
        Some(&"no objects today")
    );
    p.put(Box::new(5));
    assert_eq!(*p.take().unwrap(), 5);
}

#[test]
fn every_object_is_dropped_once() {
    let (p, made, drops) = counting_pool(8);
    let objs: Vec<_> = (0..100).map(|_| p.take().unwrap()).collect();
    for o in objs {
        p.put(o);
    }
    let st = p.stats().unwrap();
    assert_eq!(st.drops as usize + st.idle, 100);
    assert_eq!(drops.load(Ordering::SeqCst), st.drops as usize);
    p.trim();
    p.trim();
    assert_eq!(p.stats().unwrap().idle, 0);
    assert_eq!(drops.load(Ordering::SeqCst), 100);
    for _ in 0..5 {
        let o = p.take().unwrap();
        p.put(o);
    }
    drop(p);
    assert_eq!(drops.load(Ordering::SeqCst), made.load(Ordering::SeqCst));
}

#[test]
fn threads_never_share_an_object() {
    const THREADS: usize = 4;
    let (p, made, drops) = counting_pool(0);
    let p = Arc::new(p);
    let start = Arc::new(Barrier::new(THREADS));
    let hs: Vec<_> = (0..THREADS)
        .map(|_| {
            let (p, start) = (p.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                let mut conflicts = 0;
                for _ in 0..5000 {
                    let o = p.take().unwrap();
                    if o.in_use.fetch_add(1, Ordering::SeqCst) != 0 {
                        conflicts += 1;
                    }
                    o.in_use.fetch_sub(1, Ordering::SeqCst);
                    p.put(o);
                }
                conflicts
            })
        })
        .collect();
    let conflicts: usize = hs.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(conflicts, 0);
    let st = p.stats().unwrap();
    assert_eq!(st.gets, (THREADS * 5000) as u64);
    assert_eq!(st.hits + st.news, st.gets);
    drop(Arc::try_unwrap(p).ok().unwrap());
    assert_eq!(drops.load(Ordering::SeqCst), made.load(Ordering::SeqCst));
}

#[test]
fn guards_give_objects_back() {
    let (p, made, dropped) = counting_pool(0);
    let id = {
        let mut a = p.get().unwrap();
        a.id += 1000; // DerefMut
        a.id
    }; // back into the pool
    assert_eq!(p.get().unwrap().id, id); // the same object again
    let kept = goconc::PoolGuard::into_inner(p.get().unwrap());
    assert_eq!(kept.id, id);
    let fresh = p.get().unwrap(); // the pool had nothing left for this thread
    assert_ne!(fresh.id, id);
    drop(fresh);
    drop(kept);
    drop(p);
    assert_eq!(made.load(Ordering::SeqCst), dropped.load(Ordering::SeqCst));
    let empty: Pool<u8> = Pool::default();
    assert!(empty.get().is_none());
}

#[test]
fn send_and_sync_bounds() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Pool<Vec<u8>>>();
    send_sync::<goconc::PoolGuard<'static, Vec<u8>>>();
    // T need only be Send: objects move between threads, never shared.
    send_sync::<Pool<std::cell::Cell<u8>>>();
    let p = Pool::with_new(|| std::cell::Cell::new(0u8));
    thread::scope(|s| {
        for t in 1..=4u8 {
            let p = &p;
            s.spawn(move || {
                let c = p.get().unwrap();
                c.set(t);
                assert_eq!(c.get(), t);
            });
        }
    });
}
