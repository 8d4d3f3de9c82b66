/* benchutil.h - timing helpers shared by the benchmarks. */
#ifndef GOCONC_BENCHUTIL_H
#define GOCONC_BENCHUTIL_H

#include <stddef.h>
#include <stdint.h>

double bu_now(void);                        /* monotonic seconds */
double bu_median(double *v, size_t n);      /* sorts v */
/* Run fn(arg, thread_index) on nthreads threads started together; returns
 * the wall time from the common start to the last finish. */
double bu_run_threads(int nthreads, void *(*fn)(void *arg, int idx), void *arg);
/* Repetitions and durations, overridable by GOCONC_BENCH_REPS and
 * GOCONC_BENCH_SECONDS. */
int bu_reps(int dflt);
double bu_seconds(double dflt);
/* Keep a value alive against the optimiser. */
#define BU_KEEP(x) __asm__ volatile("" : : "r"(x) : "memory")

#endif
