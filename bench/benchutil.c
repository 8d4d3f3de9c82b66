/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "benchutil.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double bu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bu_median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct bu_start {
    pthread_barrier_t bar;
    void *(*fn)(void *, int);
    void *arg;
};
struct bu_thread {
    struct bu_start *st;
    int idx;
    double t0, t1; /* this thread's start (after the barrier) and finish */
};

static void *bu_trampoline(void *p)
{
    struct bu_thread *t = p;
    void *r;
    pthread_barrier_wait(&t->st->bar);
    t->t0 = bu_now();
    r = t->st->fn(t->st->arg, t->idx);
    t->t1 = bu_now();
    return r;
}

/* The workers stamp their own start and finish: the calling thread may be
 * descheduled right after the barrier (a busy machine) and would start
 * its clock after the work was done. */
double bu_run_threads(int n, void *(*fn)(void *, int), void *arg)
{
    struct bu_start st;
    struct bu_thread th[64];
    pthread_t tid[64];
    double t0, t1;
    int i;
    if (n > 64)
        n = 64;
    st.fn = fn;
    st.arg = arg;
    pthread_barrier_init(&st.bar, NULL, (unsigned)n + 1);
    for (i = 0; i < n; i++) {
        th[i].st = &st;
        th[i].idx = i;
        pthread_create(&tid[i], NULL, bu_trampoline, &th[i]);
    }
    pthread_barrier_wait(&st.bar);
    for (i = 0; i < n; i++)
        pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&st.bar);
    t0 = th[0].t0;
    t1 = th[0].t1;
    for (i = 1; i < n; i++) {
        t0 = th[i].t0 < t0 ? th[i].t0 : t0;
        t1 = th[i].t1 > t1 ? th[i].t1 : t1;
    }
    return t1 - t0;
}

int bu_reps(int dflt)
{
    const char *e = getenv("GOCONC_BENCH_REPS");
    return e ? atoi(e) : dflt;
}

double bu_seconds(double dflt)
{
    const char *e = getenv("GOCONC_BENCH_SECONDS");
    return e ? atof(e) : dflt;
}

int bu_thread_list(int *out, int max, const int *dflt, int ndflt)
{
    const char *e = getenv("GOCONC_BENCH_THREADS"), *p;
    int n = 0, i;
    for (p = e ? e : ""; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        size_t len = strcspn(p, ",");
        if (end == p || end != p + len || v < 1 || v > BU_MAX_THREADS) {
            fprintf(stderr, "GOCONC_BENCH_THREADS: ignoring \"%.*s\" (counts are 1..%d)\n",
                    (int)len, p, BU_MAX_THREADS);
        } else if (bu_thread_index(out, n, (int)v) < 0) {
            if (n == max) {
                fprintf(stderr, "GOCONC_BENCH_THREADS: at most %d counts; ignoring %ld\n",
                        max, v);
            } else { /* insertion into the sorted list */
                for (i = n++; i > 0 && out[i - 1] > v; i--)
                    out[i] = out[i - 1];
                out[i] = (int)v;
            }
        }
        p += len;
        if (*p == ',')
            p++;
    }
    if (n == 0) {
        if (e && *e)
            fprintf(stderr, "GOCONC_BENCH_THREADS: no valid count; using the default\n");
        for (i = 0; i < ndflt && i < max; i++)
            out[n++] = dflt[i];
    }
    return n;
}

int bu_thread_index(const int *list, int n, int t)
{
    int i;
    for (i = 0; i < n; i++)
        if (list[i] == t)
            return i;
    return -1;
}

int bu_measure_grid(void *(*fn)(void *, int), int nv, const int *threads, int nt, int reps,
                    double secs, double med[][BU_MAX_COUNTS][2])
{
    /* samples[((v * nt + i) * 2 + c) * reps + r] */
    double *s = calloc((size_t)nv * (size_t)nt * 2 * (size_t)reps, sizeof *s), one[2];
    long *iters = calloc((size_t)nv, sizeof *iters);
    int v, i, c, r;

    if (s == NULL || iters == NULL || nt > BU_MAX_COUNTS) {
        free(s);
        free(iters);
        return -1;
    }
    for (v = 0; v < nv; v++)
        iters[v] = bu_calibrate(fn, v, secs);
    for (r = 0; r < reps; r++)
        for (i = 0; i < nt; i++)
            for (v = 0; v < nv; v++) {
                bu_measure(fn, v, threads[i], iters[v], one);
                for (c = 0; c < 2; c++)
                    s[((v * nt + i) * 2 + c) * reps + r] = one[c];
            }
    for (v = 0; v < nv; v++)
        for (i = 0; i < nt; i++)
            for (c = 0; c < 2; c++)
                med[v][i][c] = bu_median(&s[((v * nt + i) * 2 + c) * reps], (size_t)reps);
    free(s);
    free(iters);
    return 0;
}

double bu_thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void bu_measure(void *(*fn)(void *, int), int variant, int threads, long iters,
                double out[2])
{
    struct bu_job j;
    double wall;
    int t;
    memset(&j, 0, sizeof j);
    j.variant = variant;
    j.iters = iters;
    wall = bu_run_threads(threads, fn, &j);
    out[BU_WALL] = wall * 1e9 / (double)iters;
    out[BU_CPU] = 0;
    for (t = 0; t < threads && t < 64; t++)
        out[BU_CPU] += j.cpu[t] * 1e9 / (double)iters / threads;
}

long bu_calibrate(void *(*fn)(void *, int), int variant, double secs)
{
    long n = 1 << 16;
    for (;;) {
        struct bu_job j;
        double t;
        memset(&j, 0, sizeof j);
        j.variant = variant;
        j.iters = n;
        t = bu_run_threads(1, fn, &j);
        if (t > 0.02 || n > (1L << 34))
            return (long)((double)n * secs / (t > 0 ? t : 1e-9)) + 1;
        n *= 4;
    }
}

/* ------------------------------------------------------ JSON lines output */

static FILE *json_file(void)
{
    static FILE *f;
    static int tried;
    const char *path;
    if (tried)
        return f;
    tried = 1;
    path = getenv("GOCONC_BENCH_JSON");
    if (path == NULL || *path == 0)
        return NULL;
    if ((f = fopen(path, "a")) == NULL)
        fprintf(stderr, "benchutil: cannot append to GOCONC_BENCH_JSON=%s\n", path);
    return f;
}

/* A JSON string: the names here are plain words, but quote what must be. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, f);
    }
    fputc('"', f);
}

void bu_json(const char *bench, const char *cas, const char *impl, int threads,
             const char *metric, double value, const char *unit)
{
    FILE *f = json_file();
    if (f == NULL || !isfinite(value))
        return;
    fputs("{\"bench\":", f);
    json_str(f, bench);
    fputs(",\"case\":", f);
    json_str(f, cas);
    fputs(",\"impl\":", f);
    json_str(f, impl);
    fprintf(f, ",\"threads\":%d,\"metric\":", threads);
    json_str(f, metric);
    fprintf(f, ",\"value\":%.17g,\"unit\":", value);
    json_str(f, unit);
    fputs("}\n", f);
    fflush(f); /* whole lines, even if the program dies later */
}

void bu_json_grid(const char *bench, const char *cas, const char *const *name, int nv,
                  const int *threads, int nt, double med[][BU_MAX_COUNTS][2])
{
    int v, i;
    for (v = 0; v < nv; v++)
        for (i = 0; i < nt; i++) {
            bu_json(bench, cas, name[v], threads[i], "cpu_ns", med[v][i][BU_CPU], "ns");
            bu_json(bench, cas, name[v], threads[i], "wall_ns", med[v][i][BU_WALL], "ns");
        }
}
