/* SPDX-License-Identifier: MIT */
/*
 * pool.c - goconc_pool: Go's sync.Pool with per-thread caches.  This
 * file: the API, on top of cache.c (the per-thread caches), itself on top
 * of shared.c (the shared level); see pool_impl.h.
 *
 * Three levels (doc/pool.md):
 *  - per-thread caches: for each (thread, pool) a small array of at most
 *    local_max = min(POOL_LOCAL_MAX, max_idle) objects that only the owner
 *    thread pushes and pops.  The fast paths read the pool's first line
 *    (written only by trim) and write only the cache's own lines: no
 *    shared cache line is written and no lock is taken.
 *  - the shared level: two stacks under the pool's mutex, `cur` and `vic`
 *    (Go's victim cache), of library-owned chunks of object pointers.  A
 *    thread moves `batch` objects at a time between its cache and `cur`,
 *    as one chunk linked or unlinked under the lock (shared.c), so a
 *    thread that only puts feeds one that only gets at a few pointer
 *    updates per batch.  cur.n + vic.n <= max_idle.  No lock-free list
 *    runs through user objects: a pop never reads memory that a user may
 *    have freed.
 *  - victims: trim drops `vic`, turns `cur` into `vic` (Go's GC step) and
 *    stamps the pool.  When a cache's owner next sees a new stamp it moves
 *    its objects to `vic` (one trim missed) or drops them (two or more), so
 *    a cache only ever holds objects of the current generation.
 *
 * Finding the cache: the thread's one TLS pointer (initial-exec) names its
 * most recently used cache, or a static sentinel whose `seen` is 0.  The
 * fast path compares that cache's `seen` with the pool's `stamp`; stamps
 * are unique across pools and trims (one global counter, never 0), so
 * equality proves both "this cache is this pool's" and "no trim since it
 * last aged".  A pool freed and another allocated at the same address can
 * never match a stale cache.  Other caches hang off the thread's record
 * (a most-recently-used list), found through the core's per-thread
 * record (core/thread.h) on the slow path.
 *
 * Lifetimes: a cache is owned by its thread and by its pool (refs = 2)
 * while both live, linked into the pool's registry under reg_lock.
 * goconc_pool_free() detaches every registered cache (pool = NULL), frees
 * the objects in it and drops the pool's reference; the thread drops its
 * own when it next walks its list or exits.  Thread exit pins the pool
 * (pins > 0 makes goconc_pool_free wait) while it hands the cache's
 * objects to the shared level, so an exiting thread never touches a freed
 * pool.  User callbacks never run under a lock of ours; while a cache
 * drops objects it is `busy` and re-entrant calls bypass it.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "pool/pool_impl.h"

/* ------------------------------------------------------------ helpers */

static atword last_stamp;

/* Unique, never 0: pool ids and stamps come from one counter. */
static size_t new_stamp(void) { return at_fetch_add(&last_stamp, 1) + 1; }

static void count_new(goconc_pool *p, struct pool_counts *own, void *obj)
{
    atword *w = obj != NULL ? (own ? &own->news : &p->counts.news)
                            : (own ? &own->nulls : &p->counts.nulls);
    if (own != NULL)
        pool_bump(w);
    else
        at_fetch_add(w, 1);
}

static void *call_new(goconc_pool *p, struct pool_counts *own)
{
    void *obj = p->new_obj != NULL ? p->new_obj(p->ctx) : NULL;
    count_new(p, own, obj);
    return obj;
}

/* ------------------------------------------------------------ slow paths */

static void *get_nocache(goconc_pool *p)
{
    void *obj;
    int stale = 0;
    if (pool_shared_take(p, NULL, &obj, 1, POOL_ANY_GEN, &stale) == 1) {
        at_fetch_add(&p->counts.hits, 1);
        return obj;
    }
    return call_new(p, NULL);
}

static __attribute__((noinline)) void *get_slow(goconc_pool *p)
{
    struct pcache *c = pool_cache_find(p, 1);
    size_t n;
    int stale;
    if (c == NULL)
        return get_nocache(p);
    while ((n = pool_cache_n(c)) == 0) {
        stale = 0;
        if ((n = pool_cache_refill(p, c, &stale)) != 0)
            break;
        GOCONC_PERTURB_POINT();
        if (!stale)
            return call_new(p, &c->counts);
        pool_cache_age(p, c); /* a trim came first; then look again */
    }
    at_store_rel(&c->pops, at_load(&c->pops) + 1); /* a hit */
    return c->obj[n - 1];
}

static void put_nocache(goconc_pool *p, void *obj)
{
    at_fetch_add(&p->counts.puts, 1);
    if (!pool_shared_put1(p, obj)) {
        at_fetch_add(&p->counts.drops, 1);
        pool_drop(p, obj);
    }
}

static __attribute__((noinline)) void put_slow(goconc_pool *p, void *obj)
{
    struct pcache *c = pool_cache_find(p, 1);
    size_t n;
    if (c == NULL) {
        put_nocache(p, obj);
        return;
    }
    if (pool_cache_n(c) == p->local_max)
        pool_cache_flush(p, c, p->batch); /* full: the oldest batch goes shared */
    n = pool_cache_n(c);
    if (n < p->local_max) {
        c->obj[n] = obj;
        at_store(&c->pushes, at_load(&c->pushes) + 1);
        return;
    }
    pool_bump(&c->counts.puts); /* a put that never reached obj[] */
    pool_bump(&c->counts.drops); /* max_idle reached (or no memory for a chunk) */
    pool_drop(p, obj);
}

/* ------------------------------------------------------------------ API */

/* What goconc_pool_put's fast path compares with: the stamp, or a value
 * no cache has when the pool needs put_other (reset_obj, small allowance). */
static size_t put_stamp_for(const goconc_pool *p, size_t stamp)
{
    return p->reset_obj == NULL && p->local_max == POOL_LOCAL_MAX
               ? stamp : POOL_NO_STAMP;
}

GOCONC_API int goconc_pool_new(goconc_pool **out, const goconc_pool_options *opts)
{
    goconc_pool_options o = GOCONC_POOL_OPTIONS_INIT;
    goconc_pool *p;
    void *raw;
    int rc;

    if (out == NULL)
        return GOCONC_EINVAL;
    *out = NULL;
    if (opts != NULL) {
        rc = gc_opts_copy(&o, sizeof o, sizeof o, opts);
        if (rc != GOCONC_OK)
            return rc;
    }
    gc_live_begin();
    raw = gc_alloc(sizeof *p + GC_PAD - 1);
    if (raw == NULL) {
        gc_live_dec();
        return GOCONC_ENOMEM;
    }
    p = (goconc_pool *)(((uintptr_t)raw + GC_PAD - 1) & ~(uintptr_t)(GC_PAD - 1));
    memset(p, 0, sizeof *p);
    if (!pool_shared_init(p)) {
        gc_free(raw);
        gc_live_dec();
        return GOCONC_ENOMEM;
    }
    p->raw = raw;
    p->new_obj = o.new_obj;
    p->free_obj = o.free_obj;
    p->reset_obj = o.reset_obj;
    p->ctx = o.ctx;
    p->max_idle = o.max_idle != 0 ? o.max_idle : POOL_DEFAULT_MAX_IDLE;
    p->local_max = pool_min(POOL_LOCAL_MAX, p->max_idle);
    p->batch = p->local_max / 2 != 0 ? p->local_max / 2 : 1;
    p->id = new_stamp();
    at_store(&p->trims, 0);
    at_store(&p->stamp, p->id);
    at_store(&p->put_stamp, put_stamp_for(p, p->id));
    *out = p;
    return GOCONC_OK;
}

GOCONC_API void goconc_pool_free(goconc_pool *p)
{
    if (p == NULL)
        return;
    pool_caches_free(p); /* every thread's cache: live, exiting, exited */
    pool_shared_fini(p);
    gc_free(p->raw);
    gc_live_dec();
}

GOCONC_API void *goconc_pool_get(goconc_pool *p)
{
    struct pcache *c;
    size_t n, pops;

    if (GC_UNLIKELY(p == NULL))
        return NULL;
    c = pool_hot();
    if (GC_LIKELY(c->seen == at_load(&p->stamp))) {
        pops = at_load(&c->pops);
        n = at_load(&c->pushes) - pops;
        if (GC_LIKELY(n != 0)) {
            /* Release: see struct pcache (stats pairs with it). */
            at_store_rel(&c->pops, pops + 1);
            return c->obj[n - 1];
        }
    }
    return get_slow(p);
}

/* Push onto the hot cache if it is p's and up to date (seen == *stamp)
 * and has room (n < cap); 0 otherwise. */
static inline int put_push(void *obj, const atword *stamp, size_t cap)
{
    struct pcache *c = pool_hot();
    size_t n, pushes;
    if (GC_LIKELY(c->seen == at_load(stamp))) {
        pushes = at_load(&c->pushes);
        n = pushes - at_load(&c->pops);
        if (GC_LIKELY(n < cap)) {
            c->obj[n] = obj;
            at_store(&c->pushes, pushes + 1);
            return 1;
        }
    }
    return 0;
}

/* Pools with reset_obj or an allowance below POOL_LOCAL_MAX come here
 * (put_stamp never matches), and so does every put the fast path cannot
 * finish.  reset_obj runs before the cache is looked at: it may use the
 * pool itself. */
static __attribute__((noinline)) void put_other(goconc_pool *p, void *obj)
{
    if (p->reset_obj != NULL)
        p->reset_obj(p->ctx, obj);
    if (!put_push(obj, &p->stamp, p->local_max))
        put_slow(p, obj);
}

GOCONC_API void goconc_pool_put(goconc_pool *p, void *obj)
{
    if (GC_UNLIKELY(p == NULL || obj == NULL))
        return;
    /* One compare covers "this pool's cache", "not trimmed since", "no
     * reset_obj" and "the default allowance" (see put_stamp). */
    if (!put_push(obj, &p->put_stamp, POOL_LOCAL_MAX))
        put_other(p, obj);
}

GOCONC_API void goconc_pool_trim(goconc_pool *p)
{
    size_t stamp;

    if (p == NULL)
        return;
    stamp = new_stamp();
    pool_shared_rotate(p, stamp, put_stamp_for(p, stamp));
    (void)pool_cache_find(p, 0); /* ages the calling thread's cache */
}

GOCONC_API int goconc_pool_stats_get(goconc_pool *p, goconc_pool_stats *st)
{
    goconc_pool_stats s;

    if (p == NULL)
        return GOCONC_EINVAL;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    pool_stats_collect(p, &s);
    return gc_stats_out(st, &s, sizeof s, sizeof s);
}
