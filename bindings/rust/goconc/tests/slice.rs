// SPDX-License-Identifier: MIT
//! goconc::Slice and goconc::View.
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use goconc::{ErrorKind, Slice};

#[test]
fn append_get_set_len_cap_go_growth() {
    let s = Slice::<u64>::new();
    let mut caps = Vec::new();
    for i in 0..10u64 {
        assert_eq!(s.push(i * 10).unwrap(), i as usize);
        caps.push(s.cap());
    }
    assert_eq!(caps, [1, 2, 4, 4, 8, 8, 8, 8, 16, 16]);
    assert_eq!(s.len(), 10);
    assert_eq!(s.get(9).unwrap(), 90);
    s.set(0, 7).unwrap();
    assert_eq!(s.get(0).unwrap(), 7);
    assert_eq!(s.append(&[1, 2, 3]).unwrap(), 10);
    assert_eq!(s.append(&[]).unwrap(), 13);
    assert_eq!(s.to_vec().unwrap()[10..], [1, 2, 3]);
}

#[test]
fn out_of_range_is_an_error() {
    let s = Slice::from_slice(&[1i32, 2, 3]);
    assert_eq!(s.get(3).unwrap_err().kind(), ErrorKind::OutOfRange);
    assert_eq!(s.get(usize::MAX).unwrap_err().kind(), ErrorKind::OutOfRange);
    assert_eq!(s.set(3, 0).unwrap_err().kind(), ErrorKind::OutOfRange);
    assert_eq!(
        s.reslice(2, 1, 3).unwrap_err().kind(),
        ErrorKind::OutOfRange
    );
    assert_eq!(
        s.reslice(0, 1, 100).unwrap_err().kind(),
        ErrorKind::OutOfRange
    );
    assert_eq!(
        s.reslice(0, 4, 4).unwrap_err().kind(),
        ErrorKind::OutOfRange
    ); // past len
}

#[test]
fn zero_sized_elements_are_refused() {
    assert_eq!(
        Slice::<()>::try_new().unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        Slice::<[u8; 0]>::try_with_capacity(4).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
#[should_panic(expected = "goconc::Slice: zero-sized element types are not supported")]
fn zero_sized_elements_panic_in_new() {
    let _ = Slice::<()>::new();
}

#[test]
fn std_traits() {
    let s: Slice<u32> = (0..5).collect();
    let mut t = s.clone(); // its own storage
    t.extend(5..7);
    t.extend(&[7u32, 8]);
    assert_eq!(s.to_vec().unwrap(), [0, 1, 2, 3, 4]);
    let it = t.iter(); // over a snapshot
    t.push(9).unwrap();
    assert_eq!(it.collect::<Vec<_>>(), (0..9).collect::<Vec<_>>());
    let mut sum = 0;
    for x in &t {
        sum += x;
    }
    assert_eq!(sum, 45);

    let v = t.snapshot().unwrap();
    assert_eq!((&v).into_iter().copied().max(), Some(9));
    let mut it = v.into_iter();
    assert_eq!(it.len(), 10);
    assert_eq!((it.next(), it.next_back()), (Some(0), Some(9)));
    assert_eq!(it.len(), 8);
    assert_eq!(format!("{it:?}"), "ViewIter([1, 2, 3, 4, 5, 6, 7, 8])");
    assert_eq!(it.rev().collect::<Vec<_>>(), [8, 7, 6, 5, 4, 3, 2, 1]);

    assert!(Slice::<u8>::default().is_empty());
    assert_eq!(
        Slice::<u8>::try_with_len(3, 0).unwrap().to_vec().unwrap(),
        [0; 3]
    );
    assert_eq!(Slice::try_from_slice(&[5i8]).unwrap().get(0).unwrap(), 5);
    assert!(Slice::<u64>::try_with_capacity(usize::MAX).is_err());
}

#[test]
fn with_len_is_zeroed() {
    let s = Slice::<(u32, f64)>::with_len(3, 10);
    assert_eq!((s.len(), s.cap()), (3, 10));
    assert_eq!(*s.snapshot().unwrap(), [(0, 0.0); 3]);
    let t = Slice::<u8>::with_len(2, 0); // cap raised to len
    assert_eq!(t.cap(), 2);
}

#[test]
fn snapshot_never_changes() {
    let s = Slice::<u32>::with_capacity(100);
    s.append(&[0, 1, 2]).unwrap();
    let v = s.snapshot().unwrap();
    s.push(3).unwrap(); // beyond the view
    s.set(0, 42).unwrap(); // covered: copy-on-write
    for i in 0..500 {
        s.push(i).unwrap(); // and growth
    }
    assert_eq!(&*v, &[0, 1, 2]);
    assert_eq!(s.get(0).unwrap(), 42);
    drop(s);
    assert_eq!(v.iter().sum::<u32>(), 3); // outlives every handle
    let empty = Slice::<u16>::new().snapshot().unwrap();
    assert!(empty.is_empty());
}

#[test]
fn reslice_shares_storage_like_go() {
    let s = Slice::from_slice(&[0i32, 1, 2, 3, 4, 5, 6, 7]);
    let t = s.reslice(2, 5, 8).unwrap();
    assert_eq!(t.to_vec().unwrap(), [2, 3, 4]);
    assert_eq!(t.cap(), 6);
    t.set(0, 100).unwrap();
    assert_eq!(s.get(2).unwrap(), 100);
    let u = s.reslice(1, 3, 4).unwrap();
    u.push(-1).unwrap(); // into spare capacity: seen through s
    assert_eq!(s.get(3).unwrap(), -1);
    u.push(-2).unwrap(); // beyond cap: u moves to new storage
    assert_eq!(s.get(4).unwrap(), 4);
    // Zeroable types may reach into spare capacity.
    let z = Slice::<u8>::with_capacity(4);
    z.push(9).unwrap();
    assert_eq!(
        z.reslice_into_cap(0, 4, 4).unwrap().to_vec().unwrap(),
        [9, 0, 0, 0]
    );
}

#[test]
fn clone_and_copy_from() {
    let s = Slice::from_slice(&[1u8, 2, 3]);
    let c = s.try_clone().unwrap();
    c.set(0, 9).unwrap();
    assert_eq!(s.get(0).unwrap(), 1);
    let d = Slice::<u8>::with_len(2, 2);
    assert_eq!(d.copy_from(&s).unwrap(), 2);
    assert_eq!(d.to_vec().unwrap(), [1, 2]);
}

#[test]
fn non_zeroable_elements() {
    // &'static str has no valid all-zero value: the API never shows zeroes.
    let s: Slice<&'static str> = Slice::new();
    s.append(&["a", "b"]).unwrap();
    assert_eq!(s.get(1).unwrap(), "b");
    assert_eq!(&*s.snapshot().unwrap(), &["a", "b"]);
    assert_eq!(s.reslice(0, 1, s.cap()).unwrap().get(0).unwrap(), "a");
}

#[test]
fn concurrent_appends_and_snapshots() {
    const THREADS: u32 = 4;
    const PER: u32 = 5000;
    let s = Arc::new(Slice::<(u32, u32)>::new());
    let stop = Arc::new(AtomicBool::new(false));
    let snaps = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(THREADS as usize + 1));
    let (s2, stop2, snaps2, start2) = (s.clone(), stop.clone(), snaps.clone(), start.clone());
    let snapper = thread::spawn(move || {
        start2.wait();
        let mut views = Vec::new();
        while !stop2.load(Ordering::SeqCst) {
            let v = s2.snapshot().unwrap();
            let copy = v.to_vec();
            views.push((v, copy));
            snaps2.fetch_add(1, Ordering::SeqCst);
        }
        views
    });
    let hs: Vec<_> = (0..THREADS)
        .map(|t| {
            let (s, snaps, start) = (s.clone(), snaps.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                for i in 0..PER {
                    if i % 1000 == 500 {
                        // Let a snapshot in mid-way, whatever the scheduler does.
                        let seen = snaps.load(Ordering::SeqCst);
                        while snaps.load(Ordering::SeqCst) == seen {
                            thread::yield_now();
                        }
                    }
                    if i % 2 == 0 {
                        s.push((t, i)).unwrap();
                    } else {
                        s.append(&[(t, i)]).unwrap();
                    }
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let views = snapper.join().unwrap();
    let all = s.to_vec().unwrap();
    assert_eq!(all.len(), (THREADS * PER) as usize);
    for t in 0..THREADS {
        let mine: Vec<u32> = all.iter().filter(|e| e.0 == t).map(|e| e.1).collect();
        assert_eq!(mine, (0..PER).collect::<Vec<_>>());
    }
    assert!(views.len() >= 5);
    assert!(views
        .iter()
        .any(|(_, c)| !c.is_empty() && c.len() < all.len()));
    for (v, copy) in &views {
        assert_eq!(&**v, &copy[..]); // never changed
        assert_eq!(&all[..copy.len()], &copy[..]); // a prefix
    }
}

#[test]
fn views_cross_threads() {
    let s = Slice::from_slice(&[1u64, 2, 3]);
    let v = s.snapshot().unwrap();
    let sum = thread::spawn(move || v.iter().sum::<u64>()).join().unwrap();
    assert_eq!(sum, 6);
}

#[test]
fn send_and_sync_bounds() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Slice<u64>>();
    send_sync::<goconc::View<u64>>();
    send_sync::<Slice<&'static str>>();
    // A handle sent away while another handle and a view onto the same
    // storage stay here: both sides see the storage's one truth.
    let a = Slice::from_slice(&["x", "y"]);
    let b = a.reslice(0, 2, 2).unwrap();
    let before = a.snapshot().unwrap();
    thread::spawn(move || b.set(0, "z").unwrap())
        .join()
        .unwrap();
    assert_eq!(a.get(0).unwrap(), "z");
    assert_eq!(&*before, &["x", "y"]);
}

fn zero_reads_back<T: goconc::Zeroable + PartialEq + std::fmt::Debug>(zero: T) {
    let s = Slice::<T>::with_len(3, 3);
    for i in 0..3 {
        assert_eq!(s.get(i).unwrap(), zero);
    }
    let grown = Slice::<T>::with_capacity(2);
    let past_len = grown.reslice_into_cap(0, 2, 2).unwrap();
    assert_eq!(past_len.to_vec().unwrap(), vec![zero, zero]);
}

#[test]
fn every_zeroable_type_reads_back_zero() {
    zero_reads_back(0u8);
    zero_reads_back(0u16);
    zero_reads_back(0u32);
    zero_reads_back(0u64);
    zero_reads_back(0u128);
    zero_reads_back(0usize);
    zero_reads_back(0i8);
    zero_reads_back(0i16);
    zero_reads_back(0i32);
    zero_reads_back(0i64);
    zero_reads_back(0i128);
    zero_reads_back(0isize);
    zero_reads_back(0f32);
    zero_reads_back(0f64);
    zero_reads_back(false);
    zero_reads_back('\0');
    zero_reads_back([0u16; 5]);
    zero_reads_back((0u8, 0u64));
    zero_reads_back((0u8, false, 0f32));
    zero_reads_back((0u8, 0u16, 0u32, '\0'));
}
