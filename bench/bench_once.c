/* SPDX-License-Identifier: MIT */
/*
 * bench_once.c - cost of asking a done once, in ns per call per thread.
 *
 * Variants (on a once that is already done), at 1 and 2 threads (or the
 * counts listed in GOCONC_BENCH_THREADS, e.g. "1,2,4,8,16"):
 *   done_inline    goconc_once_done() - the header's inline acquire load
 *   done_exported  (goconc_once_done)() - the exported function
 *   do             goconc_once_do() on a done once (the call users write)
 *   pthread_once   pthread_once() on a done pthread_once_t (baseline)
 *
 * Clocks as in bench_reclaim.c: "cpu" (each thread's CPU time, robust on a
 * shared machine) and "wall".  Interleaved runs, median of
 * GOCONC_BENCH_REPS (default 5), each of GOCONC_BENCH_SECONDS (default
 * 0.2); ratios against pthread_once measured in the same run.  Target: the
 * done path at most half of pthread_once.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchutil.h"
#include "goconc.h"

enum { V_DONE_INLINE, V_DONE_EXPORTED, V_DO, V_PTHREAD, NV };
static const char *vname[NV] = { "done_inline", "done_exported", "do",
                                 "pthread_once" };
enum { C_CPU = BU_CPU, C_WALL = BU_WALL, NCLK };
static const char *cname[NCLK] = { "cpu", "wall" };
#define MAXT BU_MAX_COUNTS /* thread counts */

static goconc_once once = GOCONC_ONCE_INIT;
static pthread_once_t ponce = PTHREAD_ONCE_INIT;
static long init_calls;

static void init_fn(void *ctx) { (void)ctx; init_calls++; }
static void pinit_fn(void) { init_calls++; }

static void *run_variant(void *p, int idx)
{
    struct bu_job *j = p;
    long i, n = j->iters, acc = 0;
    double c0 = bu_thread_cpu();
    switch (j->variant) {
    case V_DONE_INLINE:
        for (i = 0; i < n; i++) {
            acc += goconc_once_done(&once);
            BU_KEEP(acc);
        }
        break;
    case V_DONE_EXPORTED:
        for (i = 0; i < n; i++) {
            acc += (goconc_once_done)(&once);
            BU_KEEP(acc);
        }
        break;
    case V_DO:
        for (i = 0; i < n; i++) {
            acc += goconc_once_do(&once, init_fn, NULL);
            BU_KEEP(acc);
        }
        break;
    case V_PTHREAD:
        for (i = 0; i < n; i++) {
            acc += pthread_once(&ponce, pinit_fn);
            BU_KEEP(acc);
        }
        break;
    }
    j->cpu[idx] = bu_thread_cpu() - c0;
    return NULL;
}

int main(void)
{
    int reps = bu_reps(5), v, ti, c, nt, i1;
    double secs = bu_seconds(0.2), load[3] = { -1, -1, -1 };
    static const int dflt[2] = { 1, 2 };
    int threads[MAXT];
    double med[NV][MAXT][NCLK], ri, rd;
    char lab[24];

    if (reps < 1)
        reps = 1;
    nt = bu_thread_list(threads, MAXT, dflt, 2);
    i1 = bu_thread_index(threads, nt, 1);
    getloadavg(load, 3);
    if (goconc_once_do(&once, init_fn, NULL) != GOCONC_OK ||
        pthread_once(&ponce, pinit_fn) != 0 || init_calls != 2) {
        fprintf(stderr, "bench_once: set-up failed\n");
        return 1;
    }
    if (bu_measure_grid(run_variant, NV, threads, nt, reps, secs, med) != 0) {
        fprintf(stderr, "bench_once: out of memory\n");
        return 1;
    }
    if (init_calls != 2) {
        fprintf(stderr, "bench_once: a done once ran its function again\n");
        return 1;
    }
    bu_json_grid("once", "done", vname, NV, threads, nt, med);

    printf("bench_once: call on a done once, ns per call per thread, median "
           "of %d interleaved runs\n", reps);
    printf("load average at start %.2f\n", load[0]);
    if (load[0] > 0.5)
        printf("WARNING: the machine is busy (load %.2f): read the cpu "
               "column and the ratios, not the wall column\n", load[0]);
    /* Columns: cpu at each thread count, wall at each, then both over
     * pthread_once's in the same order. */
    printf("%-14s", "variant");
    for (c = 0; c < NCLK; c++)
        for (ti = 0; ti < nt; ti++) {
            snprintf(lab, sizeof lab, "%s %dt", cname[c], threads[ti]);
            printf(" %8s", lab);
        }
    printf("   / pthread_once (");
    for (c = 0; c < NCLK; c++)
        for (ti = 0; ti < nt; ti++)
            printf("%s%s %dt", c + ti ? ", " : "", cname[c], threads[ti]);
    printf(")\n");
    for (v = 0; v < NV; v++) {
        printf("%-14s", vname[v]);
        for (c = 0; c < NCLK; c++)
            for (ti = 0; ti < nt; ti++)
                printf(" %8.2f", med[v][ti][c]);
        printf("  ");
        for (c = 0; c < NCLK; c++)
            for (ti = 0; ti < nt; ti++)
                printf(" %.3f", med[v][ti][c] / med[V_PTHREAD][ti][c]);
        printf("\n");
    }
    if (i1 >= 0) { /* the target is set at 1 thread */
        ri = med[V_DONE_INLINE][i1][C_CPU] / med[V_PTHREAD][i1][C_CPU];
        rd = med[V_DO][i1][C_CPU] / med[V_PTHREAD][i1][C_CPU];
        printf("target (%s clock, 1 thread): done path <= 0.5 x pthread_once: "
               "done_inline %.3f %s; do %.3f %s\n", cname[C_CPU], ri,
               ri <= 0.5 ? "met" : "MISSED", rd, rd <= 0.5 ? "met" : "MISSED");
    }
    return 0;
}
