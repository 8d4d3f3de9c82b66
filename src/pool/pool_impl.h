/* SPDX-License-Identifier: MIT */
/*
 * pool_impl.h - what the three layers of goconc_pool share.  Each layer
 * calls only the ones below it:
 *
 *   pool.c    the API: get, put, trim, stats, new, free
 *   cache.c   per-thread caches: lookup, aging, flush and refill, exit
 *             hand-back, the registry of a pool's caches
 *   shared.c  the shared level: chunks of object pointers under the
 *             pool's mutex, moved a whole chunk at a time
 *
 * The design is described at the top of pool.c and in doc/pool.md.
 */
#ifndef GOCONC_POOL_IMPL_H
#define GOCONC_POOL_IMPL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/atomics.h"
#include "core/internal.h"
#include "core/thread.h"

#define POOL_DEFAULT_MAX_IDLE 1024 /* max_idle = 0 */
#define POOL_LOCAL_MAX 64          /* per-thread allowance cap */
#define POOL_CHUNK_OBJS POOL_LOCAL_MAX /* a whole cache fits in one chunk */
#define POOL_SPARE_MAX 8           /* empty chunks kept per pool */
#define POOL_ANY_GEN ((size_t)-1)
#define POOL_NO_STAMP ((size_t)-1) /* matches no cache's seen */

struct pool_chunk {
    struct pool_chunk *next;
    size_t n;
    void *obj[POOL_CHUNK_OBJS];
};

/* A stack of chunks, each holding 1..POOL_CHUNK_OBJS objects, oldest
 * first in obj[]: a flush links its chunk whole, single puts fill the
 * top one. */
struct pool_stack {
    struct pool_chunk *top;
    size_t n;
};

/*
 * Counters.  In a cache, written only by its owner (at_store of at_load+1,
 * no read-modify-write) on its slow paths and read by
 * goconc_pool_stats_get; in the pool, updated with at_fetch_add by any
 * thread.  gets = hits + news + nulls.  A cache's fast-path hits and puts
 * are not counted here but derived from pops and pushes (struct pcache).
 */
struct pool_counts {
    atword hits, puts, news, nulls, drops;
};

struct pool_rec;

/*
 * obj[0..n) are cached, oldest first, n = pushes - pops.  Get only writes
 * pops and put only writes pushes, so a get+put loop carries two short
 * store-to-load chains instead of one long one, and needs no counter:
 * hits = pops - removed, puts = pushes - refilled + counts.puts.  All four
 * only grow; the owner stores pops, removed and refilled with release
 * after the word it pairs with (pushes, pops, pushes), so stats, loading
 * in the reverse order with acquire, never sees a negative difference.
 */
struct pcache {
    /* First line: the owner's fast paths touch only this line and obj[]. */
    size_t seen;      /* p->stamp when last aged; 0 sends every call slow */
    atword pops;      /* objects taken out of obj[], ever */
    atword pushes;    /* objects put into obj[], ever */
    atword refilled;  /* pushes that were refills, not puts */
    atword removed;   /* pops that were flushes or drops, not hits */
    struct pool_counts counts; /* slow paths: puts dropped, news, nulls, drops */
    /* Owner only. */
    size_t trims_seen;
    uint64_t id;   /* the pool's id, immutable */
    int busy;      /* dropping objects: re-entrant calls bypass the cache */
    struct pool_chunk *mag; /* an empty chunk for the next flush, or NULL */
    struct pcache *tnext; /* the thread's list */
    struct pool_rec *rec;
    /* Under reg_lock. */
    atword pool;   /* goconc_pool *; NULL once detached (pool free, exit) */
    struct pcache *rnext, *rprev; /* the pool's registry */
    int refs;      /* thread + pool */
    struct gc_allocator_ref ref; /* per-thread memory: its own allocator */
    void *raw;
    void *obj[];
};

struct goconc_pool {
    /* First line: read by every get and put; only trim writes (stamp,
     * trims), so it stays shared in every core's cache. */
    atword stamp;
    atword put_stamp; /* stamp, or POOL_NO_STAMP: see put_stamp_for() */
    atword trims;
    void (*reset_obj)(void *, void *);
    void *ctx;
    size_t local_max;
    size_t batch;
    void *(*new_obj)(void *);
    void (*free_obj)(void *, void *);
    uint64_t id;
    size_t max_idle;
    void *raw;
    /* The shared level, under lock. */
    _Alignas(GC_PAD) pthread_mutex_t lock;
    struct pool_stack cur, vic;
    struct pool_chunk *spare;
    size_t nspare;
    /* Calls without a cache, exited caches and trims count here. */
    _Alignas(GC_PAD) struct pool_counts counts;
    /* Under reg_lock. */
    struct pcache *caches;
    unsigned pins; /* exiting threads handing objects back */
    int dying;     /* goconc_pool_free has started */
};

static inline void pool_bump(atword *w) { at_store(w, at_load(w) + 1); }

static inline size_t pool_min(size_t a, size_t b) { return a < b ? a : b; }

/* Objects in a cache (owner only: reads two words it alone writes). */
static inline size_t pool_cache_n(const struct pcache *c)
{
    return at_load(&c->pushes) - at_load(&c->pops);
}

static inline void pool_drop(goconc_pool *p, void *obj)
{
    if (p->free_obj != NULL)
        p->free_obj(p->ctx, obj);
}

/*
 * The thread's hot cache, kept in the thread record (core/thread.h): its
 * most recently used one; POOL_NO_CACHE, the core's zeroes, while it has
 * none; or a sentinel whose `seen` is also 0 past the thread's exit hook
 * (cache.c).  Either sentinel's `seen` matches no pool's stamp, so the
 * fast paths test only that.
 */
#define POOL_NO_CACHE ((struct pcache *)(uintptr_t)gc_thread_zero)
_Static_assert(offsetof(struct pcache, seen) + sizeof(size_t) <= GC_THREAD_ZERO_BYTES,
               "the core's zeroes cover a cache's seen");

static inline struct pcache *pool_hot(void)
{
    return gc_thread_self()->pool_hot;
}

/* cache.c: per-thread caches. */
struct pcache *pool_cache_find(goconc_pool *p, int create);
void pool_cache_age(goconc_pool *p, struct pcache *c);
void pool_cache_flush(goconc_pool *p, struct pcache *c, size_t want);
size_t pool_cache_refill(goconc_pool *p, struct pcache *c, int *stale);
void pool_caches_free(goconc_pool *p);
void pool_stats_collect(goconc_pool *p, goconc_pool_stats *s);

/* shared.c: the shared level. */
int pool_shared_init(goconc_pool *p);
void pool_shared_fini(goconc_pool *p);
size_t pool_shared_give(goconc_pool *p, struct pool_chunk **mag,
                        void *const *objs, size_t k, int to_vic, size_t gen,
                        int *stale);
size_t pool_shared_take(goconc_pool *p, struct pool_chunk **mag, void **out,
                        size_t want, size_t gen, int *stale);
int pool_shared_put1(goconc_pool *p, void *obj);
void pool_shared_rotate(goconc_pool *p, size_t stamp, size_t put_stamp);
size_t pool_shared_idle(goconc_pool *p);

#endif /* GOCONC_POOL_IMPL_H */
