/* SPDX-License-Identifier: MIT */
/*
 * bench_pool.c - goconc_pool against glibc malloc/free, jemalloc and
 * mimalloc.
 *
 *  W5. get+put (malloc+free) of a 256-byte object in a loop, on 1 and on
 *     2 threads sharing one pool (or the counts listed in
 *     GOCONC_BENCH_THREADS, e.g. "1,2,4,8,16"): CPU ns per get+put per
 *     thread; also two empty calls through pointers, the floor of this
 *     scenario.
 *  W5b. a producer/consumer pair: one thread gets (mallocs) and passes the
 *     object through a single-producer single-consumer ring, the other
 *     puts it back (frees it): wall ns per object; also the ring alone
 *     with objects from a fixed array, the floor of this scenario.  A
 *     second, timed pass reads the cycle counter around every get and put
 *     and reports their mean cost in ns: what the contender itself costs
 *     in this pattern, without the ring and without the time a thread
 *     spends descheduled (calls longer than PAIR_OUTLIER, preempted
 *     inside, are left out), which on a loaded machine swamps the wall
 *     figure.
 *
 * Every run writes one byte of each object, as a user would.  Runs are
 * interleaved (pool, glibc, jemalloc, mimalloc, pool, ...); each figure
 * is the median of 5 (GOCONC_BENCH_REPS).  GOCONC_BENCH_SECONDS scales
 * the work.
 *
 * glibc is called through __libc_malloc/__libc_free, which stay glibc's
 * even when jemalloc replaces the process allocator (bench/meson.build
 * links -ljemalloc when it is installed: -DHAVE_JEMALLOC).  jemalloc is
 * called through malloc/free looked up in its own handle, so the figures
 * do not depend on which allocator the process ended up with.  mimalloc
 * is dlopen()ed too (RTLD_LOCAL, so it replaces nothing) and called
 * through mi_malloc/mi_free, the entry points its own malloc/free wrap.
 * Every contender is called the same way: through function pointers set
 * at run time (one indirect call each, no PLT hop for anyone).  A
 * contender whose library is not installed is left out.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchutil.h"
#include "goconc.h"

#define OBJ_SIZE 256
#define RING 256 /* power of two */

#ifdef __GLIBC__
/* glibc's own entry points: not replaced when another malloc is linked. */
extern void *__libc_malloc(size_t size);
extern void __libc_free(void *ptr);
#define LIBC_MALLOC __libc_malloc
#define LIBC_FREE __libc_free
#else
#define LIBC_MALLOC malloc
#define LIBC_FREE free
#endif

enum { IMPL_POOL, IMPL_GLIBC, IMPL_JEMALLOC, IMPL_MIMALLOC, NIMPL };
static const char *impl_name[NIMPL] = { "goconc_pool", "glibc", "jemalloc",
                                        "mimalloc" };

static void *(*je_malloc)(size_t);
static void (*je_free)(void *);
static void *(*mi_malloc_fn)(size_t);
static void (*mi_free_fn)(void *);
static void *(*glibc_malloc)(size_t);
static void (*glibc_free)(void *);
static void *(*pool_get)(goconc_pool *);
static void (*pool_put)(goconc_pool *, void *);
static void *(*noop_get)(goconc_pool *);
static void (*noop_put)(goconc_pool *, void *);
static goconc_pool *pool;
static long iters_loop, iters_pair;

static void *obj_new(void *ctx)
{
    (void)ctx;
    return malloc(OBJ_SIZE);
}

static void obj_free(void *ctx, void *obj)
{
    (void)ctx;
    free(obj);
}

/* The loops below are instantiated once per implementation (no switch
 * inside the timed loop). */
#define ACQ_POOL() pool_get(pool)
#define REL_POOL(o) pool_put(pool, (o))
#define ACQ_GLIBC() glibc_malloc(OBJ_SIZE)
#define REL_GLIBC(o) glibc_free(o)
#define ACQ_JE() je_malloc(OBJ_SIZE)
#define REL_JE(o) je_free(o)
#define ACQ_MI() mi_malloc_fn(OBJ_SIZE)
#define REL_MI(o) mi_free_fn(o)
/* The ring alone: objects from a fixed array, reused round robin (the
 * same writes to each object, no allocator at all). */
#define RING_OBJS (4 * RING)
static char ring_objs[RING_OBJS][OBJ_SIZE];
#define ACQ_NONE() ring_objs[k % RING_OBJS]
#define REL_NONE(o) BU_KEEP(o)

/* ------------------------------------------------------- get+put loop */

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double loop_cpu[64]; /* bu_run_threads' limit */

#define LOOP_FN(name, ACQ, REL)                                            \
    static void *name(void *arg, int idx)                                  \
    {                                                                      \
        double t0 = thread_cpu();                                          \
        long i;                                                            \
        (void)arg;                                                         \
        for (i = 0; i < iters_loop; i++) {                                 \
            char *o = ACQ();                                               \
            o[0] = (char)i;                                                \
            BU_KEEP(o);                                                    \
            REL(o);                                                        \
        }                                                                  \
        loop_cpu[idx] = thread_cpu() - t0;                                 \
        return NULL;                                                       \
    }
LOOP_FN(loop_pool, ACQ_POOL, REL_POOL)
LOOP_FN(loop_glibc, ACQ_GLIBC, REL_GLIBC)
LOOP_FN(loop_je, ACQ_JE, REL_JE)
LOOP_FN(loop_mi, ACQ_MI, REL_MI)

/* The floor of the loop: two calls through pointers that do nothing. */
static char noop_obj[OBJ_SIZE];
static __attribute__((noinline)) void *noop_get_fn(goconc_pool *p)
{
    BU_KEEP(p);
    return noop_obj;
}
static __attribute__((noinline)) void noop_put_fn(goconc_pool *p, void *o)
{
    BU_KEEP(p);
    BU_KEEP(o);
}
#define ACQ_NOOP() noop_get(pool)
#define REL_NOOP(o) noop_put(pool, (o))
LOOP_FN(loop_noop, ACQ_NOOP, REL_NOOP)
static void *(*const loop_fn[NIMPL + 1])(void *, int) = {
    loop_pool, loop_glibc, loop_je, loop_mi, loop_noop
};

/* Per-thread CPU time, not wall time: on a shared 2-core machine other
 * processes preempt the loop, which would count against whoever ran
 * then.  Both threads run at once, so the 2-thread figure still pays
 * for any shared cache line. */
static double run_loop(int impl, int nthreads)
{
    double sum = 0;
    int i;
    bu_run_threads(nthreads, loop_fn[impl], NULL);
    for (i = 0; i < nthreads; i++)
        sum += loop_cpu[i];
    return sum / nthreads * 1e9 / (double)iters_loop;
}

/* ---------------------------------------------------- producer/consumer */

/* The timed pass (pair_timed): cycles inside get and put, and how many
 * calls they cover, per side. */
#define PAIR_OUTLIER 20000 /* cycles: a call preempted inside */
static int pair_timed;
static struct {
    _Alignas(128) unsigned long long cycles;
    unsigned long long calls;
} pair_cost[2];

static inline unsigned long long cycles_now(void)
{
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_ia32_rdtsc();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
#endif
}

/* Time one call into pair_cost[side] in the timed pass. */
#define PAIR_CALL(side, call)                                                  do {                                                                           if (pair_timed) {                                                              unsigned long long t0_ = cycles_now(), d_;                                 call;                                                                      d_ = cycles_now() - t0_;                                                   if (d_ < PAIR_OUTLIER) {                                                       pair_cost[side].cycles += d_;                                              pair_cost[side].calls++;                                               }                                                                      } else {                                                                       call;                                                                  }                                                                      } while (0)

static struct {
    _Alignas(128) volatile size_t head; /* written by the producer */
    _Alignas(128) volatile size_t tail; /* written by the consumer */
    _Alignas(128) void *slot[RING];
} ring;

/* Spin briefly, then yield: when the machine is oversubscribed the
 * partner may not be running at all. */
static inline void backoff(int *spins)
{
    if (++*spins < 256) {
        __builtin_ia32_pause();
    } else {
        *spins = 0;
        sched_yield();
    }
}

#define PAIR_FN(name, ACQ, REL)                                            \
    static void *name(void *arg, int idx)                                  \
    {                                                                      \
        size_t k;                                                          \
        int spins;                                                         \
        (void)arg;                                                         \
        if (idx == 0) { /* producer */                                     \
            for (k = 0; k < (size_t)iters_pair; k++) {                     \
                char *o;                                                   \
                PAIR_CALL(0, o = ACQ());                                   \
                o[0] = (char)k;                                            \
                /* Acquire: pairs with the consumer's release of tail:     \
                 * the slot is free before we overwrite it. */             \
                for (spins = 0; k - __atomic_load_n(&ring.tail,            \
                                    __ATOMIC_ACQUIRE) == RING;)            \
                    backoff(&spins);                                       \
                ring.slot[k % RING] = o;                                   \
                /* Release: the consumer's acquire of head sees the slot. */\
                __atomic_store_n(&ring.head, k + 1, __ATOMIC_RELEASE);     \
            }                                                              \
        } else { /* consumer */                                            \
            for (k = 0; k < (size_t)iters_pair; k++) {                     \
                char *o;                                                   \
                for (spins = 0; __atomic_load_n(&ring.head,                \
                                    __ATOMIC_ACQUIRE) == k;)               \
                    backoff(&spins);                                       \
                o = ring.slot[k % RING];                                   \
                __atomic_store_n(&ring.tail, k + 1, __ATOMIC_RELEASE);     \
                o[1] = o[0];                                               \
                PAIR_CALL(1, REL(o));                                      \
            }                                                              \
        }                                                                  \
        return NULL;                                                       \
    }
PAIR_FN(pair_pool, ACQ_POOL, REL_POOL)
PAIR_FN(pair_glibc, ACQ_GLIBC, REL_GLIBC)
PAIR_FN(pair_je, ACQ_JE, REL_JE)
PAIR_FN(pair_mi, ACQ_MI, REL_MI)
PAIR_FN(pair_none, ACQ_NONE, REL_NONE)
static void *(*const pair_fn[NIMPL + 1])(void *, int) = {
    pair_pool, pair_glibc, pair_je, pair_mi, pair_none
};

static double run_pair(int impl)
{
    double t;
    ring.head = ring.tail = 0;
    t = bu_run_threads(2, pair_fn[impl], NULL);
    return t * 1e9 / (double)iters_pair;
}

static double cycles_per_ns = 1.0;

/* The cycle counter's rate, against CLOCK_MONOTONIC over 50 ms. */
static void calibrate_cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
    struct timespec a, b, nap = { 0, 50000000 };
    unsigned long long c0, c1;
    clock_gettime(CLOCK_MONOTONIC, &a);
    c0 = cycles_now();
    nanosleep(&nap, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    c1 = cycles_now();
    cycles_per_ns = (double)(c1 - c0) /
                    ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec));
#endif
}

/* The timed pass: mean ns inside one get plus one put. */
static double run_pair_calls(int impl)
{
    double per_call[2];
    int side;
    memset(pair_cost, 0, sizeof pair_cost);
    pair_timed = 1;
    run_pair(impl);
    pair_timed = 0;
    for (side = 0; side < 2; side++)
        per_call[side] = pair_cost[side].calls != 0
                             ? (double)pair_cost[side].cycles / (double)pair_cost[side].calls
                             : 0;
    return (per_call[0] + per_call[1]) / cycles_per_ns;
}

/* ---------------------------------------------------------------- main */

/* malloc and free of the library @p so named @p m and @p f, or 0. */
static int load_peer(const char *so, const char *m, const char *f,
                     void *(**mp)(size_t), void (**fp)(void *))
{
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        return 0;
    *(void **)mp = dlsym(h, m);
    *(void **)fp = dlsym(h, f);
    return *mp != NULL && *fp != NULL;
}

#define MAXT 16 /* thread counts */

static void print_scenario(double med[NIMPL], const int *have)
{
    int i;
    for (i = 0; i < NIMPL; i++)
        if (have[i])
            printf("  %-12s %8.2f ns\n", impl_name[i], med[i]);
    for (i = IMPL_GLIBC; i < NIMPL; i++)
        if (have[i])
            printf("  ratio pool/%-9s %.2fx\n", impl_name[i],
                   med[IMPL_POOL] / med[i]);
}

int main(void)
{
    goconc_pool_options o = GOCONC_POOL_OPTIONS_INIT;
    static const int dflt[2] = { 1, 2 };
    /* Scenarios: the get+put loop at each thread count, the pair, the
     * pair's calls timed. */
    int threads[MAXT], nt, nscen, s_pair, s_calls, have[NIMPL], last;
    static double res[MAXT + 2][NIMPL][32];
    double med[MAXT + 2][NIMPL], ring[32], calls[32], timer[32];
    int reps = bu_reps(5), r, s, i;
    double scale = bu_seconds(1.0);
    goconc_pool_stats st = GOCONC_POOL_STATS_INIT;

    if (reps < 1 || reps > 32)
        reps = 5;
    nt = bu_thread_list(threads, MAXT, dflt, 2);
    s_pair = nt;
    s_calls = nt + 1;
    nscen = nt + 2;
    iters_loop = (long)(20e6 * scale);
    iters_pair = (long)(4e6 * scale);
    glibc_malloc = LIBC_MALLOC;
    glibc_free = LIBC_FREE;
    pool_get = goconc_pool_get;
    pool_put = goconc_pool_put;
    noop_get = noop_get_fn;
    noop_put = noop_put_fn;
    have[IMPL_POOL] = have[IMPL_GLIBC] = 1;
    have[IMPL_JEMALLOC] = load_peer("libjemalloc.so.2", "malloc", "free",
                                    &je_malloc, &je_free);
    have[IMPL_MIMALLOC] = load_peer("libmimalloc.so.2", "mi_malloc", "mi_free",
                                    &mi_malloc_fn, &mi_free_fn);
    for (last = NIMPL - 1; !have[last]; last--)
        ;
    calibrate_cycles();
    o.new_obj = obj_new;
    o.free_obj = obj_free;
    if (goconc_pool_new(&pool, &o) != GOCONC_OK) {
        fprintf(stderr, "goconc_pool_new failed\n");
        return 1;
    }
    printf("bench_pool: %d-byte objects, median of %d interleaved runs%s%s\n",
           OBJ_SIZE, reps, have[IMPL_JEMALLOC] ? "" : " (jemalloc not found)",
           have[IMPL_MIMALLOC] ? "" : " (mimalloc not found)");

    for (i = 0; i < NIMPL; i++) /* warm-up */
        if (have[i]) {
            run_loop(i, 1);
            run_pair(i);
        }
    for (r = 0; r < reps; r++)
        for (i = 0; i < NIMPL; i++) {
            if (!have[i])
                continue;
            for (s = 0; s < nt; s++)
                res[s][i][r] = run_loop(i, threads[s]);
            res[s_pair][i][r] = run_pair(i);
            res[s_calls][i][r] = run_pair_calls(i);
            if (i == last) {
                calls[r] = run_loop(NIMPL, 1);   /* two empty calls */
                ring[r] = run_pair(NIMPL);       /* the ring alone */
                timer[r] = run_pair_calls(NIMPL); /* the timer alone */
            }
        }
    for (s = 0; s < nscen; s++) {
        if (s == s_pair)
            printf("\nW5b: producer/consumer pair via ring (wall ns per object)\n");
        else if (s == s_calls)
            printf("\nW5b, timed: ns inside one get + one put in that pair (mean)\n");
        else if (threads[s] == 1)
            printf("\nW5: get+put, 1 thread  (CPU ns per get+put)\n");
        else
            printf("\nW5: get+put, %d threads (CPU ns per get+put per thread)\n",
                   threads[s]);
        for (i = 0; i < NIMPL; i++) {
            med[s][i] = have[i] ? bu_median(res[s][i], (size_t)reps) : 0;
            if (have[i])
                bu_json("pool", s == s_pair ? "pair" : s == s_calls ? "pair_timed" : "getput",
                        impl_name[i], s < nt ? threads[s] : 2, "ns", med[s][i], "ns");
        }
        print_scenario(med[s], have);
        if (s < nt && threads[s] == 1)
            printf("  (two empty calls through pointers: %.2f ns)\n",
                   bu_median(calls, (size_t)reps));
        if (s == s_pair)
            printf("  (the ring alone, objects from a fixed array: %.2f ns)\n",
                   bu_median(ring, (size_t)reps));
        if (s == s_calls)
            printf("  (the timer around no call: %.2f ns, included above)\n",
                   bu_median(timer, (size_t)reps));
    }
    bu_discard(goconc_pool_stats_get(pool, &st));
    printf("\npool: gets %llu hits %llu news %llu drops %llu idle %zu\n",
           (unsigned long long)st.gets, (unsigned long long)st.hits,
           (unsigned long long)st.news, (unsigned long long)st.drops, st.idle);
    goconc_pool_free(pool);
    return 0;
}
