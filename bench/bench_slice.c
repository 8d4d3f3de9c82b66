/*
 * bench_slice - goconc_slice_append against a plain C vector.
 *
 *  1. One thread appends 10M 8-byte elements one at a time: goconc slice
 *     versus a realloc-doubling C vector (target: at most 1.5x its time).
 *  2. Two threads append 5M each to one slice: goconc slice versus the
 *     same vector under a pthread_mutex (target: at most 0.7x its time).
 *
 * Runs of the contenders are interleaved; each figure is the median of
 * GOCONC_BENCH_REPS (default 5) runs, and each ratio compares medians
 * measured in this run.  GOCONC_BENCH_N overrides the element count.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

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

static void die(const char *what)
{
    fprintf(stderr, "bench_slice: %s\n", what);
    exit(EXIT_FAILURE);
}

static double run_vec1(void)
{
    struct vec v = { NULL, 0, 0, PTHREAD_MUTEX_INITIALIZER };
    double t0 = bu_now(), t;
    size_t i;
    for (i = 0; i < n_total; i++)
        if (vec_push(&v, i) != 0)
            die("vector out of memory");
    t = bu_now() - t0;
    if (v.len != n_total || v.v[n_total - 1] != n_total - 1)
        die("vector lost elements");
    free(v.v);
    return t;
}

static double run_slice1(void)
{
    goconc_slice *s;
    double t0, t;
    uint64_t x;
    size_t i;
    if (goconc_slice_new(&s, sizeof(uint64_t), 0, 0) != GOCONC_OK)
        die("goconc_slice_new");
    t0 = bu_now();
    for (i = 0; i < n_total; i++) {
        x = i;
        if (goconc_slice_append(s, &x, 1, NULL) != GOCONC_OK)
            die("append failed");
    }
    t = bu_now() - t0;
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
};

static void *vec_worker(void *arg, int idx)
{
    struct two *w = arg;
    size_t i, n = n_total / 2;
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
    size_t i, n = n_total / 2;
    uint64_t x;
    for (i = 0; i < n; i++) {
        x = ((uint64_t)idx << 40) | i;
        if (goconc_slice_append(w->s, &x, 1, NULL) != GOCONC_OK)
            die("append failed");
    }
    return NULL;
}

static double run_vec2(void)
{
    struct two w = { { NULL, 0, 0, PTHREAD_MUTEX_INITIALIZER }, NULL };
    double t = bu_run_threads(2, vec_worker, &w);
    if (w.vec.len != n_total / 2 * 2)
        die("mutex vector lost elements");
    free(w.vec.v);
    pthread_mutex_destroy(&w.vec.mu);
    return t;
}

static double run_slice2(void)
{
    struct two w;
    double t;
    w.s = NULL;
    if (goconc_slice_new(&w.s, sizeof(uint64_t), 0, 0) != GOCONC_OK)
        die("goconc_slice_new");
    t = bu_run_threads(2, slice_worker, &w);
    if (goconc_slice_len(w.s) != n_total / 2 * 2)
        die("slice lost elements");
    goconc_slice_free(w.s);
    return t;
}

/* ------------------------------------------------------------ driver */

static void report(const char *what, double *base, double *mine, int reps,
                   const char *bname, const char *target)
{
    double b = bu_median(base, (size_t)reps) / (double)n_total * 1e9;
    double m = bu_median(mine, (size_t)reps) / (double)n_total * 1e9;
    printf("%s\n", what);
    printf("  %-28s %7.2f ns/append\n", bname, b);
    printf("  %-28s %7.2f ns/append\n", "goconc_slice_append", m);
    printf("  ratio slice/baseline        %7.2fx   (target %s)\n", m / b, target);
}

int main(void)
{
    double v1[MAX_REPS], s1[MAX_REPS], v2[MAX_REPS], s2[MAX_REPS];
    int reps = bu_reps(5), r;
    const char *e = getenv("GOCONC_BENCH_N");

    if (e != NULL && strtoull(e, NULL, 10) >= 2)
        n_total = (size_t)strtoull(e, NULL, 10);
    if (reps < 1)
        reps = 1;
    if (reps > MAX_REPS)
        reps = MAX_REPS;
    printf("bench_slice: %zu 8-byte appends per run, median of %d interleaved runs\n",
           n_total, reps);
    for (r = 0; r < reps; r++) {
        v1[r] = run_vec1();
        s1[r] = run_slice1();
        v2[r] = run_vec2();
        s2[r] = run_slice2();
    }
    report("1 thread, one element per append:", v1, s1, reps,
           "realloc-doubling vector", "<= 1.5x");
    report("2 threads, one slice, one element per append:", v2, s2, reps,
           "vector + pthread_mutex", "<= 0.7x");
    return 0;
}
