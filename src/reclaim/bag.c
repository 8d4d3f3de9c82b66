/* SPDX-License-Identifier: MIT */
/*
 * reclaim_bag.c - deferred destroys: per-thread bags of retired objects,
 * gc_retire/gc_poll, goconc_defer_free and goconc_barrier.
 *
 * An entry tagged with epoch e runs once the global epoch reaches e + 2
 * (reclaim.c says why).  A bag is a FIFO of chunks; its owner appends,
 * collectors (the owner's poll, any thread's barrier) take whole chunks
 * before the last one and copy due entries out of the last, so the last
 * chunk and the spare stay with the bag and gc_reserve's promise holds.
 */
#include <pthread.h>

#include "reclaim/reclaim_internal.h"

struct gc_bag gc_orphans = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, NULL, 0, 0 };

/* Entries goconc_barrier took out of other threads' bags, not yet run. */
static atword inflight __attribute__((aligned(GC_PAD)));
static atword reclaimed;

/*
 * Collectors count themselves in collecting[phase] while they hold
 * entries taken out of a bag; goconc_barrier flips the phase and waits
 * for the old one to empty, so it waits for every collection that started
 * before, while new ones (counted in the new phase) cannot starve it.
 * Plain counters rather than a rwlock: they survive fork() (glibc's
 * rwlock knows its writer by a thread id the child does not have).
 */
static struct {
    atword n;
    char pad[GC_PAD - sizeof(atword)];
} collecting[2] __attribute__((aligned(GC_PAD)));
static atword collect_phase;
/* Serialises barriers' drains; first of the reclamation locks at fork. */
static pthread_mutex_t drain_lock = PTHREAD_MUTEX_INITIALIZER;

/* Pending work of other threads, set aside in a fork child. */
static struct gc_chunk *forked_chunks;

static struct gc_chunk *chunk_new(void)
{
    struct gc_allocator_ref ref;
    struct gc_chunk *c = gc_alloc_ref(sizeof *c, &ref);
    if (c) {
        c->next = NULL;
        c->ref = ref;
        c->n = 0;
    }
    return c;
}

void gc_chunk_free(struct gc_chunk *c)
{
    struct gc_allocator_ref ref = c->ref;
    gc_free_ref(&ref, c);
}

void gc_bag_init(struct gc_bag *b)
{
    pthread_mutex_init(&b->lock, NULL);
    b->first = b->last = b->spare = NULL;
    at_store(&b->pending, 0);
    b->clean_at = 0;
}

/* Room for n more entries without allocating (under b->lock). */
static int bag_has_room(const struct gc_bag *b, size_t n)
{
    return b->spare != NULL ||
           (b->last != NULL && CHUNK_ENTRIES - b->last->n >= n);
}

/* Append under b->lock; uses *extra when the bag has no room. */
static int bag_push(struct gc_bag *b, const struct gc_entry *e, struct gc_chunk **extra)
{
    struct gc_chunk *c = b->last;
    if (c == NULL || c->n == CHUNK_ENTRIES) {
        if (b->spare) {
            c = b->spare;
            b->spare = NULL;
        } else if (extra && *extra) {
            c = *extra;
            *extra = NULL;
        } else {
            return GOCONC_ENOMEM;
        }
        c->n = 0;
        c->next = NULL;
        if (b->last)
            b->last->next = c;
        else
            b->first = c;
        b->last = c;
    }
    c->e[c->n++] = *e;
    at_store(&b->pending, at_load(&b->pending) + 1);
    /* An entry read its epoch before the lock: one tagged before clean_at
     * may already be due there. */
    if (e->epoch != b->clean_at)
        b->clean_at = 0;
    return GOCONC_OK;
}

static void run_entry(const struct gc_entry *e)
{
    gc_thread_tls.in_callback++;
    e->fn(e->ctx, e->obj);
    gc_thread_tls.in_callback--;
}

/* Keep entries not yet due at the front of c; returns how many ran. */
static size_t chunk_run_due(struct gc_chunk *c, uintptr_t g, int all)
{
    size_t i, kept = 0, ran = 0;
    for (i = 0; i < c->n; i++) {
        if (all || !gc_epoch_before(g, c->e[i].epoch + 2 * EPOCH_ONE)) {
            struct gc_entry e = c->e[i];
            run_entry(&e);
            ran++;
        } else {
            c->e[kept++] = c->e[i];
        }
    }
    c->n = kept;
    return ran;
}

static void collect_begin(void)
{
    uintptr_t p;
    for (;;) {
        p = at_load(&collect_phase);
        /* Full-barrier increment, then re-check: a collector counted in a
         * phase a drain has already flipped away from retries. */
        at_fetch_add(&collecting[p].n, 1);
        if (at_load(&collect_phase) == p)
            break;
        at_fetch_sub(&collecting[p].n, 1);
    }
    gc_thread_tls.collect_phase = p;
    gc_thread_tls.collect_depth++;
}

static void collect_end(void)
{
    gc_thread_tls.collect_depth--;
    at_fetch_sub(&collecting[gc_thread_tls.collect_phase].n, 1);
}

/*
 * Run every entry of b that is due (every entry if `all`).  Callbacks run
 * with no lock held.  Only b's owner, or anyone for the orphans, calls
 * this, so b outlives the call.  Returns how many ran.
 */
static size_t bag_collect(struct gc_bag *b, int all)
{
    struct gc_entry due[CHUNK_ENTRIES];
    struct gc_chunk *list, *c, *next, *keep = NULL, **tail = &keep;
    size_t ndue = 0, ran, i, kept;
    uintptr_t g;

    if (at_load(&b->pending) == 0)
        return 0;
    collect_begin();
    pthread_mutex_lock(&b->lock);
    /* Read after counting in: a barrier that waited for the epoch and then
     * drained the phase knows every later collector runs at least what it
     * would. */
    g = at_load_acq(&goconc_gp.ctr);
    if (!all && b->clean_at == g) {
        pthread_mutex_unlock(&b->lock);
        collect_end();
        return 0;
    }
    /* What stays after this collection is not due at g; a push or a
     * hand-over meanwhile clears the mark again. */
    b->clean_at = g;
    list = b->first;
    if (list == b->last) {
        list = NULL;
    } else {
        /* Detach every chunk before `last`. */
        for (c = list; c->next != b->last; c = c->next)
            ;
        c->next = NULL;
        b->first = b->last;
    }
    if (b->last) {
        c = b->last;
        for (i = 0, kept = 0; i < c->n; i++) {
            if (all || !gc_epoch_before(g, c->e[i].epoch + 2 * EPOCH_ONE))
                due[ndue++] = c->e[i];
            else
                c->e[kept++] = c->e[i];
        }
        c->n = kept;
    }
    pthread_mutex_unlock(&b->lock);

    for (i = 0; i < ndue; i++)
        run_entry(&due[i]);
    ran = ndue;
    for (c = list; c; c = next) {
        next = c->next;
        ran += chunk_run_due(c, g, all);
        if (c->n == 0) {
            gc_chunk_free(c);
        } else {
            c->next = NULL;
            *tail = c;
            tail = &c->next;
        }
    }

    pthread_mutex_lock(&b->lock);
    if (keep) {
        /* Older than anything in the bag: back at the front. */
        *tail = b->first;
        b->first = keep;
        if (b->last == NULL) {
            for (c = keep; c->next; c = c->next)
                ;
            b->last = c;
        }
    }
    at_store(&b->pending, at_load(&b->pending) - ran);
    pthread_mutex_unlock(&b->lock);
    collect_end();
    at_fetch_add(&reclaimed, ran);
    return ran;
}

/* Free b's chunks if it holds nothing (under no lock; takes b->lock). */
static void bag_trim(struct gc_bag *b)
{
    struct gc_chunk *c, *next, *spare;

    pthread_mutex_lock(&b->lock);
    if (at_load(&b->pending) != 0) {
        pthread_mutex_unlock(&b->lock);
        return;
    }
    c = b->first;
    spare = b->spare;
    b->first = b->last = b->spare = NULL;
    pthread_mutex_unlock(&b->lock);
    for (; c; c = next) {
        next = c->next;
        gc_chunk_free(c);
    }
    if (spare)
        gc_chunk_free(spare);
}

/*
 * Move everything of `from` into `to` (thread exit).  Both locks are held
 * across the move, so the entries are always counted in one bag or the
 * other: a barrier that finds `from`'s record gone finds them in `to`.
 * Lock order: a thread's bag, then the orphans.
 */
void gc_bag_hand_over(struct gc_bag *from, struct gc_bag *to)
{
    struct gc_chunk *c, *spare, *empty = NULL, *next, **link;
    size_t n;

    pthread_mutex_lock(&from->lock);
    c = from->first;
    spare = from->spare;
    n = at_load(&from->pending);
    from->first = from->last = from->spare = NULL;
    /* Empty chunks (an owner's collection leaves them) stay behind. */
    for (link = &c; *link;) {
        if ((*link)->n == 0) {
            next = (*link)->next;
            (*link)->next = empty;
            empty = *link;
            *link = next;
        } else {
            link = &(*link)->next;
        }
    }
    if (c) {
        pthread_mutex_lock(&to->lock);
        /* Orphans are collected whole, in no particular order. */
        if (to->last)
            to->last->next = c;
        else
            to->first = c;
        while (c->next)
            c = c->next;
        to->last = c;
        at_store(&to->pending, at_load(&to->pending) + n);
        to->clean_at = 0; /* older entries, maybe due already */
        pthread_mutex_unlock(&to->lock);
    }
    at_store(&from->pending, 0);
    pthread_mutex_unlock(&from->lock);
    if (spare)
        gc_chunk_free(spare);
    for (; empty; empty = next) {
        next = empty->next;
        gc_chunk_free(empty);
    }
}

int gc_reserve(size_t n)
{
    struct gc_record *r = gc_self_or_register();
    struct gc_bag *b = r ? &r->bag : &gc_orphans;
    struct gc_chunk *c;
    int room;

    if (n > GC_RESERVE_MAX)
        return GOCONC_EINVAL;
    if (r) {
        pthread_mutex_lock(&b->lock);
        room = bag_has_room(b, n);
        pthread_mutex_unlock(&b->lock);
        if (room)
            return GOCONC_OK;
    } else if (gc_thread_tls.fb_spare) {
        return GOCONC_OK;
    }
    if ((c = chunk_new()) == NULL)
        return GOCONC_ENOMEM;
    if (r == NULL) {
        /* Shared bag: keep the spare private until used. */
        gc_thread_tls.fb_spare = c;
        return GOCONC_OK;
    }
    pthread_mutex_lock(&b->lock);
    if (b->spare == NULL) {
        b->spare = c;
        c = NULL;
    }
    pthread_mutex_unlock(&b->lock);
    if (c)
        gc_chunk_free(c);
    return GOCONC_OK;
}

int gc_retire(void *obj, goconc_destroy_fn destroy, void *ctx)
{
    struct gc_record *r = gc_self_or_register();
    struct gc_bag *b = r ? &r->bag : &gc_orphans;
    struct gc_chunk *fresh = NULL;
    struct gc_entry e;
    int rc;

    e.obj = obj;
    e.fn = destroy;
    e.ctx = ctx;
    /* Tag with an epoch read after the caller unpublished obj: the fence
     * keeps that store from passing this load. */
    at_fence();
    e.epoch = at_load(&goconc_gp.ctr);

    pthread_mutex_lock(&b->lock);
    rc = bag_push(b, &e, r ? NULL : &gc_thread_tls.fb_spare);
    pthread_mutex_unlock(&b->lock);
    if (rc == GOCONC_OK)
        goto done;
    if ((fresh = chunk_new()) == NULL)
        return GOCONC_ENOMEM;
    pthread_mutex_lock(&b->lock);
    rc = bag_push(b, &e, &fresh);
    pthread_mutex_unlock(&b->lock);
    if (fresh)
        gc_chunk_free(fresh);
done:
    if (r)
        r->since_advance++;
    return rc;
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
            bag_collect(&gc_orphans, 0);
        return;
    }
    if (r->since_advance < ADVANCE_EVERY && r->urgent == 0)
        return;
    r->since_advance = 0;
    if (r->urgent)
        r->urgent--;
    gc_try_advance(0);
    bag_collect(&r->bag, 0);
    bag_collect(&gc_orphans, 0);
}

void gc_urge(void)
{
    struct gc_record *r = gc_self();
    /* An entry is due two advances after its retire; a third poll covers
     * an advance lost to a busy registry lock. */
    if (r)
        r->urgent = 3;
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
 * Copy up to max entries of b due at g into due[] (under b->lock),
 * compacting what stays.  They leave b's count for `inflight` until run,
 * because b's record may be gone by then.
 */
static size_t bag_take_due(struct gc_bag *b, uintptr_t g, struct gc_entry *due, size_t max)
{
    struct gc_chunk *c;
    size_t n = 0, i, kept;

    for (c = b->first; c && n < max; c = c->next) {
        for (i = 0, kept = 0; i < c->n; i++) {
            if (n < max && !gc_epoch_before(g, c->e[i].epoch + 2 * EPOCH_ONE))
                due[n++] = c->e[i];
            else
                c->e[kept++] = c->e[i];
        }
        c->n = kept;
    }
    at_store(&b->pending, at_load(&b->pending) - n);
    at_fetch_add(&inflight, n);
    return n;
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
    struct gc_entry due[CHUNK_ENTRIES];
    struct gc_record *r;
    size_t i, k, n, j;
    size_t gen = at_load(&gc_reg.gen);
    int found = 0;

    for (i = 0;; i++) {
        collect_begin();
        pthread_mutex_lock(&gc_reg.lock);
        for (r = gc_reg.head, k = 0; r && k < i; r = r->next, k++)
            ;
        n = 0;
        if (r && at_load(&r->bag.pending) != 0) {
            pthread_mutex_lock(&r->bag.lock);
            n = bag_take_due(&r->bag, g, due, CHUNK_ENTRIES);
            pthread_mutex_unlock(&r->bag.lock);
        }
        pthread_mutex_unlock(&gc_reg.lock);
        for (j = 0; j < n; j++)
            run_entry(&due[j]);
        at_fetch_sub(&inflight, n);
        at_fetch_add(&reclaimed, n);
        collect_end();
        if (r == NULL)
            break;
        if (n > 0)
            found = 1;
        if (n == CHUNK_ENTRIES)
            i--; /* the same record may have more */
    }
    if (bag_collect(&gc_orphans, 0) > 0)
        found = 1;
    return found || at_load(&gc_reg.gen) != gen;
}

/* Wait for every collector that holds entries now. */
static void collectors_drain(void)
{
    uintptr_t p;
    unsigned round = 0;

    pthread_mutex_lock(&drain_lock);
    p = at_load(&collect_phase);
    at_store(&collect_phase, p ^ 1);
    at_fence(); /* the flip before the count: pairs with collect_begin */
    while (at_load_acq(&collecting[p].n) != 0)
        gc_backoff(&round);
    pthread_mutex_unlock(&drain_lock);
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
    collectors_drain();
    while (collect_pass(g))
        ;
    /* Due entries taken meanwhile by other collectors are being run. */
    collectors_drain();
    r = gc_self();
    if (r)
        bag_trim(&r->bag);
    bag_trim(&gc_orphans);
    return GOCONC_OK;
}

size_t gc_pending_count(void)
{
    struct gc_record *r;
    size_t n = at_load(&gc_orphans.pending);
    pthread_mutex_lock(&gc_reg.lock);
    for (r = gc_reg.head; r; r = r->next)
        n += at_load(&r->bag.pending);
    pthread_mutex_unlock(&gc_reg.lock);
    return n + at_load(&inflight);
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
    s.reclaimed = at_load(&reclaimed);
    return gc_stats_out(st, &s, sizeof s, sizeof s);
}

/* In a fork child: other threads' pending destroys are never run there. */
void gc_bags_fork_child(void)
{
    /* Orphans are other threads' destroys: not run in the child. */
    if (gc_orphans.first) {
        gc_orphans.last->next = forked_chunks;
        forked_chunks = gc_orphans.first;
    }
    if (gc_orphans.spare) {
        gc_orphans.spare->next = forked_chunks;
        forked_chunks = gc_orphans.spare;
    }
    gc_orphans.first = gc_orphans.last = gc_orphans.spare = NULL;
    at_store(&gc_orphans.pending, 0);
    gc_orphans.clean_at = 0;
    at_store(&inflight, 0);
    at_store(&collecting[0].n, 0);
    at_store(&collecting[1].n, 0);
    if (gc_thread_tls.collect_depth)
        at_store(&collecting[gc_thread_tls.collect_phase].n, gc_thread_tls.collect_depth);
}

static void drain_fork_lock(void) { pthread_mutex_lock(&drain_lock); }
static void drain_fork_unlock(void) { pthread_mutex_unlock(&drain_lock); }
static const struct gc_fork_hooks drain_fork = {
    drain_fork_lock, drain_fork_unlock, drain_fork_unlock
};

__attribute__((constructor)) static void gc_bag_init_fork(void)
{
    gc_thread_on_fork(GC_FORK_COLLECT, &drain_fork);
}
