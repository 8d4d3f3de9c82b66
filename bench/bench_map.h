/* SPDX-License-Identifier: MIT */
/*
 * bench_map.h - what bench_map.c (the runs) and bench_map_report.c (the
 * figures: medians, paired ratios, tables, the target summary) share.
 */
#ifndef GOCONC_BENCH_MAP_H
#define GOCONC_BENCH_MAP_H

#include <stddef.h>
#include <stdint.h>

enum { W_CHECK, W_MEM, W_1, W_1B, W_2, W_2B, W_N };
#define WB(w) (1u << (w))
#define W_ALL (WB(W_CHECK) | WB(W_MEM) | WB(W_1) | WB(W_1B) | WB(W_2) | WB(W_2B))

/*
 * The implementations of this run: map_peers[] (goconc first, at I_GOCONC)
 * and, when its program exists, the DashMap peer.  `wls` are the workloads
 * each takes part in, from its flags; `avail` is cleared by --impls=.
 */
#define MAX_IMPLS 24
#define I_GOCONC 0
#define I_DASHMAP 1
struct map_peer;
struct impl {
    const struct map_peer *p;
    const char *name, *desc;
    unsigned wls;
    int avail;
};
extern struct impl impls[MAX_IMPLS];
extern int n_impls;
int impl_by_name(const char *s); /* -1 if not in this run */
extern const char *const wl_name[W_N];

/* The run's settings (bench_map.c's main sets them). */
extern int g_reps;            /* reps per figure, at most MAX_REPS */
extern uint64_t g_keys, g_grow;
extern double tsc_per_ns;     /* to convert "tsc" latencies to ns */

/* One child's "RESULT k=v ..." line. */
#define MAXKV 24
struct result {
    int ok, nkv;
    char key[MAXKV][24];
    double val[MAXKV];
    char unit[8];
};
double res_get(const struct result *r, const char *k); /* NAN if absent */
void res_parse(struct result *r, char *buf);           /* ok = 0 if no line */

/* results[rep][impl] for one (workload, threads) cell. */
#define MAX_REPS 32
struct cell {
    struct result r[MAX_REPS][MAX_IMPLS];
};

/* Figures of one result, and their medians / paired ratios over reps. */
typedef double (*metric_fn)(const struct result *r);
double m_mops(const struct result *r);
double m_secs(const struct result *r);
double m_p50(const struct result *r);
double m_p99(const struct result *r);
double m_p999(const struct result *r);
double m_p9999(const struct result *r);
double m_max(const struct result *r);
double med_metric(const struct cell *c, int impl, metric_fn f);
double max_metric(const struct cell *c, int impl, metric_fn f);
/* Median over reps of f(a's ia) / f(b's ib) from the same rep. */
double med_paired(const struct cell *a, int ia, const struct cell *b, int ib, metric_fn f);
/* goconc over impl in the same rep, median. */
double med_ratio(const struct cell *c, int impl, metric_fn f);
/* The implementation's name, with "(ok/reps)" when some reps failed. */
const char *cell_name(const struct cell *c, int impl, char *buf, size_t cap);

/*
 * W1/W1b tables over the cells measured at thread counts tc[0..nt)
 * (ascending): Mops/s, spread and goconc/peer per count; the scaling table
 * is each implementation's Mops at T over its own at T = 1 (same rep,
 * median), printed when tc[0] is 1.  Both record what the target summary
 * needs.
 */
void print_mops_table(int wl, const int *list, int nl, struct cell *const *cells,
                      const int *tc, int nt);
void print_scaling_table(const int *list, int nl, struct cell *const *cells, const int *tc,
                         int nt);

/*
 * W2's repeatable tail (bench_map_tail.c).  A child whose environment has
 * GOCONC_BENCH_MAP_SLOWLOG="PATH MIN" logs every store that took at least
 * MIN (its clock's units) to PATH: a header {count, full} of two uint64_t,
 * then count records in store order.
 */
#define SLOW_CAP ((size_t)1 << 21)
struct slow_rec {
    uint32_t i, ticks;
};
struct tail_stat {
    size_t stores;     /* stores logged in more than half the reps */
    int below;         /* fewer of them than p99.99's rank: p99.99 < MIN */
    uint64_t p9999, max, over; /* over: medians >= over_at */
};
/* Per-store medians over the reps' logs: 0, or -1 if a log is missing,
 * short or full. */
int tail_analyze(char *const *paths, int nreps, uint64_t nstores, uint64_t over_at,
                 struct tail_stat *out);

/* Figures the target summary needs ([1] and [2]: 1 and 2 threads; NAN
 * where not measured). */
struct targets {
    double w1[3][MAX_IMPLS], w1r[3][MAX_IMPLS], w1b[3][MAX_IMPLS], w1br[3][MAX_IMPLS], w1b_scale;
    double w2_p9999, w2_rep_p9999, w2_max_med[MAX_IMPLS], w2_secs[MAX_IMPLS], w2_ratio[MAX_IMPLS], w2_plain_ratio[MAX_IMPLS];
    double mem_rss, mem_bytes;
    double gap_rate, gap_med_us; /* machine noise before W2 */
    int have_w1, have_w1b, have_w2, have_mem;
};
extern struct targets T;
void targets_init(void);
void print_targets(void);

#endif
