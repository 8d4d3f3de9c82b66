//! goconc::Once.
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use goconc::{ErrorKind, Once};

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
