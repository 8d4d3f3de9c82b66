/* SPDX-License-Identifier: MIT */
/*
 * bench_map_tail.c - W2's repeatable latency tail.
 *
 * On a shared VM, machine interruptions of 10 us and more land in a few
 * thousand stores of every 10M-store run, more than the 1000 that p99.99
 * may hide, so the measured p99.99 is the machine's.  But W2 is the same
 * run every rep: the same keys, the same map seed, one thread, so the
 * stores that are slow because of the map (migration steps, page faults,
 * frees of old tables) are the same stores every rep, while an
 * interruption hits a given store in one rep and almost never in most.
 * Each child logs the stores slower than a threshold (index, latency);
 * here every store gets the median of its latencies over the reps (a rep
 * where it was under the threshold counts as 0), and the tail figures are
 * taken over those medians.  A lower bound on what a quiet machine would
 * show only as far as a store's own cost varies between reps (a page
 * fault that costs more in one rep than in another).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_map.h"

struct tagged {
    uint32_t i, ticks;
};

static int by_index(const void *a, const void *b)
{
    const struct tagged *x = a, *y = b;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int by_ticks_desc(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x > y ? -1 : x < y;
}

/* Append one child's log to *all; -1 if it is missing, short or full. */
static int read_log(const char *path, struct tagged **all, size_t *n, size_t *cap)
{
    FILE *f = fopen(path, "rb");
    uint64_t hdr[2];
    size_t k;
    int rc = -1;

    if (f == NULL)
        return -1;
    if (fread(hdr, sizeof hdr, 1, f) != 1 || hdr[1] != 0 || hdr[0] > SLOW_CAP)
        goto out;
    if (*n + hdr[0] > *cap) {
        size_t want = (*n + hdr[0]) * 2;
        struct tagged *p = realloc(*all, want * sizeof *p);
        if (p == NULL)
            goto out;
        *all = p;
        *cap = want;
    }
    for (k = 0; k < hdr[0]; k++) {
        struct slow_rec r;
        if (fread(&r, sizeof r, 1, f) != 1)
            goto out;
        (*all)[*n].i = r.i;
        (*all)[*n].ticks = r.ticks;
        ++*n;
    }
    rc = 0;
out:
    fclose(f);
    return rc;
}

int tail_analyze(char *const *paths, int nreps, uint64_t nstores, uint64_t over_at,
                 struct tail_stat *out)
{
    struct tagged *all = NULL;
    uint32_t *med = NULL, vals[MAX_REPS];
    size_t n = 0, cap = 0, nmed = 0, a, b, rank;
    int r;

    memset(out, 0, sizeof *out);
    for (r = 0; r < nreps; r++)
        if (read_log(paths[r], &all, &n, &cap) != 0) {
            free(all);
            return -1;
        }
    qsort(all, n, sizeof *all, by_index);
    med = malloc((n ? n : 1) * sizeof *med);
    if (med == NULL) {
        free(all);
        return -1;
    }
    /* Each store's median over the reps: with its values sorted
     * descending and the reps it is missing from counted as 0, the one at
     * position nreps / 2; non-zero only if it was logged in more than
     * half the reps. */
    for (a = 0; a < n; a = b) {
        size_t c;
        for (b = a; b < n && all[b].i == all[a].i; b++)
            ;
        c = b - a;
        if (c <= (size_t)(nreps / 2) || c > (size_t)nreps)
            continue;
        for (r = 0; r < (int)c; r++)
            vals[r] = all[a + (size_t)r].ticks;
        qsort(vals, c, sizeof *vals, by_ticks_desc);
        med[nmed++] = vals[nreps / 2];
    }
    qsort(med, nmed, sizeof *med, by_ticks_desc);
    /* The store at rank ceil(1e-4 * nstores) from the top, as hist_pct. */
    rank = (size_t)(nstores / 10000) + (nstores % 10000 != 0);
    if (rank == 0)
        rank = 1;
    out->stores = nmed;
    out->below = nmed < rank;
    out->p9999 = out->below ? 0 : med[rank - 1];
    out->max = nmed ? med[0] : 0;
    for (a = 0; a < nmed; a++)
        out->over += med[a] >= over_at;
    free(med);
    free(all);
    return 0;
}
