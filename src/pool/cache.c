/* SPDX-License-Identifier: MIT */
/*
 * cache.c - goconc_pool's per-thread caches: finding the calling
 * thread's cache for a pool (the TLS hot pointer, then the thread's
 * list), creating and registering it, aging it after trims, flushing it to
 * and refilling it from the shared level (shared.c, the layer below),
 * handing it back at thread exit, and releasing every cache of a pool
 * being freed.  See pool.c for the design.
 *
 * Locks: reg_lock (global) guards every pool's registry of caches, the
 * caches' refs and the pools' pins/dying; it is taken before a pool's
 * lock, never after, and no callback or allocation runs under it.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "pool/pool_impl.h"

/* A thread's caches, most recently used first.  Owner only. */
struct pool_rec {
    struct pcache *head;
    struct gc_allocator_ref ref;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reg_cond = PTHREAD_COND_INITIALIZER; /* pins == 0 */

/* The hot pointer past the thread's exit hook (seen = 0 never matches a
 * stamp): no caching any more. */
static struct pcache exited_cache;

/* -------------------------------------------------- per-thread caches */

static void cache_dealloc(struct pcache *c)
{
    struct gc_allocator_ref ref = c->ref;
    gc_free_ref(&ref, c->raw);
}

/* A cache that goes away frees its empty chunk rather than make it a
 * spare: threads that live briefly must not grow the pool's chunks. */
static void cache_free_mag(struct pcache *c)
{
    gc_free(c->mag);
    c->mag = NULL;
}

/* Drop one of the two references; the last frees. */
static void cache_unref(struct pcache *c)
{
    int last;
    pthread_mutex_lock(&reg_lock);
    last = --c->refs == 0;
    pthread_mutex_unlock(&reg_lock);
    if (last)
        cache_dealloc(c);
}

/* k objects left obj[] without reaching a user (see struct pcache). */
static void cache_removed(struct pcache *c, size_t k)
{
    at_store_rel(&c->pops, at_load(&c->pops) + k);
    at_store_rel(&c->removed, at_load(&c->removed) + k);
}

/* Remove the oldest k objects (they moved to the shared level). */
static void cache_shift(struct pcache *c, size_t k)
{
    if (k != 0) {
        memmove(c->obj, c->obj + k, (pool_cache_n(c) - k) * sizeof c->obj[0]);
        cache_removed(c, k);
    }
}

/* Drop every cached object, top down, keeping the counts exact. */
static void cache_drop_all(goconc_pool *p, struct pcache *c)
{
    size_t n;
    while ((n = pool_cache_n(c)) != 0) {
        void *obj = c->obj[n - 1];
        cache_removed(c, 1);
        pool_bump(&c->counts.drops);
        pool_drop(p, obj);
    }
}

/*
 * Catch up with the trims this cache has not seen: after one, its objects
 * are victims and move to the shared vic stack (what does not fit is
 * dropped); after two or more, all are dropped.  busy (and seen = 0) make
 * calls from free_obj on this thread bypass the cache meanwhile.
 */
void pool_cache_age(goconc_pool *p, struct pcache *c)
{
    size_t stamp, trims, n, k;
    int stale;
    c->busy = 1;
    c->seen = 0;
    for (;;) {
        /* Acquire: pairs with trim's release store of stamp, so the
         * trims count read next is at least the one that stamp names. */
        stamp = at_load_acq(&p->stamp);
        trims = at_load(&p->trims);
        if (trims == c->trims_seen)
            break;
        n = pool_cache_n(c);
        if (trims - c->trims_seen == 1 && n != 0) {
            stale = 0;
            k = pool_shared_give(p, &c->mag, c->obj, n, 1, trims, &stale);
            cache_shift(c, k);
            if (stale)
                continue; /* another trim: the rest is two behind */
        }
        c->trims_seen = trims;
        cache_drop_all(p, c);
    }
    c->seen = stamp;
    c->busy = 0;
}

/*
 * Move the oldest min(want, n) objects to the shared cur stack, as far as
 * max_idle and memory allow.  A trim met under the lock means the cache
 * is behind: it is aged instead (which empties it).
 */
void pool_cache_flush(goconc_pool *p, struct pcache *c, size_t want)
{
    size_t k;
    int stale = 0;
    k = pool_shared_give(p, &c->mag, c->obj, pool_min(want, pool_cache_n(c)),
                         0, c->trims_seen, &stale);
    cache_shift(c, k);
    if (stale)
        pool_cache_age(p, c);
}

/*
 * Fill an empty cache with up to `batch` objects from the shared level;
 * returns how many.  0 with *stale set: a trim came first, the caller
 * ages the cache and tries again.
 */
size_t pool_cache_refill(goconc_pool *p, struct pcache *c, int *stale)
{
    size_t n = pool_shared_take(p, &c->mag, c->obj, p->batch, c->trims_seen,
                                stale);
    if (n != 0) {
        at_store(&c->pushes, at_load(&c->pushes) + n);
        /* Release: after pushes (see struct pcache). */
        at_store_rel(&c->refilled, at_load(&c->refilled) + n);
    }
    return n;
}

static struct pool_rec *rec_create(void)
{
    struct gc_allocator_ref ref;
    struct pool_rec *r;
    if (!gc_thread_arm())
        return NULL; /* no exit hook: caching would strand objects */
    r = gc_alloc_ref(sizeof *r, &ref);
    if (r == NULL)
        return NULL;
    r->head = NULL;
    r->ref = ref;
    gc_thread_self()->pool_rec = r;
    return r;
}

/* The calling thread's record, or NULL (none yet; past its exit hook). */
static struct pool_rec *rec_self(void)
{
    struct pcache *h = pool_hot();
    if (h == &exited_cache)
        return NULL;
    return h != POOL_NO_CACHE ? h->rec : gc_thread_self()->pool_rec;
}

static void rec_sync_hot(struct pool_rec *r)
{
    gc_thread_self()->pool_hot = r->head != NULL ? r->head : POOL_NO_CACHE;
}

static struct pcache *cache_create(goconc_pool *p, struct pool_rec *r)
{
    struct gc_allocator_ref ref;
    size_t size = sizeof(struct pcache) + p->local_max * sizeof(void *);
    struct pcache *c;
    void *raw;
    /* Whole 128-byte blocks of its own: no false sharing with neighbours. */
    size = (size + GC_PAD - 1) & ~(size_t)(GC_PAD - 1);
    raw = gc_alloc_ref(size + GC_PAD - 1, &ref);
    if (raw == NULL)
        return NULL;
    c = (struct pcache *)(((uintptr_t)raw + GC_PAD - 1) &
                          ~(uintptr_t)(GC_PAD - 1));
    memset(c, 0, sizeof *c);
    c->ref = ref;
    c->raw = raw;
    c->rec = r;
    c->id = p->id;
    c->refs = 2;
    c->seen = at_load_acq(&p->stamp); /* pairs as in cache_age */
    c->trims_seen = at_load(&p->trims);
    pthread_mutex_lock(&reg_lock);
    at_storep(&c->pool, p);
    c->rnext = p->caches;
    if (p->caches != NULL)
        p->caches->rprev = c;
    p->caches = c;
    pthread_mutex_unlock(&reg_lock);
    return c;
}

/*
 * The calling thread's cache for p, made hot (front of its list, in the
 * TLS pointer) and aged; created when @p create.  NULL when the thread has
 * none and cannot get one (out of memory, past its exit hook) or the
 * cache is busy: the caller then works on the shared level directly.
 * Caches of freed pools met on the way are released.
 */
struct pcache *pool_cache_find(goconc_pool *p, int create)
{
    struct pool_rec *r = rec_self();
    struct pcache **link, *c;
    if (r == NULL) {
        if (!create || pool_hot() == &exited_cache || (r = rec_create()) == NULL)
            return NULL;
    }
    for (link = &r->head; (c = *link) != NULL;) {
        if (c->id == p->id)
            break;
        /* Acquire: pairs with goconc_pool_free's release store. */
        if (at_loadp_acq(&c->pool) == NULL) {
            *link = c->tnext;
            cache_unref(c);
            continue;
        }
        link = &c->tnext;
    }
    if (c == NULL) {
        if (create && (c = cache_create(p, r)) != NULL) {
            c->tnext = r->head;
            r->head = c;
        }
    } else if (link != &r->head) {
        *link = c->tnext;
        c->tnext = r->head;
        r->head = c;
    }
    rec_sync_hot(r);
    if (c == NULL || c->busy)
        return NULL;
    if (c->seen != at_load(&p->stamp))
        pool_cache_age(p, c);
    return c;
}

/*
 * A cache's counters with the fast-path hits and puts added in; returns
 * its idle count.  Loads in the reverse of the owner's store order, with
 * acquire (struct pcache), so no difference is negative.
 */
static size_t cache_snapshot(const struct pcache *c, struct pool_counts *k)
{
    size_t removed = at_load_acq(&c->removed);
    size_t refilled = at_load_acq(&c->refilled);
    size_t pops = at_load_acq(&c->pops);
    size_t pushes = at_load(&c->pushes);
    at_store(&k->hits, pops - removed);
    at_store(&k->puts, pushes - refilled + at_load(&c->counts.puts));
    at_store(&k->news, at_load(&c->counts.news));
    at_store(&k->nulls, at_load(&c->counts.nulls));
    at_store(&k->drops, at_load(&c->counts.drops));
    return pushes - pops;
}

/* Add an exiting cache's counters to the pool's (under reg_lock). */
static void counts_fold(struct pool_counts *to, const struct pcache *c)
{
    struct pool_counts k;
    cache_snapshot(c, &k);
    at_fetch_add(&to->hits, at_load(&k.hits));
    at_fetch_add(&to->puts, at_load(&k.puts));
    at_fetch_add(&to->news, at_load(&k.news));
    at_fetch_add(&to->nulls, at_load(&k.nulls));
    at_fetch_add(&to->drops, at_load(&k.drops));
}

/*
 * Thread exit: age the cache, hand its objects to the shared level (drop
 * what does not fit) and free it.  The pin keeps goconc_pool_free waiting
 * until we are done; a pool already being freed takes the objects itself.
 */
static void cache_handback(struct pcache *c)
{
    goconc_pool *p;
    int last;

    pthread_mutex_lock(&reg_lock);
    p = at_loadp(&c->pool);
    if (p == NULL || p->dying) {
        last = --c->refs == 0;
        pthread_mutex_unlock(&reg_lock);
        if (last)
            cache_dealloc(c);
        return;
    }
    p->pins++;
    pthread_mutex_unlock(&reg_lock);

    GOCONC_PERTURB_POINT();
    pool_cache_age(p, c);
    pool_cache_flush(p, c, pool_cache_n(c));
    cache_drop_all(p, c); /* what max_idle (or memory) left over */
    cache_free_mag(c);

    pthread_mutex_lock(&reg_lock);
    counts_fold(&p->counts, c);
    if (c->rprev != NULL)
        c->rprev->rnext = c->rnext;
    else
        p->caches = c->rnext;
    if (c->rnext != NULL)
        c->rnext->rprev = c->rprev;
    at_storep(&c->pool, NULL);
    if (--p->pins == 0 && p->dying)
        pthread_cond_broadcast(&reg_cond);
    pthread_mutex_unlock(&reg_lock);
    cache_dealloc(c); /* neither the pool nor the thread refers to it now */
}

/* The thread's exit hook (core/thread.h: first).  Calls made after it
 * (from other libraries' destructors) find exited_cache and use the
 * shared level directly. */
static void pool_thread_exit(struct gc_thread *t)
{
    struct pool_rec *r = t->pool_rec;
    struct pool_rec local;
    struct pcache *c;
    t->pool_hot = &exited_cache;
    if (r == NULL)
        return;
    t->pool_rec = NULL;
    local = *r;
    gc_free_ref(&local.ref, r);
    while ((c = local.head) != NULL) {
        local.head = c->tnext;
        cache_handback(c);
    }
}

/* Unlink and return the calling thread's cache for p (goconc_pool_free). */
static struct pcache *rec_detach(goconc_pool *p)
{
    struct pool_rec *r = rec_self();
    struct pcache **link, *c;
    if (r == NULL)
        return NULL;
    for (link = &r->head; (c = *link) != NULL; link = &c->tnext)
        if (c->id == p->id) {
            *link = c->tnext;
            rec_sync_hot(r);
            return c;
        }
    return NULL;
}

/* fork(): the child must find reg_lock free. */
static void fork_prepare(void) { pthread_mutex_lock(&reg_lock); }
static void fork_release(void) { pthread_mutex_unlock(&reg_lock); }
static const struct gc_fork_hooks pool_fork = { fork_prepare, fork_release, fork_release };

__attribute__((constructor)) static void pool_threads_init(void)
{
    gc_thread_on_exit(GC_EXIT_POOL, pool_thread_exit);
    gc_thread_on_fork(GC_FORK_POOL, &pool_fork);
}

/*
 * goconc_pool_free's half: wait for exiting threads that are handing
 * caches back, detach every cache of p, free the objects in them and drop
 * the pool's references (the calling thread's own cache is freed).
 */
void pool_caches_free(goconc_pool *p)
{
    struct pcache *mine, *list, *c, *next;
    size_t i, n;

    mine = rec_detach(p);
    pthread_mutex_lock(&reg_lock);
    p->dying = 1;
    while (p->pins != 0)
        pthread_cond_wait(&reg_cond, &reg_lock);
    list = p->caches;
    p->caches = NULL;
    /* Release: pairs with cache_find's acquire load; the owner then only
     * drops its reference and never reads obj[] again. */
    for (c = list; c != NULL; c = c->rnext)
        at_storep_rel(&c->pool, NULL);
    pthread_mutex_unlock(&reg_lock);

    for (c = list; c != NULL; c = next) {
        next = c->rnext;
        n = pool_cache_n(c);
        for (i = 0; i < n; i++)
            pool_drop(p, c->obj[i]);
        cache_free_mag(c);
        if (c == mine)
            cache_dealloc(c); /* both references were ours */
        else
            cache_unref(c);
    }
}

static void counts_sum(goconc_pool_stats *s, const struct pool_counts *k)
{
    uint64_t hits = at_load(&k->hits), news = at_load(&k->news);
    s->gets += hits + news + at_load(&k->nulls);
    s->hits += hits;
    s->news += news;
    s->puts += at_load(&k->puts);
    s->drops += at_load(&k->drops);
}

/* Add the pool's and every live cache's counts to *s (stats_get). */
void pool_stats_collect(goconc_pool *p, goconc_pool_stats *s)
{
    struct pcache *c;
    pthread_mutex_lock(&reg_lock);
    counts_sum(s, &p->counts);
    for (c = p->caches; c != NULL; c = c->rnext) {
        struct pool_counts k;
        s->idle += cache_snapshot(c, &k);
        counts_sum(s, &k);
    }
    /* Under reg_lock: a cache being handed back is counted on one side. */
    s->idle += pool_shared_idle(p);
    pthread_mutex_unlock(&reg_lock);
}
