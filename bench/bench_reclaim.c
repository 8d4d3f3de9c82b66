/* SPDX-License-Identifier: MIT */
/*
 * bench_reclaim.c - cost of a read section (enter + exit).
 *
 * Variants, each at 1 and 2 threads (or the counts listed in
 * GOCONC_BENCH_THREADS, e.g. "1,2,4,8,16"), in ns per section per thread:
 *   inline    goconc_read_lock()/unlock() - the header's inline path
 *   exported  (goconc_read_lock)()/(goconc_read_unlock)() - what FFI gets
 *   rwlock    pthread_rwlock_rdlock + unlock on one shared lock (baseline)
 *   refcount  atomic increment + decrement of a count on one shared object
 *             (baseline)
 *   urcu-memb liburcu's memb flavour, read side inlined (_LGPL_SOURCE):
 *             the design goconc's read side follows (peer; built in when
 *             liburcu-dev is installed, HAVE_LIBURCU_MEMB)
 * Each section also loads a shared pointer, as a real reader would.
 *
 * Two clocks: "cpu" divides each thread's own CPU time in its loop by its
 * iterations (averaged over the threads), so time the thread spent
 * descheduled by other processes does not count; "wall" divides the wall
 * time from the common start to the last finish.  On an idle machine they
 * agree; on a shared 2-core machine "cpu" is the one to read (but a
 * 2-thread figure only shows contention if both threads really ran at
 * once: compare the load average printed at the start).
 *
 * Runs are interleaved (every variant once per round, rounds repeated) and
 * the median of the rounds is reported, with ratios against the baselines
 * measured in the same run.  GOCONC_BENCH_REPS (default 5) and
 * GOCONC_BENCH_SECONDS (per measurement, default 0.2) tune it.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_LIBURCU_MEMB
#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>
#endif

#include "benchutil.h"
#include "goconc.h"

enum { V_INLINE, V_EXPORTED, V_RWLOCK, V_REFCOUNT, V_URCU, NV };
static const char *vname[NV] = { "inline", "exported", "rwlock", "refcount",
                                 "urcu-memb" };
#ifdef HAVE_LIBURCU_MEMB
static const int have_urcu = 1;
#else
static const int have_urcu = 0;
#endif
enum { C_CPU = BU_CPU, C_WALL = BU_WALL, NCLK };
static const char *cname[NCLK] = { "cpu", "wall" };
#define MAXT BU_MAX_COUNTS /* thread counts */

struct shared_obj {
    long refs;
    char pad[120];
};

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static struct shared_obj obj __attribute__((aligned(128)));
static struct shared_obj *volatile shared_ptr = &obj;

static void *run_variant(void *p, int idx)
{
    struct bu_job *j = p;
    long i, n = j->iters;
    double c0 = bu_thread_cpu();
    switch (j->variant) {
    case V_INLINE:
        for (i = 0; i < n; i++) {
            goconc_read_lock();
            BU_KEEP(__atomic_load_n(&shared_ptr, __ATOMIC_ACQUIRE));
            goconc_read_unlock();
        }
        break;
    case V_EXPORTED:
        for (i = 0; i < n; i++) {
            (goconc_read_lock)();
            BU_KEEP(__atomic_load_n(&shared_ptr, __ATOMIC_ACQUIRE));
            (goconc_read_unlock)();
        }
        break;
    case V_RWLOCK:
        for (i = 0; i < n; i++) {
            pthread_rwlock_rdlock(&rw);
            BU_KEEP(__atomic_load_n(&shared_ptr, __ATOMIC_ACQUIRE));
            pthread_rwlock_unlock(&rw);
        }
        break;
    case V_REFCOUNT:
        for (i = 0; i < n; i++) {
            struct shared_obj *o = __atomic_load_n(&shared_ptr, __ATOMIC_ACQUIRE);
            __atomic_fetch_add(&o->refs, 1, __ATOMIC_ACQUIRE);
            BU_KEEP(o);
            __atomic_fetch_sub(&o->refs, 1, __ATOMIC_RELEASE);
        }
        break;
    case V_URCU:
#ifdef HAVE_LIBURCU_MEMB
        urcu_memb_register_thread();
        c0 = bu_thread_cpu(); /* registration is outside the timed loop */
        for (i = 0; i < n; i++) {
            urcu_memb_read_lock();
            BU_KEEP(__atomic_load_n(&shared_ptr, __ATOMIC_ACQUIRE));
            urcu_memb_read_unlock();
        }
        j->cpu[idx] = bu_thread_cpu() - c0;
        urcu_memb_unregister_thread();
        return NULL;
#endif
        break;
    }
    j->cpu[idx] = bu_thread_cpu() - c0;
    return NULL;
}

/* ns per section per thread, by both clocks, for one timed run. */
static const char *met(double v, double target)
{
    return v <= target ? "met" : "MISSED";
}

int main(void)
{
    int reps = bu_reps(5), v, ti, c, nv, nt, i1, i2, ncol, k;
    double secs = bu_seconds(0.2), load[3] = { -1, -1, -1 };
    static const int dflt[2] = { 1, 2 };
    int threads[MAXT], width[3 * MAXT];
    double med[NV][MAXT][NCLK];
    char label[3 * MAXT][24];
    int fenced;

    if (reps < 1)
        reps = 1;
    nt = bu_thread_list(threads, MAXT, dflt, 2);
    i1 = bu_thread_index(threads, nt, 1);
    i2 = bu_thread_index(threads, nt, 2);
    getloadavg(load, 3);
    /* Register the main thread's record outside the timed loops; worker
     * threads register on their first section (once per run, amortised
     * over millions of sections). */
    goconc_read_lock();
    goconc_read_unlock();
    nv = have_urcu ? NV : V_URCU;
    /* Interleaved: each round measures every variant at every count. */
    if (bu_measure_grid(run_variant, nv, threads, nt, reps, secs, med) != 0) {
        fprintf(stderr, "bench_reclaim: out of memory\n");
        return 1;
    }
    bu_json_grid("reclaim", "section", vname, nv, threads, nt, med);

#if defined(__GNUC__) && !defined(GOCONC_NO_INLINE)
    fenced = (int)__atomic_load_n(&goconc_gp.need_fence, __ATOMIC_RELAXED);
#else
    fenced = -1;
#endif
    printf("bench_reclaim: read section enter+exit, ns per section per "
           "thread, median of %d interleaved runs\n", reps);
    printf("load average at start %.2f; reader side: %s\n", load[0],
           fenced < 0 ? "unknown (inline path disabled)"
           : fenced   ? "full fence (no membarrier)"
                      : "compiler barrier only (membarrier)");
    if (load[0] > 0.5)
        printf("WARNING: the machine is busy (load %.2f): read the cpu "
               "column and the ratios, not the wall column\n", load[0]);
    /* Columns: cpu at each count, wall at each count, then cpu at each
     * count over cpu at 1 thread (when 1 is measured). */
    ncol = 0;
    for (c = 0; c < NCLK; c++)
        for (ti = 0; ti < nt; ti++)
            snprintf(label[ncol++], sizeof label[0], "%s %dt", cname[c], threads[ti]);
    for (ti = 0; ti < nt && i1 >= 0; ti++)
        if (ti != i1)
            snprintf(label[ncol++], sizeof label[0], "cpu %dt/1t", threads[ti]);
    printf("%-10s", "variant");
    for (k = 0; k < ncol; k++) {
        width[k] = (int)strlen(label[k]) > 9 ? (int)strlen(label[k]) : 9;
        printf(" %*s", width[k], label[k]);
    }
    printf("\n");
    for (v = 0; v < nv; v++) {
        printf("%-10s", vname[v]);
        k = 0;
        for (c = 0; c < NCLK; c++)
            for (ti = 0; ti < nt; ti++)
                printf(" %*.2f", width[k++], med[v][ti][c]);
        for (ti = 0; ti < nt && i1 >= 0; ti++)
            if (ti != i1)
                printf(" %*.2f", width[k++], med[v][ti][C_CPU] / med[v][i1][C_CPU]);
        printf("\n");
    }
    printf("ratios against the baselines of this run (below 1: goconc is "
           "faster):\n");
    for (c = 0; c < NCLK; c++)
        for (ti = 0; ti < nt; ti++)
            for (v = V_INLINE; v <= V_EXPORTED; v++) {
                printf("  %-4s %dt  %-8s / rwlock %.3f   / refcount %.3f",
                       cname[c], threads[ti], vname[v],
                       med[v][ti][c] / med[V_RWLOCK][ti][c],
                       med[v][ti][c] / med[V_REFCOUNT][ti][c]);
                if (have_urcu)
                    printf("   / urcu-memb %.3f",
                           med[v][ti][c] / med[V_URCU][ti][c]);
                printf("\n");
            }
    if (i1 >= 0 && i2 >= 0) /* the targets are set at 1 and 2 threads */
        printf("targets (cpu clock): inline <= %.1f ns: 1t %.2f %s, 2t %.2f %s; "
               "flat 1 -> 2 threads (2t/1t %.2f); exported <= 4 ns: 1t %.2f %s, "
               "2t %.2f %s\n",
               fenced > 0 ? 3.0 : 1.5,
               med[V_INLINE][i1][C_CPU], met(med[V_INLINE][i1][C_CPU], fenced > 0 ? 3.0 : 1.5),
               med[V_INLINE][i2][C_CPU], met(med[V_INLINE][i2][C_CPU], fenced > 0 ? 3.0 : 1.5),
               med[V_INLINE][i2][C_CPU] / med[V_INLINE][i1][C_CPU],
               med[V_EXPORTED][i1][C_CPU], met(med[V_EXPORTED][i1][C_CPU], 4),
               med[V_EXPORTED][i2][C_CPU], met(med[V_EXPORTED][i2][C_CPU], 4));
    return 0;
}
