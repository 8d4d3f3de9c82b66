#define _GNU_SOURCE
#include "benchutil.h"

#include <pthread.h>
#include <stdlib.h>
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
};

static void *bu_trampoline(void *p)
{
    struct bu_thread *t = p;
    pthread_barrier_wait(&t->st->bar);
    return t->st->fn(t->st->arg, t->idx);
}

double bu_run_threads(int n, void *(*fn)(void *, int), void *arg)
{
    struct bu_start st;
    struct bu_thread th[64];
    pthread_t tid[64];
    double t0;
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
    t0 = bu_now();
    for (i = 0; i < n; i++)
        pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&st.bar);
    return bu_now() - t0;
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
