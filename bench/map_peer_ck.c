/* SPDX-License-Identifier: MIT */
/*
 * map_peer_ck.c - Concurrency Kit's ck_ht (Debian libck-dev) as a
 * bench_map peer, used the way ck means it: single writer, many readers.
 * Loads are ck_ht_get_spmc with no lock at all; stores and erases
 * serialise on one pthread mutex (the "writer mutex") around
 * ck_ht_set_spmc / ck_ht_remove_spmc.  Direct mode: the 8-byte key and
 * value live in the slot, and the hash callback is fmix64 like every
 * other peer's.
 *
 * Direct mode reserves two key values (CK_HT_KEY_EMPTY 0 and
 * CK_HT_KEY_TOMBSTONE ~0), so the slot holds key + 1 and the two keys
 * that would land on them (UINT64_MAX - 1 and UINT64_MAX) are refused:
 * a refused store fails the run, so a key stream that produced one would
 * show, not skew the figures.  bench_map's streams produce neither.
 *
 * Growth: ck_ht_set_spmc grows the table under the writer mutex while
 * readers may still be probing the old one, and hands the old one to the
 * allocator's free with defer = true: freeing it is the caller's job
 * once no reader can hold it (ck_epoch's, in a real program).  Here the
 * retired tables wait on a list until settle or destroy, both called
 * where no thread reads; one map per process (each measurement is its own
 * child), so the list is global.  Growth is geometric, so the list never
 * holds more than the current table's size again.
 */
#include "map_peer.h"

#include <ck_ht.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define RETIRED_MAX 64

struct ckm {
    ck_ht_t ht;
    pthread_mutex_t wlock;
};

/* Tables retired by growth; written under the writer mutex. */
static void *retired[RETIRED_MAX];
static size_t nretired;

static void *ck_alloc(size_t size)
{
    return malloc(size);
}

static void *ck_realloc(void *p, size_t old, size_t size, bool defer)
{
    (void)old;
    (void)defer; /* ck_ht never reallocates a table readers can see */
    return realloc(p, size);
}

static void ck_release(void *p, size_t size, bool defer)
{
    (void)size;
    if (defer && nretired < RETIRED_MAX) {
        retired[nretired++] = p;
        return;
    }
    if (!defer)
        free(p);
    /* else: 2^64 entries' worth of growth; keeping it is the safe choice */
}

static struct ck_malloc ck_allocator = {ck_alloc, ck_realloc, ck_release};

static void free_retired(void)
{
    while (nretired)
        free(retired[--nretired]);
}

/* The slot holds key + 1; hash the caller's key. */
static void ck_hash(ck_ht_hash_t *h, const void *key, size_t len, uint64_t seed)
{
    uintptr_t slot;
    (void)len;
    slot = *(const uintptr_t *)key;
    h->value = mp_hash(seed, (uint64_t)slot - 1);
}

static int slot_key(uint64_t k, uintptr_t *slot)
{
    *slot = (uintptr_t)(k + 1);
    return *slot != CK_HT_KEY_EMPTY && *slot != CK_HT_KEY_TOMBSTONE;
}

static void *ckp_create(uint64_t seed, size_t presize)
{
    struct ckm *m = malloc(sizeof *m);
    if (!m)
        return NULL;
    if (!ck_ht_init(&m->ht, CK_HT_MODE_DIRECT, ck_hash, &ck_allocator,
                    presize ? presize : 64, seed)) {
        free(m);
        return NULL;
    }
    pthread_mutex_init(&m->wlock, NULL);
    return m;
}

static void ckp_destroy(void *p)
{
    struct ckm *m = p;
    ck_ht_destroy(&m->ht);
    free_retired();
    pthread_mutex_destroy(&m->wlock);
    free(m);
}

static int ckp_load(void *p, uint64_t k, uint64_t *v)
{
    struct ckm *m = p;
    ck_ht_entry_t e;
    ck_ht_hash_t h;
    uintptr_t key;
    if (!slot_key(k, &key))
        return 0;
    ck_ht_hash_direct(&h, &m->ht, key);
    ck_ht_entry_key_set_direct(&e, key);
    if (!ck_ht_get_spmc(&m->ht, h, &e))
        return 0;
    *v = ck_ht_entry_value_direct(&e);
    return 1;
}

static int ckp_store(void *p, uint64_t k, uint64_t v)
{
    struct ckm *m = p;
    ck_ht_entry_t e;
    ck_ht_hash_t h;
    uintptr_t key;
    bool ok;
    if (!slot_key(k, &key))
        return -1;
    ck_ht_hash_direct(&h, &m->ht, key);
    ck_ht_entry_set_direct(&e, h, key, (uintptr_t)v);
    pthread_mutex_lock(&m->wlock);
    ok = ck_ht_set_spmc(&m->ht, h, &e);
    pthread_mutex_unlock(&m->wlock);
    return ok ? 0 : -1;
}

static void ckp_erase(void *p, uint64_t k)
{
    struct ckm *m = p;
    ck_ht_entry_t e;
    ck_ht_hash_t h;
    uintptr_t key;
    if (!slot_key(k, &key))
        return;
    ck_ht_hash_direct(&h, &m->ht, key);
    ck_ht_entry_key_set_direct(&e, key);
    pthread_mutex_lock(&m->wlock);
    (void)ck_ht_remove_spmc(&m->ht, h, &e);
    pthread_mutex_unlock(&m->wlock);
}

static size_t ckp_len(void *p)
{
    return (size_t)ck_ht_count(&((struct ckm *)p)->ht);
}

/* No thread reads now: the grace period the retired tables wait for. */
static void ckp_settle(void *p)
{
    (void)p;
    free_retired();
}

const struct map_peer mp_ck_peer = {
    .name = "ck",
    .desc = "Concurrency Kit ck_ht, lock-free loads, writer mutex",
    .create = ckp_create,
    .destroy = ckp_destroy,
    .load = ckp_load,
    .store = ckp_store,
    .erase = ckp_erase,
    .len = ckp_len,
    .settle = ckp_settle,
};
