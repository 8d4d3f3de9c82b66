/* SPDX-License-Identifier: MIT */
/*
 * demo_map.c - the seed article's map scenarios, done safely.
 *
 * 1. Go: several goroutines write one map; as it grows, the runtime
 *    notices and kills the program with "fatal error: concurrent map
 *    writes".  Here four threads store into one goconc_map from empty
 *    while it grows shard by shard, and a fifth keeps reading.
 * 2. Go: ranging over a map while other goroutines write to it ends in
 *    "fatal error: concurrent map iteration and map write".  Here one
 *    thread walks the map with goconc_map_range while two others store and
 *    delete; every key that stayed put is visited exactly once.
 * 3. The usual deadlock of sharded maps (a write from inside a callback
 *    that holds the shard) is an error code instead.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "demo.h"

#define WRITERS 4
#define PER_WRITER 50000
#define STABLE 10000

struct grow_arg {
    goconc_map *m;
    uint64_t base;
    int failed;
};

static void *grow_writer(void *p)
{
    struct grow_arg *a = p;
    uint64_t i;
    for (i = 0; i < PER_WRITER; i++) {
        uint64_t k = a->base + i, v = k * 2;
        if (goconc_map_store(a->m, &k, sizeof k, &v, sizeof v) != GOCONC_OK)
            a->failed = 1;
    }
    return NULL;
}

struct read_arg {
    goconc_map *m;
    int stop;
    long reads, wrong;
};

static void *grow_reader(void *p)
{
    struct read_arg *a = p;
    uint64_t i = 0;
    while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
        uint64_t k = (i * 7919) % (WRITERS * (uint64_t)PER_WRITER), v;
        /* Absent (not stored yet) or exactly what its writer stored. */
        if (goconc_map_load(a->m, &k, sizeof k, &v, sizeof v, NULL) == GOCONC_OK && v != k * 2)
            a->wrong++;
        a->reads++;
        i++;
    }
    return NULL;
}

static int concurrent_growth(void)
{
    goconc_map *m;
    goconc_map_stats st = GOCONC_MAP_STATS_INIT;
    struct grow_arg w[WRITERS];
    struct read_arg r = { NULL, 0, 0, 0 };
    pthread_t wt[WRITERS], rt;
    uint64_t k, v;
    long missing = 0;
    int i, failed = 0;

    DEMO_TITLE("map: \"fatal error: concurrent map writes\" while the map grows");
    DEMO_SAY("Go kills the whole program when two goroutines write one map,");
    DEMO_SAY("typically while it grows.  Here %d threads store %d keys each into one",
             WRITERS, PER_WRITER);
    DEMO_SAY("empty goconc_map, and another thread reads all the while.");
    if (goconc_map_new(&m, NULL) != GOCONC_OK)
        return 1;
    r.m = m;
    pthread_create(&rt, NULL, grow_reader, &r);
    for (i = 0; i < WRITERS; i++) {
        w[i].m = m;
        w[i].base = (uint64_t)i * PER_WRITER;
        w[i].failed = 0;
        pthread_create(&wt[i], NULL, grow_writer, &w[i]);
    }
    for (i = 0; i < WRITERS; i++) {
        pthread_join(wt[i], NULL);
        failed |= w[i].failed;
    }
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    pthread_join(rt, NULL);
    for (k = 0; k < WRITERS * (uint64_t)PER_WRITER; k++)
        if (goconc_map_load(m, &k, sizeof k, &v, sizeof v, NULL) != GOCONC_OK || v != k * 2)
            missing++;
    DEMO_MUST(goconc_map_stats_get(m, &st));
    DEMO_SAY("Done: %zu entries, %ld missing or wrong.  Shards grew %llu times,",
             goconc_map_len(m), missing, (unsigned long long)st.grows);
    DEMO_SAY("moving %llu buckets a couple at a time, so no store ever waited for a",
             (unsigned long long)st.buckets_moved);
    DEMO_SAY("whole-table rehash.  The reader made %ld lookups during the growth and",
             r.reads);
    DEMO_SAY("saw %ld wrong values (lookups take no lock and write nothing).", r.wrong);
    goconc_map_free(m);
    return failed || missing || r.wrong || st.len != WRITERS * (size_t)PER_WRITER;
}

struct churn_arg {
    goconc_map *m;
    uint64_t first;
    int stop;
};

static void *churner(void *p)
{
    struct churn_arg *a = p;
    uint64_t i = 0;
    while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
        uint64_t k = a->first + i % 20000, v = k;
        if (i % 3 == 2)
            DEMO_MUST_OR(goconc_map_delete(a->m, &k, sizeof k), GOCONC_NOTFOUND);
        else
            DEMO_MUST(goconc_map_store(a->m, &k, sizeof k, &v, sizeof v));
        i++;
    }
    return NULL;
}

struct walk {
    unsigned char seen[STABLE];
    long twice, visits;
};

static int count_stable(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct walk *w = ctx;
    uint64_t k;
    (void)val;
    (void)vlen;
    memcpy(&k, key, sizeof k < klen ? sizeof k : klen);
    if (k < STABLE && w->seen[k]++)
        w->twice++;
    w->visits++;
    return 0;
}

static int range_while_writing(void)
{
    goconc_map *m;
    struct churn_arg c[2];
    pthread_t ct[2];
    static struct walk w;
    uint64_t k;
    long once = 0;
    int i, rc;

    DEMO_TITLE("map: range while other goroutines write");
    DEMO_SAY("Go: \"fatal error: concurrent map iteration and map write\".  Here");
    DEMO_SAY("%d keys stay put while two threads store and delete 40000 others", STABLE);
    DEMO_SAY("(the shards grow and shrink meanwhile), and a third walks the map.");
    if (goconc_map_new(&m, NULL) != GOCONC_OK)
        return 1;
    for (k = 0; k < STABLE; k++)
        DEMO_MUST(goconc_map_store(m, &k, sizeof k, &k, sizeof k));
    for (i = 0; i < 2; i++) {
        c[i].m = m;
        c[i].first = 1000000 + (uint64_t)i * 100000;
        c[i].stop = 0;
        pthread_create(&ct[i], NULL, churner, &c[i]);
    }
    memset(&w, 0, sizeof w);
    rc = goconc_map_range(m, count_stable, &w);
    for (i = 0; i < 2; i++) {
        __atomic_store_n(&c[i].stop, 1, __ATOMIC_RELEASE);
        pthread_join(ct[i], NULL);
    }
    for (k = 0; k < STABLE; k++)
        once += w.seen[k] == 1;
    DEMO_SAY("range returned %s after %ld visits: %ld of the %d untouched keys seen",
             goconc_strerror(rc), w.visits, once, STABLE);
    DEMO_SAY("exactly once, %ld keys seen twice.  fn ran with no lock held, so it", w.twice);
    DEMO_SAY("could have written the map itself.");
    goconc_map_free(m);
    return rc != GOCONC_OK || once != STABLE || w.twice != 0;
}

struct reenter {
    goconc_map *m;
    int rc;
};

static int bump(void *ctx, const void *old, size_t oldlen, int found, const void **nv,
                size_t *nl)
{
    struct reenter *r = ctx;
    static uint64_t next;
    uint64_t k = 2;
    if (found && oldlen == sizeof next) {
        memcpy(&next, old, sizeof next);
        next++;
    } else {
        next = 1;
    }
    /* Writing the map from here would deadlock a lock-per-shard map. */
    r->rc = goconc_map_store(r->m, &k, sizeof k, &k, sizeof k);
    *nv = &next;
    *nl = sizeof next;
    return GOCONC_UPDATE_STORE;
}

static int reentry(void)
{
    goconc_map *m;
    struct reenter r;
    uint64_t k = 1, v = 0;
    int rc;

    DEMO_TITLE("map: a write from inside an update callback");
    DEMO_SAY("Sharded maps deadlock when a callback that holds a shard writes to the");
    DEMO_SAY("map again (DashMap's most reported bug).  goconc_map_update answers it:");
    if (goconc_map_new(&m, NULL) != GOCONC_OK)
        return 1;
    r.m = m;
    r.rc = 0;
    rc = goconc_map_update(m, &k, sizeof k, bump, &r);
    DEMO_MUST(goconc_map_load(m, &k, sizeof k, &v, sizeof v, NULL));
    DEMO_SAY("the inner store returned %s; the update itself %s (counter = %llu).",
             goconc_strerror(r.rc), goconc_strerror(rc), (unsigned long long)v);
    goconc_map_free(m);
    return r.rc != GOCONC_EDEADLK || rc != GOCONC_OK || v != 1;
}

int demo_map(void)
{
    int bad = 0;
    bad |= concurrent_growth();
    bad |= range_while_writing();
    bad |= reentry();
    DEMO_MUST(goconc_barrier());
    return bad ? 1 : 0;
}
