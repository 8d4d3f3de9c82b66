/* SPDX-License-Identifier: MIT */
/*
 * map_peer_lfht.c - liburcu's RCU lock-free resizable hash table (cds_lfht)
 * as a bench_map peer, used the way its examples use it: urcu-memb flavour
 * with the inlined read-side fast path (_LGPL_SOURCE), one malloc'd node
 * per entry, cds_lfht_add_replace for stores (the replaced node is freed
 * by call_rcu), lookup + cds_lfht_del for deletes.  Auto-resize and
 * accounting are on; "presized" starts with the buckets for presize
 * entries, otherwise the table starts at LFHT_INIT buckets and grows (its
 * resize runs in liburcu's worker thread, not in the storing thread).
 *
 * Why not start at one bucket: liburcu 0.13.2 (Debian bookworm) can stall
 * its lazy auto-resize for good.  __cds_lfht_resize_lazy_launch hands the
 * resize to its worker thread and only then stores resize_initiated = 1;
 * when the worker finishes a (small, fast) resize before that store, the
 * flag stays 1 with no resize pending, no resize is launched again and the
 * chains grow without bound.  Seen here in a stalled process: size 2048
 * buckets, resize_target 131072, 186368 entries, resize_initiated 1,
 * in_progress_resize 0 -- in 5 of 30 runs of 200k inserts from one bucket,
 * in none of 30 runs from 1024 or 16384 buckets.  Small tables resize
 * fastest, so starting at 4096 buckets (0.4% of the 1M-entry tables
 * measured) makes the race very unlikely; bench_map also kills a run that
 * takes far too long and reports it as failed.
 */
#include "map_peer.h"

#define _LGPL_SOURCE 1
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>
#include <stdio.h>
#include <stdlib.h>

#define LFHT_INIT 4096ul

struct lfht {
    struct cds_lfht *ht;
    uint64_t seed;
};

struct node {
    struct cds_lfht_node node;
    uint64_t key, val;
    struct rcu_head rcu;
};

static int match(struct cds_lfht_node *n, const void *key)
{
    return caa_container_of(n, struct node, node)->key == *(const uint64_t *)key;
}

static void free_node(struct rcu_head *h)
{
    free(caa_container_of(h, struct node, rcu));
}

static void lfht_thread_enter(void)
{
    urcu_memb_register_thread();
}

static void lfht_thread_exit(void)
{
    urcu_memb_unregister_thread();
}

static void *lfht_create(uint64_t seed, size_t presize)
{
    struct lfht *m = malloc(sizeof *m);
    unsigned long init = LFHT_INIT;
    if (!m)
        return NULL;
    while (init < presize)
        init <<= 1;
    m->seed = seed;
    m->ht = cds_lfht_new_flavor(init, 1, 0,
                                CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
                                &urcu_memb_flavor, NULL);
    if (!m->ht) {
        free(m);
        return NULL;
    }
    return m;
}

static int lfht_load(void *p, uint64_t k, uint64_t *v)
{
    struct lfht *m = p;
    struct cds_lfht_iter it;
    struct cds_lfht_node *n;
    int r = 0;
    urcu_memb_read_lock();
    cds_lfht_lookup(m->ht, mp_hash(m->seed, k), match, &k, &it);
    n = cds_lfht_iter_get_node(&it);
    if (n) {
        *v = caa_container_of(n, struct node, node)->val;
        r = 1;
    }
    urcu_memb_read_unlock();
    return r;
}

static int lfht_store(void *p, uint64_t k, uint64_t v)
{
    struct lfht *m = p;
    struct node *nn = malloc(sizeof *nn);
    struct cds_lfht_node *old;
    if (!nn)
        return -1;
    cds_lfht_node_init(&nn->node);
    nn->key = k;
    nn->val = v;
    urcu_memb_read_lock();
    old = cds_lfht_add_replace(m->ht, mp_hash(m->seed, k), match, &k, &nn->node);
    if (old)
        urcu_memb_call_rcu(&caa_container_of(old, struct node, node)->rcu, free_node);
    urcu_memb_read_unlock();
    return 0;
}

static void lfht_erase(void *p, uint64_t k)
{
    struct lfht *m = p;
    struct cds_lfht_iter it;
    struct cds_lfht_node *n;
    urcu_memb_read_lock();
    cds_lfht_lookup(m->ht, mp_hash(m->seed, k), match, &k, &it);
    n = cds_lfht_iter_get_node(&it);
    if (n && cds_lfht_del(m->ht, n) == 0)
        urcu_memb_call_rcu(&caa_container_of(n, struct node, node)->rcu, free_node);
    urcu_memb_read_unlock();
}

static size_t lfht_len(void *p)
{
    struct lfht *m = p;
    long before, after;
    unsigned long count;
    urcu_memb_read_lock();
    cds_lfht_count_nodes(m->ht, &before, &count, &after);
    urcu_memb_read_unlock();
    return count;
}

/* Unlink every node (their frees go through call_rcu), wait for those
 * callbacks, then destroy the empty table.  The caller is a registered
 * thread outside any read-side critical section, as cds_lfht_destroy
 * requires. */
static void lfht_destroy(void *p)
{
    struct lfht *m = p;
    struct cds_lfht_iter it;
    struct cds_lfht_node *n;
    urcu_memb_read_lock();
    cds_lfht_for_each(m->ht, &it, n)
        if (cds_lfht_del(m->ht, n) == 0)
            urcu_memb_call_rcu(&caa_container_of(n, struct node, node)->rcu, free_node);
    urcu_memb_read_unlock();
    urcu_memb_barrier();
    /* Fails (and leaks) only if a node survived the walk: say so. */
    if (cds_lfht_destroy(m->ht, NULL) != 0)
        fprintf(stderr, "map_peer_lfht: cds_lfht_destroy failed: the table was not empty\n");
    free(m);
}

/* Both tables share every operation; only the initial size differs. */
#define LFHT_OPS                                                                   \
    .create = lfht_create, .destroy = lfht_destroy, .load = lfht_load,             \
    .store = lfht_store, .erase = lfht_erase, .len = lfht_len,                     \
    .thread_enter = lfht_thread_enter, .thread_exit = lfht_thread_exit

const struct map_peer mp_lfht_peer = {
    .name = "lfht",
    .desc = "liburcu cds_lfht, auto-resize from 4096 buckets",
    LFHT_OPS,
};

/* Created with buckets for the whole W1 key range, so W1 measures lookups
 * without auto-resize's uneven chains. */
const struct map_peer mp_lfht_pre_peer = {
    .name = "lfht-pre",
    .desc = "liburcu cds_lfht presized to 2N buckets",
    .flags = MP_PRESIZED,
    LFHT_OPS,
};
