/* SPDX-License-Identifier: MIT */
/*
 * bench_map.c - goconc's map against the peers of issue 3 (item 8).
 *
 *   bench_map [all|check|mem|w1|w1b|w2|w2b ...] [--impls=a,b,...]
 *
 * Workloads (doc/bench.md, "Map benchmark", has the details):
 *   check  same-stream check: every implementation runs the same 2N
 *          single-threaded W1 ops and must report the same hits and length
 *   mem    RSS growth per entry at N (1M) 8-byte keys/values, and again
 *          after the map's settle; goconc also reports stats.bytes
 *   w1     read-mostly: prefill N keys from [0, 2N), then T = 1 and 2
 *          threads (or the counts in GOCONC_BENCH_THREADS, e.g.
 *          "1,2,4,8,16") for GOCONC_BENCH_SECONDS: 90% load, 9% store,
 *          1% delete
 *   w1b    the same prefilled map, 100% load
 *   w2     growth: one thread stores G (10M) distinct keys into an empty
 *          map; total time and per-store latency p50/p99/p99.9/p99.99/max
 *   w2b    the same G stores split over 2 threads on disjoint key ranges
 *
 * Every measurement runs in a fresh child process (this program re-executed
 * with --child, or the DashMap program of bench/dashmap), so no run inherits
 * another's heap, page cache state or liburcu threads.  Reps interleave the
 * implementations (round robin, rotated each rep); figures are medians of
 * GOCONC_BENCH_REPS (5) reps and every ratio is goconc over the peer
 * measured in the same rep, median over reps.  All key streams derive from
 * GOCONC_BENCH_SEED (printed).  GOCONC_BENCH_MAP_KEYS (N) and
 * GOCONC_BENCH_MAP_GROW (G) shrink the runs for quick checks.  The
 * parent's figures, tables and target summary are in bench_map_report.c.
 *
 * The maps sit behind ops tables (map_peer.h): one adapter file per peer,
 * registered in map_peers.c.  With GOCONC_BENCH_JSON=FILE every figure is
 * also appended to FILE as one JSON object per line (benchutil.h,
 * bu_json), which scripts/bench-report.sh turns into bench/report/.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bench_map.h"
#include "benchutil.h"
#include "map_peer.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define CLK_UNIT "tsc"
/* lfence before rdtsc keeps earlier work from leaking past the start
 * stamp; rdtscp + lfence keeps the store from leaking past the end one. */
static inline uint64_t clk_begin(void)
{
    _mm_lfence();
    return __rdtsc();
}
static inline uint64_t clk_end(void)
{
    unsigned aux;
    uint64_t t = __rdtscp(&aux);
    _mm_lfence();
    return t;
}
#else
#define CLK_UNIT "ns"
static inline uint64_t clk_begin(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#define clk_end clk_begin
#endif

/* ------------------------------------------------------------ key streams */
/* sm_mix and sm_next (benchutil.h) and what follows are shared with
 * bench/dashmap/src/main.rs: change both or neither. */

static inline uint64_t bounded(uint64_t x, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)x * n) >> 64);
}

static uint64_t hash_seed(uint64_t seed)
{
    return mp_fmix64(seed ^ 0x68617368u);
}

/* Prefill keys: the first n of a seeded Fisher-Yates shuffle of [0, 2n). */
static uint32_t *prefill_keys(uint64_t seed, uint64_t n)
{
    uint64_t range = 2 * n, i, s = seed;
    uint32_t *a = malloc(range * sizeof *a);
    if (!a)
        return NULL;
    for (i = 0; i < range; i++)
        a[i] = (uint32_t)i;
    for (i = range - 1; i > 0; i--) {
        uint64_t j = bounded(sm_next(&s), i + 1);
        uint32_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
    return a;
}

/* The i-th W2 key: splitmix64's i-th output from `seed` (all distinct). */
static inline uint64_t w2_key(uint64_t seed, uint64_t i)
{
    return sm_mix(seed + (i + 1) * GAMMA);
}

static inline uint64_t thread_rng(uint64_t seed, uint64_t t)
{
    return mp_fmix64(seed + t + 1);
}

/* -------------------------------------------------------- implementations */

const char *const wl_name[W_N] = {"check", "mem", "w1", "w1b", "w2", "w2b"};

struct impl impls[MAX_IMPLS];
int n_impls;

/* Bench/dashmap's program: run as a subprocess, never through ops. */
static const struct map_peer dashmap_peer = {
    .name = "dashmap",
    .desc = "Rust DashMap 5.4, fmix64 hasher (subprocess)",
    .flags = MP_EXTERNAL,
};

/* The workloads a map takes part in: one-thread maps skip W2b (and the
 * multi-thread cells of W1/W1b, run_cell), presized ones measure W1/W1b
 * lookups only. */
static unsigned peer_workloads(const struct map_peer *p)
{
    if (p->flags & MP_PRESIZED)
        return WB(W_CHECK) | WB(W_1) | WB(W_1B);
    if (p->flags & MP_ONE_THREAD)
        return W_ALL & ~WB(W_2B);
    return W_ALL;
}

static void impl_add(const struct map_peer *p, int avail)
{
    struct impl *im = &impls[n_impls++];
    im->p = p;
    im->name = p->name;
    im->desc = p->desc;
    im->wls = peer_workloads(p);
    im->avail = avail;
}

/* The registry's maps (goconc first, I_GOCONC), DashMap second (I_DASHMAP). */
static void impl_probe(void)
{
    size_t i;
    for (i = 0; i < map_peer_count && n_impls < MAX_IMPLS - 1; i++) {
        impl_add(map_peers[i], 1);
        if (i == 0)
            impl_add(&dashmap_peer, 0); /* main sees whether its program exists */
    }
}

int impl_by_name(const char *s)
{
    int i;
    for (i = 0; i < n_impls; i++)
        if (strcmp(impls[i].name, s) == 0)
            return i;
    return -1;
}

/* One map and its ops; every call is one indirect call, the same for all. */
struct bm {
    const struct map_peer *p;
    void *m;
};

static int bm_new(struct bm *b, int impl, uint64_t seed, size_t presize)
{
    b->p = impls[impl].p;
    b->m = b->p->create(hash_seed(seed), presize);
    return b->m ? 0 : -1;
}

static inline int bm_load(const struct bm *b, uint64_t k, uint64_t *v)
{
    return b->p->load(b->m, k, v);
}

/* 0, or -1 if the map refused the store or failed. */
static inline int bm_store(const struct bm *b, uint64_t k, uint64_t v)
{
    return b->p->store(b->m, k, v);
}

static inline void bm_del(const struct bm *b, uint64_t k)
{
    b->p->erase(b->m, k);
}

static size_t bm_len(const struct bm *b)
{
    return b->p->len(b->m);
}

static void bm_thread_enter(const struct bm *b)
{
    if (b->p->thread_enter)
        b->p->thread_enter();
}

static void bm_thread_exit(const struct bm *b)
{
    if (b->p->thread_exit)
        b->p->thread_exit();
}

/* Finish pending work after the (untimed) prefill so W1 starts from a
 * steady state (map_peer.h, settle). */
static void bm_settle(const struct bm *b)
{
    if (b->p->settle)
        b->p->settle(b->m);
}

static void bm_stats(const struct bm *b, const char *suffix)
{
    if (b->p->stats)
        b->p->stats(b->m, suffix, stdout);
}

/* ------------------------------------------------------ latency histogram */
/* Log-linear: exact below 1024 ticks, then 512 sub-buckets per power of
 * two (0.2% resolution).  Same layout as the DashMap program. */

#define HB_EXACT 1024
#define HB_SUB 512
#define HB_N (HB_EXACT + 55 * HB_SUB)

struct hist {
    uint64_t n, max;
    uint64_t *b;
};

static int hist_init(struct hist *h)
{
    size_t i;
    h->n = h->max = 0;
    h->b = malloc(HB_N * sizeof *h->b);
    if (!h->b)
        return -1;
    /* Fault every page in now, not inside the timed stores (volatile so
     * the compiler cannot turn malloc + zeroing into a lazy calloc). */
    for (i = 0; i < HB_N; i++)
        ((volatile uint64_t *)h->b)[i] = 0;
    return 0;
}

static inline void hist_add(struct hist *h, uint64_t v)
{
    size_t idx;
    if (v < HB_EXACT) {
        idx = (size_t)v;
    } else {
        unsigned e = 63u - (unsigned)__builtin_clzll(v) - 9u;
        idx = HB_EXACT + (e - 1) * HB_SUB + (size_t)((v >> e) & (HB_SUB - 1));
    }
    h->b[idx]++;
    h->n++;
    if (v > h->max)
        h->max = v;
}

static void hist_merge(struct hist *h, const struct hist *o)
{
    size_t i;
    for (i = 0; i < HB_N; i++)
        h->b[i] += o->b[i];
    h->n += o->n;
    if (o->max > h->max)
        h->max = o->max;
}

static uint64_t hist_lower(size_t idx)
{
    size_t e, sub;
    if (idx < HB_EXACT)
        return idx;
    e = (idx - HB_EXACT) / HB_SUB + 1;
    sub = (idx - HB_EXACT) % HB_SUB;
    return (uint64_t)(HB_SUB + sub) << e;
}

static uint64_t hist_pct(const struct hist *h, double p)
{
    double want = p * (double)h->n;
    uint64_t rank = (uint64_t)want, acc = 0; /* ceil without libm */
    size_t i;
    if ((double)rank < want)
        rank++;
    if (rank == 0)
        rank = 1;
    for (i = 0; i < HB_N; i++) {
        acc += h->b[i];
        if (acc >= rank)
            return hist_lower(i);
    }
    return h->max;
}

/* ------------------------------------------------------------ child side */

struct job {
    struct bm b;
    uint64_t seed, n;
    int threads, read_only;
    atomic_int stop;
    double secs;
    uint64_t ops[64], hits[64], sink[64];
    struct hist h[64];
    int errors[64];
};

/* One W1 op from the 64-bit draw x: the high half picks the key, the low
 * half the operation.  Returns 1 for a load that found the key. */
static inline int w1_op(const struct bm *b, uint64_t x, uint64_t range, int ro,
                        uint64_t *sink)
{
    uint64_t key = ((x >> 32) * range) >> 32;
    uint64_t op = ((x & 0xffffffffu) * 100) >> 32;
    uint64_t v;
    if (ro || op < 90) {
        if (bm_load(b, key, &v)) {
            *sink += v;
            return 1;
        }
        return 0;
    }
    if (op < 99)
        bm_store(b, key, x);
    else
        bm_del(b, key);
    return 0;
}

static void *w1_thread(void *arg, int idx)
{
    struct job *j = arg;
    uint64_t s, ops = 0, hits = 0, sink = 0, range = 2 * j->n;
    int i;
    if (idx == j->threads) { /* the timer */
        struct timespec ts;
        ts.tv_sec = (time_t)j->secs;
        ts.tv_nsec = (long)((j->secs - (double)ts.tv_sec) * 1e9);
        while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
            ;
        atomic_store_explicit(&j->stop, 1, memory_order_relaxed);
        return NULL;
    }
    bm_thread_enter(&j->b);
    s = thread_rng(j->seed, (uint64_t)idx);
    while (!atomic_load_explicit(&j->stop, memory_order_relaxed)) {
        for (i = 0; i < 256; i++)
            hits += (uint64_t)w1_op(&j->b, sm_next(&s), range, j->read_only, &sink);
        ops += 256;
    }
    j->ops[idx] = ops;
    j->hits[idx] = hits;
    j->sink[idx] = sink;
    bm_thread_exit(&j->b);
    return NULL;
}

/* How a W2 child times its stores (GOCONC_BENCH_MAP_CLOCK): rdtsc; `cpu`,
 * the thread's CPU time, so preemption by other work does not count (a
 * diagnostic for noisy machines; the clock is a syscall, so p50 and totals
 * grow); `none`, not at all: the parent's untimed pass, whose total is
 * that of stores free to overlap, as in a plain loop. */
enum { CLOCK_TSC, CLOCK_CPU, CLOCK_NONE };
static int g_clock;

static inline uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Slow-store log of a 1-thread W2 child (bench_map.h, "repeatable tail"). */
static struct slow_rec *g_slow;
static size_t g_nslow;
static uint64_t g_slow_min = UINT64_MAX;
static char *g_slow_path;

static int slowlog_open(int threads, uint64_t n)
{
    const char *e = getenv("GOCONC_BENCH_MAP_SLOWLOG");
    char *sp;
    size_t k;
    if (e == NULL || threads != 1 || g_clock == CLOCK_NONE || n > UINT32_MAX)
        return 0;
    if ((g_slow_path = strdup(e)) == NULL || (sp = strchr(g_slow_path, ' ')) == NULL)
        return -1;
    *sp = 0;
    g_slow_min = strtoull(sp + 1, NULL, 10);
    if ((g_slow = malloc(SLOW_CAP * sizeof *g_slow)) == NULL)
        return -1;
    for (k = 0; k < SLOW_CAP; k++) /* fault it in now, not while timing */
        ((volatile uint32_t *)&g_slow[k].i)[0] = 0;
    return 0;
}

static int slowlog_write(void)
{
    FILE *f;
    uint64_t hdr[2] = {g_nslow, g_nslow == SLOW_CAP};
    int bad;
    if (g_slow == NULL)
        return 0;
    if ((f = fopen(g_slow_path, "wb")) == NULL)
        return -1;
    bad = fwrite(hdr, sizeof hdr, 1, f) != 1 ||
          (g_nslow && fwrite(g_slow, sizeof *g_slow, g_nslow, f) != g_nslow);
    return fclose(f) != 0 || bad ? -1 : 0;
}

/* The W2 stores [lo, hi) of thread idx, each timed between t0() and t1()
 * (t0 NULL: untimed); inlined with constant clocks, so the rdtsc pair
 * stays two instructions. */
static inline __attribute__((always_inline)) void
w2_stores(struct job *j, int idx, uint64_t lo, uint64_t hi, uint64_t (*t0)(void),
          uint64_t (*t1)(void))
{
    struct hist *h = &j->h[idx];
    uint64_t i;
    for (i = lo; i < hi; i++) {
        uint64_t k = w2_key(j->seed, i), c0, c1;
        int r;
        if (t0 == NULL) {
            j->errors[idx] += bm_store(&j->b, k, i) != 0;
            continue;
        }
        c0 = t0();
        r = bm_store(&j->b, k, i);
        c1 = t1();
        hist_add(h, c1 - c0);
        j->errors[idx] += r != 0;
        if (c1 - c0 >= g_slow_min && g_nslow < SLOW_CAP) { /* 1 thread only */
            g_slow[g_nslow].i = (uint32_t)i;
            g_slow[g_nslow++].ticks = c1 - c0 > UINT32_MAX ? UINT32_MAX : (uint32_t)(c1 - c0);
        }
    }
}

static void *w2_thread(void *arg, int idx)
{
    struct job *j = arg;
    uint64_t lo = (uint64_t)idx * j->n / (uint64_t)j->threads;
    uint64_t hi = (uint64_t)(idx + 1) * j->n / (uint64_t)j->threads;
    bm_thread_enter(&j->b);
    if (g_clock == CLOCK_NONE)
        w2_stores(j, idx, lo, hi, NULL, NULL);
    else if (g_clock == CLOCK_CPU)
        w2_stores(j, idx, lo, hi, cpu_ns, cpu_ns);
    else
        w2_stores(j, idx, lo, hi, clk_begin, clk_end);
    bm_thread_exit(&j->b);
    return NULL;
}

static uint64_t rss_bytes(void)
{
    unsigned long size = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static int prefill(struct bm *b, uint64_t seed, uint64_t n)
{
    uint32_t *keys = prefill_keys(seed, n);
    uint64_t i;
    if (!keys)
        return -1;
    for (i = 0; i < n; i++)
        if (bm_store(b, keys[i], keys[i]) != 0) {
            free(keys);
            return -1;
        }
    free(keys);
    bm_settle(b);
    return 0;
}

static int wl_by_name(const char *s)
{
    int i;
    for (i = 0; i < W_N; i++)
        if (strcmp(wl_name[i], s) == 0)
            return i;
    return -1;
}

/* --child IMPL WORKLOAD THREADS SECONDS SEED N: one measurement, one
 * "RESULT k=v ..." line on stdout. */
static int child_main(char **argv)
{
    static struct job j;
    int impl = impl_by_name(argv[0]), wl = wl_by_name(argv[1]), t;
    const char *e;
    uint64_t i;
    if (impl < 0 || wl < 0)
        return 2;
    if (impls[impl].p->flags & MP_EXTERNAL) {
        /* No ops to call: the parent runs its program directly. */
        fprintf(stderr, "bench_map: %s is its own program (GOCONC_DASHMAP_BIN, or "
                        "dashmap-target/release/goconc-dashmap-bench beside bench_map)\n",
                argv[0]);
        return 2;
    }
    e = getenv("GOCONC_BENCH_MAP_CLOCK");
    g_clock = CLOCK_TSC;
    if (e && strcmp(e, "cpu") == 0)
        g_clock = CLOCK_CPU;
    else if (e && strcmp(e, "none") == 0)
        g_clock = CLOCK_NONE;
    j.threads = atoi(argv[2]);
    j.secs = atof(argv[3]);
    j.seed = strtoull(argv[4], NULL, 10);
    j.n = strtoull(argv[5], NULL, 10);
    if (j.threads < 1 || j.threads > 63)
        return 2;

    if (wl == W_MEM) {
        uint64_t before = rss_bytes(), after;
        if (bm_new(&j.b, impl, j.seed, 0))
            return 1;
        bm_thread_enter(&j.b);
        for (i = 0; i < j.n; i++)
            if (bm_store(&j.b, w2_key(j.seed, i), i))
                return 1;
        after = rss_bytes();
        printf("RESULT rss=%llu n=%zu", (unsigned long long)(after - before),
               bm_len(&j.b));
        bm_stats(&j.b, "");
        /* And once deferred work is done and retired tables are freed. */
        if (j.b.p->settle) {
            bm_settle(&j.b);
            printf(" rss_settled=%llu", (unsigned long long)(rss_bytes() - before));
            bm_stats(&j.b, "_settled");
        }
        printf("\n");
        return 0;
    }

    if (bm_new(&j.b, impl, j.seed, impls[impl].p->flags & MP_PRESIZED ? 2 * j.n : 0))
        return 1;
    bm_thread_enter(&j.b);

    if (wl == W_CHECK) {
        uint64_t s = thread_rng(j.seed, 0), hits = 0, sink = 0;
        if (prefill(&j.b, j.seed, j.n))
            return 1;
        for (i = 0; i < 2 * j.n; i++)
            hits += (uint64_t)w1_op(&j.b, sm_next(&s), 2 * j.n, 0, &sink);
        printf("RESULT hits=%llu len=%zu\n", (unsigned long long)hits, bm_len(&j.b));
        /* The one workload that frees its map: every destroy runs once. */
        j.b.p->destroy(j.b.m);
        bm_thread_exit(&j.b);
        return 0;
    }

    if (wl == W_1 || wl == W_1B) {
        double el;
        uint64_t ops = 0, hits = 0;
        if (prefill(&j.b, j.seed, j.n))
            return 1;
        j.read_only = wl == W_1B;
        el = bu_run_threads(j.threads + 1, w1_thread, &j);
        for (t = 0; t < j.threads; t++) {
            ops += j.ops[t];
            hits += j.hits[t];
            BU_KEEP(j.sink[t]);
        }
        printf("RESULT ops=%llu secs=%.6f hits=%llu\n", (unsigned long long)ops, el,
               (unsigned long long)hits);
        return 0;
    }

    /* W2 / W2b */
    {
        struct hist tot;
        double el;
        int errors = 0;
        for (t = 0; t <= j.threads; t++)
            if (hist_init(&j.h[t]))
                return 1;
        if (slowlog_open(j.threads, j.n))
            return 1;
        el = bu_run_threads(j.threads, w2_thread, &j);
        if (slowlog_write())
            return 1;
        tot = j.h[j.threads];
        for (t = 0; t < j.threads; t++) {
            hist_merge(&tot, &j.h[t]);
            errors += j.errors[t];
        }
        if (errors || bm_len(&j.b) != j.n) {
            fprintf(stderr, "bench_map: %s w2: %d failed stores, len %zu != %llu\n",
                    impls[impl].name, errors, bm_len(&j.b), (unsigned long long)j.n);
            return 1;
        }
        printf("RESULT secs=%.6f n=%llu unit=%s p50=%llu p99=%llu p999=%llu p9999=%llu"
               " max=%llu", el, (unsigned long long)tot.n,
               g_clock == CLOCK_TSC ? CLK_UNIT : "ns",
               (unsigned long long)hist_pct(&tot, 0.50),
               (unsigned long long)hist_pct(&tot, 0.99),
               (unsigned long long)hist_pct(&tot, 0.999),
               (unsigned long long)hist_pct(&tot, 0.9999), (unsigned long long)tot.max);
        bm_stats(&j.b, "");
        printf("\n");
        return 0;
    }
}

/* ----------------------------------------------------------- parent side */

static char self_exe[PATH_MAX];
static char dashmap_bin[PATH_MAX];
static uint64_t g_seed;
static double g_secs;
/* W1/W1b thread counts; g_scaling: set by GOCONC_BENCH_THREADS. */
#define MAX_TC 16
static int g_tc[MAX_TC], g_ntc, g_scaling;
uint64_t g_keys, g_grow;
int g_reps;
double tsc_per_ns = 1.0;

/* Set by do_w2 around its timed W2 reps: where the children log their
 * slow stores, their threshold, and the rep being run. */
static char g_slowdir[64];
static uint64_t g_slow_ticks;
static int g_cur_rep;

static void slowlog_path(char *buf, size_t cap, const char *dir, int impl, int rep)
{
    snprintf(buf, cap, "%s/%s.%d", dir, impls[impl].name, rep);
}

static void run_child(int impl, int wl, int threads, uint64_t n, struct result *r)
{
    char a_t[16], a_s[32], a_seed[32], a_n[32];
    char *argv[10];
    char buf[4096];
    size_t len = 0;
    int fd[2], st, timed_out = 0;
    pid_t pid;
    /* Generous: about 10x what the slowest healthy peer needs here. */
    double deadline, limit = wl == W_1 || wl == W_1B ? 60 + 2 * g_secs
                             : wl == W_2 || wl == W_2B ? 60 + 20 * (double)n / 1e6
                                                       : 60 + 30 * (double)n / 1e6;
    snprintf(a_t, sizeof a_t, "%d", threads);
    snprintf(a_s, sizeof a_s, "%.3f", g_secs);
    snprintf(a_seed, sizeof a_seed, "%llu", (unsigned long long)g_seed);
    snprintf(a_n, sizeof a_n, "%llu", (unsigned long long)n);
    if (impls[impl].p->flags & MP_EXTERNAL) {
        char *v[] = {dashmap_bin, (char *)wl_name[wl], a_t, a_s, a_seed, a_n, NULL};
        memcpy(argv, v, sizeof v);
    } else {
        char *v[] = {self_exe, "--child", (char *)impls[impl].name, (char *)wl_name[wl],
                     a_t, a_s, a_seed, a_n, NULL};
        memcpy(argv, v, sizeof v);
    }
    memset(r, 0, sizeof *r);
    fflush(stdout);
    if (g_slowdir[0] && wl == W_2 && threads == 1 && !(impls[impl].p->flags & MP_EXTERNAL)) {
        char path[128], env[160];
        slowlog_path(path, sizeof path, g_slowdir, impl, g_cur_rep);
        snprintf(env, sizeof env, "%s %llu", path, (unsigned long long)g_slow_ticks);
        setenv("GOCONC_BENCH_MAP_SLOWLOG", env, 1);
    } else {
        unsetenv("GOCONC_BENCH_MAP_SLOWLOG");
    }
    if (pipe(fd))
        return;
    pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return;
    }
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    deadline = bu_now() + limit;
    for (;;) {
        struct pollfd pfd = {fd[0], POLLIN, 0};
        double left = deadline - bu_now();
        ssize_t got;
        if (left <= 0 || poll(&pfd, 1, (int)(left * 1000) + 1) == 0) {
            /* A stuck peer (see map_peer_lfht.c) must not stall the run. */
            fprintf(stderr, "bench_map: %s %s T=%d still running after %.0f s: killed\n",
                    impls[impl].name, wl_name[wl], threads, limit);
            kill(pid, SIGKILL);
            timed_out = 1;
            break;
        }
        got = read(fd[0], buf + len, sizeof buf - 1 - len);
        if (got > 0 && len + (size_t)got < sizeof buf - 1) {
            len += (size_t)got;
            continue;
        }
        if (got < 0 && errno == EINTR)
            continue;
        if (got > 0)
            len += (size_t)got;
        break;
    }
    buf[len] = 0;
    close(fd[0]);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!timed_out && WIFEXITED(st) && WEXITSTATUS(st) == 0)
        res_parse(r, buf);
    else if (!timed_out)
        fprintf(stderr, "bench_map: %s %s T=%d failed (status %d)\n", impls[impl].name,
                wl_name[wl], threads, st);
}

/* Which implementations take part in workload wl, goconc first. */
static int impl_list(int wl, int *out)
{
    int i, n = 0;
    for (i = 0; i < n_impls; i++)
        if (impls[i].avail && (impls[i].wls & WB(wl)))
            out[n++] = i;
    return n;
}

static void run_cell(int wl, int threads, uint64_t n, struct cell *c, int *list, int nl)
{
    int rep, k;
    for (rep = 0; rep < g_reps; rep++) {
        for (k = 0; k < nl; k++) {
            int impl = list[(k + rep) % nl]; /* rotate the order each rep */
            if (threads > 1 && (impls[impl].p->flags & MP_ONE_THREAD))
                continue;
            g_cur_rep = rep;
            run_child(impl, wl, threads, n, &c->r[rep][impl]);
            fprintf(stderr, ".");
        }
    }
    fprintf(stderr, "\n");
}


static void do_w1(int wl)
{
    static struct cell cells[MAX_TC];
    struct cell *cp[MAX_TC];
    int list[MAX_IMPLS], nl = impl_list(wl, list), t;
    int i1 = bu_thread_index(g_tc, g_ntc, 1), i2 = bu_thread_index(g_tc, g_ntc, 2);
    printf("\n%s: prefill %llu keys from [0, %llu), %s, %.1f s per run, median of %d\n",
           wl == W_1 ? "W1 read-mostly" : "W1b read-only", (unsigned long long)g_keys,
           (unsigned long long)(2 * g_keys),
           wl == W_1 ? "90% load / 9% store / 1% delete" : "100% load", g_secs, g_reps);
    printf("  (spread = (max-min)/median over reps; gc/peer = goconc/peer in the same rep,"
           " median; > 1: goconc faster)\n");
    fflush(stdout);
    for (t = 0; t < g_ntc; t++) {
        memset(&cells[t], 0, sizeof cells[t]);
        cp[t] = &cells[t];
        run_cell(wl, g_tc[t], g_keys, cp[t], list, nl);
    }
    print_mops_table(wl, list, nl, cp, g_tc, g_ntc);
    if (g_scaling)
        print_scaling_table(list, nl, cp, g_tc, g_ntc);
    if (wl == W_1) {
        T.have_w1 = 1;
        return;
    }
    /* W1b scaling: goconc's own 2-thread over 1-thread figure, same rep. */
    if (i1 >= 0 && i2 >= 0) {
        T.w1b_scale = med_paired(cp[i2], I_GOCONC, cp[i1], I_GOCONC, m_mops);
        if (!g_scaling) /* else the scaling table has it */
            printf("  goconc 2-thread / 1-thread: %.2fx\n", T.w1b_scale);
    }
    T.have_w1b = 1;
}

/*
 * The machine's own latency floor: spin on the clock for `secs` and count
 * the gaps of at least 10 us (timer ticks, IPIs and other work; a VM exit
 * for each tick costs 5-20 us in a small VM).  Every implementation's
 * stores absorb these gaps, so when more than 0.01% of a run's stores
 * can be hit, no p99.99 below ~10 us can be measured on this machine.
 */
static void measure_noise(double secs, int keep)
{
#if defined(__x86_64__) || defined(__i386__)
    uint64_t thr = (uint64_t)(10000 * tsc_per_ns), prev = clk_begin();
    uint64_t end = prev + (uint64_t)(secs * 1e9 * tsc_per_ns);
    double gaps[4096];
    size_t n = 0, total = 0;
    while (prev < end) {
        uint64_t t = __rdtsc();
        if (t - prev >= thr) {
            if (n < 4096)
                gaps[n++] = (double)(t - prev) / tsc_per_ns / 1e3;
            total++;
        }
        prev = t;
    }
    printf("  machine noise: an empty loop is interrupted for >= 10 us %.0f times per second"
           " (median %.0f us)\n",
           (double)total / secs, n ? bu_median(gaps, n) : 0);
    bu_json("map", "noise", "machine", 1, "gaps_10us_per_s", (double)total / secs, "1/s");
    if (keep) { /* for the target summary; bu_median sorted gaps */
        T.gap_rate = (double)total / secs;
        T.gap_med_us = n ? gaps[n / 2] : 0;
    }
#else
    (void)secs;
    (void)keep;
#endif
}

/* run_cell with the children's W2 stores untimed (GOCONC_BENCH_MAP_CLOCK
 * =none); the parent's own setting is put back. */
static void run_cell_untimed(int wl, int threads, struct cell *c, int *list, int nl)
{
    const char *e = getenv("GOCONC_BENCH_MAP_CLOCK");
    char *was = e ? strdup(e) : NULL;
    setenv("GOCONC_BENCH_MAP_CLOCK", "none", 1);
    run_cell(wl, threads, g_grow, c, list, nl);
    if (was)
        setenv("GOCONC_BENCH_MAP_CLOCK", was, 1);
    else
        unsetenv("GOCONC_BENCH_MAP_CLOCK");
    free(was);
}

/* A fresh directory for this run's slow-store logs; 0 on success. */
static int slowlog_begin(void)
{
    const char *clk = getenv("GOCONC_BENCH_MAP_CLOCK");
    int tsc = strcmp(CLK_UNIT, "tsc") == 0 && !(clk && strcmp(clk, "cpu") == 0);
    snprintf(g_slowdir, sizeof g_slowdir, "/tmp/bench_map.XXXXXX");
    if (mkdtemp(g_slowdir) == NULL) {
        g_slowdir[0] = 0;
        return -1;
    }
    /* Log stores of 2 us and more: far below any p99.99 worth a look. */
    g_slow_ticks = (uint64_t)(2000.0 * (tsc ? tsc_per_ns : 1.0));
    return 0;
}

/*
 * W2's tail over each store's median latency across the reps
 * (bench_map_tail.c): what the map itself costs, without the machine's
 * interruptions, which seldom hit the same store in most reps.
 */
static void print_repeatable_tail(const struct cell *c, const int *list, int nl)
{
    char *paths[MAX_REPS], buf[MAX_REPS][128];
    double per_ns = (double)g_slow_ticks / 2000.0;
    int k, rep, printed = 0;

    for (k = 0; k < nl && g_slowdir[0]; k++) {
        int i = list[k], n = 0;
        struct tail_stat ts;
        if (impls[i].p->flags & MP_EXTERNAL)
            continue;
        for (rep = 0; rep < g_reps; rep++)
            if (c->r[rep][i].ok) {
                slowlog_path(buf[n], sizeof buf[n], g_slowdir, i, rep);
                paths[n] = buf[n];
                n++;
            }
        if (n < 3)
            continue;
        if (tail_analyze(paths, n, g_grow, (uint64_t)(10000.0 * per_ns), &ts) != 0) {
            printf("  (repeatable tail of %s: a log was missing or full)\n", impls[i].name);
            continue;
        }
        if (!printed++)
            printf("  repeatable tail: each store's median latency over the reps (an"
                   " interruption seldom hits\n  the same store in most reps; DashMap"
                   " runs outside and is not logged)\n"
                   "  %-10s %10s %10s %16s\n", "impl", "p99.99 us", "max ms",
                   "stores >= 10 us");
        if (ts.below)
            printf("  %-10s %10s", impls[i].name, "< 2.0");
        else
            printf("  %-10s %10.1f", impls[i].name, (double)ts.p9999 / per_ns / 1e3);
        printf(" %10.3f %16llu\n", (double)ts.max / per_ns / 1e6,
               (unsigned long long)ts.over);
        if (!ts.below)
            bu_json("map", "w2", impls[i].name, 1, "repeatable_p9999",
                    (double)ts.p9999 / per_ns, "ns");
        if (i == I_GOCONC) /* below: under the 2 us threshold, report that bound */
            T.w2_rep_p9999 = ts.below ? 2000.0 : (double)ts.p9999 / per_ns;
    }
    if (g_reps < 3)
        printf("  (repeatable tail: needs at least 3 reps)\n");
    for (k = 0; k < nl && g_slowdir[0]; k++)
        for (rep = 0; rep < g_reps; rep++) {
            slowlog_path(buf[0], sizeof buf[0], g_slowdir, list[k], rep);
            (void)remove(buf[0]);
        }
    if (g_slowdir[0])
        (void)rmdir(g_slowdir);
    g_slowdir[0] = 0;
}

/* W2's figures of impl for the report: medians over the reps, in s / ns. */
static void w2_json(int wl, int threads, int i, const struct cell *c, const struct cell *cu)
{
    static const struct {
        const char *name;
        metric_fn f;
    } lat[] = {{"p50", m_p50}, {"p99", m_p99}, {"p999", m_p999}, {"p9999", m_p9999},
               {"max", m_max}};
    const char *w = wl_name[wl], *n = impls[i].name;
    size_t k;
    bu_json("map", w, n, threads, "secs", med_metric(c, i, m_secs), "s");
    bu_json("map", w, n, threads, "plain_secs", med_metric(cu, i, m_secs), "s");
    for (k = 0; k < sizeof lat / sizeof lat[0]; k++)
        bu_json("map", w, n, threads, lat[k].name, med_metric(c, i, lat[k].f), "ns");
    bu_json("map", w, n, threads, "worst_max", max_metric(c, i, m_max), "ns");
    if (i != I_GOCONC)
        bu_json("map", w, n, threads, "goconc_over_peer", med_ratio(cu, i, m_secs), "x");
}

static void do_w2(int wl)
{
    static struct cell c, cu;
    int list[MAX_IMPLS], nl = impl_list(wl, list), k, threads = wl == W_2 ? 1 : 2;
    memset(&c, 0, sizeof c);
    memset(&cu, 0, sizeof cu);
    printf("\n%s: %s %llu distinct keys into an empty map (no reserve), median of %d\n",
           wl == W_2 ? "W2 growth" : "W2b growth",
           threads > 1 ? "2 threads store (disjoint halves)" : "1 thread stores",
           (unsigned long long)g_grow, g_reps);
    printf("  (latency per store in ns, measured around each call; max: median of"
           " reps / worst rep; time gc/peer < 1: goconc faster;\n"
           "   total: the timed run, whose clock reads keep stores from overlapping;"
           " plain: a second, untimed run)\n");
    measure_noise(1.0, wl == W_2);
    fflush(stdout);
    if (wl == W_2 && g_reps >= 3 && slowlog_begin() != 0)
        fprintf(stderr, "bench_map: no directory for the slow-store logs: no repeatable tail\n");
    run_cell(wl, threads, g_grow, &c, list, nl);
    run_cell_untimed(wl, threads, &cu, list, nl); /* untimed children log nothing */
    printf("  %-10s %8s %8s %8s %8s %8s %8s %8s %10s %10s %8s\n", "impl", "total s",
           "gc/peer", "plain s", "gc/peer", "p50", "p99", "p99.9", "p99.99", "max ms",
           "worst ms");
    for (k = 0; k < nl; k++) {
        int i = list[k];
        double secs = med_metric(&c, i, m_secs);
        char nb[64];
        if (isnan(secs))
            continue;
        printf("  %-10s %8.3f %8.2f %8.3f %8.2f %8.0f %8.0f %8.0f %10.0f %10.3f %8.3f\n",
               cell_name(&c, i, nb, sizeof nb), secs, med_ratio(&c, i, m_secs),
               med_metric(&cu, i, m_secs), med_ratio(&cu, i, m_secs),
               med_metric(&c, i, m_p50), med_metric(&c, i, m_p99),
               med_metric(&c, i, m_p999), med_metric(&c, i, m_p9999),
               med_metric(&c, i, m_max) / 1e6, max_metric(&c, i, m_max) / 1e6);
        w2_json(wl, threads, i, &c, &cu);
        if (wl == W_2) {
            T.w2_max_med[i] = med_metric(&c, i, m_max);
            T.w2_secs[i] = secs;
            T.w2_ratio[i] = med_ratio(&c, i, m_secs);
            T.w2_plain_ratio[i] = med_ratio(&cu, i, m_secs);
        }
    }
    if (c.r[0][I_GOCONC].ok && !isnan(res_get(&c.r[0][I_GOCONC], "grows")))
        printf("  goconc after the run: shards %.0f, buckets %.0f, migrating %.0f, grows %.0f,"
               " buckets moved %.0f, stats.bytes/entry %.1f\n",
               res_get(&c.r[0][I_GOCONC], "shards"), res_get(&c.r[0][I_GOCONC], "buckets"),
               res_get(&c.r[0][I_GOCONC], "migrating"), res_get(&c.r[0][I_GOCONC], "grows"),
               res_get(&c.r[0][I_GOCONC], "moved"),
               res_get(&c.r[0][I_GOCONC], "bytes") / (double)g_grow);
    if (wl == W_2) {
        T.w2_p9999 = med_metric(&c, I_GOCONC, m_p9999);
        T.have_w2 = 1;
        print_repeatable_tail(&c, list, nl);
    }
}

static void do_mem(void)
{
    int list[MAX_IMPLS], nl = impl_list(W_MEM, list), k;
    printf("\nMemory: RSS growth from /proc/self/statm while storing %llu 8-byte keys"
           " with 8-byte values (one run, fresh process)\n",
           (unsigned long long)g_keys);
    printf("  %-10s %12s %12s %12s\n", "impl", "RSS B/entry", "settled", "stats B/ent");
    for (k = 0; k < nl; k++) {
        struct result r;
        int i = list[k];
        double n = (double)g_keys, rss, settled;
        run_child(i, W_MEM, 1, g_keys, &r);
        if (!r.ok)
            continue;
        /* settled: after the map's settle (map_peer.h); the same without one */
        rss = res_get(&r, "rss") / n;
        settled = res_get(&r, "rss_settled") / n;
        if (isnan(settled))
            settled = rss;
        printf("  %-10s %12.1f %12.1f", impls[i].name, rss, settled);
        bu_json("map", "mem", impls[i].name, 1, "rss_per_entry", rss, "B");
        bu_json("map", "mem", impls[i].name, 1, "rss_settled_per_entry", settled, "B");
        if (!isnan(res_get(&r, "bytes"))) {
            printf(" %12.1f", res_get(&r, "bytes") / n);
            bu_json("map", "mem", impls[i].name, 1, "stats_per_entry",
                    res_get(&r, "bytes_settled") / n, "B");
        }
        if (i == I_GOCONC) {
            T.mem_rss = rss;
            T.mem_bytes = res_get(&r, "bytes") / n;
            T.have_mem = 1;
            printf("   (settled: after maintain + barrier, stats %.1f;"
                   " %.0f of %.0f shards migrating before)",
                   res_get(&r, "bytes_settled") / n, res_get(&r, "migrating"),
                   res_get(&r, "shards"));
        }
        printf("\n");
    }
}

static void do_check(void)
{
    int list[MAX_IMPLS], nl = impl_list(W_CHECK, list), k, bad = 0;
    struct result first;
    uint64_t n = g_keys;
    printf("\nSame-stream check: prefill %llu, then %llu single-threaded W1 ops;"
           " every implementation must agree\n",
           (unsigned long long)n, (unsigned long long)(2 * n));
    memset(&first, 0, sizeof first);
    for (k = 0; k < nl; k++) {
        struct result r;
        int i = list[k];
        run_child(i, W_CHECK, 1, n, &r);
        if (!r.ok) {
            bad = 1;
            continue;
        }
        printf("  %-10s hits %.0f len %.0f\n", impls[i].name, res_get(&r, "hits"),
               res_get(&r, "len"));
        bu_json("map", "check", impls[i].name, 1, "hits", res_get(&r, "hits"), "");
        bu_json("map", "check", impls[i].name, 1, "len", res_get(&r, "len"), "");
        if (!first.ok)
            first = r;
        else if (res_get(&r, "hits") != res_get(&first, "hits") ||
                 res_get(&r, "len") != res_get(&first, "len"))
            bad = 1;
    }
    printf("  %s\n", bad ? "MISMATCH: the implementations did not see the same stream"
                         : "all agree");
    bu_json("map", "check", "all", 1, "agree", !bad, "");
}

static void calibrate_clock(void)
{
    const char *e = getenv("GOCONC_BENCH_MAP_CLOCK");
    if (e && strcmp(e, "cpu") == 0) {
        double dd[4096];
        size_t i;
        for (i = 0; i < 4096; i++) {
            uint64_t a = cpu_ns();
            dd[i] = (double)(cpu_ns() - a);
        }
        printf("Clock (GOCONC_BENCH_MAP_CLOCK=cpu, diagnostic): each store timed by the"
               " thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so preemption does not count;"
               " an empty pair costs %.0f ns (median), included\n",
               bu_median(dd, 4096));
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    double t0 = bu_now(), t1;
    uint64_t c0 = clk_begin(), c1;
    struct timespec ts = {0, 200000000};
    uint64_t d[4096];
    size_t i;
    double dd[4096];
    nanosleep(&ts, NULL);
    t1 = bu_now();
    c1 = clk_end();
    tsc_per_ns = (double)(c1 - c0) / ((t1 - t0) * 1e9);
    for (i = 0; i < 4096; i++) {
        uint64_t a = clk_begin();
        d[i] = clk_end() - a;
    }
    for (i = 0; i < 4096; i++)
        dd[i] = (double)d[i];
    printf("Clock: rdtsc (lfence; rdtsc ... rdtscp; lfence) at %.3f GHz; an empty pair costs"
           " %.0f ns (median), included in every latency figure\n",
           tsc_per_ns, bu_median(dd, 4096) / tsc_per_ns);
#else
    printf("Clock: clock_gettime(CLOCK_MONOTONIC) around each store\n");
#endif
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_map [all|check|mem|w1|w1b|w2|w2b ...] [--impls=a,b,...]\n"
            "  env: GOCONC_BENCH_REPS (5), GOCONC_BENCH_SECONDS (2), GOCONC_BENCH_SEED,\n"
            "       GOCONC_BENCH_MAP_KEYS (1000000), GOCONC_BENCH_MAP_GROW (10000000),\n"
            "       GOCONC_DASHMAP_BIN (path of bench/dashmap's program),\n"
            "       GOCONC_BENCH_THREADS (W1/W1b thread counts, default 1,2),\n"
            "       GOCONC_BENCH_MAP_CLOCK=cpu (W2 latency by thread CPU time: diagnostic),\n"
            "       GOCONC_BENCH_JSON=FILE (append every figure to FILE as JSON lines)\n");
}

int main(int argc, char **argv)
{
    unsigned want = 0;
    const char *only = NULL, *e;
    double load = 0;
    int i, k;
    FILE *f;

    impl_probe();
    if (argc == 8 && strcmp(argv[1], "--child") == 0)
        return child_main(argv + 2);

    for (i = 1; i < argc; i++) {
        int w = wl_by_name(argv[i]);
        if (strcmp(argv[i], "all") == 0)
            want |= W_ALL;
        else if (strncmp(argv[i], "--impls=", 8) == 0)
            only = argv[i] + 8;
        else if (w >= 0)
            want |= WB(w);
        else {
            usage();
            return 2;
        }
    }
    if (!want)
        want = W_ALL;

    g_reps = bu_reps(5);
    if (g_reps < 1 || g_reps > MAX_REPS)
        g_reps = g_reps < 1 ? 1 : MAX_REPS;
    {
        static const int dflt[2] = {1, 2};
        g_ntc = bu_thread_list(g_tc, MAX_TC, dflt, 2);
        g_scaling = (e = getenv("GOCONC_BENCH_THREADS")) && *e;
    }
    targets_init();
    g_secs = bu_seconds(2.0);
    g_seed = (e = getenv("GOCONC_BENCH_SEED")) ? strtoull(e, NULL, 0) : 0x5EED1234ULL;
    g_keys = (e = getenv("GOCONC_BENCH_MAP_KEYS")) ? strtoull(e, NULL, 0) : 1000000;
    g_grow = (e = getenv("GOCONC_BENCH_MAP_GROW")) ? strtoull(e, NULL, 0) : 10000000;
    if (g_keys < 1 || g_keys > (1u << 30) || g_grow < 2)
        return usage(), 2;

    {
        ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
        char *slash;
        if (n <= 0)
            return fprintf(stderr, "bench_map: cannot find /proc/self/exe\n"), 1;
        self_exe[n] = 0;
        if ((e = getenv("GOCONC_DASHMAP_BIN")) && *e) {
            snprintf(dashmap_bin, sizeof dashmap_bin, "%s", e);
        } else {
            snprintf(dashmap_bin, sizeof dashmap_bin, "%s", self_exe);
            slash = strrchr(dashmap_bin, '/');
            snprintf(slash + 1, sizeof dashmap_bin - (size_t)(slash + 1 - dashmap_bin),
                     "dashmap-target/release/goconc-dashmap-bench");
        }
    }
    impls[I_DASHMAP].avail = access(dashmap_bin, X_OK) == 0;
    if (only) {
        for (k = 0; k < n_impls; k++) {
            char pat[64];
            snprintf(pat, sizeof pat, ",%s,", impls[k].name);
            char list[512];
            snprintf(list, sizeof list, ",%s,", only);
            if (k != I_GOCONC && !strstr(list, pat))
                impls[k].avail = 0;
        }
    }

    printf("bench_map: seed %llu, %d reps, %.1f s per W1 run, N = %llu, G = %llu\n",
           (unsigned long long)g_seed, g_reps, g_secs, (unsigned long long)g_keys,
           (unsigned long long)g_grow);
    bu_json("map", "settings", "", 0, "reps", g_reps, "");
    bu_json("map", "settings", "", 0, "seconds", g_secs, "s");
    bu_json("map", "settings", "", 0, "keys", (double)g_keys, "");
    bu_json("map", "settings", "", 0, "grow", (double)g_grow, "");
    if ((f = fopen("/proc/loadavg", "r"))) {
        if (fscanf(f, "%lf", &load) != 1)
            load = 0;
        fclose(f);
    }
    printf("CPUs online: %ld, load average %.2f%s\n", sysconf(_SC_NPROCESSORS_ONLN), load,
           load > 0.5 ? "  (other work is running: expect noise)" : "");
    if (g_scaling) {
        printf("W1/W1b thread counts (GOCONC_BENCH_THREADS):");
        for (k = 0; k < g_ntc; k++)
            printf("%s%d", k ? "," : " ", g_tc[k]);
        printf("%s\n", g_tc[g_ntc - 1] > sysconf(_SC_NPROCESSORS_ONLN)
                           ? "  (more threads than CPUs: they share cores)" : "");
    }
    printf("Implementations (all hash with fmix64(key ^ seed) except goconc and goconc-np):\n");
    for (k = 0; k < n_impls; k++)
        printf("  %-10s %-50s %s\n", impls[k].name, impls[k].desc,
               impls[k].avail ? "" : "(not built / not selected)");
    for (k = 0; map_peers_absent[k]; k++) {
        printf("  not built, package not found: %s\n", map_peers_absent[k]);
        bu_json("map", "peers", map_peers_absent[k], 0, "built", 0, "");
    }
    for (k = 0; k < n_impls; k++)
        bu_json("map", "peers", impls[k].name, 0, "built", impls[k].avail, "");
    calibrate_clock();

    if (want & WB(W_CHECK))
        do_check();
    if (want & WB(W_MEM))
        do_mem();
    if (want & WB(W_1))
        do_w1(W_1);
    if (want & WB(W_1B))
        do_w1(W_1B);
    if (want & WB(W_2))
        do_w2(W_2);
    if (want & WB(W_2B))
        do_w2(W_2B);
    print_targets();
    return 0;
}
