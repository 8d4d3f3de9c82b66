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
 *
 * Maps are never freed: each measurement runs in its own child process.
 */
#include "map_peer.h"

#if defined(HAVE_LIBURCU_CDS) && defined(HAVE_LIBURCU_MEMB)

#define _LGPL_SOURCE 1
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>
#include <stdlib.h>

#define LFHT_INIT 4096ul

struct mp_lfht {
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

void mp_lfht_thread_enter(void)
{
    urcu_memb_register_thread();
}

void mp_lfht_thread_exit(void)
{
    urcu_memb_unregister_thread();
}

mp_lfht *mp_lfht_new(uint64_t seed, size_t presize)
{
    mp_lfht *m = malloc(sizeof *m);
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

int mp_lfht_load(mp_lfht *m, uint64_t k, uint64_t *v)
{
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

void mp_lfht_store(mp_lfht *m, uint64_t k, uint64_t v)
{
    struct node *nn = malloc(sizeof *nn);
    struct cds_lfht_node *old;
    if (!nn)
        return;
    cds_lfht_node_init(&nn->node);
    nn->key = k;
    nn->val = v;
    urcu_memb_read_lock();
    old = cds_lfht_add_replace(m->ht, mp_hash(m->seed, k), match, &k, &nn->node);
    if (old)
        urcu_memb_call_rcu(&caa_container_of(old, struct node, node)->rcu, free_node);
    urcu_memb_read_unlock();
}

void mp_lfht_del(mp_lfht *m, uint64_t k)
{
    struct cds_lfht_iter it;
    struct cds_lfht_node *n;
    urcu_memb_read_lock();
    cds_lfht_lookup(m->ht, mp_hash(m->seed, k), match, &k, &it);
    n = cds_lfht_iter_get_node(&it);
    if (n && cds_lfht_del(m->ht, n) == 0)
        urcu_memb_call_rcu(&caa_container_of(n, struct node, node)->rcu, free_node);
    urcu_memb_read_unlock();
}

size_t mp_lfht_len(mp_lfht *m)
{
    long before, after;
    unsigned long count;
    urcu_memb_read_lock();
    cds_lfht_count_nodes(m->ht, &before, &count, &after);
    urcu_memb_read_unlock();
    return count;
}

#else
typedef int mp_lfht_absent; /* keep the translation unit non-empty */
#endif
