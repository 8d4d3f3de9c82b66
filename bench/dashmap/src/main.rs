// SPDX-License-Identifier: MIT
//! DashMap peer of bench/bench_map.c.
//!
//! bench_map runs this program once per measurement with the workload
//! parameters and parses the single `RESULT ...` line it prints.  The key
//! streams, the op mix and the latency histogram are the same as in
//! bench/bench_map.c (see doc/bench.md, "Map benchmark"); any change there
//! must be made here too.  The `check` workload lets bench_map verify that
//! both sides really generate the same stream.
//!
//! Usage: goconc-dashmap-bench WORKLOAD THREADS SECONDS SEED N
//!   WORKLOAD: check | w1 | w1b | w2 | w2b | mem
//!   N: prefill size (check, w1, w1b) or number of stores (w2, w2b, mem)

use dashmap::DashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

fn sm_mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GAMMA);
        sm_mix(self.0)
    }
}

fn bounded(x: u64, n: u64) -> u64 {
    ((x as u128 * n as u128) >> 64) as u64
}

/// The map's hash: fmix64 of the key xor a per-run seed (same as the C peers).
#[derive(Clone)]
struct Fmix {
    seed: u64,
}
struct FmixHasher {
    seed: u64,
    h: u64,
}
impl Hasher for FmixHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed; keep a correct fallback anyway.
        for &b in bytes {
            self.h = fmix64(self.h ^ b as u64 ^ self.seed);
        }
    }
    fn write_u64(&mut self, k: u64) {
        self.h = fmix64(k ^ self.seed);
    }
    fn finish(&self) -> u64 {
        self.h
    }
}
impl BuildHasher for Fmix {
    type Hasher = FmixHasher;
    fn build_hasher(&self) -> FmixHasher {
        FmixHasher { seed: self.seed, h: 0 }
    }
}

type Map = DashMap<u64, u64, Fmix>;

fn hash_seed(seed: u64) -> u64 {
    fmix64(seed ^ 0x6861_7368)
}

/// Prefill keys: the first n of a seeded Fisher-Yates shuffle of [0, 2n).
fn prefill_keys(seed: u64, n: u64) -> Vec<u64> {
    let range = 2 * n;
    let mut a: Vec<u32> = (0..range as u32).collect();
    let mut r = Rng(seed);
    let mut i = range - 1;
    while i > 0 {
        let j = bounded(r.next(), i + 1) as usize;
        a.swap(i as usize, j);
        i -= 1;
    }
    a.truncate(n as usize);
    a.into_iter().map(|k| k as u64).collect()
}

/// The i-th W2 key: the i-th output of splitmix64 started at `seed` (distinct).
fn w2_key(seed: u64, i: u64) -> u64 {
    sm_mix(seed.wrapping_add((i + 1).wrapping_mul(GAMMA)))
}

fn thread_rng(seed: u64, t: u64) -> Rng {
    Rng(fmix64(seed.wrapping_add(t + 1)))
}

const HB_EXACT: usize = 1024;
const HB_SUB: usize = 512;
const HB_N: usize = HB_EXACT + 55 * HB_SUB;

struct Hist {
    b: Vec<u64>,
    n: u64,
    max: u64,
}
impl Hist {
    fn new() -> Hist {
        let mut b = vec![0u64; HB_N];
        // Fault every page in now, not inside the timed stores (vec! of
        // zeros is a lazy calloc; volatile so the writes stay).
        for x in b.iter_mut() {
            unsafe { std::ptr::write_volatile(x, 0) };
        }
        Hist { b, n: 0, max: 0 }
    }
    #[inline]
    fn add(&mut self, v: u64) {
        let idx = if v < HB_EXACT as u64 {
            v as usize
        } else {
            let e = 63 - v.leading_zeros() as usize - 9;
            HB_EXACT + (e - 1) * HB_SUB + ((v >> e) as usize & (HB_SUB - 1))
        };
        self.b[idx] += 1;
        self.n += 1;
        if v > self.max {
            self.max = v;
        }
    }
    fn merge(&mut self, o: &Hist) {
        for (a, b) in self.b.iter_mut().zip(o.b.iter()) {
            *a += *b;
        }
        self.n += o.n;
        self.max = self.max.max(o.max);
    }
    fn lower(idx: usize) -> u64 {
        if idx < HB_EXACT {
            idx as u64
        } else {
            let e = (idx - HB_EXACT) / HB_SUB + 1;
            let sub = (idx - HB_EXACT) % HB_SUB;
            ((HB_SUB + sub) as u64) << e
        }
    }
    fn pct(&self, p: f64) -> u64 {
        let rank = ((p * self.n as f64).ceil() as u64).max(1);
        let mut acc = 0u64;
        for (i, &c) in self.b.iter().enumerate() {
            acc += c;
            if acc >= rank {
                return Hist::lower(i);
            }
        }
        self.max
    }
}

#[cfg(target_arch = "x86_64")]
mod clock {
    pub const UNIT: &str = "tsc";
    #[inline(always)]
    pub fn begin() -> u64 {
        unsafe {
            core::arch::x86_64::_mm_lfence();
            core::arch::x86_64::_rdtsc()
        }
    }
    #[inline(always)]
    pub fn end() -> u64 {
        unsafe {
            let mut aux = 0u32;
            let t = core::arch::x86_64::__rdtscp(&mut aux);
            core::arch::x86_64::_mm_lfence();
            t
        }
    }
}
#[cfg(not(target_arch = "x86_64"))]
mod clock {
    use std::time::Instant;
    pub const UNIT: &str = "ns";
    thread_local!(static T0: Instant = Instant::now());
    pub fn begin() -> u64 {
        T0.with(|t| t.elapsed().as_nanos() as u64)
    }
    pub fn end() -> u64 {
        begin()
    }
}

/// GOCONC_BENCH_MAP_CLOCK=cpu: per-store latency by the thread's CPU time
/// (preemption excluded), as bench_map's diagnostic mode.
fn cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = s.split_whitespace().nth(1).and_then(|x| x.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn new_map(seed: u64) -> Map {
    DashMap::with_hasher(Fmix { seed: hash_seed(seed) })
}

fn prefill(m: &Map, seed: u64, n: u64) {
    for k in prefill_keys(seed, n) {
        m.insert(k, k);
    }
}

/// One W1 op; returns 1 on a load hit.
#[inline(always)]
fn w1_op(m: &Map, x: u64, range: u64, read_only: bool) -> u64 {
    let key = ((x >> 32) * range) >> 32;
    let op = ((x & 0xffff_ffff) * 100) >> 32;
    if read_only || op < 90 {
        match m.get(&key) {
            Some(v) => {
                // Force the read of the value (black_box is unstable in 1.63).
                unsafe { std::ptr::read_volatile(&*v) };
                1
            }
            None => 0,
        }
    } else if op < 99 {
        m.insert(key, x);
        0
    } else {
        m.remove(&key);
        0
    }
}

/// Seconds from the first worker's start to the last one's finish, as the
/// workers stamped them: the main thread may be descheduled right after
/// the barrier and would start its clock late (bench/benchutil.c does the
/// same).
fn span(times: impl Iterator<Item = (Instant, Instant)>) -> f64 {
    let mut first: Option<(Instant, Instant)> = None;
    for (a, b) in times {
        first = Some(match first {
            None => (a, b),
            Some((x, y)) => (x.min(a), y.max(b)),
        });
    }
    first.map_or(0.0, |(a, b)| b.duration_since(a).as_secs_f64())
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 6 {
        eprintln!("usage: {} check|w1|w1b|w2|w2b|mem THREADS SECONDS SEED N", a[0]);
        std::process::exit(2);
    }
    let wl = a[1].as_str();
    let threads: u64 = a[2].parse().expect("THREADS");
    let secs: f64 = a[3].parse().expect("SECONDS");
    let seed: u64 = a[4].parse().expect("SEED");
    let n: u64 = a[5].parse().expect("N");
    match wl {
        "check" => {
            // Single-threaded, fixed op count: hits and final len must equal
            // the C side's for the same seed.
            let m = new_map(seed);
            prefill(&m, seed, n);
            let mut r = thread_rng(seed, 0);
            let mut hits = 0;
            for _ in 0..2 * n {
                hits += w1_op(&m, r.next(), 2 * n, false);
            }
            println!("RESULT hits={} len={}", hits, m.len());
        }
        "w1" | "w1b" => {
            let ro = wl == "w1b";
            let m = new_map(seed);
            prefill(&m, seed, n);
            let stop = AtomicBool::new(false);
            let barrier = std::sync::Barrier::new(threads as usize + 1);
            let res = std::thread::scope(|s| {
                let hs: Vec<_> = (0..threads)
                    .map(|t| {
                        let (m, stop, barrier) = (&m, &stop, &barrier);
                        s.spawn(move || {
                            let mut r = thread_rng(seed, t);
                            let (mut ops, mut hits) = (0u64, 0u64);
                            barrier.wait();
                            let t0 = Instant::now();
                            while !stop.load(Ordering::Relaxed) {
                                for _ in 0..256 {
                                    hits += w1_op(m, r.next(), 2 * n, ro);
                                }
                                ops += 256;
                            }
                            (ops, hits, t0, Instant::now())
                        })
                    })
                    .collect();
                barrier.wait();
                std::thread::sleep(Duration::from_secs_f64(secs));
                stop.store(true, Ordering::Relaxed);
                hs.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
            });
            let el = span(res.iter().map(|x| (x.2, x.3)));
            let ops: u64 = res.iter().map(|x| x.0).sum();
            let hits: u64 = res.iter().map(|x| x.1).sum();
            println!("RESULT ops={} secs={:.6} hits={}", ops, el, hits);
        }
        "w2" | "w2b" => {
            // GOCONC_BENCH_MAP_CLOCK as in bench_map.c: cpu, none (untimed), else rdtsc.
            let clock = std::env::var("GOCONC_BENCH_MAP_CLOCK").unwrap_or_default();
            let (cpu, untimed) = (clock == "cpu", clock == "none");
            let m = new_map(seed);
            let barrier = std::sync::Barrier::new(threads as usize + 1);
            let (el, hist) = std::thread::scope(|s| {
                let hs: Vec<_> = (0..threads)
                    .map(|t| {
                        let (m, barrier) = (&m, &barrier);
                        s.spawn(move || {
                            let mut h = Hist::new();
                            let (lo, hi) = (t * n / threads, (t + 1) * n / threads);
                            barrier.wait();
                            let t0 = Instant::now();
                            for i in lo..hi {
                                let k = w2_key(seed, i);
                                if untimed {
                                    m.insert(k, i);
                                    continue;
                                }
                                let (c0, c1) = if cpu {
                                    let c0 = cpu_ns();
                                    m.insert(k, i);
                                    (c0, cpu_ns())
                                } else {
                                    let c0 = clock::begin();
                                    m.insert(k, i);
                                    (c0, clock::end())
                                };
                                h.add(c1.wrapping_sub(c0));
                            }
                            (h, t0, Instant::now())
                        })
                    })
                    .collect();
                barrier.wait();
                let mut tot = Hist::new();
                let mut times = Vec::new();
                for h in hs {
                    let (h, t0, t1) = h.join().unwrap();
                    tot.merge(&h);
                    times.push((t0, t1));
                }
                (span(times.into_iter()), tot)
            });
            assert_eq!(m.len() as u64, n);
            println!(
                "RESULT secs={:.6} n={} unit={} p50={} p99={} p999={} p9999={} max={}",
                el,
                hist.n,
                if cpu { "ns" } else { clock::UNIT },
                hist.pct(0.50),
                hist.pct(0.99),
                hist.pct(0.999),
                hist.pct(0.9999),
                hist.max
            );
        }
        "mem" => {
            let before = rss_bytes();
            let m = new_map(seed);
            for i in 0..n {
                m.insert(w2_key(seed, i), i);
            }
            let after = rss_bytes();
            println!("RESULT rss={} n={}", after.saturating_sub(before), m.len());
        }
        _ => {
            eprintln!("unknown workload {}", wl);
            std::process::exit(2);
        }
    }
}
