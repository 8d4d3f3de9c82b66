/* SPDX-License-Identifier: MIT */
/*
 * bag.c - bags of deferred destroys: chunks of entries and tokens, pushed
 * by their owner, collected at an epoch the caller read, handed over at
 * thread exit, and the collector phases behind goconc_barrier's drain.
 *
 * The lowest part of the reclamation core (reclaim_internal.h): it is
 * told the epoch and never reads or advances it.  An entry tagged with
 * epoch e is due once the epoch reaches e + 2 (epoch.c says why).
 */
#include <pthread.h>

#include "reclaim/reclaim_internal.h"

struct gc_bag gc_orphans = { 0, NULL, NULL, NULL, NULL, NULL, 0, 0 };

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
static struct gc_token *forked_tokens;

/* ------------------------------------------------------------- chunks */

struct gc_chunk *gc_chunk_new(void)
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

static void chunks_free(struct gc_chunk *c)
{
    struct gc_chunk *next;
    for (; c; c = next) {
        next = c->next;
        gc_chunk_free(c);
    }
}

/* --------------------------------------------------------------- bags */

/* Append the linked run first..last to the FIFO head..tail (chunks or
 * tokens: both link through `next`). */
#define FIFO_APPEND(head, tail, first, last) \
    do {                                     \
        if ((tail) != NULL)                  \
            (tail)->next = (first);          \
        else                                 \
            (head) = (first);                \
        (tail) = (last);                     \
    } while (0)

void gc_bag_lock_wait(struct gc_bag *b)
{
    unsigned round = 0;
    do
        gc_backoff(&round); /* the holder may be descheduled (2 cores) */
    while (at_load(&b->lock) != 0 || !at_cas(&b->lock, 0, 1));
}

void gc_bag_init(struct gc_bag *b)
{
    at_store(&b->lock, 0);
    b->first = b->last = b->spare = NULL;
    b->tok_first = b->tok_last = NULL;
    at_store(&b->pending, 0);
    b->clean_at = 0;
}

int gc_bag_has_room(const struct gc_bag *b, size_t n)
{
    return b->spare != NULL ||
           (b->last != NULL && CHUNK_ENTRIES - b->last->n >= n);
}

/* One more entry tagged `epoch` in b (under b->lock). */
static void bag_count_push(struct gc_bag *b, uintptr_t epoch)
{
    at_store(&b->pending, at_load(&b->pending) + 1);
    /* An entry read its epoch before the lock: one tagged before clean_at
     * may already be due there. */
    if (epoch != b->clean_at)
        b->clean_at = 0;
}

/* Append under b->lock; uses *extra when the bag has no room. */
int gc_bag_push(struct gc_bag *b, const struct gc_entry *e, struct gc_chunk **extra)
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
        FIFO_APPEND(b->first, b->last, c, c);
    }
    c->e[c->n++] = *e;
    bag_count_push(b, e->epoch);
    return GOCONC_OK;
}

void gc_bag_push_token(struct gc_bag *b, struct gc_token *t)
{
    t->next = NULL;
    FIFO_APPEND(b->tok_first, b->tok_last, t, t);
    bag_count_push(b, t->e.epoch);
}

/* ---------------------------------------------------------- collecting */

static int entry_due(const struct gc_entry *e, uintptr_t g, int all)
{
    return all || !gc_epoch_before(g, e->epoch + 2 * EPOCH_ONE);
}

/* Run a copy: the destroy may free the memory e lives in (a token). */
static void run_entry(const struct gc_entry *e)
{
    struct gc_entry copy = *e;
    gc_thread_tls.in_callback++;
    copy.fn(copy.ctx, copy.obj);
    gc_thread_tls.in_callback--;
}

/* Move the entries of c due at g into due[] (at most max), keeping the
 * rest, in order, at the front of c.  Returns how many moved. */
static size_t chunk_take_due(struct gc_chunk *c, uintptr_t g, int all, struct gc_entry *due,
                             size_t max)
{
    size_t i, kept = 0, n = 0;
    for (i = 0; i < c->n; i++) {
        if (n < max && entry_due(&c->e[i], g, all))
            due[n++] = c->e[i];
        else
            c->e[kept++] = c->e[i];
    }
    c->n = kept;
    return n;
}

/* Run the entries of a detached chunk that are due; returns how many ran. */
static size_t chunk_run_due(struct gc_chunk *c, uintptr_t g, int all)
{
    size_t i, kept = 0, ran = 0;
    for (i = 0; i < c->n; i++) {
        if (entry_due(&c->e[i], g, all)) {
            run_entry(&c->e[i]);
            ran++;
        } else {
            c->e[kept++] = c->e[i];
        }
    }
    c->n = kept;
    return ran;
}

/* Unlink b's tokens due at g onto *out (under b->lock); returns how many. */
static size_t tokens_take_due(struct gc_bag *b, uintptr_t g, int all, struct gc_token **out)
{
    struct gc_token **link = &b->tok_first, *t;
    size_t n = 0;

    b->tok_last = NULL;
    while ((t = *link) != NULL) {
        if (entry_due(&t->e, g, all)) {
            *link = t->next;
            t->next = *out;
            *out = t;
            n++;
        } else {
            b->tok_last = t;
            link = &t->next;
        }
    }
    return n;
}

/* Run a list of unlinked tokens; each may be freed or reused by its run. */
static void tokens_run(struct gc_token *t)
{
    struct gc_token *next;
    for (; t; t = next) {
        next = t->next;
        run_entry(&t->e);
    }
}

void gc_collect_begin(void)
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

void gc_collect_end(void)
{
    gc_thread_tls.collect_depth--;
    at_fetch_sub(&collecting[gc_thread_tls.collect_phase].n, 1);
}

/* Wait for every collector that holds entries now. */
void gc_collectors_drain(void)
{
    uintptr_t p;
    unsigned round = 0;

    pthread_mutex_lock(&drain_lock);
    p = at_load(&collect_phase);
    at_store(&collect_phase, p ^ 1);
    at_fence(); /* the flip before the count: pairs with gc_collect_begin */
    while (at_load_acq(&collecting[p].n) != 0)
        gc_backoff(&round);
    pthread_mutex_unlock(&drain_lock);
}

/* Detach every chunk of b before `last` (under b->lock). */
static struct gc_chunk *bag_detach_full(struct gc_bag *b)
{
    struct gc_chunk *list = b->first, *c;
    if (list == b->last)
        return NULL;
    for (c = list; c->next != b->last; c = c->next)
        ;
    c->next = NULL;
    b->first = b->last;
    return list;
}

/* Free the chunks of list that ran empty; returns the others, in order. */
static struct gc_chunk *chunks_drop_empty(struct gc_chunk *list)
{
    struct gc_chunk *c, *next, *keep = NULL, **tail = &keep;

    for (c = list; c; c = next) {
        next = c->next;
        if (c->n == 0) {
            gc_chunk_free(c);
        } else {
            c->next = NULL;
            *tail = c;
            tail = &c->next;
        }
    }
    return keep;
}

/* Chunks that still hold entries back at the front of b: older than
 * anything pushed meanwhile (under b->lock). */
static void bag_put_back(struct gc_bag *b, struct gc_chunk *keep)
{
    struct gc_chunk *tail;
    if (keep == NULL)
        return;
    for (tail = keep; tail->next; tail = tail->next)
        ;
    tail->next = b->first;
    b->first = keep;
    if (b->last == NULL)
        b->last = tail;
}

size_t gc_bag_collect(struct gc_bag *b, uintptr_t g, int all)
{
    struct gc_entry due[CHUNK_ENTRIES];
    struct gc_chunk *list, *c;
    struct gc_token *toks = NULL;
    size_t ndue = 0, ran, i;

    gc_bag_lock(b);
    if (!all && b->clean_at == g) {
        gc_bag_unlock(b);
        return 0;
    }
    /* What stays after this collection is not due at g; a push or a
     * hand-over meanwhile clears the mark again. */
    b->clean_at = g;
    list = bag_detach_full(b);
    if (b->last)
        ndue = chunk_take_due(b->last, g, all, due, CHUNK_ENTRIES);
    ran = ndue + tokens_take_due(b, g, all, &toks);
    gc_bag_unlock(b);

    for (i = 0; i < ndue; i++)
        run_entry(&due[i]);
    tokens_run(toks);
    for (c = list; c; c = c->next)
        ran += chunk_run_due(c, g, all);
    list = chunks_drop_empty(list);

    gc_bag_lock(b);
    bag_put_back(b, list);
    at_store(&b->pending, at_load(&b->pending) - ran);
    gc_bag_unlock(b);
    at_fetch_add(&reclaimed, ran);
    return ran;
}

void gc_bag_take_due(struct gc_bag *b, uintptr_t g, struct gc_taken *out)
{
    struct gc_chunk *c;

    out->n = 0;
    out->toks = NULL;
    for (c = b->first; c && out->n < CHUNK_ENTRIES; c = c->next)
        out->n += chunk_take_due(c, g, 0, out->due + out->n, CHUNK_ENTRIES - out->n);
    out->ntoks = tokens_take_due(b, g, 0, &out->toks);
    /* They leave b's count for `inflight` until run: b's record may be
     * gone by then.  Into `inflight` first (a full barrier), then out of
     * b's (release): gc_pending_count, which reads the bags' counts
     * (acquire) before `inflight`, may count them twice but never
     * misses them, so an allocator switch never slips in before they
     * free their memory.  (Today the one caller, collect_pass, also holds
     * the registry lock, under which gc_pending_count reads the records'
     * bags, so no test can open this window; the order keeps it shut if
     * that changes.) */
    at_fetch_add(&inflight, out->n + out->ntoks);
    at_store_rel(&b->pending, at_load(&b->pending) - out->n - out->ntoks);
}

void gc_run_taken(struct gc_taken *out)
{
    size_t i, n = out->n + out->ntoks;
    for (i = 0; i < out->n; i++)
        run_entry(&out->due[i]);
    tokens_run(out->toks);
    at_fetch_sub(&inflight, n);
    at_fetch_add(&reclaimed, n);
}

size_t gc_bags_inflight(void) { return at_load(&inflight); }
size_t gc_bags_reclaimed(void) { return at_load(&reclaimed); }

/* Free b's chunks if it holds nothing (under no lock; takes b->lock). */
void gc_bag_trim(struct gc_bag *b)
{
    struct gc_chunk *c, *spare;

    gc_bag_lock(b);
    if (at_load(&b->pending) != 0) {
        gc_bag_unlock(b);
        return;
    }
    c = b->first;
    spare = b->spare;
    b->first = b->last = b->spare = NULL;
    gc_bag_unlock(b);
    chunks_free(c);
    if (spare)
        gc_chunk_free(spare);
}

/* ----------------------------------------------------------- hand-over */

/* Take the chunks of `from` that hold entries, freeing the empty ones
 * (an owner's collection leaves them) and its spare.  Under from->lock. */
static struct gc_chunk *bag_take_chunks(struct gc_bag *from, struct gc_chunk **empty)
{
    struct gc_chunk *c = from->first, *next, **link;

    *empty = from->spare;
    if (*empty)
        (*empty)->next = NULL;
    from->first = from->last = from->spare = NULL;
    for (link = &c; *link;) {
        if ((*link)->n == 0) {
            next = (*link)->next;
            (*link)->next = *empty;
            *empty = *link;
            *link = next;
        } else {
            link = &(*link)->next;
        }
    }
    return c;
}

/*
 * Move everything of `from` into `to` (thread exit).  Both locks are held
 * across the move, so the entries are always counted in one bag or the
 * other: a barrier that finds `from`'s record gone finds them in `to`.
 * Lock order: a thread's bag, then the orphans.
 */
void gc_bag_hand_over(struct gc_bag *from, struct gc_bag *to)
{
    struct gc_chunk *c, *empty;
    struct gc_token *t, *t_last;
    size_t n;

    gc_bag_lock(from);
    c = bag_take_chunks(from, &empty);
    t = from->tok_first;
    t_last = from->tok_last;
    from->tok_first = from->tok_last = NULL;
    n = at_load(&from->pending);
    if (c || t) {
        gc_bag_lock(to);
        /* Orphans are collected whole, in no particular order. */
        if (c) {
            struct gc_chunk *c_last = c;
            while (c_last->next)
                c_last = c_last->next;
            FIFO_APPEND(to->first, to->last, c, c_last);
        }
        if (t)
            FIFO_APPEND(to->tok_first, to->tok_last, t, t_last);
        at_store(&to->pending, at_load(&to->pending) + n);
        to->clean_at = 0; /* older entries, maybe due already */
        gc_bag_unlock(to);
    }
    at_store(&from->pending, 0);
    gc_bag_unlock(from);
    chunks_free(empty);
}

/* ---------------------------------------------------------------- fork */

/* In a fork child: other threads' pending destroys are never run there;
 * they stay reachable here. */
void gc_bags_fork_child(void)
{
    struct gc_token *t;

    if (gc_orphans.first) {
        gc_orphans.last->next = forked_chunks;
        forked_chunks = gc_orphans.first;
    }
    if (gc_orphans.spare) {
        gc_orphans.spare->next = forked_chunks;
        forked_chunks = gc_orphans.spare;
    }
    while ((t = gc_orphans.tok_first) != NULL) {
        gc_orphans.tok_first = t->next;
        t->next = forked_tokens;
        forked_tokens = t;
    }
    gc_orphans.first = gc_orphans.last = gc_orphans.spare = NULL;
    gc_orphans.tok_last = NULL;
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

__attribute__((constructor)) static void bag_init(void)
{
    gc_thread_on_fork(GC_FORK_COLLECT, &drain_fork);
}
