/* SPDX-License-Identifier: MIT */
/*
 * map_peer_goconc.c - goconc_map behind bench_map's ops table: 8-byte keys
 * and values by copy, the library's own hash seeded with the run's hash
 * seed, the size hint only when the harness presizes.  Two tables: default
 * options ("goconc", the figure every ratio is taken against), and a map
 * created with GOCONC_MAP_NO_PEEK ("goconc-np"), which overwrites inline
 * values in place; the two differ in nothing else.
 */
#include "benchutil.h"
#include "map_peer.h"

#include <goconc.h>

#include <stdint.h>

static void *gc_new(uint64_t seed, size_t presize, unsigned flags)
{
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    goconc_map *m;
    o.seed = seed;
    o.capacity_hint = presize;
    o.flags = flags;
    return goconc_map_new(&m, &o) == GOCONC_OK ? m : NULL;
}

static void *gc_create(uint64_t seed, size_t presize)
{
    return gc_new(seed, presize, 0);
}

static void *gc_create_np(uint64_t seed, size_t presize)
{
    return gc_new(seed, presize, GOCONC_MAP_NO_PEEK);
}

static void gc_destroy(void *m)
{
    goconc_map_free(m);
    bu_discard(goconc_barrier()); /* run the deferred frees before returning */
}

static int gc_load(void *m, uint64_t k, uint64_t *v)
{
    size_t vl;
    return goconc_map_load(m, &k, sizeof k, v, sizeof *v, &vl) == GOCONC_OK;
}

static int gc_store(void *m, uint64_t k, uint64_t v)
{
    return goconc_map_store(m, &k, sizeof k, &v, sizeof v) == GOCONC_OK ? 0 : -1;
}

static void gc_erase(void *m, uint64_t k)
{
    bu_discard(goconc_map_delete(m, &k, sizeof k));
}

static size_t gc_len(void *m)
{
    return goconc_map_len(m);
}

/* Complete every incremental migration, then free the retired tables. */
static void gc_settle(void *m)
{
    bu_discard(goconc_map_maintain(m, SIZE_MAX, NULL));
    bu_discard(goconc_barrier());
}

static void gc_stats(void *m, const char *sfx, FILE *out)
{
    goconc_map_stats st = GOCONC_MAP_STATS_INIT;
    if (goconc_map_stats_get(m, &st) != GOCONC_OK)
        return;
    fprintf(out, " bytes%s=%zu buckets%s=%zu shards%s=%zu migrating%s=%zu grows%s=%llu"
            " moved%s=%llu", sfx, st.bytes, sfx, st.buckets, sfx, st.shards, sfx,
            st.shards_migrating, sfx, (unsigned long long)st.grows, sfx,
            (unsigned long long)st.buckets_moved);
}

/* Both tables: the same calls but create. */
#define GC_PEER_OPS                                                               \
    .destroy = gc_destroy, .load = gc_load, .store = gc_store, .erase = gc_erase, \
    .len = gc_len, .settle = gc_settle, .stats = gc_stats

const struct map_peer mp_goconc_peer = {
    .name = "goconc",
    .desc = "goconc_map (default options)",
    .create = gc_create,
    GC_PEER_OPS,
};

const struct map_peer mp_goconc_np_peer = {
    .name = "goconc-np",
    .desc = "goconc_map created with GOCONC_MAP_NO_PEEK (in-place overwrites)",
    .create = gc_create_np,
    GC_PEER_OPS,
};
