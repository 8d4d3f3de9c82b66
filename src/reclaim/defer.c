/* SPDX-License-Identifier: MIT */
/*
 * defer.c - deferred destroys for the rest of the library: gc_reserve,
 * gc_retire and gc_retire_token, gc_poll, goconc_defer_free,
 * goconc_barrier and the pending counts.  The top of the reclamation
 * core: it calls epoch.c (records, advancing, grace periods) and bag.c.
 */
#include <pthread.h>

#include "reclaim/reclaim_internal.h"

/* Where the calling thread retires: its record's bag, else the orphans. */
static struct gc_bag *retire_bag(struct gc_record **r)
{
    *r = gc_self_or_register();
    return *r ? &(*r)->bag : &gc_orphans;
}

/* Tag with an epoch read after the caller unpublished obj, under the
 * bag's lock: gc_bag_lock's full barrier keeps that store from passing
 * this load (no fence of its own). */
static uintptr_t retire_epoch(void)
{
    return at_load(&goconc_gp.ctr);
}

int gc_reserve(size_t n)
{
    struct gc_record *r;
    struct gc_bag *b = retire_bag(&r);
    struct gc_chunk *c;
    int room;

    if (n > GC_RESERVE_MAX)
        return GOCONC_EINVAL;
    if (r) {
        gc_bag_lock(b);
        room = gc_bag_has_room(b, n);
        gc_bag_unlock(b);
        if (room)
            return GOCONC_OK;
    } else if (gc_thread_tls.fb_spare) {
        return GOCONC_OK;
    }
    if ((c = gc_chunk_new()) == NULL)
        return GOCONC_ENOMEM;
    if (r == NULL) {
        /* Shared bag: keep the spare private until used. */
        gc_thread_tls.fb_spare = c;
        return GOCONC_OK;
    }
    gc_bag_lock(b);
    if (b->spare == NULL) {
        b->spare = c;
        c = NULL;
    }
    gc_bag_unlock(b);
    if (c)
        gc_chunk_free(c);
    return GOCONC_OK;
}

int gc_retire(void *obj, goconc_destroy_fn destroy, void *ctx)
{
    struct gc_record *r;
    struct gc_bag *b = retire_bag(&r);
    struct gc_chunk *fresh = NULL;
    struct gc_entry e = { obj, destroy, ctx, 0 };
    int rc;

    gc_bag_lock(b);
    e.epoch = retire_epoch();
    rc = gc_bag_push(b, &e, r ? NULL : &gc_thread_tls.fb_spare);
    gc_bag_unlock(b);
    if (rc != GOCONC_OK) {
        if ((fresh = gc_chunk_new()) == NULL)
            return GOCONC_ENOMEM;
        gc_bag_lock(b);
        e.epoch = retire_epoch();
        rc = gc_bag_push(b, &e, &fresh);
        gc_bag_unlock(b);
        if (fresh)
            gc_chunk_free(fresh);
    }
    if (r)
        r->since_advance++;
    return rc;
}

void gc_retire_token(struct gc_token *t, void *obj, goconc_destroy_fn destroy, void *ctx)
{
    struct gc_record *r;
    struct gc_bag *b = retire_bag(&r);

    t->e.obj = obj;
    t->e.fn = destroy;
    t->e.ctx = ctx;
    gc_bag_lock(b);
    t->e.epoch = retire_epoch();
    gc_bag_push_token(b, t);
    gc_bag_unlock(b);
    if (r)
        r->since_advance++;
}

/* Collect b at the current epoch (bag.c: count in, then read it). */
static size_t collect(struct gc_bag *b, int all)
{
    size_t ran;
    if (at_load(&b->pending) == 0)
        return 0;
    gc_collect_begin();
    /* Read after counting in: a barrier that waited for the epoch and then
     * drained the phase knows every later collector runs at least what it
     * would. */
    ran = gc_bag_collect(b, at_load_acq(&goconc_gp.ctr), all);
    gc_collect_end();
    return ran;
}

void gc_poll(void)
{
    struct gc_record *r = gc_self();

    if (gc_thread_tls.lock_depth || gc_thread_tls.in_callback)
        return;
    if (r == NULL) {
        if (gc_thread_tls.state == GC_TS_DEAD && gc_thread_tls.fb_spare) {
            gc_chunk_free(gc_thread_tls.fb_spare);
            gc_thread_tls.fb_spare = NULL;
        }
        if (at_load(&gc_orphans.pending) != 0 && gc_try_advance(0))
            collect(&gc_orphans, 0);
        return;
    }
    if (r->since_advance < ADVANCE_EVERY && r->urgent == 0)
        return;
    r->since_advance = 0;
    if (r->urgent)
        r->urgent--;
    gc_try_advance(0);
    collect(&r->bag, 0);
    collect(&gc_orphans, 0);
}

void gc_urge(void)
{
    struct gc_record *r = gc_self();
    /* An entry is due two advances after its retire; a third poll covers
     * an advance lost to a busy registry lock. */
    if (r)
        r->urgent = 3;
}

void gc_weigh(size_t n)
{
    struct gc_record *r = gc_self();
    if (r)
        r->since_advance += n;
}

void gc_reclaim_soon(void)
{
    int i;
    gc_urge();
    /* Two advances make the entries due, the third poll's collect (or
     * the second's, if the first found the epoch moved) runs them. */
    for (i = 0; i < 3; i++)
        gc_poll();
}

GOCONC_API int goconc_defer_free(void *obj, goconc_destroy_fn destroy, void *ctx)
{
    int rc;
    if (destroy == NULL)
        return GOCONC_EINVAL;
    rc = gc_retire(obj, destroy, ctx);
    if (rc == GOCONC_OK)
        gc_poll();
    return rc;
}

/*
 * One pass over every record and the orphans, running what is due at g.
 * Records are visited by position because the registry lock is dropped
 * around the callbacks; a registry change during the pass (which could
 * shift a record past the cursor) makes the caller repeat it.
 * Returns 1 if anything ran or the registry changed.
 */
static int collect_pass(uintptr_t g)
{
    struct gc_taken taken;
    struct gc_record *r;
    size_t i, k;
    size_t gen = at_load(&gc_reg.gen);
    int found = 0;

    for (i = 0;; i++) {
        gc_collect_begin();
        pthread_mutex_lock(&gc_reg.lock);
        for (r = gc_reg.head, k = 0; r && k < i; r = r->next, k++)
            ;
        taken.n = taken.ntoks = 0;
        taken.toks = NULL;
        if (r && at_load(&r->bag.pending) != 0) {
            gc_bag_lock(&r->bag);
            gc_bag_take_due(&r->bag, g, &taken);
            gc_bag_unlock(&r->bag);
        }
        pthread_mutex_unlock(&gc_reg.lock);
        gc_run_taken(&taken);
        gc_collect_end();
        if (r == NULL)
            break;
        if (taken.n + taken.ntoks > 0)
            found = 1;
        if (taken.n == CHUNK_ENTRIES)
            i--; /* the same record may have more */
    }
    if (collect(&gc_orphans, 0) > 0)
        found = 1;
    return found || at_load(&gc_reg.gen) != gen;
}

GOCONC_API int goconc_barrier(void)
{
    struct gc_record *r;
    uintptr_t g;

    if (gc_must_not_wait())
        return GOCONC_EDEADLK;
    gc_wait_grace_period();
    /* Every entry retired before the call is due at g. */
    g = at_load_acq(&goconc_gp.ctr);
    /* A collector that read an older epoch may put due entries back:
     * wait for those; later ones read >= g and run all they take. */
    gc_collectors_drain();
    while (collect_pass(g))
        ;
    /* Due entries taken meanwhile by other collectors are being run. */
    gc_collectors_drain();
    r = gc_self();
    if (r)
        gc_bag_trim(&r->bag);
    gc_bag_trim(&gc_orphans);
    return GOCONC_OK;
}

size_t gc_pending_count(void)
{
    struct gc_record *r;
    /* The bags' counts before `inflight`, with acquire: see
     * gc_bag_take_due for why. */
    size_t n = at_load_acq(&gc_orphans.pending);
    pthread_mutex_lock(&gc_reg.lock);
    for (r = gc_reg.head; r; r = r->next)
        n += at_load_acq(&r->bag.pending);
    pthread_mutex_unlock(&gc_reg.lock);
    return n + gc_bags_inflight();
}

GOCONC_API int goconc_reclaim_stats_get(goconc_reclaim_stats *st)
{
    goconc_reclaim_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    s.pending = gc_pending_count();
    pthread_mutex_lock(&gc_reg.lock);
    s.threads = gc_reg.n;
    pthread_mutex_unlock(&gc_reg.lock);
    s.epoch = (uint64_t)((at_load(&goconc_gp.ctr) >> NEST_BITS) - 1);
    s.reclaimed = gc_bags_reclaimed();
    return gc_stats_out(st, &s, sizeof s, sizeof s);
}

/* The pending destroys free through the allocator: they pin it
 * (core/alloc.c cannot call up here). */
__attribute__((constructor)) static void defer_init(void)
{
    gc_alloc_set_pin(gc_pending_count);
}
