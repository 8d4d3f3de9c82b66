/* SPDX-License-Identifier: MIT */
/*
 * bench_map_report.c - bench_map's figures: medians and paired ratios over
 * reps, the W1/W1b tables and the target summary (bench_map.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bench_map.h"
#include "benchutil.h"
#include "map_peer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct targets T;

/* ------------------------------------------------------------- results */

double res_get(const struct result *r, const char *k)
{
    int i;
    for (i = 0; i < r->nkv; i++)
        if (strcmp(r->key[i], k) == 0)
            return r->val[i];
    return NAN;
}

void res_parse(struct result *r, char *buf)
{
    char *line = strstr(buf, "RESULT "), *tok, *save = NULL;
    memset(r, 0, sizeof *r);
    if (!line)
        return;
    line += 7;
    line[strcspn(line, "\n")] = 0;
    for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = 0;
        if (strcmp(tok, "unit") == 0) {
            snprintf(r->unit, sizeof r->unit, "%s", eq + 1);
        } else if (r->nkv < MAXKV) {
            snprintf(r->key[r->nkv], sizeof r->key[0], "%s", tok);
            r->val[r->nkv++] = strtod(eq + 1, NULL);
        }
    }
    r->ok = 1;
}

/* ------------------------------------------------- medians over the reps */

double med_metric(const struct cell *c, int impl, metric_fn f)
{
    double v[MAX_REPS];
    int rep, n = 0;
    for (rep = 0; rep < g_reps; rep++)
        if (c->r[rep][impl].ok)
            v[n++] = f(&c->r[rep][impl]);
    return n ? bu_median(v, (size_t)n) : NAN;
}

double max_metric(const struct cell *c, int impl, metric_fn f)
{
    double m = NAN;
    int rep;
    for (rep = 0; rep < g_reps; rep++)
        if (c->r[rep][impl].ok && !(f(&c->r[rep][impl]) <= m))
            m = f(&c->r[rep][impl]);
    return m;
}

const char *cell_name(const struct cell *c, int impl, char *buf, size_t cap)
{
    int rep, ok = 0;
    for (rep = 0; rep < g_reps; rep++)
        ok += c->r[rep][impl].ok;
    if (ok == g_reps)
        return impls[impl].name;
    snprintf(buf, cap, "%.16s(%d/%d)", impls[impl].name, ok, g_reps);
    return buf;
}

double med_paired(const struct cell *a, int ia, const struct cell *b, int ib, metric_fn f)
{
    double v[MAX_REPS];
    int rep, n = 0;
    for (rep = 0; rep < g_reps; rep++)
        if (a->r[rep][ia].ok && b->r[rep][ib].ok)
            v[n++] = f(&a->r[rep][ia]) / f(&b->r[rep][ib]);
    return n ? bu_median(v, (size_t)n) : NAN;
}

double med_ratio(const struct cell *c, int impl, metric_fn f)
{
    return med_paired(c, I_GOCONC, c, impl, f);
}

double m_mops(const struct result *r)
{
    return res_get(r, "ops") / res_get(r, "secs") / 1e6;
}
double m_secs(const struct result *r)
{
    return res_get(r, "secs");
}
static double to_ns(const struct result *r, const char *k)
{
    double v = res_get(r, k);
    return strcmp(r->unit, "tsc") == 0 ? v / tsc_per_ns : v;
}
double m_p50(const struct result *r)
{
    return to_ns(r, "p50");
}
double m_p99(const struct result *r)
{
    return to_ns(r, "p99");
}
double m_p999(const struct result *r)
{
    return to_ns(r, "p999");
}
double m_p9999(const struct result *r)
{
    return to_ns(r, "p9999");
}
double m_max(const struct result *r)
{
    return to_ns(r, "max");
}

/* --------------------------------------------------------- W1/W1b tables */

/* Median, and spread = (max - min) / median in %, of impl's Mops in c. */
static double mops_spread(const struct cell *c, int impl, double *spread)
{
    double med = med_metric(c, impl, m_mops), lo = NAN, hi = NAN;
    int rep;
    for (rep = 0; rep < g_reps; rep++)
        if (c->r[rep][impl].ok) {
            double v = m_mops(&c->r[rep][impl]);
            lo = !(v >= lo) ? v : lo;
            hi = !(v <= hi) ? v : hi;
        }
    *spread = 100 * (hi - lo) / med;
    return med;
}

void print_mops_table(int wl, const int *list, int nl, struct cell *const *cells,
                      const int *tc, int nt)
{
    int k, t;
    printf("  %-10s", "impl");
    for (t = 0; t < nt; t++) {
        char h[24];
        snprintf(h, sizeof h, "T=%d Mops", tc[t]);
        printf("%s %9s %9s %8s", t ? "  " : "", h, "spread", "gc/peer");
    }
    printf("\n");
    for (k = 0; k < nl; k++) {
        int i = list[k];
        const char *name = impls[i].name;
        char nb[64];
        /* Name the first cell where reps failed, if any (a one-thread map
         * has no cells at T > 1). */
        for (t = 0; t < nt && name == impls[i].name; t++)
            if (tc[t] == 1 || !(impls[i].p->flags & MP_ONE_THREAD))
                name = cell_name(cells[t], i, nb, sizeof nb);
        printf("  %-10s", name);
        for (t = 0; t < nt; t++) {
            double spread, m = mops_spread(cells[t], i, &spread);
            double r = med_ratio(cells[t], i, m_mops);
            if (isnan(m)) { /* a one-thread map at T > 1 */
                printf("%s %9s %9s %8s", t ? "  " : "", "-", "-", "-");
                continue;
            }
            printf("%s %9.2f %8.0f%% %8.2f", t ? "  " : "", m, spread, r);
            bu_json("map", wl_name[wl], impls[i].name, tc[t], "mops", m, "Mop/s");
            bu_json("map", wl_name[wl], impls[i].name, tc[t], "spread", spread, "%");
            if (i != I_GOCONC)
                bu_json("map", wl_name[wl], impls[i].name, tc[t], "goconc_over_peer", r, "x");
            if (tc[t] > 2)
                continue;
            if (wl == W_1) {
                T.w1[tc[t]][i] = m;
                T.w1r[tc[t]][i] = r;
            } else {
                T.w1b[tc[t]][i] = m;
                T.w1br[tc[t]][i] = r;
            }
        }
        printf("\n");
    }
}

void print_scaling_table(const int *list, int nl, struct cell *const *cells, const int *tc,
                         int nt)
{
    int k, t;
    if (nt < 2 || tc[0] != 1)
        return;
    printf("  scaling: Mops at T / the same implementation's Mops at T=1 (same rep, median)\n");
    printf("  %-10s", "impl");
    for (t = 1; t < nt; t++) {
        char h[24];
        snprintf(h, sizeof h, "T=%d", tc[t]);
        printf(" %8s", h);
    }
    printf("\n");
    for (k = 0; k < nl; k++) {
        int i = list[k];
        printf("  %-10s", impls[i].name);
        for (t = 1; t < nt; t++) {
            double x = med_paired(cells[t], i, cells[0], i, m_mops);
            if (isnan(x))
                printf(" %8s", "-");
            else
                printf(" %7.2fx", x);
        }
        printf("\n");
    }
}

/* ------------------------------------------------------- target summary */

void targets_init(void)
{
    int t, i;
    memset(&T, 0, sizeof T);
    for (t = 0; t < 3; t++)
        for (i = 0; i < MAX_IMPLS; i++)
            T.w1[t][i] = T.w1r[t][i] = T.w1b[t][i] = T.w1br[t][i] = NAN;
    T.w1b_scale = T.gap_rate = T.gap_med_us = T.w2_rep_p9999 = NAN;
}

static void target(const char *what, double got, double want, int at_most, const char *unit)
{
    if (isnan(got))
        return;
    printf("  %-58s %9.2f%-3s %s %7.2f%-3s %s\n", what, got, unit, at_most ? "<=" : ">=", want,
           unit, (at_most ? got <= want : got >= want) ? "met" : "MISSED");
}

/* The implementation's index when it takes part in this run, else -1. */
static int avail_by_name(const char *name)
{
    int i = impl_by_name(name);
    return i >= 0 && impls[i].avail ? i : -1;
}

/* goconc's own maps (goconc, goconc-np): never "the best peer". */
static int is_goconc(int i)
{
    return strncmp(impls[i].name, "goconc", 6) == 0;
}

void print_targets(void)
{
    int i, dash = avail_by_name("dashmap"), seed = avail_by_name("seed64");
    int glib1 = avail_by_name("glib-1t");
    if (!impls[I_GOCONC].avail)
        return;
    printf("\nTargets (issue 3), goconc/peer ratios from the same reps:\n");
    if (T.have_w1 && dash >= 0) {
        target("W1 2 threads vs DashMap", T.w1r[2][dash], 1.0, 0, "x");
        target("W1 1 thread vs DashMap", T.w1r[1][dash], 0.8, 0, "x");
    }
    if (T.have_w1 && seed >= 0)
        target("W1 2 threads vs seed design (seed64)", T.w1r[2][seed], 1.5, 0, "x");
    if (T.have_w1b && dash >= 0)
        target("W1b 2 threads vs DashMap", T.w1br[2][dash], 1.2, 0, "x");
    if (T.have_w1b)
        target("W1b goconc 2 threads vs its own 1 thread", T.w1b_scale, 1.5, 0, "x");
    if (T.have_w2) {
        double peer_min = NAN;
        int who = -1;
        target("W2 p99.99 store latency", T.w2_p9999 / 1e3, 10.0, 1, "us");
        if (!isnan(T.gap_rate) && T.gap_rate * T.w2_secs[I_GOCONC] > 1e-4 * (double)g_grow)
            printf("    (noise floor: ~%.0f stores of goconc's run absorb a >= 10 us machine"
                   " interruption, more than the %.0f that p99.99 allows: a p99.99 below"
                   " ~%.0f us cannot be measured on this machine now)\n",
                   T.gap_rate * T.w2_secs[I_GOCONC], 1e-4 * (double)g_grow, T.gap_med_us);
        if (!isnan(T.w2_rep_p9999))
            target("W2 p99.99, repeatable (per-store median over reps)",
                   T.w2_rep_p9999 / 1e3, 10.0, 1, "us");
        for (i = 0; i < n_impls; i++)
            if (!is_goconc(i) && impls[i].avail && (impls[i].wls & WB(W_2)) &&
                T.w2_max_med[i] > 0 && !(T.w2_max_med[i] >= peer_min)) {
                peer_min = T.w2_max_med[i];
                who = i;
            }
        if (who >= 0) {
            char what[80];
            snprintf(what, sizeof what, "W2 max store latency vs lowest peer max (%s)",
                     impls[who].name);
            target(what, T.w2_max_med[I_GOCONC] / 1e6, peer_min / 1e6, 1, "ms");
        }
        target("W2 max store latency (absolute bound)", T.w2_max_med[I_GOCONC] / 1e6, 5.0, 1,
               "ms");
        if (glib1 >= 0) {
            target("W2 total time vs single-threaded GHashTable (glib-1t)",
                   T.w2_plain_ratio[glib1], 1.0, 1, "x");
            printf("    (the untimed run, as issue 3 timed its peers; in the timed run"
                   " %.2fx)\n", T.w2_ratio[glib1]);
        }
    }
    {
        char what[80];
        snprintf(what, sizeof what, "Memory: RSS growth per entry at %llu entries",
                 (unsigned long long)g_keys);
        if (T.have_mem)
            target(what, T.mem_rss, 64.0, 1, "B");
    }
}
