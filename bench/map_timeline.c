/* SPDX-License-Identifier: MIT */
/*
 * map_timeline - W1's operation mix on one goconc map, one thread, with a
 * line per window of operations: the rate in that window, the map's len,
 * how full its tables are, the shards migrating, the grows so far.  It
 * shows where a W1 run's time goes as the map fills towards a grow and
 * through it (doc/bench.md, "W1 at one thread, window by window").
 *
 *   map_timeline [N [SECONDS [PREFILL [no_peek]]]]
 *
 * N keys (1000000) give the key range [0, 2N), as bench_map's W1; PREFILL
 * (N) distinct keys of it are stored first, untimed; then 90% load, 9%
 * store, 1% delete of uniform keys for SECONDS (2); no_peek = 1 makes the
 * map with GOCONC_MAP_NO_PEEK.  Keys and values are 8-byte integers.
 */
#include "benchutil.h"

#include <goconc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define WINDOW (1u << 20)
/* Slots per bucket (doc/map.md, "Layout"): how full the tables are. */
#define SLOTS_PER_BUCKET 7

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v == 0)
        return -1;
    *out = v;
    return 0;
}

/* One of W1's operations on key bits and operation bits of x. */
static int w1_op(goconc_map *m, uint64_t x, uint64_t range, uint64_t *sink)
{
    uint64_t key = ((x >> 32) * range) >> 32, op = ((x & 0xffffffffu) * 100) >> 32, v;
    int st;

    if (op < 90) {
        st = goconc_map_load(m, &key, sizeof key, &v, sizeof v, NULL);
        if (st == GOCONC_OK)
            *sink += v;
        return st == GOCONC_OK || st == GOCONC_NOTFOUND ? 0 : st;
    }
    if (op < 99)
        return goconc_map_store(m, &key, sizeof key, &x, sizeof x);
    st = goconc_map_delete(m, &key, sizeof key);
    return st == GOCONC_NOTFOUND ? 0 : st;
}

static int report(const goconc_map *m, double ms, double mops)
{
    goconc_map_stats st = GOCONC_MAP_STATS_INIT;
    int rc = goconc_map_stats_get(m, &st);

    if (rc != GOCONC_OK)
        return rc;
    printf("%7.0f ms %7.2f Mops  len %8zu  %4.1f%% full  migrating %2zu  grows %5llu\n", ms,
           mops, st.len, 100.0 * (double)st.len / (double)(st.buckets * SLOTS_PER_BUCKET),
           st.shards_migrating, (unsigned long long)st.grows);
    return GOCONC_OK;
}

int main(int argc, char **argv)
{
    uint64_t n = 1000000, pre, range, s = 0x5eed, sink = 0, ops = 0, k, i;
    double secs = 2, t0, tw, t;
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    goconc_map *m;
    int rc = GOCONC_OK;

    /* Up to 2^31: the key draw scales 32 random bits by 2N. */
    if ((argc > 1 && (parse_u64(argv[1], &n) < 0 || n > (1ull << 31))) ||
        (argc > 2 && (secs = atof(argv[2])) <= 0) || argc > 5) {
        fprintf(stderr, "usage: map_timeline [N [SECONDS [PREFILL [no_peek]]]]\n");
        return 2;
    }
    pre = n;
    if (argc > 3 && (parse_u64(argv[3], &pre) < 0 || pre > 2 * n)) {
        fprintf(stderr, "map_timeline: PREFILL must be 1 to 2N\n");
        return 2;
    }
    if (argc > 4 && atoi(argv[4]) != 0)
        o.flags = GOCONC_MAP_NO_PEEK;
    range = 2 * n;
    if ((rc = goconc_map_new(&m, &o)) != GOCONC_OK)
        goto fail;
    /* PREFILL distinct keys spread over the range. */
    for (k = 0; k < pre && rc == GOCONC_OK; k++) {
        uint64_t key = k * range / pre;
        rc = goconc_map_store(m, &key, sizeof key, &k, sizeof k);
    }
    if (rc != GOCONC_OK)
        goto fail_map;
    printf("W1 mix, 1 thread, keys [0, %llu), %llu stored first, %s\n",
           (unsigned long long)range, (unsigned long long)pre,
           o.flags ? "without peek" : "lends");
    t0 = tw = bu_now();
    do {
        for (i = 0; i < WINDOW && rc == GOCONC_OK; i++)
            rc = w1_op(m, sm_next(&s), range, &sink);
        if (rc != GOCONC_OK)
            goto fail_map;
        ops += WINDOW;
        t = bu_now();
        if ((rc = report(m, (t - t0) * 1e3, WINDOW / (t - tw) / 1e6)) != GOCONC_OK)
            goto fail_map;
        tw = t;
    } while (t - t0 < secs);
    printf("total %.2f Mops over %.2f s (checksum bit %llu)\n", (double)ops / (t - t0) / 1e6,
           t - t0, (unsigned long long)(sink & 1));
    goconc_map_free(m);
    return 0;
fail_map:
    goconc_map_free(m);
fail:
    fprintf(stderr, "map_timeline: %s\n", goconc_strerror(rc));
    return 1;
}
