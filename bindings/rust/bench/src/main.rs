// SPDX-License-Identifier: MIT
//! goconc-rust-bench: time per operation of goconc's typed `Map<u64, u64>`
//! and of the layers under it against `DashMap<u64, u64>`, and of
//! `Value<u64>` against `ArcSwap<u64>` (issue 20).
//!
//! Implementations (`--impls`):
//!   map      goconc::Map<u64, u64>: store, insert, update(|v| v.map(|x| x + 1)),
//!            get
//!   bytes    goconc::ByteMap (the default options: with peek) on the
//!            integers' 8 bytes: store, swap, update, peek in read()
//!   ffi      goconc-sys called directly (the C library's own cost plus the
//!            call): goconc_map_store, _swap, _update, _load, on a map
//!            without peek (GOCONC_MAP_NO_PEEK), the kind every typed map is
//!   dashmap  DashMap<u64, u64> (default hasher): insert (for both store and
//!            insert), entry().and_modify(|v| *v += 1), get
//!
//!   value    goconc::Value<u64>: load (under goconc::read), load_full (a
//!            counted Ref), store
//!   arcswap  arc_swap::ArcSwap<u64>: load (a Guard), load_full (an Arc),
//!            store (of a new Arc)
//!
//! Kinds (`--kinds`) of the maps: store (a write that returns nothing),
//! insert (one that returns the previous value), update (read-modify-write),
//! get; of the values: load, load_full, store (each thread stores in turn
//! into the one value).  Each group prints its own table.
//!
//! Each measurement prefills a fresh map with `--keys` keys, then every
//! thread runs `--ops` operations of one kind on keys drawn uniformly from
//! them (so a store overwrites, as DashMap's insert of a present key does).
//! The figure is nanoseconds per operation per thread: by default each
//! thread's CPU time (CLOCK_THREAD_CPUTIME_ID, averaged over the threads),
//! which time slices lost to other processes do not inflate; `--clock
//! wall` takes the wall time from the common start to the last thread's
//! end instead.  Rounds interleave the implementations, and the table
//! gives each cell's median over the rounds: on a shared machine, drift
//! hits every column alike.  A second table gives each implementation's
//! time over the group's peer's (DashMap, ArcSwap) in the same round,
//! median over the rounds: the figure a "not slower than the peer" goal
//! is judged by.
//!
//! Usage:
//!   goconc-rust-bench [--rounds R] [--ops N] [--keys K] [--threads 1,2]
//!                     [--impls map,bytes,ffi,dashmap,value,arcswap]
//!                     [--kinds store,insert,update,get,load,load_full]
//!                     [--clock cpu|wall]
//!   goconc-rust-bench --one IMPL KIND THREADS   one measurement (perf, callgrind)

use std::collections::HashMap;
use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use dashmap::DashMap;
use goconc::{sys, ByteMap, Map, MapOptions, Update, Value};

/// One implementation under test.  Each method does one operation on key
/// `k`; the loops are generic over this trait so nothing is dispatched
/// dynamically inside them.
trait Bench: Sync {
    /// A write that returns nothing (Go's Store).
    fn store(&self, k: u64, v: u64);
    /// A write that returns the previous value (HashMap's insert).
    fn insert(&self, k: u64, v: u64) -> Option<u64>;
    fn update(&self, k: u64);
    fn get(&self, k: u64) -> Option<u64>;
    /// The underlying goconc map, to finish its migrations after the
    /// prefill.
    fn goconc(&self) -> Option<&ByteMap> {
        None
    }
}

impl Bench for Map<u64, u64> {
    fn store(&self, k: u64, v: u64) {
        Map::store(self, k, v);
    }
    fn insert(&self, k: u64, v: u64) -> Option<u64> {
        Map::insert(self, k, v)
    }
    fn update(&self, k: u64) {
        Map::update(self, &k, |v| v.map(|x| x + 1));
    }
    fn get(&self, k: u64) -> Option<u64> {
        Map::get(self, &k)
    }
    fn goconc(&self) -> Option<&ByteMap> {
        Some(self.as_bytes())
    }
}

impl Bench for ByteMap {
    fn store(&self, k: u64, v: u64) {
        ByteMap::store(self, &k.to_le_bytes(), &v.to_le_bytes()).unwrap();
    }
    fn insert(&self, k: u64, v: u64) -> Option<u64> {
        let old = self.swap(&k.to_le_bytes(), &v.to_le_bytes()).unwrap();
        old.map(|b| u64::from_le_bytes(b[..].try_into().unwrap()))
    }
    fn update(&self, k: u64) {
        ByteMap::update(self, &k.to_le_bytes(), |old| match old {
            Some(b) => {
                let x = u64::from_le_bytes(b.try_into().unwrap());
                Update::Store((x + 1).to_le_bytes().to_vec())
            }
            None => Update::Keep,
        })
        .unwrap();
    }
    fn get(&self, k: u64) -> Option<u64> {
        goconc::read(|g| {
            let v = self.peek(&k.to_le_bytes(), g).unwrap();
            v.map(|b| u64::from_le_bytes(b.try_into().unwrap()))
        })
    }
    fn goconc(&self) -> Option<&ByteMap> {
        Some(self)
    }
}

/// The C library called straight through goconc-sys, with the least work
/// a caller can do around it: the floor under the binding's figures.  Its
/// map is created without peek (`MapOptions::no_peek`,
/// `GOCONC_MAP_NO_PEEK`), as every typed `Map` is, so that `map` and
/// `ffi` time the same kind of map (in place overwrites of the 8-byte
/// values).
struct Ffi(ByteMap);

impl Ffi {
    fn new() -> Ffi {
        let opts = MapOptions {
            no_peek: true,
            ..MapOptions::default()
        };
        Ffi(ByteMap::with_options(opts).expect("a map without peek"))
    }
}

/// goconc_map_update callback: the old value plus one, written into the
/// 8-byte buffer `ctx`, which outlives the call.
unsafe extern "C" fn ffi_increment(
    ctx: *mut c_void,
    old: *const c_void,
    oldlen: usize,
    found: c_int,
    newval: *mut *const c_void,
    newlen: *mut usize,
) -> c_int {
    if found == 0 || oldlen != 8 {
        return sys::GOCONC_UPDATE_KEEP;
    }
    // SAFETY: the library passes oldlen (8) readable bytes at old and
    // writable out pointers; ctx is ffi's [u8; 8] buffer.
    let x = u64::from_le_bytes(*old.cast::<[u8; 8]>());
    let buf = ctx.cast::<[u8; 8]>();
    *buf = (x + 1).to_le_bytes();
    *newval = buf.cast();
    *newlen = 8;
    sys::GOCONC_UPDATE_STORE
}

impl Bench for Ffi {
    fn store(&self, k: u64, v: u64) {
        let (k, v) = (k.to_le_bytes(), v.to_le_bytes());
        let m = self.0.as_raw();
        // SAFETY: a live map; k and v are valid for 8 bytes.
        let st = unsafe { sys::goconc_map_store(m, k.as_ptr().cast(), 8, v.as_ptr().cast(), 8) };
        assert!(st >= 0);
    }
    fn insert(&self, k: u64, v: u64) -> Option<u64> {
        let (k, v) = (k.to_le_bytes(), v.to_le_bytes());
        let mut old = [0u8; 8];
        let mut n = 0usize;
        // SAFETY: a live map; k and v are valid for 8 bytes, old is
        // writable for 8, n for a usize.
        let st = unsafe {
            sys::goconc_map_swap(
                self.0.as_raw(),
                k.as_ptr().cast(),
                8,
                v.as_ptr().cast(),
                8,
                old.as_mut_ptr().cast(),
                8,
                &mut n,
            )
        };
        assert!(st >= 0);
        (st == sys::GOCONC_OK).then(|| u64::from_le_bytes(old))
    }
    fn update(&self, k: u64) {
        let k = k.to_le_bytes();
        let mut buf = [0u8; 8];
        let ctx: *mut [u8; 8] = &mut buf;
        // SAFETY: a live map; buf outlives the call (ffi_increment's ctx).
        let st = unsafe {
            sys::goconc_map_update(
                self.0.as_raw(),
                k.as_ptr().cast(),
                8,
                Some(ffi_increment),
                ctx.cast(),
            )
        };
        assert!(st >= 0);
    }
    fn get(&self, k: u64) -> Option<u64> {
        let k = k.to_le_bytes();
        let mut v = [0u8; 8];
        let mut n = 0usize;
        // SAFETY: a live map; v is writable for 8 bytes, n for a usize.
        let st = unsafe {
            sys::goconc_map_load(
                self.0.as_raw(),
                k.as_ptr().cast(),
                8,
                v.as_mut_ptr().cast(),
                8,
                &mut n,
            )
        };
        (st == sys::GOCONC_OK).then(|| u64::from_le_bytes(v))
    }
    fn goconc(&self) -> Option<&ByteMap> {
        Some(&self.0)
    }
}

impl Bench for DashMap<u64, u64> {
    /// DashMap has no write that skips the previous value.
    fn store(&self, k: u64, v: u64) {
        DashMap::insert(self, k, v);
    }
    fn insert(&self, k: u64, v: u64) -> Option<u64> {
        DashMap::insert(self, k, v)
    }
    fn update(&self, k: u64) {
        self.entry(k).and_modify(|v| *v += 1);
    }
    fn get(&self, k: u64) -> Option<u64> {
        DashMap::get(self, &k).map(|r| *r)
    }
}

/// The atomic value under test: goconc's `Value<u64>` or arc-swap's
/// `ArcSwap<u64>`.
trait ValueBench: Sync {
    /// A read of the current value that takes no reference count.
    fn load(&self) -> u64;
    /// A read that takes a counted handle, kept past any read section.
    fn load_full(&self) -> u64;
    fn store(&self, v: u64);
}

impl ValueBench for Value<u64> {
    fn load(&self) -> u64 {
        goconc::read(|g| *Value::load(self, g).unwrap())
    }
    fn load_full(&self) -> u64 {
        *Value::load_full(self).unwrap()
    }
    fn store(&self, v: u64) {
        Value::store(self, v);
    }
}

impl ValueBench for ArcSwap<u64> {
    fn load(&self) -> u64 {
        **ArcSwap::load(self)
    }
    fn load_full(&self) -> u64 {
        *ArcSwap::load_full(self)
    }
    fn store(&self, v: u64) {
        ArcSwap::store(self, Arc::new(v));
    }
}

/// A value, as something a measurement runs (the maps are, through Bench).
struct Values<V>(V);

/// The two groups of implementations, each with its kinds: one table each.
const GROUPS: [(&[&str], &[&str]); 2] = [
    (
        &["map", "bytes", "ffi", "dashmap"],
        &["store", "insert", "update", "get"],
    ),
    (&["value", "arcswap"], &["load", "load_full", "store"]),
];

/// splitmix64: a cheap, well-mixed key stream, the same for every
/// implementation.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (Lemire's multiply-shift).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }
}

#[derive(Clone)]
struct Config {
    rounds: usize,
    ops: u64,
    keys: u64,
    threads: Vec<usize>,
    impls: Vec<String>,
    kinds: Vec<String>,
    cpu_clock: bool,
}

/// The calling thread's CPU time.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is writable; the clock exists on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Runs `ops` operations of `kind` on each of `threads` threads; returns
/// the time per operation per thread in nanoseconds (not rounded to
/// whole ones: the paired ratios would be steps of 2-3%): wall time from
/// the common start to the last thread's end, or the mean of the threads'
/// CPU times.
fn measure<W: Workload>(m: &W, kind: &str, threads: usize, cfg: &Config, seed: u64) -> f64 {
    let start = Barrier::new(threads + 1);
    let (ops, keys) = (cfg.ops, cfg.keys);
    let (t0, cpu) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let start = &start;
                s.spawn(move || {
                    let mut rng = Rng(seed ^ (t as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407));
                    start.wait();
                    let c0 = thread_cpu_time();
                    m.run(kind, ops, keys, &mut rng);
                    thread_cpu_time() - c0
                })
            })
            .collect();
        start.wait();
        let t0 = Instant::now();
        let cpu: Duration = workers.into_iter().map(|w| w.join().unwrap()).sum();
        (t0, cpu)
    });
    let total = if cfg.cpu_clock {
        cpu / threads as u32
    } else {
        t0.elapsed()
    };
    total.as_secs_f64() * 1e9 / ops as f64
}

/// Where results go so that they are computed (std::hint::black_box needs
/// rustc 1.66; Debian 12 has 1.63).
static SINK: AtomicU64 = AtomicU64::new(0);

/// What a measurement runs on each thread: `ops` operations of `kind`.
trait Workload: Sync {
    fn run(&self, kind: &str, ops: u64, keys: u64, rng: &mut Rng);
}

impl<B: Bench> Workload for B {
    fn run(&self, kind: &str, ops: u64, keys: u64, rng: &mut Rng) {
        run_ops(self, kind, ops, keys, rng);
    }
}

impl<V: ValueBench> Workload for Values<V> {
    fn run(&self, kind: &str, ops: u64, _keys: u64, rng: &mut Rng) {
        run_value_ops(&self.0, kind, ops, rng);
    }
}

fn run_value_ops<V: ValueBench>(v: &V, kind: &str, ops: u64, rng: &mut Rng) {
    let mut sum = 0u64;
    match kind {
        "load" => (0..ops).for_each(|_| sum = sum.wrapping_add(v.load())),
        "load_full" => (0..ops).for_each(|_| sum = sum.wrapping_add(v.load_full())),
        "store" => (0..ops).for_each(|_| v.store(rng.next())),
        _ => unreachable!("kinds are checked in main"),
    }
    SINK.fetch_add(sum, Ordering::Relaxed);
}

fn run_ops<B: Bench>(m: &B, kind: &str, ops: u64, keys: u64, rng: &mut Rng) {
    match kind {
        "store" => (0..ops).for_each(|i| m.store(rng.below(keys), i)),
        "insert" => {
            // Sum what insert returns, so that no implementation's copy
            // of the old value can be optimized away.
            let mut sum = 0u64;
            for i in 0..ops {
                sum = sum.wrapping_add(m.insert(rng.below(keys), i).unwrap());
            }
            SINK.fetch_add(sum, Ordering::Relaxed);
        }
        "update" => (0..ops).for_each(|_| m.update(rng.below(keys))),
        "get" => {
            let mut hits = 0u64;
            for _ in 0..ops {
                hits += m.get(rng.below(keys)).is_some() as u64;
            }
            assert_eq!(hits, ops, "a prefilled key was missing");
        }
        _ => unreachable!("kinds are checked in main"),
    }
}

/// Stores keys 0..keys, then, for goconc, moves every bucket its
/// incremental resizes left behind: DashMap resizes all at once inside
/// the prefill, and the measurements are of the steady state, not of
/// the prefill's tail.
fn prefill<B: Bench>(m: &B, keys: u64) {
    for k in 0..keys {
        m.store(k, k);
    }
    if let Some(g) = m.goconc() {
        while g.maintain(usize::MAX).unwrap() > 0 {}
        assert_eq!(g.stats().unwrap().shards_migrating, 0);
    }
}

/// A fresh, prefilled map (or a fresh value) of implementation `name`,
/// handed to `f`.
fn with_impl<R>(name: &str, keys: u64, f: &mut dyn FnMut(&dyn BenchDyn) -> R) -> R {
    match name {
        "map" => run_with(Map::<u64, u64>::new(), keys, f),
        "bytes" => run_with(ByteMap::new(), keys, f),
        "ffi" => run_with(Ffi::new(), keys, f),
        "dashmap" => run_with(DashMap::<u64, u64>::new(), keys, f),
        "value" => f(&Values(Value::new(0u64))),
        "arcswap" => f(&Values(ArcSwap::from_pointee(0u64))),
        _ => unreachable!("impls are checked in main"),
    }
}

fn run_with<B: Bench, R>(m: B, keys: u64, f: &mut dyn FnMut(&dyn BenchDyn) -> R) -> R {
    prefill(&m, keys);
    f(&m)
}

/// `measure` behind a trait object, so that one table loop drives every
/// implementation while the timed loops stay monomorphic.
trait BenchDyn {
    fn measure(&self, kind: &str, threads: usize, cfg: &Config, seed: u64) -> f64;
}

impl<W: Workload> BenchDyn for W {
    fn measure(&self, kind: &str, threads: usize, cfg: &Config, seed: u64) -> f64 {
        measure(self, kind, threads, cfg, seed)
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// One table per group, for the implementations and kinds asked for.
fn tables(cfg: &Config) {
    for (impls, kinds) in GROUPS {
        // In the group's order, those asked for.
        let pick = |asked: &[String], group: &[&str]| -> Vec<String> {
            let v = group.iter().filter(|x| asked.iter().any(|a| a == *x));
            v.map(|x| x.to_string()).collect()
        };
        let sub = Config {
            impls: pick(&cfg.impls, impls),
            kinds: pick(&cfg.kinds, kinds),
            ..cfg.clone()
        };
        if !sub.impls.is_empty() && !sub.kinds.is_empty() {
            // The group's peer (the last name) is what the rest are
            // compared with.
            table(&sub, impls[impls.len() - 1]);
        }
    }
}

/// Each cell's samples, in round order (every round adds one to each).
type Samples = HashMap<(String, String, usize), Vec<f64>>;

fn table(cfg: &Config, peer: &str) {
    let mut samples: Samples = HashMap::new();
    for round in 0..cfg.rounds {
        // Rotate the order each round: no implementation always runs first.
        let n = cfg.impls.len();
        for i in 0..n {
            let name = &cfg.impls[(i + round) % n];
            with_impl(name, cfg.keys, &mut |m| {
                for &t in &cfg.threads {
                    for kind in &cfg.kinds {
                        let d = m.measure(kind, t, cfg, round as u64 + 1);
                        samples
                            .entry((name.clone(), kind.clone(), t))
                            .or_default()
                            .push(d);
                    }
                }
            });
        }
    }
    println!(
        "\nns per operation per thread ({} time), median of {} interleaved rounds; \
         {} ops per thread, {} keys, u64 -> u64",
        if cfg.cpu_clock { "CPU" } else { "wall" },
        cfg.rounds,
        cfg.ops,
        cfg.keys
    );
    print!("{:<8} {:>7}", "kind", "threads");
    for name in &cfg.impls {
        print!(" {:>9}", name);
    }
    println!();
    for kind in &cfg.kinds {
        for &t in &cfg.threads {
            print!("{:<8} {:>7}", kind, t);
            for name in &cfg.impls {
                let v = &samples[&(name.clone(), kind.clone(), t)];
                print!(" {:>9.1}", median(v));
            }
            println!();
        }
    }
    paired(cfg, &samples, peer);
}

/// Each implementation's time over `peer`'s in the same round, median over
/// the rounds: what a goal "not slower than the peer, same run" is judged
/// by.  A burst of noise hits both figures of a round, so the ratio
/// moves less than either median (the medians above may come from
/// different rounds).
fn paired(cfg: &Config, samples: &Samples, peer: &str) {
    let others: Vec<&String> = cfg.impls.iter().filter(|n| *n != peer).collect();
    if others.is_empty() || !cfg.impls.iter().any(|n| n == peer) {
        return;
    }
    println!(
        "time over {peer}'s in the same round, median of {} rounds (below 1: faster)",
        cfg.rounds
    );
    print!("{:<8} {:>7}", "kind", "threads");
    for name in &others {
        print!(" {:>9}", name);
    }
    println!();
    for kind in &cfg.kinds {
        for &t in &cfg.threads {
            let base = &samples[&(peer.to_string(), kind.clone(), t)];
            print!("{:<8} {:>7}", kind, t);
            for name in &others {
                let own = &samples[&((*name).clone(), kind.clone(), t)];
                let r: Vec<f64> = own.iter().zip(base).map(|(a, b)| a / b).collect();
                print!(" {:>9.2}", median(&r));
            }
            println!();
        }
    }
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// Every name of one side of GROUPS (0: implementations, 1: kinds).
fn all_names(side: usize) -> Vec<&'static str> {
    let mut v: Vec<&str> = Vec::new();
    for g in GROUPS {
        for &n in if side == 0 { g.0 } else { g.1 } {
            if !v.contains(&n) {
                v.push(n);
            }
        }
    }
    v
}

/// Whether `kind` is one that implementation `name` runs.
fn runs(name: &str, kind: &str) -> bool {
    GROUPS
        .iter()
        .any(|(impls, kinds)| impls.contains(&name) && kinds.contains(&kind))
}

fn usage() -> ! {
    eprintln!(
        "usage: goconc-rust-bench [--rounds R] [--ops N] [--keys K] [--threads 1,2]\n\
         \x20                        [--impls {}]\n\
         \x20                        [--kinds {}]\n\
         \x20                        [--clock cpu|wall]\n\
         \x20      goconc-rust-bench [--ops N] [--keys K] --one IMPL KIND THREADS",
        all_names(0).join(","),
        all_names(1).join(",")
    );
    std::process::exit(2);
}

fn main() {
    let mut cfg = Config {
        rounds: 7,
        ops: 200_000,
        keys: 100_000,
        threads: vec![1, 2],
        impls: all_names(0).iter().map(|s| s.to_string()).collect(),
        kinds: all_names(1).iter().map(|s| s.to_string()).collect(),
        cpu_clock: true,
    };
    let mut one = None;
    let mut args = std::env::args().skip(1);
    let num = |v: Option<String>| {
        v.and_then(|v| v.parse::<u64>().ok())
            .unwrap_or_else(|| usage())
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rounds" => cfg.rounds = num(args.next()) as usize,
            "--ops" => cfg.ops = num(args.next()),
            "--keys" => cfg.keys = num(args.next()),
            "--threads" => {
                let v = list(&args.next().unwrap_or_else(|| usage()));
                cfg.threads = v.iter().map(|t| num(Some(t.clone())) as usize).collect();
            }
            "--impls" => cfg.impls = list(&args.next().unwrap_or_else(|| usage())),
            "--kinds" => cfg.kinds = list(&args.next().unwrap_or_else(|| usage())),
            "--clock" => match args.next().as_deref() {
                Some("cpu") => cfg.cpu_clock = true,
                Some("wall") => cfg.cpu_clock = false,
                _ => usage(),
            },
            "--one" => {
                let (i, k) = (args.next(), args.next());
                let t = num(args.next()) as usize;
                match (i, k) {
                    (Some(i), Some(k)) => one = Some((i, k, t)),
                    _ => usage(),
                }
            }
            _ => usage(),
        }
    }
    let known = |v: &[String], all: &[&str]| v.iter().all(|x| all.contains(&x.as_str()));
    if cfg.rounds == 0
        || cfg.ops == 0
        || cfg.ops > u32::MAX as u64
        || cfg.keys == 0
        || cfg.threads.contains(&0)
        || !known(&cfg.impls, &all_names(0))
        || !known(&cfg.kinds, &all_names(1))
    {
        usage();
    }
    match one {
        Some((i, k, t)) => {
            if !runs(&i, &k) || t == 0 {
                usage();
            }
            let d = with_impl(&i, cfg.keys, &mut |m| m.measure(&k, t, &cfg, 1));
            println!("{i} {k} {t} threads: {:.1} ns per operation", d);
        }
        None => tables(&cfg),
    }
}
