// SPDX-License-Identifier: MIT
//! goconc::Once.
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use goconc::{ErrorKind, Once, OnceValue};

static STATIC_ONCE: Once = Once::new();
static STATIC_RUNS: AtomicUsize = AtomicUsize::new(0);

#[test]
fn static_once_runs_once_across_threads() {
    let ready = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(8));
    let hs: Vec<_> = (0..8)
        .map(|_| {
            let (ready, start) = (ready.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                STATIC_ONCE
                    .call_once(|| {
                        STATIC_RUNS.fetch_add(1, Ordering::SeqCst);
                        thread::sleep(Duration::from_millis(50)); // others wait
                        ready.store(true, Ordering::Relaxed);
                    })
                    .unwrap();
                // The closure's effects are visible when call_once returns.
                ready.load(Ordering::Relaxed)
            })
        })
        .collect();
    for h in hs {
        assert!(h.join().unwrap());
    }
    assert_eq!(STATIC_RUNS.load(Ordering::SeqCst), 1);
    assert!(STATIC_ONCE.is_completed());
}

#[test]
fn second_call_does_nothing() {
    let o = Once::new();
    let mut n = 0;
    assert!(!o.is_completed());
    o.call_once(|| n += 1).unwrap();
    o.call_once(|| n += 10).unwrap();
    assert_eq!(n, 1);
    assert!(o.is_completed());
}

#[test]
fn panic_is_resumed_and_leaves_it_not_done() {
    let o = Once::new();
    let r = catch_unwind(AssertUnwindSafe(|| {
        o.call_once(|| panic!("init failed")).unwrap()
    }));
    let msg = r.unwrap_err();
    assert_eq!(msg.downcast_ref::<&str>(), Some(&"init failed"));
    assert!(!o.is_completed());
    let mut ran = false;
    o.call_once(|| ran = true).unwrap();
    assert!(ran);
    assert!(o.is_completed());
}

#[test]
fn a_waiter_runs_its_own_closure_after_a_panic() {
    let o = Arc::new(Once::new());
    let entered = Arc::new(Barrier::new(2));
    let (o2, e2) = (o.clone(), entered.clone());
    let first = thread::spawn(move || {
        catch_unwind(AssertUnwindSafe(|| {
            o2.call_once(|| {
                e2.wait();
                thread::sleep(Duration::from_millis(50));
                panic!("first");
            })
        }))
        .is_err()
    });
    entered.wait();
    let mut second = false;
    o.call_once(|| second = true).unwrap();
    assert!(first.join().unwrap());
    assert!(second);
}

#[test]
fn reentry_is_deadlock_error() {
    let o = Once::new();
    let mut inner = None;
    o.call_once(|| inner = Some(o.call_once(|| ()).unwrap_err().kind()))
        .unwrap();
    assert_eq!(inner, Some(ErrorKind::Deadlock));
    assert!(o.is_completed());
}

#[test]
fn size_matches_the_c_struct() {
    assert_eq!(std::mem::size_of::<Once>(), 16);
    assert!(std::mem::align_of::<Once>() >= 8);
}

#[test]
fn once_value_initialized_once_across_threads() {
    static SHARED: OnceValue<String> = OnceValue::new();
    let inits = AtomicUsize::new(0);
    let seen: Vec<usize> = thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|t| {
                let inits = &inits;
                s.spawn(move || {
                    let v = SHARED.get_or_init(|| {
                        inits.fetch_add(1, Ordering::SeqCst);
                        format!("from thread {t}")
                    });
                    v as *const String as usize
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(inits.load(Ordering::SeqCst), 1);
    assert!(seen.iter().all(|&p| p == seen[0])); // one object for all
    assert!(SHARED.get().unwrap().starts_with("from thread "));
}

#[test]
fn once_value_failures_leave_it_unset() {
    let v: OnceValue<u32> = OnceValue::default();
    assert_eq!(v.get(), None);
    assert_eq!(v.get_or_try_init(|| Err("no")), Err("no"));
    assert_eq!(v.get(), None);
    let r = std::panic::catch_unwind(|| v.get_or_init(|| panic!("boom")).to_owned());
    assert!(r.is_err());
    assert_eq!(v.get(), None);
    assert_eq!(v.get_or_try_init(|| Ok::<_, ()>(7)), Ok(&7));
    assert_eq!(v.get_or_try_init(|| Err(())), Ok(&7)); // f not called
    assert_eq!(v.set(8), Err(8));
    assert_eq!(format!("{v:?}"), "OnceValue(Some(7))");
    assert_eq!(v.into_inner(), Some(7));
    let fresh = OnceValue::new();
    assert_eq!(fresh.set(1u8), Ok(()));
    assert_eq!(fresh.get(), Some(&1));
    assert_eq!(OnceValue::<u8>::new().into_inner(), None);
}

#[test]
fn once_value_reentry_panics_and_drops_once() {
    let v: OnceValue<u32> = OnceValue::new();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        v.get_or_init(|| *v.get_or_init(|| 1))
    }));
    let msg = r.unwrap_err();
    assert!(msg.downcast_ref::<String>().unwrap().contains("re-entered"));
    assert_eq!(v.get(), None);

    struct D(Arc<AtomicUsize>);
    impl Drop for D {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let set = OnceValue::new();
    set.get_or_init(|| D(drops.clone()));
    let rejected = set.set(D(drops.clone())).err().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0); // handed back, not dropped
    drop(rejected);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(set); // the stored one
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    let unset: OnceValue<D> = OnceValue::new();
    drop(unset); // nothing to drop
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}
