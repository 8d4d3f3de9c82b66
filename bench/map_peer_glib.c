/* SPDX-License-Identifier: MIT */
/*
 * map_peer_glib.c - GLib-based peers of bench_map: one GHashTable under one
 * GRWLock, and the seed article's 64 GHashTables each under its own
 * pthread_rwlock_t.  Keys and values are stored in the table's pointer
 * slots (no allocation per entry), which is how a careful C programmer
 * would use GHashTable for 8-byte keys.
 *
 * Maps are never freed: each measurement runs in its own child process.
 */
#include "map_peer.h"

#ifdef HAVE_GLIB_2_0

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

static int ght_load(GHashTable *t, uint64_t k, uint64_t *v)
{
    gpointer ok, ov;
    if (!g_hash_table_lookup_extended(t, K2P(k), &ok, &ov))
        return 0;
    *v = (uint64_t)(uintptr_t)ov;
    return 1;
}

/* ---- one GHashTable, one GRWLock ------------------------------------- */

struct mp_glib {
    GRWLock lock;
    int locked;
    GHashTable *t;
};

mp_glib *mp_glib_new(uint64_t seed, size_t presize, int lock)
{
    mp_glib *m = calloc(1, sizeof *m);
    (void)presize; /* GHashTable has no reserve call */
    if (!m)
        return NULL;
    glib_seed = seed;
    g_rw_lock_init(&m->lock);
    m->locked = lock;
    m->t = g_hash_table_new(glib_hash, glib_equal);
    return m;
}

int mp_glib_load(mp_glib *m, uint64_t k, uint64_t *v)
{
    int r;
    if (!m->locked)
        return ght_load(m->t, k, v);
    g_rw_lock_reader_lock(&m->lock);
    r = ght_load(m->t, k, v);
    g_rw_lock_reader_unlock(&m->lock);
    return r;
}

void mp_glib_store(mp_glib *m, uint64_t k, uint64_t v)
{
    if (!m->locked) {
        g_hash_table_insert(m->t, K2P(k), K2P(v));
        return;
    }
    g_rw_lock_writer_lock(&m->lock);
    g_hash_table_insert(m->t, K2P(k), K2P(v));
    g_rw_lock_writer_unlock(&m->lock);
}

void mp_glib_del(mp_glib *m, uint64_t k)
{
    if (!m->locked) {
        g_hash_table_remove(m->t, K2P(k));
        return;
    }
    g_rw_lock_writer_lock(&m->lock);
    g_hash_table_remove(m->t, K2P(k));
    g_rw_lock_writer_unlock(&m->lock);
}

size_t mp_glib_len(mp_glib *m)
{
    return g_hash_table_size(m->t);
}

/* ---- the seed article's design: 64 rwlocked GHashTables ----------------- */

#define SHARDS 64

struct shard {
    pthread_rwlock_t lock;
    GHashTable *t;
} __attribute__((aligned(64)));

struct mp_shard64 {
    struct shard s[SHARDS];
};

/* The top 6 bits pick the shard; GHashTable indexes with the low bits. */
static struct shard *shard_of(mp_shard64 *m, uint64_t k)
{
    return &m->s[mp_hash(glib_seed, k) >> 58];
}

mp_shard64 *mp_shard64_new(uint64_t seed, size_t presize)
{
    mp_shard64 *m;
    int i;
    (void)presize;
    if (posix_memalign((void **)&m, 64, sizeof *m))
        return NULL;
    glib_seed = seed;
    for (i = 0; i < SHARDS; i++) {
        pthread_rwlock_init(&m->s[i].lock, NULL);
        m->s[i].t = g_hash_table_new(glib_hash, glib_equal);
    }
    return m;
}

int mp_shard64_load(mp_shard64 *m, uint64_t k, uint64_t *v)
{
    struct shard *s = shard_of(m, k);
    int r;
    pthread_rwlock_rdlock(&s->lock);
    r = ght_load(s->t, k, v);
    pthread_rwlock_unlock(&s->lock);
    return r;
}

void mp_shard64_store(mp_shard64 *m, uint64_t k, uint64_t v)
{
    struct shard *s = shard_of(m, k);
    pthread_rwlock_wrlock(&s->lock);
    g_hash_table_insert(s->t, K2P(k), K2P(v));
    pthread_rwlock_unlock(&s->lock);
}

void mp_shard64_del(mp_shard64 *m, uint64_t k)
{
    struct shard *s = shard_of(m, k);
    pthread_rwlock_wrlock(&s->lock);
    g_hash_table_remove(s->t, K2P(k));
    pthread_rwlock_unlock(&s->lock);
}

size_t mp_shard64_len(mp_shard64 *m)
{
    size_t n = 0;
    int i;
    for (i = 0; i < SHARDS; i++)
        n += g_hash_table_size(m->s[i].t);
    return n;
}

#else
typedef int mp_glib_absent; /* keep the translation unit non-empty */
#endif /* HAVE_GLIB_2_0 */
