/* SPDX-License-Identifier: MIT */
/*
 * shared.c - goconc_pool's shared level, the pool's lowest layer
 * (pool_impl.h): two stacks of chunks of object pointers, cur and vic
 * (Go's victim cache), and a few empty chunks kept for reuse, all under
 * the pool's mutex.
 *
 * Caches move objects a whole chunk at a time.  A flush copies its
 * objects into the cache's own empty chunk (its mag) before locking and
 * links it onto cur; a refill unlinks cur's top chunk, gives its old mag
 * to the spares, and copies the chunk out after unlocking, keeping it as
 * its next mag.  The lock is held for a few pointer updates per batch,
 * whatever the batch size.  When one thread only gets and another only
 * puts, the getter's emptied chunks come back to the putter through the
 * spares: nothing is allocated in the steady state and the mutex's line
 * moves once per batch on each side, as a remote free costs in jemalloc
 * (a bin lock per tcache flush) or mimalloc (a CAS per page list).
 *
 * Why a mutex and not a lock-free stack of chunks: popping one chunk off
 * a Treiber stack needs ABA protection (a tag word or hazard pointers)
 * and trim must swap cur and vic with max_idle counts that agree with
 * them; the section here is no longer than such a CAS loop and keeps all
 * of that one ordinary invariant.
 *
 * Locks: a pool's lock is taken after reg_lock (cache.c), never before;
 * no user callback and no allocation runs under it.
 */
#include <pthread.h>
#include <string.h>

#include "pool/pool_impl.h"

int pool_shared_init(goconc_pool *p)
{
    return pthread_mutex_init(&p->lock, NULL) == 0;
}

static void chunks_free(struct pool_chunk *ch)
{
    struct pool_chunk *next;
    for (; ch != NULL; ch = next) {
        next = ch->next;
        gc_free(ch);
    }
}

/* ------------------------------------------------------- locked helpers */

/* Keep an empty chunk as a spare, or pass it out through *freed (freed
 * by the caller once unlocked). */
static void spare_keep(goconc_pool *p, struct pool_chunk *ch,
                       struct pool_chunk **freed)
{
    if (p->nspare < POOL_SPARE_MAX) {
        ch->next = p->spare;
        p->spare = ch;
        p->nspare++;
    } else {
        ch->next = *freed;
        *freed = ch;
    }
}

/* A spare chunk, emptied, or NULL. */
static struct pool_chunk *spare_take(goconc_pool *p)
{
    struct pool_chunk *ch = p->spare;
    if (ch != NULL) {
        p->spare = ch->next;
        p->nspare--;
        ch->n = 0;
    }
    return ch;
}

static void stack_link(struct pool_stack *st, struct pool_chunk *ch)
{
    ch->next = st->top;
    st->top = ch;
    st->n += ch->n;
}

/* Precondition: st->n > 0.  No chunk on a stack is empty: the one this
 * empties leaves it. */
static void *stack_pop(goconc_pool *p, struct pool_stack *st,
                       struct pool_chunk **freed)
{
    struct pool_chunk *ch = st->top;
    void *obj = ch->obj[--ch->n];
    st->n--;
    if (ch->n == 0) {
        st->top = ch->next;
        spare_keep(p, ch, freed);
    }
    return obj;
}

/* 0 when a chunk is needed and no spare is left. */
static int stack_push(goconc_pool *p, struct pool_stack *st, void *obj)
{
    struct pool_chunk *ch = st->top;
    if (ch == NULL || ch->n == POOL_CHUNK_OBJS) {
        if ((ch = spare_take(p)) == NULL)
            return 0;
        stack_link(st, ch);
    }
    ch->obj[ch->n++] = obj;
    st->n++;
    return 1;
}

/* Objects the shared level may still take under max_idle. */
static size_t shared_room(const goconc_pool *p)
{
    size_t n = p->cur.n + p->vic.n;
    return n < p->max_idle ? p->max_idle - n : 0;
}

/* Has a trim moved the pool past the caller's generation @p gen? */
static int shared_stale(const goconc_pool *p, size_t gen, int *stale)
{
    if (gen == POOL_ANY_GEN || at_load(&p->trims) == gen)
        return 0;
    *stale = 1;
    return 1;
}

/* ----------------------------------------------------------- transfers */

/*
 * Move objs[0..k) (oldest first, k <= POOL_CHUNK_OBJS) to the shared
 * level, vic when @p to_vic, else cur.  Returns how many moved: a prefix,
 * as many as max_idle allows, 0 without memory for a chunk (the caller
 * drops what did not move).  When @p gen is not POOL_ANY_GEN and a trim
 * has moved the pool past it, moves nothing and sets *stale: the objects
 * belong to an older generation.
 *
 * The objects join the stack's top chunk when they fit, so the shared
 * level holds as few chunks as its objects need, whatever the order of
 * gives (threads that exit with a few objects each leave no chunk apiece
 * behind).  Otherwise they go in a chunk of their own, linked whole: the
 * caller's *mag (filled before locking), a spare, or one allocated with
 * the lock dropped; a linked *mag is replaced by a spare, or NULL.  When
 * takers keep up, cur is empty at each flush and batches go over whole.
 */
size_t pool_shared_give(goconc_pool *p, struct pool_chunk **mag,
                        void *const *objs, size_t k, int to_vic, size_t gen,
                        int *stale)
{
    struct pool_stack *st = to_vic ? &p->vic : &p->cur;
    struct pool_chunk *ch = *mag, *top;
    size_t done = 0;
    int filled = ch != NULL;

    if (k == 0)
        return 0;
    /* Ours until linked; the unlock that follows the link publishes it
     * to the refill that locks after us. */
    if (filled)
        memcpy(ch->obj, objs, k * sizeof objs[0]);
    pthread_mutex_lock(&p->lock);
    while (!shared_stale(p, gen, stale) &&
           (done = pool_min(k, shared_room(p))) != 0) {
        top = st->top;
        if (top != NULL && top->n + done <= POOL_CHUNK_OBJS) {
            memcpy(top->obj + top->n, objs, done * sizeof objs[0]);
            top->n += done;
            st->n += done;
            break;
        }
        if (ch != NULL || (ch = spare_take(p)) != NULL) {
            if (!filled)
                memcpy(ch->obj, objs, done * sizeof objs[0]);
            ch->n = done;
            stack_link(st, ch);
            ch = spare_take(p);
            break;
        }
        pthread_mutex_unlock(&p->lock);
        ch = gc_alloc(sizeof *ch);
        pthread_mutex_lock(&p->lock);
        done = 0;
        if (ch == NULL)
            break;
    }
    pthread_mutex_unlock(&p->lock);
    *mag = ch;
    return done;
}

/*
 * Take up to @p want objects without waiting (trylock: the contract's "a
 * cached object this thread can take without waiting"), the newest last
 * in out[].  With a @p mag, cur's top chunk goes whole when it holds at
 * most want: the caller's empty *mag becomes a spare and the chunk, copied
 * out once unlocked, its new *mag.  Otherwise objects are copied one by
 * one; when cur is empty, one victim (it goes to a user at once, so it is
 * not kept idle for another generation).  Same @p gen / *stale rule as
 * pool_shared_give.
 */
size_t pool_shared_take(goconc_pool *p, struct pool_chunk **mag, void **out,
                        size_t want, size_t gen, int *stale)
{
    struct pool_chunk *freed = NULL, *whole = NULL, *top;
    size_t k = 0, i;

    if (pthread_mutex_trylock(&p->lock) != 0)
        return 0;
    top = p->cur.top;
    if (shared_stale(p, gen, stale)) {
        /* nothing: the caller ages its cache first */
    } else if (mag != NULL && top != NULL && top->n <= want) {
        p->cur.top = top->next;
        p->cur.n -= top->n;
        whole = top;
        if (*mag != NULL)
            spare_keep(p, *mag, &freed);
    } else if (p->cur.n != 0) {
        k = pool_min(want, p->cur.n);
        for (i = 0; i < k; i++)
            out[k - 1 - i] = stack_pop(p, &p->cur, &freed);
    } else if (p->vic.n != 0) {
        out[0] = stack_pop(p, &p->vic, &freed);
        k = 1;
    }
    pthread_mutex_unlock(&p->lock);
    if (whole != NULL) {
        k = whole->n;
        memcpy(out, whole->obj, k * sizeof out[0]);
        *mag = whole;
    }
    chunks_free(freed);
    return k;
}

/* One object to cur, for a caller without a cache; 0 when max_idle is
 * reached or no chunk can be had.  A chunk is allocated with the lock
 * dropped. */
int pool_shared_put1(goconc_pool *p, void *obj)
{
    struct pool_chunk *ch, *freed = NULL;
    int done = 0;

    pthread_mutex_lock(&p->lock);
    while (shared_room(p) != 0) {
        if (stack_push(p, &p->cur, obj)) {
            done = 1;
            break;
        }
        pthread_mutex_unlock(&p->lock);
        ch = gc_alloc(sizeof *ch);
        pthread_mutex_lock(&p->lock);
        if (ch == NULL)
            break;
        spare_keep(p, ch, &freed);
    }
    pthread_mutex_unlock(&p->lock);
    chunks_free(freed);
    return done;
}

/* ------------------------------------------------------ trim, free, stats */

/* Drop every object of a detached stack and free its chunks. */
static void stack_drop(goconc_pool *p, struct pool_stack *st, int count)
{
    struct pool_chunk *ch;
    size_t i;
    if (count && st->n != 0)
        at_fetch_add(&p->counts.drops, st->n);
    for (ch = st->top; ch != NULL; ch = ch->next)
        for (i = 0; i < ch->n; i++)
            pool_drop(p, ch->obj[i]);
    chunks_free(st->top);
    st->top = NULL;
    st->n = 0;
}

/*
 * Trim's step: drop vic, make cur the victims, count the trim and publish
 * the pool's new @p stamp and @p put_stamp.  The victims dropped are freed
 * after unlocking (free_obj may use the pool).
 */
void pool_shared_rotate(goconc_pool *p, size_t stamp, size_t put_stamp)
{
    struct pool_stack dropped;

    pthread_mutex_lock(&p->lock);
    dropped = p->vic;
    p->vic = p->cur;
    p->cur.top = NULL;
    p->cur.n = 0;
    at_store(&p->trims, at_load(&p->trims) + 1);
    /* Release: a cache that sees the new stamp (acquire in cache_age)
     * also sees the trims count it goes with.  put_stamp follows; until
     * it does, a put still matching the old one is a put just before the
     * trim. */
    at_store_rel(&p->stamp, stamp);
    at_store_rel(&p->put_stamp, put_stamp);
    pthread_mutex_unlock(&p->lock);
    stack_drop(p, &dropped, 1);
}

/* goconc_pool_free's last step: every shared object dropped, uncounted. */
void pool_shared_fini(goconc_pool *p)
{
    stack_drop(p, &p->cur, 0);
    stack_drop(p, &p->vic, 0);
    chunks_free(p->spare);
    p->spare = NULL;
    p->nspare = 0;
    pthread_mutex_destroy(&p->lock);
}

/* Objects in the shared level now (for stats). */
size_t pool_shared_idle(goconc_pool *p)
{
    size_t n;
    pthread_mutex_lock(&p->lock);
    n = p->cur.n + p->vic.n;
    pthread_mutex_unlock(&p->lock);
    return n;
}
