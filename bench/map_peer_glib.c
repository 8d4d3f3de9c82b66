/* SPDX-License-Identifier: MIT */
/*
 * map_peer_glib.c - GLib-based peers of bench_map: one GHashTable with no
 * lock (the single-threaded baseline), one under one GRWLock, and the seed
 * article's 64 GHashTables each under its own pthread_rwlock_t.  Keys and
 * values are stored in the table's pointer slots (no allocation per
 * entry), which is how a careful C programmer would use GHashTable for
 * 8-byte keys.
 */
#include "map_peer.h"

#include <glib.h>
#include <pthread.h>
#include <stdlib.h>

/* GHashFunc takes no context, so the hash seed is per process; each child
 * process builds exactly one map. */
static uint64_t glib_seed;

static guint glib_hash(gconstpointer p)
{
    return (guint)mp_hash(glib_seed, (uint64_t)(uintptr_t)p);
}

static gboolean glib_equal(gconstpointer a, gconstpointer b)
{
    return a == b;
}

#define K2P(k) ((gpointer)(uintptr_t)(k))

static GHashTable *ght_new(uint64_t seed)
{
    glib_seed = seed;
    return g_hash_table_new(glib_hash, glib_equal);
}

static int ght_load(GHashTable *t, uint64_t k, uint64_t *v)
{
    gpointer ok, ov;
    if (!g_hash_table_lookup_extended(t, K2P(k), &ok, &ov))
        return 0;
    *v = (uint64_t)(uintptr_t)ov;
    return 1;
}

/* ---- one GHashTable, no lock: the single-threaded baseline ------------ */

static void *plain_create(uint64_t seed, size_t presize)
{
    (void)presize; /* GHashTable has no reserve call */
    return ght_new(seed);
}

static void plain_destroy(void *m)
{
    g_hash_table_destroy(m);
}

static int plain_load(void *m, uint64_t k, uint64_t *v)
{
    return ght_load(m, k, v);
}

static int plain_store(void *m, uint64_t k, uint64_t v)
{
    g_hash_table_insert(m, K2P(k), K2P(v));
    return 0;
}

static void plain_erase(void *m, uint64_t k)
{
    g_hash_table_remove(m, K2P(k));
}

static size_t plain_len(void *m)
{
    return g_hash_table_size(m);
}

const struct map_peer mp_glib1_peer = {
    .name = "glib-1t",
    .desc = "GHashTable, no lock (single-thread baseline)",
    .flags = MP_ONE_THREAD,
    .create = plain_create,
    .destroy = plain_destroy,
    .load = plain_load,
    .store = plain_store,
    .erase = plain_erase,
    .len = plain_len,
};

/* ---- one GHashTable, one GRWLock ------------------------------------- */

struct locked {
    GRWLock lock;
    GHashTable *t;
};

static void *locked_create(uint64_t seed, size_t presize)
{
    struct locked *m = calloc(1, sizeof *m);
    (void)presize;
    if (!m)
        return NULL;
    g_rw_lock_init(&m->lock);
    m->t = ght_new(seed);
    return m;
}

static void locked_destroy(void *p)
{
    struct locked *m = p;
    g_hash_table_destroy(m->t);
    g_rw_lock_clear(&m->lock);
    free(m);
}

static int locked_load(void *p, uint64_t k, uint64_t *v)
{
    struct locked *m = p;
    int r;
    g_rw_lock_reader_lock(&m->lock);
    r = ght_load(m->t, k, v);
    g_rw_lock_reader_unlock(&m->lock);
    return r;
}

static int locked_store(void *p, uint64_t k, uint64_t v)
{
    struct locked *m = p;
    g_rw_lock_writer_lock(&m->lock);
    g_hash_table_insert(m->t, K2P(k), K2P(v));
    g_rw_lock_writer_unlock(&m->lock);
    return 0;
}

static void locked_erase(void *p, uint64_t k)
{
    struct locked *m = p;
    g_rw_lock_writer_lock(&m->lock);
    g_hash_table_remove(m->t, K2P(k));
    g_rw_lock_writer_unlock(&m->lock);
}

static size_t locked_len(void *p)
{
    return g_hash_table_size(((struct locked *)p)->t);
}

const struct map_peer mp_glib_peer = {
    .name = "glib",
    .desc = "GHashTable under one GRWLock",
    .create = locked_create,
    .destroy = locked_destroy,
    .load = locked_load,
    .store = locked_store,
    .erase = locked_erase,
    .len = locked_len,
};

/* ---- the seed article's design: 64 rwlocked GHashTables ----------------- */

#define SHARDS 64

struct shard {
    pthread_rwlock_t lock;
    GHashTable *t;
} __attribute__((aligned(64)));

struct shard64 {
    struct shard s[SHARDS];
};

/* The top 6 bits pick the shard; GHashTable indexes with the low bits. */
static struct shard *shard_of(struct shard64 *m, uint64_t k)
{
    return &m->s[mp_hash(glib_seed, k) >> 58];
}

static void *shard64_create(uint64_t seed, size_t presize)
{
    struct shard64 *m;
    int i;
    (void)presize;
    if (posix_memalign((void **)&m, 64, sizeof *m))
        return NULL;
    for (i = 0; i < SHARDS; i++) {
        pthread_rwlock_init(&m->s[i].lock, NULL);
        m->s[i].t = ght_new(seed);
    }
    return m;
}

static void shard64_destroy(void *p)
{
    struct shard64 *m = p;
    int i;
    for (i = 0; i < SHARDS; i++) {
        g_hash_table_destroy(m->s[i].t);
        pthread_rwlock_destroy(&m->s[i].lock);
    }
    free(m);
}

static int shard64_load(void *p, uint64_t k, uint64_t *v)
{
    struct shard *s = shard_of(p, k);
    int r;
    pthread_rwlock_rdlock(&s->lock);
    r = ght_load(s->t, k, v);
    pthread_rwlock_unlock(&s->lock);
    return r;
}

static int shard64_store(void *p, uint64_t k, uint64_t v)
{
    struct shard *s = shard_of(p, k);
    pthread_rwlock_wrlock(&s->lock);
    g_hash_table_insert(s->t, K2P(k), K2P(v));
    pthread_rwlock_unlock(&s->lock);
    return 0;
}

static void shard64_erase(void *p, uint64_t k)
{
    struct shard *s = shard_of(p, k);
    pthread_rwlock_wrlock(&s->lock);
    g_hash_table_remove(s->t, K2P(k));
    pthread_rwlock_unlock(&s->lock);
}

static size_t shard64_len(void *p)
{
    struct shard64 *m = p;
    size_t n = 0;
    int i;
    for (i = 0; i < SHARDS; i++)
        n += g_hash_table_size(m->s[i].t);
    return n;
}

const struct map_peer mp_seed64_peer = {
    .name = "seed64",
    .desc = "64 GHashTables x pthread_rwlock (seed design)",
    .create = shard64_create,
    .destroy = shard64_destroy,
    .load = shard64_load,
    .store = shard64_store,
    .erase = shard64_erase,
    .len = shard64_len,
};
