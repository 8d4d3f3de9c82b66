/* SPDX-License-Identifier: MIT */
/*
 * alloc.c - the allocator every allocation of the library goes through
 * and the live-handle count behind goconc_set_allocator's EBUSY: the two
 * meet in the switch handshake (gc_live_begin), so they live together.
 * Big blocks are in pages.c, the struct_size rules in opts.c.
 */
#include <pthread.h>
#include <stdlib.h>

#include "core/atomics.h"
#include "core/internal.h"

static void *default_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}

static void default_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

/*
 * The current allocator.  goconc_set_allocator() only changes it while no
 * library memory is alive, so no allocation can be in flight that another
 * thread would free through the new one; the fields are still read as
 * atomics so a misuse cannot tear a pointer.
 */
static atword cur_alloc = (AO_t)default_alloc;
static atword cur_free = (AO_t)default_free;
static atword cur_ctx;
static pthread_mutex_t set_lock = PTHREAD_MUTEX_INITIALIZER;
/* 1 while goconc_set_allocator decides, under set_lock (gc_live_begin). */
static atword switching;

/* Shared and written by every constructor; padded off the hot lines. */
static struct {
    char pad0[GC_PAD];
    atword n;
    char pad1[GC_PAD - sizeof(atword)];
} live;

void *gc_alloc(size_t size)
{
    void *(*fn)(void *, size_t) = (void *(*)(void *, size_t))at_load(&cur_alloc);
    return fn(at_loadp(&cur_ctx), size ? size : 1);
}

void *gc_calloc(size_t n, size_t size)
{
    void *p;
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    p = gc_alloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void gc_free(void *ptr)
{
    void (*fn)(void *, void *) = (void (*)(void *, void *))at_load(&cur_free);
    if (ptr)
        fn(at_loadp(&cur_ctx), ptr);
}

/* 1 while a user's allocator is installed, for gc_alloc_is_default
 * (internal.h): malloc/free cannot stop being the allocator while a
 * block from them is alive (EBUSY), so blocks may take their own ways
 * back.  Written under set_lock with the allocator's words, before the
 * release store that ends the switch: a constructor's acquire load of
 * `switching` (gc_live_begin) orders it before every allocation of the
 * object it makes, so a relaxed load there sees it. */
int gc_alloc_user_;

void *gc_realloc(void *ptr, size_t keep, size_t size)
{
    void *np;
    if (size == 0)
        size = 1;
    if (gc_alloc_is_default())
        return realloc(ptr, size);
    np = gc_alloc(size);
    if (np != NULL) {
        memcpy(np, ptr, keep);
        gc_free(ptr);
    }
    return np;
}

/*
 * Per-thread records and reclamation chunks do not hold the allocator
 * busy, so a switch may race with them: take the snapshot and allocate
 * under the switch lock, so both come from the same allocator.
 */
void *gc_alloc_ref(size_t size, struct gc_allocator_ref *ref)
{
    void *p;
    pthread_mutex_lock(&set_lock);
    ref->free = (void (*)(void *, void *))at_load(&cur_free);
    ref->ctx = at_loadp(&cur_ctx);
    p = gc_alloc(size);
    pthread_mutex_unlock(&set_lock);
    return p;
}

void gc_free_ref(const struct gc_allocator_ref *ref, void *ptr)
{
    if (ptr)
        ref->free(ref->ctx, ptr);
}

/* Fork chain (core/thread.c): the allocator-switch lock. */
void gc_alloc_fork_lock(void) { pthread_mutex_lock(&set_lock); }
void gc_alloc_fork_unlock(void) { pthread_mutex_unlock(&set_lock); }

/*
 * Work that frees through the allocator without a live handle behind it
 * (the reclamation core's pending destroys) keeps the allocator busy
 * too.  The core cannot call up into reclaim, so reclaim registers its
 * count here at load; goconc_set_allocator calls it under set_lock.
 */
static atword pin_count_fn;

void gc_alloc_set_pin(size_t (*count)(void))
{
    at_store(&pin_count_fn, (AO_t)count);
}

static size_t pinned(void)
{
    size_t (*count)(void) = (size_t (*)(void))at_load(&pin_count_fn);
    return count != NULL ? count() : 0;
}

/*
 * Dekker-style against goconc_set_allocator: each side announces itself
 * with a full barrier (the count here, `switching` there) and then reads
 * the other's word, so either the switch sees this constructor (EBUSY) or
 * the constructor sees the switch and waits it out, then allocates from
 * the allocator it installed: never blocks of two allocators in one
 * object.
 */
void gc_live_begin(void)
{
    for (;;) {
        at_fetch_add(&live.n, 1);
        /* Acquire pairs with the release that ends a switch: the new
         * allocator's words are visible to gc_alloc. */
        if (GC_LIKELY(at_load_acq(&switching) == 0))
            return;
        at_fetch_sub(&live.n, 1);
        pthread_mutex_lock(&set_lock); /* the switch holds it */
        pthread_mutex_unlock(&set_lock);
    }
}

void gc_live_inc(void) { at_fetch_add(&live.n, 1); }
void gc_live_dec(void) { at_fetch_sub(&live.n, 1); }
size_t gc_live_count(void) { return at_load(&live.n); }

void gc_refs_owner_drop(atword *refs, void (*destroy)(void *ctx, void *obj), void *obj)
{
    /* Relaxed: every increment that could make *refs more than 1 happens
     * before this read by the caller's invariant (a value's node: the
     * grace period since it was unpublished, which waited for every
     * section that took a reference; a slice's storage: the group's lock,
     * held by every snapshot and by the switch, or the last handle's
     * acquire load of nhandles).  A stale larger value only takes a
     * count that the destroy branch gives back.  The decrement's full
     * barrier pairs with the last reference's, so every use of the
     * object happens before destroy. */
    int pinned = at_load(refs) != 1;
    if (pinned)
        gc_live_inc();
    if (at_fetch_sub(refs, 1) == 1) {
        destroy(NULL, obj);
        if (pinned)
            gc_live_dec(); /* the references went meanwhile */
    }
}

GOCONC_API int goconc_set_allocator(const goconc_allocator *a)
{
    goconc_allocator local;
    int rc;

    if (a != NULL) {
        rc = gc_opts_copy(&local, sizeof local, sizeof local, a);
        if (rc != GOCONC_OK)
            return rc;
        if (local.alloc == NULL || local.free == NULL)
            return GOCONC_EINVAL;
    } else {
        local.alloc = default_alloc;
        local.free = default_free;
        local.ctx = NULL;
    }
    pthread_mutex_lock(&set_lock);
    at_store(&switching, 1);
    at_fence(); /* the flag before the count: pairs with gc_live_begin */
    rc = GOCONC_EBUSY;
    if (gc_live_count() == 0 && pinned() == 0) {
        at_store(&cur_alloc, (AO_t)local.alloc);
        at_store(&cur_free, (AO_t)local.free);
        at_storep(&cur_ctx, local.ctx);
        __atomic_store_n(&gc_alloc_user_, local.alloc != default_alloc, __ATOMIC_RELAXED);
        rc = GOCONC_OK;
    }
    at_store_rel(&switching, 0);
    pthread_mutex_unlock(&set_lock);
    return rc;
}
