/* SPDX-License-Identifier: MIT */
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
/*
 * Thread counts to measure: GOCONC_BENCH_THREADS, a comma list such as
 * "1,2,4,8,16", sorted ascending without duplicates; when it is unset or
 * empty, the program's own dflt[0..ndflt).  Counts outside
 * 1..BU_MAX_THREADS and entries beyond `max` are reported on stderr and
 * skipped.  Returns how many counts were written to out.
 */
#define BU_MAX_THREADS 63
int bu_thread_list(int *out, int max, const int *dflt, int ndflt);
/* Index of count t in list[0..n), or -1. */
int bu_thread_index(const int *list, int n, int t);
/*
 * Timing one variant of a loop benchmark on 1..64 threads.  fn(job, idx)
 * runs job->iters iterations of job->variant and stores its own thread's
 * CPU seconds in job->cpu[idx] (bu_thread_cpu() around the loop).
 */
struct bu_job {
    int variant;
    long iters;
    double cpu[64];
};
enum { BU_CPU, BU_WALL };
double bu_thread_cpu(void);
/* out[BU_CPU]: CPU ns per iteration per thread; out[BU_WALL]: wall ns. */
void bu_measure(void *(*fn)(void *, int), int variant, int threads, long iters,
                double out[2]);
/* Iterations for about `secs` of one thread on this variant. */
long bu_calibrate(void *(*fn)(void *, int), int variant, double secs);
/*
 * Variants 0..nv-1 at thread counts threads[0..nt), nt <= BU_MAX_COUNTS:
 * each variant calibrated once (about `secs` at 1 thread), then `reps`
 * rounds that each measure every variant at every count, so slow drifts
 * of the machine hit all alike.  med[v][i][BU_CPU / BU_WALL]: the
 * medians.  0, or -1 when out of memory.
 */
#define BU_MAX_COUNTS 16
int bu_measure_grid(void *(*fn)(void *, int), int nv, const int *threads, int nt, int reps,
                    double secs, double med[][BU_MAX_COUNTS][2]);

/*
 * Machine-readable figures.  When GOCONC_BENCH_JSON names a file, each
 * call appends one JSON object on a line of its own, for
 * scripts/bench-report.sh to read instead of the printed tables:
 *   {"bench":"map","case":"w1","impl":"goconc","threads":2,
 *    "metric":"mops","value":12.5,"unit":"Mop/s"}
 * bench: the program (map, once...); case: the workload or scenario;
 * impl: the implementation or variant; threads: 0 where it means nothing.
 * A non-finite value writes nothing (JSON has no NaN).  Without the
 * variable, or when the file cannot be opened (said once on stderr), it
 * does nothing.
 */
void bu_json(const char *bench, const char *cas, const char *impl, int threads,
             const char *metric, double value, const char *unit);

/* bu_measure_grid's medians as JSON lines: for each variant name[v] and
 * count threads[i], metrics "cpu_ns" and "wall_ns" (per iteration). */
void bu_json_grid(const char *bench, const char *cas, const char *const *name, int nv,
                  const int *threads, int nt, double med[][BU_MAX_COUNTS][2]);

/* Keep a value alive against the optimiser. */
#define BU_KEEP(x) __asm__ volatile("" : : "r"(x) : "memory")


/* splitmix64: the benchmarks' key streams (bench_map's are shared with
 * bench/dashmap/src/main.rs: change both or neither). */
#define GAMMA 0x9E3779B97F4A7C15ULL

static inline uint64_t sm_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline uint64_t sm_next(uint64_t *s)
{
    *s += GAMMA;
    return sm_mix(*s);
}

/* A status the benchmark has no use for (the call's cost is what it
 * measures; goconc's statuses warn if dropped). */
static inline void bu_discard(int status) { (void)status; }

#endif
