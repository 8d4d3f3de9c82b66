/* SPDX-License-Identifier: MIT */
/*
 * bench_slice - goconc_slice_append against a plain C vector.
 *
 *  1. One thread appends 10M 8-byte elements one at a time: goconc slice
 *     versus a realloc-doubling C vector (target: at most 1.5x its time).
 *  2. Two threads append 5M each to one slice: goconc slice versus the
 *     same vector under a pthread_mutex (target: at most 0.7x its time).
 *     GOCONC_BENCH_THREADS (e.g. "1,2,4,8,16") runs this case once per
 *     listed count instead, T threads appending N/T each.
 *
 * Runs of the contenders are interleaved; each figure is the median of
 * GOCONC_BENCH_REPS (default 5) runs, and each ratio compares medians
 * measured in this run.  GOCONC_BENCH_N overrides the element count.
 *
 * Two clocks for the one-thread case: wall time, and the thread's own CPU
 * time (page faults included), which a busy shared machine disturbs less.
 * The two-thread case is wall time only: a waiting spinner burns CPU time
 * where a waiting mutex sleeps, so CPU time would not compare the same
 * thing.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "benchutil.h"
#include "goconc.h"

#define MAX_REPS 64

static size_t n_total = 10u * 1000 * 1000;

/* ------------------------------------------------------- the baseline */

struct vec {
    uint64_t *v;
    size_t len, cap;
    pthread_mutex_t mu;
};

/* noinline: a vector lives in its own translation unit in real code, as
 * the library's append does; inlining it would measure the loop instead. */
static __attribute__((noinline)) int vec_push(struct vec *v, uint64_t x)
{
    if (v->len == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 1;
        uint64_t *p = realloc(v->v, nc * sizeof *p);
        if (p == NULL)
            return -1;
        v->v = p;
        v->cap = nc;
    }
    v->v[v->len++] = x;
    return 0;
}

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_slice: %s\n", what);
    exit(EXIT_FAILURE);
}

static double run_vec1(double *cpu)
{
    struct vec v = { NULL, 0, 0, PTHREAD_MUTEX_INITIALIZER };
    double c0 = thread_cpu(), t0 = bu_now(), t;
    size_t i;
    for (i = 0; i < n_total; i++)
        if (vec_push(&v, i) != 0)
            die("vector out of memory");
    t = bu_now() - t0;
    *cpu = thread_cpu() - c0;
    if (v.len != n_total || v.v[n_total - 1] != n_total - 1)
        die("vector lost elements");
    free(v.v);
    return t;
}

static double run_slice1(double *cpu)
{
    goconc_slice *s;
    double c0, t0, t;
    uint64_t x;
    size_t i;
    if (goconc_slice_new(&s, sizeof(uint64_t), 0, 0) != GOCONC_OK)
        die("goconc_slice_new");
    c0 = thread_cpu();
    t0 = bu_now();
    for (i = 0; i < n_total; i++) {
        x = i;
        if (goconc_slice_append(s, &x, 1, NULL) != GOCONC_OK)
            die("append failed");
    }
    t = bu_now() - t0;
    *cpu = thread_cpu() - c0;
    if (goconc_slice_len(s) != n_total || goconc_slice_get(s, n_total - 1, &x) != GOCONC_OK ||
        x != n_total - 1)
        die("slice lost elements");
    goconc_slice_free(s);
    return t;
}

/* ---------------------------------------------------- two appenders */

struct two {
    struct vec vec;
    goconc_slice *s;
    size_t per; /* appends per thread */
};

static void *vec_worker(void *arg, int idx)
{
    struct two *w = arg;
    size_t i, n = w->per;
    for (i = 0; i < n; i++) {
        pthread_mutex_lock(&w->vec.mu);
        if (vec_push(&w->vec, ((uint64_t)idx << 40) | i) != 0)
            die("vector out of memory");
        pthread_mutex_unlock(&w->vec.mu);
    }
    return NULL;
}

static void *slice_worker(void *arg, int idx)
{
    struct two *w = arg;
    size_t i, n = w->per;
    uint64_t x;
    for (i = 0; i < n; i++) {
        x = ((uint64_t)idx << 40) | i;
        if (goconc_slice_append(w->s, &x, 1, NULL) != GOCONC_OK)
            die("append failed");
    }
    return NULL;
}

static double run_vec2(int threads)
{
    struct two w = { { NULL, 0, 0, PTHREAD_MUTEX_INITIALIZER }, NULL, n_total / threads };
    double t = bu_run_threads(threads, vec_worker, &w);
    if (w.vec.len != w.per * threads)
        die("mutex vector lost elements");
    free(w.vec.v);
    pthread_mutex_destroy(&w.vec.mu);
    return t;
}

static double run_slice2(int threads)
{
    struct two w;
    double t;
    w.s = NULL;
    w.per = n_total / threads;
    if (goconc_slice_new(&w.s, sizeof(uint64_t), 0, 0) != GOCONC_OK)
        die("goconc_slice_new");
    t = bu_run_threads(threads, slice_worker, &w);
    if (goconc_slice_len(w.s) != w.per * threads)
        die("slice lost elements");
    goconc_slice_free(w.s);
    return t;
}

/* ------------------------------------------------------------ driver */

/* n: appends per run; target NULL: none set for this case. */
static void report(const char *clock, int threads, double *base, double *mine, int reps,
                   size_t n, const char *bname, const char *target)
{
    double b = bu_median(base, (size_t)reps) / (double)n * 1e9;
    double m = bu_median(mine, (size_t)reps) / (double)n * 1e9;
    char metric[16];
    snprintf(metric, sizeof metric, "%s_ns", clock);
    bu_json("slice", "append", bname, threads, metric, b, "ns");
    bu_json("slice", "append", "goconc", threads, metric, m, "ns");
    printf("  %-5s %-24s %7.2f ns/append\n", clock, bname, b);
    printf("  %-5s %-24s %7.2f ns/append\n", clock, "goconc_slice_append", m);
    if (target)
        printf("  %-5s ratio slice/baseline     %7.2fx   (target %s)\n", clock, m / b, target);
    else
        printf("  %-5s ratio slice/baseline     %7.2fx\n", clock, m / b);
}

#define MAXT 16 /* thread counts */

int main(void)
{
    static const int dflt[1] = { 2 };
    static double v2[MAXT][MAX_REPS], s2[MAXT][MAX_REPS];
    double v1[MAX_REPS], s1[MAX_REPS], v1c[MAX_REPS], s1c[MAX_REPS], load[1] = { 0 };
    int reps = bu_reps(5), r, ti, threads[MAXT], nt;
    const char *e = getenv("GOCONC_BENCH_N");

    if (e != NULL && strtoull(e, NULL, 10) >= 2)
        n_total = (size_t)strtoull(e, NULL, 10);
    if (reps < 1)
        reps = 1;
    if (reps > MAX_REPS)
        reps = MAX_REPS;
    nt = bu_thread_list(threads, MAXT, dflt, 1);
    printf("bench_slice: %zu 8-byte appends per run, median of %d interleaved runs\n",
           n_total, reps);
    if (getloadavg(load, 1) == 1 && load[0] > 1.0)
        printf("WARNING: the machine is busy (load %.2f): prefer the cpu figures "
               "of the one-thread case\n", load[0]);
    for (r = 0; r < reps; r++) {
        v1[r] = run_vec1(&v1c[r]);
        s1[r] = run_slice1(&s1c[r]);
        for (ti = 0; ti < nt; ti++) {
            v2[ti][r] = run_vec2(threads[ti]);
            s2[ti][r] = run_slice2(threads[ti]);
        }
    }
    printf("1 thread, one element per append:\n");
    report("wall", 1, v1, s1, reps, n_total, "realloc-doubling vector", "<= 1.5x");
    report("cpu", 1, v1c, s1c, reps, n_total, "realloc-doubling vector", "<= 1.5x");
    for (ti = 0; ti < nt; ti++) {
        if (threads[ti] == 2)
            printf("2 threads, one slice, one element per append:\n");
        else
            printf("%d thread%s, one slice, one element per append (%zu each):\n",
                   threads[ti], threads[ti] > 1 ? "s" : "", n_total / threads[ti]);
        /* The target is set for 2 threads. */
        report("wall", threads[ti], v2[ti], s2[ti], reps, n_total / threads[ti] * threads[ti],
               "vector + pthread_mutex",
               threads[ti] == 2 ? "<= 0.7x" : NULL);
    }
    return 0;
}
